"""Input serializers of the v1 API actions (one per command), and the input fields they share (ids,
money, asset references, custom field values); the outputs are leads.api.outputs.

Input serializers only check shape: types, lengths, formats, unknown keys and GDPR keys. Rules
about the data (does the lead, tag or custom field exist, may this sale be refunded) belong to
leads.services and leads.selectors, which the views call.
"""

import copy
import re
from functools import cache
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import TIME_ZONE_CHOICES
from kartra_integrations.errors import ApplicationError
from kartra_integrations.limits import (
    EXPIRATION_DAYS_MAX,
    ID_MAX,
    MONEY_DECIMAL_PLACES,
    MONEY_MAX,
    MONEY_MAX_DIGITS,
    POINTS_MAX,
    SCORE_MAX,
    STEP_MAX,
)
from leads.models import (
    GDPR_FIELD_NAMES,
    LEAD_PROFILE_FIELDS,
    CustomFieldType,
    Lead,
)
from leads.services import GDPR_NOT_SETTABLE_MESSAGE

ASSET_NAME_MAX_LENGTH = 200
MAX_CUSTOM_FIELDS = 200

# ---------------------------------------------------------------------------------------------
# Input

# An integer as text: ASCII digits only (DRF's IntegerField reads "١" as 1), "1.0" as DRF allows.
_INTEGER_TEXT = re.compile(r"\s*[-+]?[0-9]+(?:\.0*)?\s*")


class IntegerInput(serializers.IntegerField):
    """An integer given as a JSON number or as text of ASCII digits; give min_value and max_value
    from kartra_integrations.limits so the schema documents the range and nothing wraps."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not _INTEGER_TEXT.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


def id_input(**kwargs) -> IntegerInput:
    """A row's id: 1 .. the largest bigint."""
    return IntegerInput(min_value=1, max_value=ID_MAX, **kwargs)


def money_input(**kwargs) -> serializers.DecimalField:
    """An amount of money: 0 .. 9,999,999,999.99 with at most 2 decimal places (numeric(12, 2))."""
    kwargs.setdefault("min_value", 0)
    return serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, max_value=MONEY_MAX, **kwargs
    )


class StrictInputSerializer(serializers.Serializer):
    """Refuses GDPR keys (400 gdpr_not_settable) and keys it does not know (400 unknown_field)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            gdpr = sorted(set(data) & GDPR_FIELD_NAMES)
            if gdpr:
                raise ApplicationError(
                    GDPR_NOT_SETTABLE_MESSAGE,
                    code="gdpr_not_settable",
                    fields={name: [GDPR_NOT_SETTABLE_MESSAGE] for name in gdpr},
                )
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ApplicationError(
                    f"Unknown field: {', '.join(unknown)}",
                    code="unknown_field",
                    fields={name: ["Unknown field."] for name in unknown},
                )
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            {"type": "string", "minLength": 1, "maxLength": ASSET_NAME_MAX_LENGTH},
        ],
        "example": "Customer",
    }
)
class AssetRefField(serializers.Field):
    """An asset given by its id (a number) or its exact name (a string)."""

    default_error_messages = {
        "invalid": "Give the id (a number) or the exact name (text).",
        "blank": "This field may not be blank.",
        "max_length": f"Ensure this field has no more than {ASSET_NAME_MAX_LENGTH} characters.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= ID_MAX:
                self.fail("invalid")
            return data
        data = data.strip()
        if not data:
            self.fail("blank")
        if "\x00" in data:
            self.fail("invalid")
        if len(data) > ASSET_NAME_MAX_LENGTH:
            self.fail("max_length")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [
                {"type": "string", "maxLength": 10000},
                {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX}, "maxItems": 100},
            ]
        },
        "example": {"favourite_color": "green", "plan": 12},
    }
)
class CustomFieldValuesField(serializers.Field):
    """{identifier: value}: text for text fields, an option id for drop-down and radio, a list of
    option ids for checkbox; "" clears. Whether the identifier and value fit is the service's call."""

    default_error_messages = {
        "not_a_dict": 'Give an object of {{"identifier": value}}.',
        "too_many": f"Give at most {MAX_CUSTOM_FIELDS} custom fields.",
        "bad_value": "Give text, an option id or a list of option ids.",
        "too_long": "Ensure this value has no more than 10000 characters.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        if len(data) > MAX_CUSTOM_FIELDS:
            self.fail("too_many")
        errors = {}
        for identifier, value in data.items():
            if "\x00" in identifier or len(identifier) > 64:
                errors[identifier[:64]] = ["Unknown custom field."]
            elif not _is_custom_field_value(value):
                errors[identifier] = [str(self.error_messages["bad_value"])]
            elif isinstance(value, str) and len(value) > 10000:
                errors[identifier] = [str(self.error_messages["too_long"])]
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_representation(self, value):
        return value


def _is_custom_field_value(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, list):
        return len(value) <= 100 and all(
            isinstance(item, int) and not isinstance(item, bool) or isinstance(item, str) and "\x00" not in item
            for item in value
        )
    return False


class LeadRefInput(StrictInputSerializer):
    """The lead an action is about: by `lead_id` or `email` (when both are given, `lead_id` wins)."""

    lead_id = id_input(required=False, help_text="The lead's id; wins over `email`.")
    email = serializers.EmailField(required=False, max_length=254, help_text="The lead's email address.")

    def validate(self, attrs):
        if "lead_id" not in attrs and "email" not in attrs:
            raise serializers.ValidationError({"email": ["Give the lead's email or lead_id."]})
        return attrs


TIME_ZONE_NAMES = frozenset(name for name, _ in TIME_ZONE_CHOICES)


@extend_schema_field({"type": "string", "enum": ["", *sorted(TIME_ZONE_NAMES)]})
class TimeZoneField(serializers.CharField):
    """An IANA time zone name or blank. A set lookup: a ChoiceField would rebuild its ~600 choices
    for every request that creates or edits a lead."""

    default_error_messages = {"invalid_choice": '"{input}" is not a valid choice.'}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and value not in TIME_ZONE_NAMES:
            self.fail("invalid_choice", input=value)
        return value


class LeadProfileInput(serializers.ModelSerializer):
    """The standard lead fields, all optional, with the model's lengths and formats."""

    lead_preferred_time_zone = TimeZoneField(required=False, allow_blank=True, max_length=64)

    class Meta:
        model = Lead
        fields = LEAD_PROFILE_FIELDS


@cache
def _profile_field_template() -> dict[str, serializers.Field]:
    # Building fields from the model (introspection, ~20 fields) costs more than copying them.
    return LeadProfileInput().get_fields()


def _profile_fields(serializer: serializers.Serializer) -> dict[str, serializers.Field]:
    """Fresh unbound fields for one serializer instance, as DRF copies declared fields: only those
    the input carries (a Zap sends a few of the ~20), all of them for the schema or with no input."""
    template = _profile_field_template()
    data = getattr(serializer, "initial_data", None)
    names = [name for name in template if name in data] if isinstance(data, dict) else template
    return {name: copy.deepcopy(template[name]) for name in names}


class CreateLeadInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254, help_text="Required; unique in the account (case-insensitive).")
    custom_fields = CustomFieldValuesField(required=False)

    def get_fields(self):
        return {**super().get_fields(), **_profile_fields(self)}


