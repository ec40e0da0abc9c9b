"""GET /api/v1/transactions and /api/v1/subscriptions: what Zapier's Find Transaction and Find
Subscription call, by id and by the lead's email; tenant-isolated; in the OpenAPI schema."""

from decimal import Decimal

import pytest

from leads.models import RecurringSubscription, SequenceSubscription
from leads.services import subscription_cancel, transaction_refund, transaction_sale_record
from tests.leads import factories as f

pytestmark = pytest.mark.django_db


def _sale(account, *, email="jane@example.com", recurring=False):
    lead = f.LeadFactory(account=account, email=email)
    point = f.PricePointFactory(product=f.ProductFactory(account=account), recurring=recurring, amount=Decimal("20"))
    return transaction_sale_record(lead=lead, price_point=point)


def test_transactions_are_found_by_the_leads_email_newest_first(api, account):
    sale = _sale(account, email="Jane@Example.com", recurring=True)
    refund = transaction_refund(sale=sale, amount=Decimal("5.00"))
    _sale(account, email="bob@example.com")
    body = api.get("/api/v1/transactions", {"lead_email": "jane@example.com"}).json()
    assert [row["id"] for row in body["results"]] == [refund.pk, sale.pk]
    first_sale = body["results"][1]
    assert first_sale["subscription_id"] == sale.recurring_subscription.pk
    assert first_sale["price_point_id"] == sale.price_point_id
    assert first_sale["lead_email"] == "Jane@Example.com"


def test_transactions_are_found_by_id_and_kind(api, account):
    sale = _sale(account)
    transaction_refund(sale=sale)
    assert [row["id"] for row in api.get("/api/v1/transactions", {"id": sale.pk}).json()["results"]] == [sale.pk]
    kinds = [row["kind"] for row in api.get("/api/v1/transactions", {"kind": "sale"}).json()["results"]]
    assert kinds == ["sale"]


def test_another_accounts_transactions_are_never_listed(api, account, other_account):
    theirs = _sale(other_account, email="jane@example.com")
    assert api.get("/api/v1/transactions", {"id": theirs.pk}).json()["results"] == []
    assert api.get("/api/v1/transactions", {"lead_email": "jane@example.com"}).json()["results"] == []


def test_transactions_bad_filter_is_a_field_error(api):
    response = api.get("/api/v1/transactions", {"id": "abc", "lead_email": "nope"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"id", "lead_email"}


def test_subscriptions_are_found_by_the_leads_email_and_status(api, account):
    active = _sale(account, recurring=True).recurring_subscription
    cancelled = subscription_cancel(
        subscription=_sale(account, email="x@example.com", recurring=True).recurring_subscription
    )
    rows = api.get("/api/v1/subscriptions", {"lead_email": "jane@example.com", "status": "active"}).json()["results"]
    assert [row["id"] for row in rows] == [active.pk]
    assert rows[0]["status"] == "active" and rows[0]["product_name"] == active.sale.product.name
    rows = api.get("/api/v1/subscriptions", {"id": cancelled.pk}).json()["results"]
    assert [(row["id"], row["status"]) for row in rows] == [(cancelled.pk, "cancelled")]


def test_another_accounts_subscriptions_are_never_listed(api, other_account):
    theirs = _sale(other_account, recurring=True).recurring_subscription
    assert api.get("/api/v1/subscriptions", {"id": theirs.pk}).json()["results"] == []


def test_finds_are_in_the_openapi_schema(api):
    paths = api.get("/api/v1/schema", {"format": "json"}).json()["paths"]
    assert {"get"} <= set(paths["/api/v1/transactions"]) and {"get"} <= set(paths["/api/v1/subscriptions"])
    names = {p["name"] for p in paths["/api/v1/transactions"]["get"]["parameters"]}
    assert {"id", "lead_email", "kind", "page"} <= names


def test_schema_names_each_status_enum_after_its_model_choices(api):
    schemas = api.get("/api/v1/schema", {"format": "json"}).json()["components"]["schemas"]
    assert schemas["RecurringSubscriptionStatusEnum"]["enum"] == RecurringSubscription.Status.values
    assert schemas["SequenceSubscriptionStatusEnum"]["enum"] == SequenceSubscription.Status.values
