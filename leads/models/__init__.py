"""The lead database's tables, one module per concern; everything is re-exported here, so
`from leads.models import Lead` is how other code imports a model.

- lead: the Lead, its GDPR status and the transitions allowed between statuses, custom fields
  and each lead's values;
- assets: the asset kinds (tags, lists, sequences and their steps, pages, forms, videos, links,
  calendars and classes, memberships and levels, products and price points);
- engagement: what links a lead to assets (tags, lists, points, bookings, membership access) and
  the activity log;
- sequences: a lead's place in a sequence and the step emails sent;
- commerce: transactions, recurring subscriptions, affiliate / JV signups;
- events: the lead event outbox (LeadEvent) and the event names (LeadAction);
- consent: the GDPR setting's audit, consent records, pending double opt-ins, erasures.
"""

from .asset_kinds import (
    ASSET_KINDS,
    ASSET_KINDS_BY_KEY,
    CALENDAR_EVENTS,
    MEMBERSHIP_EVENTS,
    TRANSACTION_EVENTS,
    AssetKind,
    AssetPart,
    asset_kind,
)
from .assets import (
    ASSET_MODELS,
    Asset,
    Calendar,
    CalendarClass,
    Form,
    LeadList,
    Membership,
    MembershipLevel,
    Page,
    PricePoint,
    Product,
    Sequence,
    SequenceStep,
    SplitTestLink,
    Tag,
    TrackingLink,
    Video,
    new_public_id,
)
from .commerce import (
    PartnerSignup,
    RecurringSubscription,
    Transaction,
)
from .consent import (
    ConsentAction,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    GdprSettingChange,
    LeadErasure,
    PendingOptIn,
)
from .engagement import (
    CalendarBooking,
    LeadActivity,
    LeadTag,
    ListSubscription,
    MembershipAccess,
    PointsChange,
)
from .events import (
    LeadAction,
    LeadEvent,
)
from .lead import (
    GDPR_FIELD_NAMES,
    GDPR_STATUS_CODES,
    GDPR_TRANSITIONS,
    GDPR_UNDECIDED,
    LEAD_PROFILE_FIELDS,
    OPTION_FIELD_TYPES,
    CustomField,
    CustomFieldOption,
    CustomFieldType,
    GdprEvidence,
    GdprStatus,
    Lead,
    LeadCustomFieldValue,
    LeadQuerySet,
    LeadSource,
    gdpr_transition_allowed,
    identifier_validator,
    iso_utc,
)
from .sequences import (
    SequenceSubscription,
    StepDelivery,
)

__all__ = [
    "ASSET_KINDS",
    "ASSET_KINDS_BY_KEY",
    "ASSET_MODELS",
    "Asset",
    "AssetKind",
    "AssetPart",
    "CALENDAR_EVENTS",
    "Calendar",
    "CalendarBooking",
    "CalendarClass",
    "ConsentAction",
    "ConsentPurpose",
    "ConsentRecord",
    "ConsentSource",
    "CustomField",
    "CustomFieldOption",
    "CustomFieldType",
    "Form",
    "GDPR_FIELD_NAMES",
    "GDPR_STATUS_CODES",
    "GDPR_TRANSITIONS",
    "GDPR_UNDECIDED",
    "GdprEvidence",
    "GdprSettingChange",
    "GdprStatus",
    "LEAD_PROFILE_FIELDS",
    "Lead",
    "LeadAction",
    "LeadActivity",
    "LeadCustomFieldValue",
    "LeadErasure",
    "LeadEvent",
    "LeadList",
    "LeadQuerySet",
    "LeadSource",
    "LeadTag",
    "ListSubscription",
    "MEMBERSHIP_EVENTS",
    "Membership",
    "MembershipAccess",
    "MembershipLevel",
    "OPTION_FIELD_TYPES",
    "Page",
    "PartnerSignup",
    "PendingOptIn",
    "PointsChange",
    "PricePoint",
    "Product",
    "RecurringSubscription",
    "Sequence",
    "SequenceStep",
    "SequenceSubscription",
    "SplitTestLink",
    "StepDelivery",
    "TRANSACTION_EVENTS",
    "Tag",
    "TrackingLink",
    "Transaction",
    "Video",
    "asset_kind",
    "gdpr_transition_allowed",
    "identifier_validator",
    "iso_utc",
    "new_public_id",
]
