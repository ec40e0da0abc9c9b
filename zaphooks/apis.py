"""REST-hook subscriptions for Zapier: subscribe, unsubscribe, list, samples (thin views)."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from kartra_integrations.errors import NotFound

from . import filters, samples, selectors, services

FILTER_HELP = (
    "Optional: the asset the event is about, by id or exact name. Keys: tag, list, form, sequence, tracking_link, "
    "video, page, split_test_link, calendar (+ class), membership (+ level), product, price_point (its id, "
    "`price_points[].id` of the products list and `price_point_id` of the payload; within the product when "
    "both are given); "
    "reaches_score requires score (a positive integer). A key that does not fit the event, or an unknown asset, "
    "is a 400."
)


class HookInputSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=filters.EVENTS, help_text="One of the 26 trigger events.")
    target_url = serializers.CharField(
        max_length=2000, help_text="Where deliveries are POSTed: https, resolving to public addresses only."
    )
    filter = serializers.DictField(required=False, default=dict, help_text=FILTER_HELP)


class HookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    target_url = serializers.CharField()
    filter = serializers.DictField()
    created_at = serializers.DateTimeField()


class DeliveryPayloadSerializer(serializers.Serializer):
    """The body POSTed to a target URL, signed with the Standard Webhooks headers."""

    id = serializers.UUIDField(help_text="The event id; also the webhook-id header, the same on every retry.")
    action = serializers.ChoiceField(choices=filters.EVENTS)
    occurred_at = serializers.DateTimeField()
    lead = serializers.DictField(help_text="The lead details document, as GET /api/v1/leads/{id} returns it.")
    action_details = serializers.DictField(help_text="What the event is about, as the platform's outbound API.")


SUBSCRIBE_EXAMPLE = OpenApiExample(
    "Lead is assigned tag VIP",
    value={
        "event": "assign_tag",
        "target_url": "https://hooks.zapier.com/hooks/standard/1/abc/",
        "filter": {"tag": "VIP"},
    },
    request_only=True,
)
SAMPLE_EXAMPLE = OpenApiExample(
    "assign_tag",
    value=[
        {
            "id": "0b6f3f5e-7c1a-4d55-9a8e-2f1a9c3d4e5f",
            "action": "assign_tag",
            "occurred_at": "2026-05-02T14:03:11Z",
            "lead": {"id": 1042, "email": "jane.doe@example.com", "first_name": "Jane", "tags": []},
            "action_details": {"tag": {"tag_id": 3, "tag_name": "VIP"}},
        }
    ],
    response_only=True,
)


class HooksApi(APIView):
    @extend_schema(
        operation_id="hooks_list",
        summary="The account's active subscriptions",
        responses=HookOutputSerializer(many=True),
    )
    def get(self, request):
        hooks = selectors.subscription_list(account=request.auth.account)
        return Response(HookOutputSerializer(hooks, many=True).data)

    @extend_schema(
        operation_id="hooks_subscribe",
        summary="Subscribe a target URL to one trigger event (Zapier's performSubscribe)",
        request=HookInputSerializer,
        examples=[SUBSCRIBE_EXAMPLE],
        responses={
            201: HookOutputSerializer,
            400: OpenApiResponse(description="A field error: unknown event, filter key or asset, or a refused target."),
        },
    )
    def post(self, request):
        data = HookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hook = services.subscription_create(account=request.auth.account, **data.validated_data)
        return Response(HookOutputSerializer(hook).data, status=status.HTTP_201_CREATED)


class HookDetailApi(APIView):
    @extend_schema(
        operation_id="hooks_unsubscribe",
        summary="Unsubscribe (Zapier's performUnsubscribe)",
        description="204 also when the hook is already gone: Zapier retries unsubscribes.",
        responses={204: None},
    )
    def delete(self, request, hook_id: int):
        services.subscription_delete(account=request.auth.account, subscription_id=hook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HookSamplesApi(APIView):
    @extend_schema(
        operation_id="hooks_samples",
        summary="Up to 3 recent events in the delivery payload shape (Zapier's performList)",
        description="Newest first, matching the same filter as subscribing (as query parameters). With no real "
        "event yet, one realistic sample built from the account's own data.",
        parameters=[OpenApiParameter(key, str, required=False) for key in filters.KEY_EVENTS],
        examples=[SAMPLE_EXAMPLE],
        responses={200: DeliveryPayloadSerializer(many=True), 404: OpenApiResponse(description="Unknown event.")},
    )
    def get(self, request, event: str):
        if event not in filters.EVENTS:
            raise NotFound(f"Unknown event {event!r}", code="unknown_event")
        account = request.auth.account
        raw = {key: value for key, value in request.query_params.items() if key in filters.KEY_EVENTS}
        resolved = selectors.filter_for_event(account=account, event=event, raw=raw)
        return Response(samples.event_samples(account=account, event=event, resolved=resolved))
