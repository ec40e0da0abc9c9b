"""What the platform's other parts (checkout, video player, page tracker, affiliate centre, membership
area, calendar, sequence engine) report about a lead: one event name -> one command of the registry
(leads.services.commands), which resolves the references and calls the service that owns the change.

`platform_event_record` is the service behind `POST /api/v1/events`. It runs the event's command for
the lead, in one transaction, answers a reference that names nothing in the account as a field error
(400, the code kept), and returns the ids of the lead events the change wrote (none for a no-op).
"""

from dataclasses import dataclass, field
from typing import Any

from accounts.models import Account
from kartra_integrations.errors import ApplicationError
from leads.models import Lead, LeadAction
from leads.services.commands import ReferenceNotFound, command_run
from leads.services.events import lead_events_collected
from leads.services.transactions import lead_transaction

NOT_REPORTABLE: dict[str, str] = {
    LeadAction.REACHES_SCORE: (
        "reaches_score cannot be reported: it follows from the lead's points. Give the lead points instead."
    ),
}


@dataclass(frozen=True)
class PlatformEventResult:
    event_ids: list[str] = field(default_factory=list)
    transaction_id: int | None = None


# event name -> the command it runs (the same name where the platform has one command for both).
EVENT_COMMANDS: dict[str, str] = {
    LeadAction.FILLED_FORM: "filled_form",
    LeadAction.VIDEO_PLAY: "video_play",
    LeadAction.VIDEO_COMPLETE: "video_complete",
    LeadAction.TRACKING_LINK_CLICK: "tracking_link_click",
    LeadAction.KARTRA_PAGE_VISIT: "kartra_page_visit",
    LeadAction.EXTERNAL_PAGE_VISIT: "external_page_visit",
    LeadAction.CLICK_PAGE_SPLIT_TEST_LINK: "click_page_split_test_link",
    LeadAction.AFFILIATE_SIGNUP: "affiliate_signup",
    LeadAction.JV_SIGNUP: "jv_signup",
    LeadAction.MEMBERSHIP_GRANTED: "membership_granted",
    LeadAction.MEMBERSHIP_REVOKED: "membership_revoked",
    LeadAction.BUY_PRODUCT: "buy_product",
    LeadAction.CANCEL_SUBSCRIPTION: "cancel_subscription",
    LeadAction.REFUND_PRODUCT: "refund_transaction",
    LeadAction.PARTIAL_REFUND_PRODUCT: "refund_transaction",
    LeadAction.SEQUENCE_COMPLETION: "sequence_completion",
    LeadAction.CALENDAR_COMPLETE: "calendar_complete",
    LeadAction.CALENDAR_SUBSCRIBE: "calendar_subscribe",
    LeadAction.CALENDAR_CANCEL: "calendar_cancel",
    LeadAction.ASSIGN_TAG: "assign_tag",
    LeadAction.UNASSIGN_TAG: "unassign_tag",
    LeadAction.LIST_SUBSCRIPTION: "subscribe_lead_to_list",
    LeadAction.LIST_UNSUBSCRIPTION: "unsubscribe_lead_from_list",
    LeadAction.SEQUENCE_SUBSCRIPTION: "subscribe_lead_to_sequence_at_step",
    LeadAction.SEQUENCE_UNSUBSCRIPTION: "unsubscribe_lead_from_sequence",
}

REPORTABLE_EVENTS: tuple[str, ...] = tuple(EVENT_COMMANDS)


@lead_transaction(durable=True)
def platform_event_record(*, account: Account, event: str, lead: Lead, **params: Any) -> PlatformEventResult:
    """Record what a part of the platform reports about `lead`: one command, one transaction.
    `params` are the event's validated fields (asset references as ids or exact names)."""
    if event in NOT_REPORTABLE:
        raise ApplicationError(
            NOT_REPORTABLE[event], code="event_not_reportable", fields={"event": [NOT_REPORTABLE[event]]}
        )
    command = EVENT_COMMANDS.get(event)
    if command is None:
        message = f'"{event}" is not a platform event.'
        raise ApplicationError(message, code="unknown_event", fields={"event": [message]})
    with lead_events_collected() as written:
        try:
            result = command_run(name=command, account=account, inputs={**params, "lead": lead})
        except ReferenceNotFound as error:
            raise ApplicationError(error.message, code=error.code, fields={error.reference: [error.message]}) from None
    sale = result.objects.get("sale")
    return PlatformEventResult(event_ids=[str(row.pk) for row in written], transaction_id=sale.pk if sale else None)
