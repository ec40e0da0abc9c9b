"""Commerce: memberships, sales, refunds, recurring subscriptions, affiliate and JV partner
signups, and the hosted checkout's sale."""

from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from kartra_integrations.errors import ApplicationError
from kartra_integrations.limits import MONEY_MAX
from leads.models import (
    ConsentSource,
    Lead,
    LeadAction,
    LeadSource,
    Membership,
    MembershipAccess,
    MembershipLevel,
    PartnerSignup,
    PricePoint,
    Product,
    RecurringSubscription,
    Transaction,
)
from leads.services.consent import Visitor, _unconfirmed_visit
from leads.services.engagement import _check_same_account
from leads.services.events import _membership_details, _product_details, _transaction_details, lead_event_write
from leads.services.leads import _field_error
from leads.services.transactions import lead_transaction

# ---------------------------------------------------------------------------------------------
# Memberships


def _membership_grant(*, lead: Lead, level: MembershipLevel) -> MembershipAccess:
    membership = level.membership
    _check_same_account(lead, membership)
    now = timezone.now()
    access, created = MembershipAccess.objects.select_for_update().get_or_create(
        lead=lead, membership=membership, defaults={"level": level, "granted_at": now}
    )
    if not created:
        if access.status == MembershipAccess.Status.GRANTED and access.level_id == level.pk:
            return access
        access.level, access.status, access.granted_at, access.revoked_at = (
            level,
            MembershipAccess.Status.GRANTED,
            now,
            None,
        )
        access.save(update_fields=["level", "status", "granted_at", "revoked_at"])
    lead_event_write(lead=lead, action=LeadAction.MEMBERSHIP_GRANTED, details=_membership_details(level))
    return access


@lead_transaction
def lead_membership_grant(*, lead: Lead, level: MembershipLevel) -> MembershipAccess:
    """Grant (or move to) a level of a membership; granting the level the lead holds is a no-op."""
    return _membership_grant(lead=lead, level=level)


@lead_transaction
def lead_membership_revoke(*, lead: Lead, membership: Membership) -> MembershipAccess | None:
    """None (and no event) when the lead has no granted access to the membership."""
    _check_same_account(lead, membership)
    access = (
        MembershipAccess.objects.select_for_update()
        .select_related("level__membership")
        .filter(lead=lead, membership=membership, status=MembershipAccess.Status.GRANTED)
        .first()
    )
    if access is None:
        return None
    access.status, access.revoked_at = MembershipAccess.Status.REVOKED, timezone.now()
    access.save(update_fields=["status", "revoked_at"])
    lead_event_write(lead=lead, action=LeadAction.MEMBERSHIP_REVOKED, details=_membership_details(access.level))
    return access


# ---------------------------------------------------------------------------------------------
# Transactions


@lead_transaction
def transaction_sale_record(
    *,
    lead: Lead,
    price_point: PricePoint,
    quantity: int = 1,
    amount: Decimal | None = None,
    test: bool = False,
) -> Transaction:
    """Record a sale of a product's price point: buy_product, the price point's membership level
    (membership_granted) and, for a recurring price point, an active recurring subscription.
    `test`: a test sale, no payment taken (the hosted checkout of a product in test mode)."""
    product = price_point.product
    _check_same_account(lead, product)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise _field_error("quantity", "Give a quantity of 1 or more.")
    computed = amount is None
    amount = price_point.amount * quantity if amount is None else Decimal(amount)
    if amount < 0:
        raise _field_error("amount", "The amount cannot be negative.")
    if amount > MONEY_MAX:
        message = f"The sale's amount ({amount:,}) is more than {MONEY_MAX:,}."
        raise _field_error("quantity" if computed else "amount", message)
    sale = Transaction.objects.create(
        account_id=lead.account_id,
        lead=lead,
        kind=Transaction.Kind.SALE,
        product=product,
        price_point=price_point,
        quantity=quantity,
        amount=amount,
        currency=price_point.currency,
        test=test,
    )
    subscription = RecurringSubscription.objects.create(lead=lead, sale=sale) if price_point.recurring else None
    details = _transaction_details(
        sale, lead=lead, subscription_id=subscription.pk if subscription is not None else None
    )
    lead_event_write(lead=lead, action=LeadAction.BUY_PRODUCT, details=details)
    if price_point.membership_level is not None:
        _membership_grant(lead=lead, level=price_point.membership_level)
    return sale


