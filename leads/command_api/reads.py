"""The command API's reads that need no command registry, answered from the lead selectors: the
`get_lead` document (reference section 4) and the account-level `retrieve_*` lists (section 2).

The lead document is the v1 document (leads.selectors.lead_details: one query) in the platform's
shape: ids as strings, dates as `YYYY-MM-DD HH:MM:SS` Eastern time without an offset, flags as
"1"/"0", memberships' `name`, every custom field even when empty."""

import zoneinfo
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from accounts.models import Account
from leads.models import (
    GDPR_STATUS_CODES,
    OPTION_FIELD_TYPES,
    CustomField,
    CustomFieldOption,
    Lead,
    LeadList,
    Page,
    Sequence,
    Tag,
)
from leads.selectors import lead_can_receive_email, lead_details

PLATFORM_TIME_ZONE = zoneinfo.ZoneInfo("America/New_York")


def platform_datetime(value: datetime | None) -> str:
    """The platform's date format: Eastern time, no offset ("" for none)."""
    if value is None:
        return ""
    return value.astimezone(PLATFORM_TIME_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _field_value(item: dict) -> Any:
    value = item["field_value"]
    if isinstance(value, list):
        return [{"option_id": str(option["option_id"]), "option_value": option["option_value"]} for option in value]
    return value


def platform_lead_details(lead: Lead, details: dict | None = None) -> dict[str, Any]:
    """`lead_details` of get_lead, search and create/edit replies, from the v1 document (`details`:
    already read with the lead, else read here)."""
    details = lead_details(lead) if details is None else details
    return {
        "id": str(lead.pk),
        "first_name": lead.first_name,
        "middle_name": lead.middle_name,
        "last_name": lead.last_name,
        "last_name2": lead.last_name2,
        "email": lead.email,
        "date_joined": platform_datetime(lead.date_joined),
        "phone_country_code": lead.phone_country_code,
        "phone": lead.phone,
        "ip": lead.ip or "",
        "ip_country": lead.ip_country,
        "address": lead.address,
        "zip": lead.zip,
        "city": lead.city,
        "state": lead.state,
        "country": lead.country,
        "company": lead.company,
        "lead_picture": lead.lead_picture,
        "score": lead.score,
        "source": lead.source,
        "source_id": "",
        "referring_id": "",
        "website": lead.website,
        "facebook": lead.facebook,
        "twitter": lead.twitter,
        "linkedin": lead.linkedin,
        "google_plus": "",
        "lead_preferred_time_zone": lead.lead_preferred_time_zone,
        "notes": "",
        "sales_tax_id": "",
        "blacklisted": int(lead.blacklisted),
        "gdpr_lead_status": str(GDPR_STATUS_CODES[lead.gdpr_status]),
        "gdpr_lead_status_date": platform_datetime(lead.gdpr_status_date),
        "gdpr_lead_status_ip": lead.gdpr_status_ip or "",
        # The platform's docs disagree on this flag's polarity; here "1" means the lead may be emailed
        # (leads.selectors.lead_can_receive_email, the one rule).
        "gdpr_lead_communications": _flag(lead_can_receive_email(lead)),
        "custom_fields": [
            {
                "field_id": str(item["field_id"]),
                "field_identifier": item["field_identifier"],
                "field_type": item["field_type"],
                "field_value": _field_value(item),
            }
            for item in details["custom_fields"]
        ],
        "tags": [{"tag_id": str(tag["tag_id"]), "tag_name": tag["tag_name"]} for tag in details["tags"]],
        "lists": [
            {"list_id": str(item["list_id"]), "list_name": item["list_name"], "active": _flag(item["active"])}
            for item in details["lists"]
        ],
        "sequences": [
            {
                "sequence_id": str(item["sequence_id"]),
                "sequence_name": item["sequence_name"],
                "step": str(item["step"]),
                "status": item["status"],
            }
            for item in details["sequences"]
        ],
        "memberships": [
            {
                "membership_id": str(item["membership_id"]),
                "name": item["membership_name"],
                "level_id": str(item["level_id"]),
                "level_name": item["level_name"],
                "active": _flag(item["active"]),
            }
            for item in details["memberships"]
        ],
    }


def _names(model, account: Account) -> list[str]:
    return list(model.objects.filter(account=account).order_by("name", "pk").values_list("name", flat=True))


def account_custom_fields(account: Account) -> list[dict[str, Any]]:
    """retrieve_custom_fields: `field_value` (the options) only on option types. Two queries."""
    fields = CustomField.objects.filter(account=account).order_by("pk")
    fields = fields.prefetch_related(Prefetch("options", queryset=CustomFieldOption.objects.order_by("position", "pk")))
    documents = []
    for field in fields:
        document: dict[str, Any] = {
            "field_id": str(field.pk),
            "field_identifier": field.identifier,
            "field_type": field.type,
        }
        if field.type in OPTION_FIELD_TYPES:
            document["field_value"] = [
                {"option_id": str(option.pk), "option_value": option.value} for option in field.options.all()
            ]
        documents.append(document)
    return documents


# Account-level reads: cmd -> (the reply's data key, its builder). Their data also goes at the top
# level of the reply, where the platform's clients read it (reference section 3).
ACCOUNT_READS = {
    "retrieve_account_tags": ("account_tags", lambda account: _names(Tag, account)),
    "retrieve_account_lists": ("account_lists", lambda account: _names(LeadList, account)),
    "retrieve_account_sequences": ("account_sequences", lambda account: _names(Sequence, account)),
    "retrieve_account_pages": ("account_pages", lambda account: _names(Page, account)),
    "retrieve_custom_fields": ("custom_fields", account_custom_fields),
}
