from decimal import Decimal

import pytest
from django.db import transaction

from kartra_integrations.errors import ApplicationError
from leads import services
from leads.models import LeadEvent, MembershipAccess, RecurringSubscription, Transaction
from tests.leads.factories import MembershipLevelFactory, PricePointFactory


@pytest.fixture
def price_point(account):
    return PricePointFactory(product__account=account, product__name="Course", number=1, amount=Decimal("99.00"))


def test_sale_writes_buy_product_with_transaction_details(lead, price_point, events):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    details = LeadEvent.objects.get().details["transaction_details"]
    assert details["transaction_id"] == sale.pk
    assert (details["product_name"], details["product_price_point"], details["transaction_full_amount"]) == (
        "Course",
        1,
        "99.00",
    )
    assert details["lead_email"] == lead.email


def test_sale_grants_the_price_points_membership_level(account, lead, price_point, events):
    level = MembershipLevelFactory(membership__account=account)
    price_point.membership_level = level
    price_point.save()
    services.transaction_sale_record(lead=lead, price_point=price_point)
    assert MembershipAccess.objects.get(lead=lead).level == level
    assert events() == ["buy_product", "membership_granted"]


def test_sale_of_recurring_price_point_starts_a_subscription(lead, price_point):
    price_point.recurring = True
    price_point.save()
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    assert RecurringSubscription.objects.get().sale == sale


def test_sale_rolls_back_with_its_transaction(lead, price_point):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.transaction_sale_record(lead=lead, price_point=price_point)
        raise RuntimeError
    assert not LeadEvent.objects.exists()
    assert not Transaction.objects.exists()


def test_full_refund_writes_refund_product(lead, price_point, events):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    refund = services.transaction_refund(sale=sale)
    assert (refund.kind, refund.amount, refund.parent) == (Transaction.Kind.REFUND, Decimal("99.00"), sale)
    assert events() == ["buy_product", "refund_product"]


def test_partial_refund_writes_partial_refund_product(lead, price_point, events):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    refund = services.transaction_refund(sale=sale, amount=Decimal("40.00"))
    assert refund.kind == Transaction.Kind.PARTIAL_REFUND
    assert events() == ["buy_product", "partial_refund_product"]


def test_refund_cannot_exceed_what_is_left(lead, price_point):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    services.transaction_refund(sale=sale, amount=Decimal("60.00"))
    with pytest.raises(ApplicationError) as refused:
        services.transaction_refund(sale=sale, amount=Decimal("40.00"))
    assert refused.value.code == "refund_exceeds_remaining"
    assert Transaction.objects.filter(parent=sale).count() == 1


def test_rest_of_a_partly_refunded_sale_can_be_refunded(lead, price_point, events):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    services.transaction_refund(sale=sale, amount=Decimal("60.00"))
    rest = services.transaction_refund(sale=sale)
    assert rest.amount == Decimal("39.00")
    assert events() == ["buy_product", "partial_refund_product", "partial_refund_product"]


def test_sale_cannot_be_refunded_twice_in_full(lead, price_point, events):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    services.transaction_refund(sale=sale)
    with pytest.raises(ApplicationError) as refused:
        services.transaction_refund(sale=sale)
    assert refused.value.code == "already_refunded"
    assert events() == ["buy_product", "refund_product"]


def test_only_a_sale_can_be_refunded(lead, price_point):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    refund = services.transaction_refund(sale=sale, amount=Decimal("10.00"))
    with pytest.raises(ApplicationError) as refused:
        services.transaction_refund(sale=refund)
    assert refused.value.code == "not_a_sale"


def test_refund_amount_must_be_positive(lead, price_point):
    sale = services.transaction_sale_record(lead=lead, price_point=price_point)
    with pytest.raises(ApplicationError) as refused:
        services.transaction_refund(sale=sale, amount=Decimal("0"))
    assert "amount" in refused.value.fields


def test_subscription_cancel_writes_cancel_subscription_once(lead, price_point, events):
    price_point.recurring = True
    price_point.save()
    services.transaction_sale_record(lead=lead, price_point=price_point)
    subscription = RecurringSubscription.objects.get()
    services.subscription_cancel(subscription=subscription)
    services.subscription_cancel(subscription=subscription)
    assert subscription.status == RecurringSubscription.Status.CANCELLED
    assert events() == ["buy_product", "cancel_subscription"]


def test_price_point_create_numbers_points_in_order(account, price_point):
    second = services.price_point_create(product=price_point.product, amount=Decimal("199.00"))
    assert second.number == 2


def test_price_point_refuses_a_level_of_another_account(other_account, price_point):
    with pytest.raises(ApplicationError):
        services.price_point_create(
            product=price_point.product,
            amount=Decimal("1.00"),
            membership_level=MembershipLevelFactory(membership__account=other_account),
        )