@lead_transaction
def transaction_refund(*, sale: Transaction, amount: Decimal | None = None) -> Transaction:
    """Refund a sale in full (no amount, or the whole sale amount: refund_product) or in part
    (partial_refund_product). Never more than what is left, never twice in full."""
    sale = Transaction.objects.select_for_update().select_related("lead", "product", "price_point").get(pk=sale.pk)
    if sale.kind != Transaction.Kind.SALE:
        raise _field_error("transaction", "Only a sale can be refunded.", code="not_a_sale")
    refunded = sale.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    remaining = sale.amount - refunded
    if remaining <= 0:
        raise _field_error("transaction", "This sale has already been refunded in full.", code="already_refunded")
    amount = remaining if amount is None else Decimal(amount)
    if amount <= 0:
        raise _field_error("amount", "The refund amount must be greater than zero.")
    if amount > remaining:
        raise _field_error(
            "amount",
            f"The refund amount exceeds what is left to refund ({remaining}).",
            code="refund_exceeds_remaining",
        )
    full = refunded == 0 and amount == sale.amount
    refund = Transaction.objects.create(
        account_id=sale.account_id,
        lead=sale.lead,
        kind=Transaction.Kind.REFUND if full else Transaction.Kind.PARTIAL_REFUND,
        parent=sale,
        product=sale.product,
        price_point=sale.price_point,
        quantity=sale.quantity,
        amount=amount,
        currency=sale.currency,
        test=sale.test,
    )
    lead_event_write(
        lead=sale.lead,
        action=LeadAction.REFUND_PRODUCT if full else LeadAction.PARTIAL_REFUND_PRODUCT,
        details=_transaction_details(
            refund,
            lead=sale.lead,
            subscription_id=RecurringSubscription.objects.filter(sale=sale).values_list("pk", flat=True).first(),
        ),
    )
    return refund


@lead_transaction
def subscription_cancel(*, subscription: RecurringSubscription, require_active: bool = False) -> RecurringSubscription:
    """Cancel an active recurring subscription (cancel_subscription); a cancelled one is left as it is,
    or, with require_active (the API's cancel_transaction), refused with 409 subscription_not_active."""
    now = timezone.now()
    updated = RecurringSubscription.objects.filter(
        pk=subscription.pk, status=RecurringSubscription.Status.ACTIVE
    ).update(status=RecurringSubscription.Status.CANCELLED, cancelled_at=now)
    if not updated and require_active:
        raise ApplicationError("This subscription is not active.", code="subscription_not_active", status_code=409)
    subscription.refresh_from_db()
    if updated:
        sale = Transaction.objects.select_related("lead", "product", "price_point").get(pk=subscription.sale_id)
        details = _transaction_details(sale, lead=sale.lead, subscription_id=subscription.pk)
        lead_event_write(lead=sale.lead, action=LeadAction.CANCEL_SUBSCRIPTION, details=details)
    return subscription


# ---------------------------------------------------------------------------------------------
# Affiliates and JV partners


def _partner_signup(*, lead: Lead, product: Product, kind: str, action: LeadAction) -> PartnerSignup:
    _check_same_account(lead, product)
    signup, created = PartnerSignup.objects.get_or_create(lead=lead, product=product, kind=kind)
    if created:
        lead_event_write(lead=lead, action=action, details=_product_details(product))
    return signup


@lead_transaction
def lead_affiliate_signup(*, lead: Lead, product: Product) -> PartnerSignup:
    return _partner_signup(
        lead=lead, product=product, kind=PartnerSignup.Kind.AFFILIATE, action=LeadAction.AFFILIATE_SIGNUP
    )


@lead_transaction
def lead_jv_signup(*, lead: Lead, product: Product) -> PartnerSignup:
    return _partner_signup(lead=lead, product=product, kind=PartnerSignup.Kind.JV, action=LeadAction.JV_SIGNUP)


# --- Checkout ----------------------------------------------------------------------------------


def checkout_unavailable_reason(*, product: Product) -> str | None:
    """Why the hosted checkout may not sell this product now, or None. No payment processor is
    integrated: a sale is possible only in the "test" payments mode, for a product in test mode."""
    if settings.PAYMENTS_MODE != "test":
        return "This shop cannot take orders yet: payments are not configured. Nothing was charged or recorded."
    if not product.test_mode:
        return "This product cannot be bought yet: payments are not configured for it. Nothing was charged or recorded."
    return None


@lead_transaction(durable=True)
def hosted_checkout_submit(
    *,
    product: Product,
    price_point: PricePoint,
    email: str,
    profile: dict[str, str],
    visitor: Visitor,
    granted: set[str],
) -> Transaction:
    """A visitor bought on the hosted checkout of a product in test mode: a test sale, no payment taken.
    The lead, consent and status as for a single opt-in (an unconfirmed visit)."""
    reason = checkout_unavailable_reason(product=product)
    if reason is not None:
        raise ApplicationError(reason, code="payments_not_configured", status_code=503)
    if price_point.product_id != product.pk:
        raise ApplicationError(
            "Choose one of this product's prices.",
            code="price_point_not_found",
            fields={"price_point": ["Choose one of this product's prices."]},
        )
    lead = _unconfirmed_visit(
        account=product.account,
        email=email,
        profile=profile,
        visitor=visitor,
        granted=granted,
        source=LeadSource.CHECKOUT,
        consent_source=ConsentSource.CHECKOUT,
    )
    return transaction_sale_record(
        lead=lead, price_point=price_point, quantity=1, amount=Decimal(price_point.amount), test=product.test_mode
    )
