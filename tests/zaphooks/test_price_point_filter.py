"""A price-point filter names the price point by its id (`price_point_id`), as the products dropdown
gives it and the payload carries it; tested on an account whose ids differ from the numbers."""

from decimal import Decimal

import pytest

from leads.models import LeadEvent
from leads.services import transaction_sale_record
from tests.conftest import api_client_for
from tests.leads import factories as f
from zaphooks.filters import filter_matches
from zaphooks.models import Subscription

HOOKS = "/api/v1/hooks"


@pytest.fixture
def shop(other_account):
    """A second account with several products, so a price point's id is never its number."""
    # An older product first: whatever the id sequences stand at, the later price points' ids run past
    # their numbers (1..3).
    old = f.ProductFactory(account=other_account, name="Old course")
    for number in (1, 2, 3):
        f.PricePointFactory(product=old, number=number)
    products = [f.ProductFactory(account=other_account, name=name) for name in ("Course", "Coaching", "Book")]
    points = {
        (product.name, number): f.PricePointFactory(product=product, number=number, amount=Decimal(10 * number))
        for product in products
        for number in (1, 2, 3)
    }
    assert all(point.pk != point.number for point in points.values())
    return other_account, points


def _subscribe(account, event, **filter_):
    body = {"event": event, "target_url": "https://hooks.example.com/x", "filter": filter_}
    return api_client_for(account).post(HOOKS, body, format="json")


def test_the_products_dropdown_gives_the_id_the_filter_takes(shop):
    account, points = shop
    point = points[("Coaching", 2)]
    products = api_client_for(account).get("/api/v1/products").json()["results"]
    offered = next(p for p in products if p["name"] == "Coaching")["price_points"]
    assert point.pk in [choice["id"] for choice in offered]
    response = _subscribe(account, "buy_product", product=point.product_id, price_point=point.pk)
    assert response.status_code == 201, response.json()
    assert Subscription.objects.get(pk=response.json()["id"]).filter_resolved["price_point"] == point.pk


def test_price_point_filter_matches_only_sales_of_that_price_point(shop):
    account, points = shop
    wanted, other = points[("Coaching", 2)], points[("Course", 2)]
    resolved = Subscription.objects.get(
        pk=_subscribe(account, "buy_product", price_point=wanted.pk).json()["id"]
    ).filter_resolved
    lead = f.LeadFactory(account=account)
    transaction_sale_record(lead=lead, price_point=wanted)
    transaction_sale_record(lead=lead, price_point=other)
    matched = [
        event.details["transaction_details"]["price_point_id"]
        for event in LeadEvent.objects.filter(lead=lead, action="buy_product")
        if filter_matches(resolved, event.details)
    ]
    assert matched == [wanted.pk]


def test_price_point_alone_is_enough_its_id_is_unambiguous(shop):
    account, points = shop
    assert _subscribe(account, "refund_product", price_point=points[("Book", 3)].pk).status_code == 201


def test_price_point_of_another_product_is_refused(shop):
    account, points = shop
    response = _subscribe(
        account, "buy_product", product=points[("Book", 1)].product_id, price_point=points[("Course", 1)].pk
    )
    assert response.status_code == 400
    assert "Price point" in response.json()["fields"]["filter"][0]


def test_price_point_of_another_account_is_refused(shop, account):
    _, points = shop
    response = _subscribe(account, "buy_product", price_point=points[("Book", 1)].pk)
    assert response.status_code == 400


def test_price_point_number_is_not_taken_for_an_id(shop):
    account, points = shop
    product = points[("Coaching", 1)].product
    response = _subscribe(account, "buy_product", product=product.pk, price_point=2)
    assert response.status_code == 400


def test_sample_for_a_price_point_filter_is_that_price_point(shop):
    account, points = shop
    point = points[("Coaching", 3)]
    response = api_client_for(account).get(
        "/api/v1/hooks/samples/buy_product", {"product": point.product_id, "price_point": point.pk}
    )
    details = response.json()[0]["action_details"]["transaction_details"]
    assert (details["price_point_id"], details["product_price_point"]) == (point.pk, 3)


def test_migration_rewrites_stored_price_point_numbers_to_ids_and_back(shop):
    import importlib

    from django.apps import apps

    from .factories import SubscriptionFactory

    migration = importlib.import_module("zaphooks.migrations.0004_price_point_filters_by_id")
    account, points = shop
    point = points[("Coaching", 2)]
    stored = SubscriptionFactory(
        account=account, events=["buy_product"], filter_resolved={"product": point.product_id, "price_point": 2}
    )
    migration.numbers_to_ids(apps, None)
    stored.refresh_from_db()
    assert stored.filter_resolved == {"product": point.product_id, "price_point": point.pk}
    migration.ids_to_numbers(apps, None)
    stored.refresh_from_db()
    assert stored.filter_resolved == {"product": point.product_id, "price_point": 2}
