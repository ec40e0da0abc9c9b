import zoneinfo
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Lower

from kartra_integrations.append_only import AppendOnlyModel


class Role(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    MODERATOR = "moderator", "Moderator"
    SUPPORT = "support", "Support agent"


class EmailUserManager(UserManager):
    """Users log in with their email; the username is kept equal to it."""

    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email or username)
        # Django 5.2's UserManager has _create_user; django-stubs 6 (Django 6) no longer lists it.
        return super()._create_user(email, email, password, **extra_fields)  # type: ignore[misc]

    # The email is the username, so these take no username: not Django's signature, on purpose.
    def create_user(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        return super().create_user(email, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        return super().create_superuser(email, email, password, **extra_fields)


class User(AbstractUser):
    email = models.EmailField("email address", unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[EmailUserManager] = EmailUserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    @property
    def is_moderator(self) -> bool:
        return self.role == Role.MODERATOR

    @property
    def is_support(self) -> bool:
        return self.role == Role.SUPPORT


TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Account(models.Model):
    """The tenant: everything a customer owns hangs off one account."""

    name = models.CharField(max_length=200)
    owner = models.OneToOneField(User, on_delete=models.PROTECT, related_name="account")
    timezone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    gdpr_enabled = models.BooleanField(default=True)
    # Set and cleared only by approvals.services (approve / revoke); the API gate reads it.
    zapier_activated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class CredentialKind(models.TextChoices):
    """Who may use an API credential: the owner's Zapier connection, or the platform's own parts
    (checkout, video player, page tracker, ...) reporting to POST /api/v1/events. Neither is
    accepted where the other belongs (accounts.permissions)."""

    ZAPIER = "zapier", "Zapier"
    PLATFORM = "platform", "Platform events"


class ApiCredential(models.Model):
    """One of the account's API credentials (one per kind): the API key (public) and a keyed hash
    of its API password (secret), or no password yet (`password_hash` empty: the owner creates one
    on the credentials page, where it is shown once)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_credentials")
    kind = models.CharField(max_length=16, choices=CredentialKind.choices, default=CredentialKind.ZAPIER)
    api_key = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="api_credential_unique_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} API key {self.api_key}"

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


class IdempotencyKey(models.Model):
    """One write request made with an `Idempotency-Key` header, and the response it got.

    Kept per account for IDEMPOTENCY_KEY_TTL (24 hours): the same key with the same request
    replays `response_status` / `response_body`; the unique constraint lets exactly one of two
    concurrent requests with the same key reserve it. `response_status` is null while the first
    request is still running.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(db_index=True)
    # Not a column: whether this request reserved the key just now (idempotency_key_reserve sets it).
    reserved_now: bool

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="idempotency_key_unique_per_account")]

    def __str__(self) -> str:
        return f"Idempotency key {self.key}"


# The platform command API's commands (POST /api, leads.command_api): what an app's command
# allow-list may name (error 262 for any other), in the reference's order.
KARTRA_COMMANDS: tuple[str, ...] = (
    "create_lead",
    "edit_lead",
    "search_lead",
    "get_lead",
    "assign_tag",
    "unassign_tag",
    "subscribe_lead_to_list",
    "unsubscribe_lead_from_list",
    "give_points_to_lead",
    "remove_points_from_lead",
    "subscribe_lead_to_sequence_at_step",
    "unsubscribe_lead_from_sequence",
    "calendar_subscribe",
    "calendar_cancel",
    "refund_transaction",
    "cancel_transaction",
    "create_custom_field",
    "retrieve_account_tags",
    "retrieve_account_lists",
    "retrieve_account_sequences",
    "retrieve_account_pages",
    "retrieve_custom_fields",
    "search_transaction",
    "get_transaction_details",
    "retrieve_transactions_from_lead",
    "search_subscription",
    "get_subscription_details",
    "retrieve_subscriptions_from_lead",
)


class ApiAppMode(models.TextChoices):
    """A new app is in test mode (every command works, no email is sent, created leads' email domains
    are rewritten) until a moderator approves its go-live request (approvals)."""

    TEST = "test", "Test mode"
    LIVE = "live", "Live"


class ApiApp(models.Model):
    """A developer app of the platform command API (POST /api): its public `app_id` is sent with every
    call, next to the API key and password of the account the call acts on (any account's: an app
    serves many users, like the platform's). Registered, edited and revoked by the owner of the account
    it belongs to (accounts.services.api_app_*); revoked apps stay for the history and answer 239."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_apps")
    name = models.CharField(max_length=100)
    app_id = models.CharField(max_length=64, unique=True)
    mode = models.CharField(max_length=8, choices=ApiAppMode.choices, default=ApiAppMode.TEST)
    # Normalised networks ("203.0.113.7/32", "2001:db8::/48"); empty: any address.
    allowed_ips = models.JSONField(default=list, blank=True)
    # Command names from KARTRA_COMMANDS; empty: every command.
    allowed_commands = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    went_live_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(mode__in=ApiAppMode.values), name="api_app_mode_valid"),
        ]

    def __str__(self) -> str:
        return f"API app {self.name} ({self.app_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def is_live(self) -> bool:
        return self.mode == ApiAppMode.LIVE


class ApiAppChangeAction(models.TextChoices):
    REGISTERED = "registered", "Registered"
    EDITED = "edited", "Edited"
    REVOKED = "revoked", "Revoked"
    WENT_LIVE = "went_live", "Made live"


class ApiAppChange(AppendOnlyModel):
    """Who registered, edited, revoked or made live an app, when, from what to what (actor None: an operator)."""

    api_app = models.ForeignKey(ApiApp, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=16, choices=ApiAppChangeAction.choices)
    from_values = models.JSONField(default=dict)
    to_values = models.JSONField(default=dict)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.api_app_id} {self.action} {self.changed_at:%Y-%m-%d %H:%M}"
