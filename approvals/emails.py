"""Emails about activation requests. Services schedule these with transaction.on_commit, so a
rolled-back transition never sends mail; each function reloads the row by id."""

import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts.models import Role, User

from .models import ActivationRequest, DecisionReason

logger = logging.getLogger(__name__)

NEXT_STEPS = "Review starts within one business day; it can take up to two weeks."


def _send(subject: str, body: str, recipients: list[str]) -> None:
    if not recipients:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        # The transition is committed already; a mail outage must not turn it into an error page.
        logger.exception("Could not send %r to %s", subject, recipients)


def _request(activation_request_id: int) -> ActivationRequest:
    return ActivationRequest.objects.select_related("account__owner", "api_app").get(pk=activation_request_id)


def _local(moment) -> str:
    """A time as moderators count it (MODERATION_TIME_ZONE), e.g. 'Monday 10 March 2025, 17:00 EDT'."""
    return timezone.localtime(moment, ZoneInfo(settings.MODERATION_TIME_ZONE)).strftime("%A %d %B %Y, %H:%M %Z")


def _go_live_email_send(activation_request: ActivationRequest, subject: str, body: str) -> None:
    """The go-live request's emails (the owner follows it on the API credentials page)."""
    _send(
        subject,
        f"Hello,\n\n{body}\n\nYou can follow it on your API credentials page.\n",
        [activation_request.account.owner.email],
    )


def request_received_email_send(*, activation_request_id: int) -> None:
    activation_request = _request(activation_request_id)
    if activation_request.is_go_live:
        return _go_live_email_send(
            activation_request,
            f"We received the go-live request of your API app {activation_request.api_app.name}",
            f"we received your request to take the API app {activation_request.api_app.name} of "
            f"{activation_request.account.name} live. {NEXT_STEPS} "
            f"A moderator will start the review by {_local(activation_request.due_at)}; until it is approved the "
            "app stays in test mode.",
        )
    _send(
        "We received your Zapier activation request",
        f"Hello,\n\nwe received your request to activate Zapier for {activation_request.account.name}.\n\n"
        f"{NEXT_STEPS} A moderator will start the review by {_local(activation_request.due_at)}.\n"
        "You can follow its state on your My integrations page.\n",
        [activation_request.account.owner.email],
    )


def request_needs_info_email_send(*, activation_request_id: int) -> None:
    activation_request = _request(activation_request_id)
    if activation_request.is_go_live:
        return _go_live_email_send(
            activation_request,
            f"The go-live request of your API app {activation_request.api_app.name} needs more information",
            f"the moderator reviewing the go-live of the API app {activation_request.api_app.name} needs more "
            f"information:\n\n{activation_request.decision_note}",
        )
    _send(
        "Your Zapier activation request needs more information",
        f"Hello,\n\nthe moderator reviewing Zapier access for {activation_request.account.name} needs more "
        f"information:\n\n{activation_request.decision_note}\n\n"
        "Please answer on your My integrations page; your request keeps its place in the queue.\n",
        [activation_request.account.owner.email],
    )


def request_approved_email_send(*, activation_request_id: int) -> None:
    activation_request = _request(activation_request_id)
    if activation_request.is_go_live:
        return _go_live_email_send(
            activation_request,
            f"Your API app {activation_request.api_app.name} is live",
            f"the API app {activation_request.api_app.name} of {activation_request.account.name} is live: "
            "test mode is over.",
        )
    _send(
        "Zapier access is activated",
        f"Hello,\n\nZapier access for {activation_request.account.name} is now activated.\n"
        "Connect Zapier with the API key and password from your API credentials page.\n",
        [activation_request.account.owner.email],
    )


def request_rejected_email_send(*, activation_request_id: int) -> None:
    activation_request = _request(activation_request_id)
    reason = DecisionReason(activation_request.decision_reason).label
    note = f"\n{activation_request.decision_note}\n" if activation_request.decision_note else ""
    if activation_request.is_go_live:
        return _go_live_email_send(
            activation_request,
            f"The go-live request of your API app {activation_request.api_app.name} was not approved",
            f"the API app {activation_request.api_app.name} stays in test mode: its go-live request was not "
            f"approved.\n\nReason: {reason}\n{note}",
        )
    _send(
        "Your Zapier activation request was not approved",
        f"Hello,\n\nyour request to activate Zapier for {activation_request.account.name} was not approved.\n\n"
        f"Reason: {reason}\n{note}\nYou may send a new request from your My integrations page.\n",
        [activation_request.account.owner.email],
    )


def _moderator_emails() -> list[str]:
    return list(
        User.objects.filter(role=Role.MODERATOR, is_active=True).order_by("email").values_list("email", flat=True)
    )


def overdue_requests_email_send(*, activation_request_ids: list[int]) -> None:
    requests = ActivationRequest.objects.select_related("account").filter(pk__in=activation_request_ids)
    lines = [f"- #{r.pk} {r.account.name}: due {_local(r.due_at)}" for r in requests]
    moderators = _moderator_emails()
    _send(
        f"{len(lines)} activation request(s) overdue for review",
        "These activation requests passed their one-business-day review start:\n\n" + "\n".join(lines) + "\n",
        moderators,
    )


def past_review_limit_email_send(*, activation_request_ids: list[int]) -> None:
    requests = ActivationRequest.objects.select_related("account", "assigned_to").filter(pk__in=activation_request_ids)
    lines = [
        f"- #{r.pk} {r.account.name}: submitted {_local(r.submitted_at)}, {r.get_state_display().lower()}"
        + (f" (assigned to {r.assigned_to.email})" if r.assigned_to else "")
        for r in requests
    ]
    _send(
        f"{len(lines)} activation review(s) running past two weeks",
        "We tell owners a review takes two weeks at most. These requests are still waiting on a moderator:\n\n"
        + "\n".join(lines)
        + "\n",
        _moderator_emails(),
    )
