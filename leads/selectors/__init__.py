"""Every non-trivial read of the lead database, one module per concern; everything is
re-exported here (`from leads.selectors import lead_get`).

- lookups: a lead, an asset, an asset's part, a transaction or subscription, scoped to an account;
- lead_document: the lead details document (API and hook payloads), for one lead or many at
  once, and the event payload hook delivery sends;
- email_gate: `lead_can_receive_email`, the one rule for emailing a lead, and the GDPR setting's
  audit;
- page_lists: the owner's leads list (keyset pages) and a lead's history.
"""

from .email_gate import (
    EMAILABLE_GDPR_STATUSES,
    gdpr_setting_changes,
    lead_can_receive_email,
)
from .lead_document import (
    event_payload,
    event_payload_build,
    lead_detail_rows_sql,
    lead_details,
    lead_details_many,
    lead_document_asset_row,
    lead_document_build,
    lead_document_from_rows,
    lead_get_with_details,
    reaches_score_matches,
)
from .lookups import (
    LEAD_NOT_FOUND,
    asset_lookups,
    asset_not_found,
    asset_resolve,
    calendar_class_resolve,
    lead_get,
    lead_lookup,
    membership_level_resolve,
    price_point_get,
    price_point_resolve,
    recurring_subscription_get,
    subscription_list,
    transaction_get,
    transaction_list,
)
from .page_lists import (
    LEADS_PER_PAGE,
    LeadPage,
    lead_history,
    lead_list_page,
    lead_search_filter,
)

__all__ = [
    "EMAILABLE_GDPR_STATUSES",
    "LEADS_PER_PAGE",
    "LEAD_NOT_FOUND",
    "LeadPage",
    "asset_lookups",
    "asset_not_found",
    "asset_resolve",
    "calendar_class_resolve",
    "event_payload",
    "event_payload_build",
    "gdpr_setting_changes",
    "lead_can_receive_email",
    "lead_detail_rows_sql",
    "lead_details",
    "lead_details_many",
    "lead_document_build",
    "lead_document_asset_row",
    "lead_document_from_rows",
    "lead_get_with_details",
    "lead_get",
    "lead_lookup",
    "lead_history",
    "lead_list_page",
    "lead_search_filter",
    "membership_level_resolve",
    "price_point_get",
    "price_point_resolve",
    "reaches_score_matches",
    "recurring_subscription_get",
    "subscription_list",
    "transaction_get",
    "transaction_list",
]
