"""Sales, refunds, recurring subscriptions, and affiliate / JV partner signups."""

from django.db import models
from django.utils import timezone

from accounts.models import Account
from leads.models.assets import PricePoint, Product
from leads.models.lead import Lead


class Transaction(models.Model):
    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        REFUND = "refund", "Refund"
        PARTIAL_REFUND = "partial_refund", "Partial refund"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transactions")
    price_point = models.ForeignKey(PricePoint, on_delete=models.PROTECT, related_name="transactions")
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # A test sale (no payment taken: a product in test mode), and the refunds of one.
    test = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="sale", parent__isnull=True)
                | (~models.Q(kind="sale") & models.Q(parent__isnull=False)),
                name="transaction_refund_has_parent",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="transaction_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} {self.amount} {self.currency}"


class RecurringSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="recurring_subscriptions")
    sale = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="recurring_subscription")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"subscription {self.pk} of sale {self.sale_id} ({self.status})"


class PartnerSignup(models.Model):
    """An affiliate or JV partner sign-up of a lead for a product."""

    class Kind(models.TextChoices):
        AFFILIATE = "affiliate", "Affiliate"
        JV = "jv", "JV partner"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="partner_signups")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="partner_signups")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "product", "kind"], name="partnersignup_unique")]

    def __str__(self) -> str:
        return f"{self.kind} lead {self.lead_id} product {self.product_id}"