class EditLeadInput(LeadRefInput):
    new_email = serializers.EmailField(required=False, max_length=254, help_text="Changes the lead's email.")
    custom_fields = CustomFieldValuesField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        return {**fields, **_profile_fields(self)}


class TagInput(LeadRefInput):
    tag = AssetRefField(help_text="The tag's id or exact name.")


class ListInput(LeadRefInput):
    list = AssetRefField(help_text="The list's id or exact name.")


CREATE_IF_MISSING_HELP = (
    "When true and no {kind} has this exact name, create it (in the same transaction as the change). "
    "An id that does not exist is still a 404. Default false."
)


class AssignTagInput(TagInput):
    create_if_missing = serializers.BooleanField(
        required=False, default=False, help_text=CREATE_IF_MISSING_HELP.format(kind="tag")
    )


class SubscribeListInput(ListInput):
    create_if_missing = serializers.BooleanField(
        required=False, default=False, help_text=CREATE_IF_MISSING_HELP.format(kind="list")
    )


def points_input() -> IntegerInput:
    return IntegerInput(
        min_value=1,
        max_value=POINTS_MAX,
        help_text=f"1 to {POINTS_MAX:,} per call. A change that would take the score past "
        f"±{SCORE_MAX:,} (2^53-1) is refused.",
    )


class GivePointsInput(LeadRefInput):
    points = points_input()
    expiration_days = IntegerInput(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=EXPIRATION_DAYS_MAX,
        help_text="0 or absent: never expire.",
    )


class RemovePointsInput(LeadRefInput):
    points = points_input()


class SequenceSubscribeInput(LeadRefInput):
    sequence = AssetRefField(help_text="The sequence's id or exact name.")
    step = IntegerInput(required=False, default=1, min_value=1, max_value=STEP_MAX)


class SequenceInput(LeadRefInput):
    sequence = AssetRefField(help_text="The sequence's id or exact name.")


class CalendarClassInput(LeadRefInput):
    calendar = AssetRefField(help_text="The calendar's id or exact name.")

    def get_fields(self):
        # `class` is a Python keyword, so the field is added here rather than declared.
        fields = super().get_fields()
        fields["class"] = AssetRefField(help_text="The class's id or exact name, within the calendar.")
        return fields


class CalendarSubscribeInput(CalendarClassInput):
    starts_at = serializers.DateTimeField(help_text="ISO-8601 with a time zone; must be in the future.")


class RefundInput(StrictInputSerializer):
    transaction_id = id_input(help_text="The sale's transaction id.")
    amount = money_input(
        required=False,
        allow_null=True,
        help_text="Absent: refund what is left of the sale. Below what is left: a partial refund.",
    )


class CancelInput(StrictInputSerializer):
    subscription_id = id_input(help_text="The recurring subscription's id.")


class CreateCustomFieldInput(StrictInputSerializer):
    identifier = serializers.RegexField(
        r"^[A-Za-z0-9_-]+\Z",
        max_length=64,
        error_messages={"invalid": "Use only letters, digits, '-' and '_'."},
        help_text="Letters, digits, `-` and `_`; unique in the account.",
    )
    type = serializers.ChoiceField(choices=CustomFieldType.choices)
    options = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=100,
        help_text="Option names: two or more for drop_down, radio_button and checkbox; none otherwise.",
    )
