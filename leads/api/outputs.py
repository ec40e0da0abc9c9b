"""Output serializers of the v1 API's reads: assets, custom fields, the lead document's parts,
transactions and subscriptions; `ASSET_READS` maps each dropdown path to its model and output."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.api.inputs import _profile_fields
from leads.models import (
    ASSET_KINDS,
    AssetKind,
    CustomField,
    CustomFieldType,
)

# ---------------------------------------------------------------------------------------------
# Output


class AssetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()


class SequenceStepOutput(serializers.Serializer):
    position = serializers.IntegerField(help_text="1 for the first step.")
    subject = serializers.CharField()
    delay_seconds = serializers.SerializerMethodField(help_text="Wait after the previous step (or the subscription).")

    def get_delay_seconds(self, step) -> int:
        return int(step.delay.total_seconds())


class SequenceOutput(AssetOutput):
    steps = SequenceStepOutput(many=True)


class PageOutput(AssetOutput):
    url = serializers.CharField()


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class FormOutput(AssetOutput):
    url = serializers.SerializerMethodField(help_text="The hosted opt-in form.")

    def get_url(self, form) -> str:
        return _absolute(self.context.get("request"), form.get_absolute_url())


class TrackingLinkOutput(AssetOutput):
    target_url = serializers.CharField()


class NamedChildOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CalendarOutput(AssetOutput):
    classes = NamedChildOutput(many=True)


class MembershipOutput(AssetOutput):
    levels = NamedChildOutput(many=True)


class PricePointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="The price point's number within the product (1..n).")
    name = serializers.SerializerMethodField(help_text='A label for dropdowns: "1: 99.00 USD".')
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    recurring = serializers.BooleanField()

    def get_name(self, price_point) -> str:
        return f"{price_point.number}: {price_point.amount} {price_point.currency}"


class ProductOutput(AssetOutput):
    price_points = PricePointOutput(many=True)
    url = serializers.SerializerMethodField(help_text="The hosted checkout.")

    def get_url(self, product) -> str:
        return _absolute(self.context.get("request"), product.get_absolute_url())


class CustomFieldOptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="value")


class CustomFieldOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="identifier", help_text="The identifier (for dropdowns).")
    identifier = serializers.CharField()
    type = serializers.ChoiceField(choices=CustomFieldType.choices)
    options = CustomFieldOptionOutput(many=True, help_text="Empty for input_field and text_area.")
    created_at = serializers.DateTimeField()


# The output of each kind's dropdown (AssetOutput unless named here).
_ASSET_OUTPUTS: dict[str, type[serializers.Serializer]] = {
    "sequence": SequenceOutput,
    "page": PageOutput,
    "custom_field": CustomFieldOutput,
    "form": FormOutput,
    "tracking_link": TrackingLinkOutput,
    "calendar": CalendarOutput,
    "membership": MembershipOutput,
    "product": ProductOutput,
}


def _prefetch(kind: AssetKind) -> tuple[str, ...]:
    if kind.part is not None:
        return (kind.part.related_name,)
    return ("options",) if kind.model is CustomField else ()


# The read endpoints, one per kind of leads.models.ASSET_KINDS:
# path (the kind's slug) -> (model, output serializer, related rows to prefetch).
ASSET_READS: dict[str, tuple[type, type[serializers.Serializer], tuple[str, ...]]] = {
    kind.slug: (kind.model, _ASSET_OUTPUTS.get(kind.key, AssetOutput), _prefetch(kind)) for kind in ASSET_KINDS
}


# The lead details document (leads.selectors.lead_details), described for the schema.


class LeadCustomFieldOptionOutput(serializers.Serializer):
    option_id = serializers.IntegerField()
    option_value = serializers.CharField()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "input_field and text_area"},
            {
                "type": "array",
                "description": "drop_down and radio_button (at most one), checkbox (any number)",
                "items": {
                    "type": "object",
                    "properties": {"option_id": {"type": "integer"}, "option_value": {"type": "string"}},
                },
            },
        ]
    }
)
class CustomFieldValueOutput(serializers.Field):
    def to_representation(self, value):
        return value


class LeadCustomFieldOutput(serializers.Serializer):
    field_id = serializers.IntegerField()
    field_identifier = serializers.CharField()
    field_type = serializers.CharField(help_text="input_field, text_area, drop_down, radio_button or checkbox.")
    field_value = CustomFieldValueOutput()


class LeadTagOutput(serializers.Serializer):
    tag_id = serializers.IntegerField()
    tag_name = serializers.CharField()


class LeadListOutput(serializers.Serializer):
    list_id = serializers.IntegerField()
    list_name = serializers.CharField()
    active = serializers.BooleanField()


class LeadSequenceOutput(serializers.Serializer):
    sequence_id = serializers.IntegerField()
    sequence_name = serializers.CharField()
    step = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["active", "unsubscribed", "completed"])


class LeadMembershipOutput(serializers.Serializer):
    membership_id = serializers.IntegerField()
    membership_name = serializers.CharField()
    level_id = serializers.IntegerField()
    level_name = serializers.CharField()
    active = serializers.BooleanField()


class LeadDetailsOutput(serializers.Serializer):
    """Only for the schema: views return leads.selectors.lead_details as it is."""

    def get_fields(self):
        fields = {"id": serializers.IntegerField(), "email": serializers.EmailField()}
        for name, field in _profile_fields(self).items():
            field.read_only = True
            fields[name] = field
        fields.update(
            date_joined=serializers.DateTimeField(help_text="ISO-8601 UTC."),
            score=serializers.IntegerField(),
            source=serializers.CharField(),
            blacklisted=serializers.BooleanField(),
            gdpr_lead_status=serializers.IntegerField(
                help_text="0 off, 1 not subject, 2 accepted, 3 not accepted, 4 unknown, 5 pending. Read only."
            ),
            gdpr_lead_status_name=serializers.CharField(),
            gdpr_lead_status_date=serializers.DateTimeField(allow_null=True),
            gdpr_lead_status_ip=serializers.IPAddressField(allow_null=True),
            custom_fields=LeadCustomFieldOutput(many=True, help_text="Every custom field of the account, empty too."),
            tags=LeadTagOutput(many=True),
            lists=LeadListOutput(many=True),
            sequences=LeadSequenceOutput(many=True),
            memberships=LeadMembershipOutput(many=True),
        )
        return fields


class LeadMessageOutput(serializers.Serializer):
    message = serializers.CharField()
    lead = LeadDetailsOutput()


class LeadSearchOutput(serializers.Serializer):
    message = serializers.ChoiceField(choices=["Lead found", "No lead found"])
    lead = LeadDetailsOutput(allow_null=True)


class TransactionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["sale", "refund", "partial_refund"])
    parent_id = serializers.IntegerField(allow_null=True)
    lead_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    test = serializers.BooleanField(
        help_text="A test sale (no payment taken) or a refund of one; transaction_test in hook payloads."
    )
    created_at = serializers.DateTimeField()


class RefundOutput(serializers.Serializer):
    message = serializers.CharField()
    transaction = TransactionOutput(help_text="The refund (kind refund, or partial_refund for part of the sale).")


class SubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["active", "cancelled"])
    sale_id = serializers.IntegerField()
    lead_id = serializers.IntegerField()
    cancelled_at = serializers.DateTimeField(allow_null=True)


class TransactionQuery(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1, help_text="The transaction's id.")
    lead_email = serializers.EmailField(
        required=False, max_length=254, help_text="The lead's email (case-insensitive)."
    )
    kind = serializers.ChoiceField(required=False, choices=["sale", "refund", "partial_refund"])


class TransactionReadOutput(TransactionOutput):
    """A transaction as the reads (and Zapier's Find Transaction) give it."""

    lead_email = serializers.EmailField(source="lead.email")
    product_name = serializers.CharField(source="product.name")
    price_point_id = serializers.IntegerField()
    price_point_number = serializers.IntegerField(source="price_point.number")
    quantity = serializers.IntegerField()
    subscription_id = serializers.SerializerMethodField(
        help_text="The sale's recurring subscription (what cancel_transaction takes); null otherwise."
    )

    def get_subscription_id(self, txn) -> int | None:
        subscription = getattr(txn, "recurring_subscription", None) if txn.kind == "sale" else None
        return subscription.pk if subscription else None


class SubscriptionQuery(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1, help_text="The subscription's id.")
    lead_email = serializers.EmailField(
        required=False, max_length=254, help_text="The lead's email (case-insensitive)."
    )
    status = serializers.ChoiceField(required=False, choices=["active", "cancelled"])


class SubscriptionReadOutput(SubscriptionOutput):
    """A recurring subscription as the reads (and Zapier's Find Subscription) give it."""

    lead_email = serializers.EmailField(source="lead.email")
    product_id = serializers.IntegerField(source="sale.product_id")
    product_name = serializers.CharField(source="sale.product.name")
    price_point_id = serializers.IntegerField(source="sale.price_point_id")
    amount = serializers.DecimalField(source="sale.amount", max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="sale.currency")
    created_at = serializers.DateTimeField()


class CancelOutput(serializers.Serializer):
    message = serializers.CharField()
    subscription = SubscriptionOutput()


class CustomFieldCreatedOutput(serializers.Serializer):
    message = serializers.CharField()
    custom_field = CustomFieldOutput()


class ErrorOutput(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()
    # The serializer's metaclass moves a declared field out of the class attributes, so this does not
    # replace Serializer.fields at run time; the stubs cannot see that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
