"""No free sales: the hosted checkout sells only when a payments mode is configured,
and then only products in test mode, each sale a test sale everywhere it shows."""

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from kartra_integrations.errors import ApplicationError
from leads import services
from leads.models import LeadEvent, Transaction
from leads.services import Visitor, hosted_checkout_submit
from tests.conftest import api_client_for
from tests.leads.factories import LeadFactory, MembershipLevelFactory, PricePointFactory, ProductFactory

US = "8.8.8.8"


@pytest.fixture
def product(account):
    product = ProductFactory(account=account, name="Course", test_mode=True)
    level = MembershipLevelFactory(membership__account=account, membership__name="Academy", name="Basic")
    PricePointFactory(product=product, number=1, amount=Decimal("99.00"), membership_level=level)
    return product


def _buy(client, product, email="buyer@example.com"):
    return client.post(
        f"/c/{product.public_id}/",
        {"email": email, "price_point": product.price_points.get().pk},
        REMOTE_ADDR=US,
    )


def _nothing_recorded():
    return not (Transaction.objects.exists() or LeadEvent.objects.exists())


# --- Payments not configured ---------------------------------------------------------------------


def test_without_a_payments_mode_the_checkout_page_says_payments_are_not_configured(client, product, settings):
    settings.PAYMENTS_MODE = ""
    response = client.get(f"/c/{product.public_id}/", REMOTE_ADDR=US)
    assert response.status_code == 503
    page = response.content.decode()
    assert "Payments are not configured" in page
    assert "Buy now" not in page


def test_without_a_payments_mode_a_purchase_records_nothing(client, product, settings):
    settings.PAYMENTS_MODE = ""
    response = _buy(client, product)
    assert response.status_code == 503
    assert "Nothing was charged or recorded" in response.content.decode()
    assert _nothing_recorded()
    assert not product.account.leads.exists()


def test_product_not_in_test_mode_cannot_be_bought_without_a_payment_processor(client, product):
    product.test_mode = False
    product.save()
    response = _buy(client, product)
    assert response.status_code == 503
    assert "payments are not configured for it" in response.content.decode()
    assert _nothing_recorded()


def test_the_checkout_service_refuses_too_when_payments_are_not_configured(product, settings):
    settings.PAYMENTS_MODE = ""
    with pytest.raises(ApplicationError) as refused:
        hosted_checkout_submit(
            product=product,
            price_point=product.price_points.get(),
            email="buyer@example.com",
            profile={},
            visitor=Visitor(ip=US),
            granted=set(),
        )
    assert refused.value.code == "payments_not_configured"
    assert _nothing_recorded()


def _settings_value(module: str, name: str, **environ) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("PAYMENTS_MODE", "DJANGO_SETTINGS_MODULE")}
    env |= {
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": "postgres://u@127.0.0.1/db",
        **environ,
    }
    code = f"import kartra_integrations.settings.{module} as s; print(repr(s.{name}))"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=django_settings.BASE_DIR
    )


def test_production_has_no_payments_mode_unless_one_is_set():
    assert _settings_value("production", "PAYMENTS_MODE").stdout.strip() == "''"


def test_development_defaults_to_test_payments():
    assert _settings_value("development", "PAYMENTS_MODE").stdout.strip() == "'test'"


def test_an_unknown_payments_mode_refuses_to_start():
    result = _settings_value("production", "PAYMENTS_MODE", PAYMENTS_MODE="live")
    assert result.returncode != 0
    assert "PAYMENTS_MODE must be unset or one of test" in result.stderr


# --- Test mode -----------------------------------------------------------------------------------


def test_checkout_of_a_product_in_test_mode_tells_the_visitor_no_payment_is_taken(client, product):
    page = client.get(f"/c/{product.public_id}/", REMOTE_ADDR=US).content.decode()
    assert "Test mode: no payment is taken" in page


def test_test_mode_sale_is_a_test_transaction_with_transaction_test_in_its_payload(client, product):
    assert _buy(client, product).status_code == 302
    sale = Transaction.objects.get()
    assert sale.test
    details = LeadEvent.objects.get(action="buy_product").details["transaction_details"]
    assert details["transaction_test"] is True


def test_a_sale_reported_by_the_platform_is_not_a_test_sale(lead, product):
    services.transaction_sale_record(lead=lead, price_point=product.price_points.get())
    assert LeadEvent.objects.get(action="buy_product").details["transaction_details"]["transaction_test"] is False


@pytest.mark.parametrize(("amount", "action"), [(None, "refund_product"), (Decimal("10.00"), "partial_refund_product")])
def test_refunds_of_a_test_sale_are_test_transactions(lead, product, amount, action):
    sale = services.transaction_sale_record(lead=lead, price_point=product.price_points.get(), test=True)
    refund = services.transaction_refund(sale=sale, amount=amount)
    assert refund.test
    assert LeadEvent.objects.get(action=action).details["transaction_details"]["transaction_test"] is True


def test_cancel_subscription_payload_says_whether_the_sale_was_a_test(lead, account):
    point = PricePointFactory(product=ProductFactory(account=account), recurring=True)
    sale = services.transaction_sale_record(lead=lead, price_point=point, test=True)
    services.subscription_cancel(subscription=sale.recurring_subscription)
    details = LeadEvent.objects.get(action="cancel_subscription").details["transaction_details"]
    assert details["transaction_test"] is True


def test_api_refund_document_says_whether_it_is_a_test(account, lead, product):
    sale = services.transaction_sale_record(lead=lead, price_point=product.price_points.get(), test=True)
    response = api_client_for(account).post(
        "/api/v1/actions/refund_transaction", {"transaction_id": sale.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["transaction"]["test"] is True


def test_lead_history_marks_test_sales(client, owner, account, product):
    lead = LeadFactory(account=account)
    services.transaction_sale_record(lead=lead, price_point=product.price_points.get(), test=True)
    client.force_login(owner)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert '<span class="badge test">Test</span>' in page


def test_lead_history_does_not_mark_real_sales(client, owner, account, product):
    lead = LeadFactory(account=account)
    services.transaction_sale_record(lead=lead, price_point=product.price_points.get())
    client.force_login(owner)
    assert 'class="badge test"' not in client.get(f"/leads/{lead.pk}/").content.decode()


def test_owner_switches_test_mode_on_the_product_asset_page(client, owner, account):
    product = ProductFactory(account=account, name="Ebook", test_mode=False)
    client.force_login(owner)
    assert "Test mode" in client.get(f"/assets/products/{product.pk}/").content.decode()
    response = client.post(f"/assets/products/{product.pk}/", {"name": "Ebook", "test_mode": "on"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.test_mode
