"""Demo users for `make run` (idempotent): an owner whose account a moderator approved through the
review services (so its audit trail is real), an owner with a pending request, a moderator and a
support agent. Their logins are printed; the approved account's API credentials (Zapier's and the
platform events one) are regenerated on every run, because only their hashes are stored."""

from django.core.management.base import BaseCommand
from django.test import override_settings

from accounts.models import Account, CredentialKind, Role, User
from accounts.services import account_create, api_credentials_issue, staff_create
from approvals.models import RequestState
from approvals.selectors import request_open_for_account
from approvals.services import request_answer, request_claim, request_decide, request_submit
from leads.demo import demo_leads_create

PASSWORD = "kartra-demo"  # noqa: S105  (demo logins, printed at start-up on purpose)
APPROVED_OWNER = "owner.approved@example.com"
PENDING_OWNER = "owner.pending@example.com"
MODERATOR = "moderator@example.com"
SUPPORT = "support@example.com"

APPROVED_USE = "We send every new webinar registrant from Zoom into Kartra and tag buyers from Stripe."
PENDING_USE = "We want new Typeform survey answers to create leads in Kartra and subscribe them to a list."


def _with_password(user: User) -> User:
    if not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return user


def _staff(email: str, role: Role) -> User:
    user = User.objects.filter(email=email).first() or staff_create(email=email, role=role, password=PASSWORD)
    return _with_password(user)


def _owner_account(email: str, name: str) -> Account:
    user = User.objects.filter(email=email).first()
    if user is None:
        return account_create(email=email, name=name, password=PASSWORD)
    _with_password(user)
    return user.account


def _approve_through_review(account: Account, moderator: User, stated_use: str) -> None:
    activation_request = request_open_for_account(account=account) or request_submit(
        actor=account.owner, account=account, stated_use=stated_use
    )
    if activation_request.state == RequestState.APPROVED:  # the moderators' activation policy held
        return
    if activation_request.state == RequestState.NEEDS_INFO:
        activation_request = request_answer(
            actor=account.owner, activation_request=activation_request, answer=stated_use
        )
    if activation_request.state == RequestState.PENDING:
        activation_request = request_claim(
            actor=moderator,
            activation_request=activation_request,
            out_of_order_reason="Demo data set-up: the demo approved account is approved through the review.",
        )
    decider = activation_request.assigned_to
    assert decider is not None  # claimed just above, or before
    request_decide(
        actor=decider,
        activation_request=activation_request,
        outcome="approved",
        reason="use_clear",
    )


class Command(BaseCommand):
    help = "Load the demo users (idempotent) and print their logins."

    # Demo addresses are not real: their review emails are dropped, not sent or printed.
    @override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    def handle(self, *args, **options):
        moderator = _staff(MODERATOR, Role.MODERATOR)
        _staff(SUPPORT, Role.SUPPORT)

        approved = _owner_account(APPROVED_OWNER, "Demo Approved Business")
        if not approved.zapier_activated:
            _approve_through_review(approved, moderator, APPROVED_USE)
        issued = api_credentials_issue(account=approved, kind=CredentialKind.ZAPIER)
        platform = api_credentials_issue(account=approved, kind=CredentialKind.PLATFORM)

        pending = _owner_account(PENDING_OWNER, "Demo Pending Business")
        if not pending.zapier_activated and request_open_for_account(account=pending) is None:
            request_submit(actor=pending.owner, account=pending, stated_use=PENDING_USE)

        assets = self._demo_assets(approved)
        self.stdout.write(
            f"\nDemo logins (password for all: {PASSWORD}):\n"
            f"  owner, Zapier approved:  {APPROVED_OWNER}\n"
            f"  owner, request pending:  {PENDING_OWNER}\n"
            f"  moderator:               {MODERATOR}\n"
            f"  support agent:           {SUPPORT}\n"
            "Approved account's API credentials (new on every run):\n"
            "  for Zapier (every endpoint but POST /api/v1/events):\n"
            f"  API key:      {issued.api_key}\n"
            f"  API password: {issued.api_password}\n"
            "  for the platform's own parts (POST /api/v1/events only):\n"
            f"  Platform events key:      {platform.api_key}\n"
            f"  Platform events password: {platform.api_password}\n"
            f"{assets}"
        )

    def _demo_assets(self, account: Account) -> str:
        demo_leads_create(account=account)
        return "Demo assets and leads: loaded for the approved account.\n"
