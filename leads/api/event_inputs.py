"""Input and output of POST /api/v1/events: the event name, the lead (email or lead_id) and, per event,
its fields. Asset references are an id or the asset's exact name."""

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from kartra_integrations.errors import ApplicationError
from kartra_integrations.limits import PRICE_POINT_MAX, QUANTITY_MAX, STEP_MAX
from leads.api.inputs import IntegerInput, id_input, money_input
from leads.models import LeadAction
from leads.services.platform_events import NOT_REPORTABLE, REPORTABLE_EVENTS


class AssetRefField(serializers.CharField):
    """An asset's id (number or numeric text) or its exact name."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", "The id or the exact name.")
        super().__init__(**kwargs)


def _params(name: str, **declared: serializers.Field) -> type[serializers.Serializer]:
    # Built with type() so fields can be called "class" and "list", as the platform names them.
    return type(name, (serializers.Serializer,), declared)


_form = _params("FilledFormEvent", form=AssetRefField())
_video = _params("VideoEvent", video=AssetRefField())
_product = _params("ProductEvent", product=AssetRefField())
_tag = _params("TagEvent", tag=AssetRefField())
_list = _params("ListEvent", list=AssetRefField())
_sequence = _params("SequenceEvent", sequence=AssetRefField())
_calendar_class = _params("CalendarClassEvent", calendar=AssetRefField(), **{"class": AssetRefField()})
_refund = _params("RefundEvent", transaction_id=id_input(), amount=money_input(required=False))


class CancelSubscriptionEvent(serializers.Serializer):
    subscription_id = id_input(required=False)
    product = AssetRefField(required=False)

    def validate(self, attrs):
        if "subscription_id" not in attrs and "product" not in attrs:
            message = "Give the subscription_id (or the product whose subscriptions end)."
            raise serializers.ValidationError({"subscription_id": [message]})
        return attrs


EVENT_PARAMS: dict[str, type[serializers.Serializer]] = {
    LeadAction.FILLED_FORM: _form,
    LeadAction.VIDEO_PLAY: _video,
    LeadAction.VIDEO_COMPLETE: _video,
    LeadAction.TRACKING_LINK_CLICK: _params("TrackingLinkEvent", tracking_link=AssetRefField()),
    LeadAction.KARTRA_PAGE_VISIT: _params("PageVisitEvent", page=AssetRefField()),
    LeadAction.EXTERNAL_PAGE_VISIT: _params("ExternalPageVisitEvent", url=serializers.URLField(max_length=2000)),
    LeadAction.CLICK_PAGE_SPLIT_TEST_LINK: _params("SplitTestLinkEvent", split_test_link=AssetRefField()),
    LeadAction.AFFILIATE_SIGNUP: _product,
    LeadAction.JV_SIGNUP: _product,
    LeadAction.MEMBERSHIP_GRANTED: _params("MembershipGrantedEvent", membership=AssetRefField(), level=AssetRefField()),
    LeadAction.MEMBERSHIP_REVOKED: _params("MembershipRevokedEvent", membership=AssetRefField()),
    LeadAction.BUY_PRODUCT: _params(
        "BuyProductEvent",
        product=AssetRefField(),
        price_point=IntegerInput(min_value=1, max_value=PRICE_POINT_MAX, default=1),
        quantity=IntegerInput(min_value=1, max_value=QUANTITY_MAX, default=1),
        amount=money_input(required=False),
    ),
    LeadAction.CANCEL_SUBSCRIPTION: CancelSubscriptionEvent,
    LeadAction.REFUND_PRODUCT: _refund,
    LeadAction.PARTIAL_REFUND_PRODUCT: _params("PartialRefundEvent", transaction_id=id_input(), amount=money_input()),
    LeadAction.SEQUENCE_COMPLETION: _sequence,
    LeadAction.CALENDAR_COMPLETE: _params(
        "CalendarCompleteEvent",
        calendar=AssetRefField(),
        starts_at=serializers.DateTimeField(required=False),
        **{"class": AssetRefField()},
    ),
    LeadAction.CALENDAR_SUBSCRIBE: _params(
        "CalendarSubscribeEvent",
        calendar=AssetRefField(),
        starts_at=serializers.DateTimeField(),
        **{"class": AssetRefField()},
    ),
    LeadAction.CALENDAR_CANCEL: _calendar_class,
    LeadAction.ASSIGN_TAG: _tag,
    LeadAction.UNASSIGN_TAG: _tag,
    LeadAction.LIST_SUBSCRIPTION: _list,
    LeadAction.LIST_UNSUBSCRIPTION: _list,
    LeadAction.SEQUENCE_SUBSCRIPTION: _params(
        "SequenceSubscriptionEvent",
        sequence=AssetRefField(),
        step=IntegerInput(min_value=1, max_value=STEP_MAX, default=1),
    ),
    LeadAction.SEQUENCE_UNSUBSCRIPTION: _sequence,
}
assert set(EVENT_PARAMS) == set(REPORTABLE_EVENTS), "every reportable event has its input fields"


class PlatformEventInputSerializer(serializers.Serializer):
    """The common part of every event; the event's own fields sit beside these (see EVENT_PARAMS)."""

    event = serializers.ChoiceField(choices=sorted(REPORTABLE_EVENTS) + sorted(NOT_REPORTABLE))
    email = serializers.EmailField(required=False)
    lead_id = id_input(required=False)

    def validate(self, attrs):
        if "email" not in attrs and "lead_id" not in attrs:
            raise serializers.ValidationError({"email": ["Give the lead's email or its lead_id."]})
        return attrs


class PlatformEventOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    event_ids = serializers.ListField(child=serializers.UUIDField())
    transaction_id = serializers.IntegerField(required=False, help_text="buy_product only: the sale's id.")


@dataclass(frozen=True)
class PlatformEventInput:
    event: str
    email: str | None
    lead_id: int | None
    params: dict[str, Any]


def platform_event_input_parse(data: Any) -> PlatformEventInput:
    """Validate the whole body at once: the common fields and the event's own, every error by field."""
    common = PlatformEventInputSerializer(data=data)
    common_valid = common.is_valid()
    errors: dict[str, Any] = {} if common_valid else dict(common.errors)
    event = data.get("event") if isinstance(data, dict) else None
    if isinstance(event, str) and event in NOT_REPORTABLE:
        raise ApplicationError(
            NOT_REPORTABLE[event], code="event_not_reportable", fields={"event": [NOT_REPORTABLE[event]]}
        )
    params: dict[str, Any] = {}
    params_serializer = EVENT_PARAMS.get(event) if isinstance(event, str) else None
    if params_serializer is not None:
        event_fields = params_serializer(data=data)
        if event_fields.is_valid():
            params = dict(event_fields.validated_data)
        else:
            errors.update(event_fields.errors)
    if errors:
        raise serializers.ValidationError(errors)
    return PlatformEventInput(
        event=common.validated_data["event"],
        email=common.validated_data.get("email"),
        lead_id=common.validated_data.get("lead_id"),
        params=params,
    )
