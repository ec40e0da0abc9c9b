"""Every write to the lead database, one module per concern; everything is re-exported here, so
`from leads.services import lead_create` is how other code calls a service. One change = one
service call = one transaction; each service writes its lead event (leads.models.LeadEvent) in the
same transaction through `lead_event_write`, and none when the change changes nothing.

- transactions: how a service owns its transaction and what runs after it (the rule below);
- events: the outbox writer (`lead_event_write`), each event's action_details (`action_details_build`);
- leads: create, update, blacklist, GDPR status (and `new_lead_gdpr_status`), custom fields, the
  account's GDPR setting;
- assets: the account's assets and their parts;
- engagement: tags, lists, points, sequences, calendar bookings; activity: form fills, page
  visits, video plays, link clicks;
- commerce: memberships, sales, refunds, subscriptions, partner signups, the hosted checkout's sale;
- consent: consent capture on hosted pages, withdrawal; opt_in: double opt-in;
- data_rights: export and erasure; importing: bulk import; sequence_engine: the step emails;
- commands: the command registry every front door runs writes through (`command_run`), and
  command_call: what a command is (Command, CommandCall: the one place references resolve);
  platform_events: `POST /api/v1/events`'s event names -> commands;
- geo: where a visitor's IP is (for consent).

Transactions, one rule. A service that writes more than one row is decorated `@lead_transaction`
(leads.services.transactions): inside a caller's transaction it is a savepoint, so services
compose (the hosted form runs several in one transaction). An entry point that callers treat as
one unit (a hosted page's submission, an import batch, an erasure, a platform event, a beat job's
step) is `@lead_transaction(durable=True)`, which refuses to run nested. A service that writes one
row with its event writes them in one statement (`_insert_with_event`) and opens no transaction:
on PostgreSQL that statement is atomic by itself. The API's hottest writes go further
(leads.services.links for tags and lists, `lead_create_read`): finding the lead and the asset,
the write with its event and the lead document's read are one statement, one round trip.
Nothing is sent from inside a transaction: side effects (waking hook delivery, Celery tasks,
emails) are registered with `lead_on_commit`, which uses Django's public `transaction.on_commit`
(`once=True` for one wake-up per transaction however many events it wrote). A new lead's GDPR
status is `new_lead_gdpr_status`'s, whatever creates it.
"""

from .activity import (
    lead_external_page_visit_record,
    lead_form_filled,
    lead_kartra_page_visit_record,
    lead_split_test_link_click_record,
    lead_tracking_link_click_record,
    lead_video_complete_record,
    lead_video_play_record,
)
from .assets import (
    asset_create,
    asset_get_or_create,
    asset_update,
    calendar_class_create,
    form_create,
    form_update,
    membership_level_create,
    price_point_create,
    sequence_step_create,
    sequence_step_update,
)
from .commands import (
    COMMANDS,
    Command,
    CommandCall,
    CommandResult,
    ReferenceNotFound,
    command_run,
)
from .commerce import (
    checkout_unavailable_reason,
    hosted_checkout_submit,
    lead_affiliate_signup,
    lead_jv_signup,
    lead_membership_grant,
    lead_membership_revoke,
    subscription_cancel,
    transaction_refund,
    transaction_sale_record,
)
from .consent import (
    EMAIL_DIGEST_SALT,
    IMPORT_NOTICE_TEXT,
    NOTICE_TEMPLATES,
    NOTICE_VERSION,
    USER_AGENT_MAX_LENGTH,
    Visitor,
    consent_current,
    consent_email_digest,
    consent_notices,
    consent_record,
    consent_withdraw,
    hosted_form_submit,
)
from .data_rights import (
    ERASED,
    ERASED_EMAIL_DOMAIN,
    MIN_NEEDLE_LENGTH,
    NEEDLE_FIELDS,
    PERSONAL_DETAIL_KEYS,
    SCRUB_FUNCTION,
    consent_evidence_for_email,
    erased_email,
    lead_erase,
    lead_erased_locked,
    lead_export,
)
from .engagement import (
    calendar_bookings_complete_ended,
    lead_calendar_cancel,
    lead_calendar_complete,
    lead_calendar_subscribe,
    lead_list_subscribe,
    lead_list_subscribe_by_ref,
    lead_list_unsubscribe,
    lead_points_give,
    lead_points_remove,
    lead_sequence_complete,
    lead_sequence_subscribe,
    lead_sequence_unsubscribe,
    lead_tag_assign,
    lead_tag_assign_by_ref,
    lead_tag_unassign,
    points_expire_due,
)
from .events import (
    action_details_build,
    lead_event_write,
    lead_events_collected,
)
from .importing import (
    DEFAULT_BATCH_SIZE,
    IMPORTABLE_COLUMNS,
    ImportReport,
    RejectedRow,
    import_columns_check,
    leads_import,
)
from .leads import (
    GDPR_NOT_SETTABLE_MESSAGE,
    LEAD_EXISTS_MESSAGE,
    account_gdpr_enabled_set,
    custom_field_create,
    lead_blacklist_set,
    lead_create,
    lead_create_read,
    lead_custom_fields_set,
    lead_gdpr_status_set,
    lead_update,
    new_lead_gdpr_status,
)
from .links import (
    lead_list_subscribe_read,
    lead_list_unsubscribe_read,
    lead_tag_assign_read,
    lead_tag_unassign_read,
)
from .opt_in import (
    OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR,
    OptInLinkError,
    opt_in_confirm,
    opt_in_confirmation_send,
    opt_in_confirmation_url,
    opt_in_pending_create,
    opt_in_pending_get,
    opt_in_token,
    pending_opt_ins_purge,
)
from .platform_events import (
    EVENT_COMMANDS,
    NOT_REPORTABLE,
    REPORTABLE_EVENTS,
    PlatformEventResult,
    platform_event_record,
)
from .sequence_engine import (
    BATCH_SIZE,
    MAX_BATCHES_PER_RUN,
    EngineRun,
    sequence_due_subscription_ids,
    sequence_engine_run,
    sequence_subscription_step_process,
    step_delivery_send,
)
from .transactions import (
    lead_on_commit,
    lead_transaction,
)

__all__ = [
    "BATCH_SIZE",
    "COMMANDS",
    "Command",
    "CommandCall",
    "CommandResult",
    "DEFAULT_BATCH_SIZE",
    "EMAIL_DIGEST_SALT",
    "ERASED",
    "ERASED_EMAIL_DOMAIN",
    "EVENT_COMMANDS",
    "EngineRun",
    "GDPR_NOT_SETTABLE_MESSAGE",
    "IMPORTABLE_COLUMNS",
    "IMPORT_NOTICE_TEXT",
    "ImportReport",
    "LEAD_EXISTS_MESSAGE",
    "MAX_BATCHES_PER_RUN",
    "MIN_NEEDLE_LENGTH",
    "NEEDLE_FIELDS",
    "NOTICE_TEMPLATES",
    "NOTICE_VERSION",
    "NOT_REPORTABLE",
    "OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR",
    "OptInLinkError",
    "PERSONAL_DETAIL_KEYS",
    "PlatformEventResult",
    "REPORTABLE_EVENTS",
    "ReferenceNotFound",
    "RejectedRow",
    "SCRUB_FUNCTION",
    "USER_AGENT_MAX_LENGTH",
    "Visitor",
    "account_gdpr_enabled_set",
    "action_details_build",
    "asset_create",
    "asset_get_or_create",
    "asset_update",
    "calendar_bookings_complete_ended",
    "calendar_class_create",
    "checkout_unavailable_reason",
    "command_run",
    "consent_current",
    "consent_email_digest",
    "consent_evidence_for_email",
    "consent_notices",
    "consent_record",
    "consent_withdraw",
    "custom_field_create",
    "erased_email",
    "form_create",
    "form_update",
    "hosted_checkout_submit",
    "hosted_form_submit",
    "import_columns_check",
    "lead_affiliate_signup",
    "lead_blacklist_set",
    "lead_calendar_cancel",
    "lead_calendar_complete",
    "lead_calendar_subscribe",
    "lead_create",
    "lead_create_read",
    "lead_custom_fields_set",
    "lead_erase",
    "lead_erased_locked",
    "lead_event_write",
    "lead_events_collected",
    "lead_export",
    "lead_external_page_visit_record",
    "lead_form_filled",
    "lead_gdpr_status_set",
    "lead_jv_signup",
    "lead_kartra_page_visit_record",
    "lead_list_subscribe",
    "lead_list_subscribe_by_ref",
    "lead_list_subscribe_read",
    "lead_list_unsubscribe",
    "lead_list_unsubscribe_read",
    "lead_membership_grant",
    "lead_membership_revoke",
    "lead_on_commit",
    "lead_points_give",
    "lead_points_remove",
    "lead_sequence_complete",
    "lead_sequence_subscribe",
    "lead_sequence_unsubscribe",
    "lead_split_test_link_click_record",
    "lead_tag_assign",
    "lead_tag_assign_by_ref",
    "lead_tag_assign_read",
    "lead_tag_unassign",
    "lead_tag_unassign_read",
    "lead_tracking_link_click_record",
    "lead_transaction",
    "lead_update",
    "lead_video_complete_record",
    "lead_video_play_record",
    "leads_import",
    "membership_level_create",
    "new_lead_gdpr_status",
    "opt_in_confirm",
    "opt_in_confirmation_send",
    "opt_in_confirmation_url",
    "opt_in_pending_create",
    "opt_in_pending_get",
    "opt_in_token",
    "pending_opt_ins_purge",
    "platform_event_record",
    "points_expire_due",
    "price_point_create",
    "sequence_due_subscription_ids",
    "sequence_engine_run",
    "sequence_step_create",
    "sequence_step_update",
    "sequence_subscription_step_process",
    "step_delivery_send",
    "subscription_cancel",
    "transaction_refund",
    "transaction_sale_record",
]
