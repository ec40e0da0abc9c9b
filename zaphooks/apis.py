"""REST-hook subscriptions for Zapier: subscribe, unsubscribe, list, samples (thin views)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from kartra_integrations.errors import NotFound

from . import filters, samples, selectors, services


class HookInputSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=filters.EVENTS)
    target_url = serializers.CharField(max_length=2000)
    filter = serializers.DictField(required=False, default=dict)


class HookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    target_url = serializers.CharField()
    filter = serializers.DictField()
    created_at = serializers.DateTimeField()


class HooksApi(APIView):
    @extend_schema(operation_id="hooks_list", responses=HookOutputSerializer(many=True))
    def get(self, request):
        hooks = selectors.subscription_list(account=request.auth.account)
        return Response(HookOutputSerializer(hooks, many=True).data)

    @extend_schema(operation_id="hooks_subscribe", request=HookInputSerializer, responses={201: HookOutputSerializer})
    def post(self, request):
        data = HookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hook = services.subscription_create(account=request.auth.account, **data.validated_data)
        return Response(HookOutputSerializer(hook).data, status=status.HTTP_201_CREATED)


class HookDetailApi(APIView):
    @extend_schema(operation_id="hooks_unsubscribe", responses={204: None})
    def delete(self, request, hook_id: int):
        services.subscription_delete(account=request.auth.account, subscription_id=hook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HookSamplesApi(APIView):
    @extend_schema(
        operation_id="hooks_samples",
        parameters=[OpenApiParameter(key, str, required=False) for key in filters.KEY_EVENTS],
        responses={200: serializers.ListField(child=serializers.DictField())},
    )
    def get(self, request, event: str):
        if event not in filters.EVENTS:
            raise NotFound(f"Unknown event {event!r}", code="unknown_event")
        account = request.auth.account
        raw = {key: value for key, value in request.query_params.items() if key in filters.KEY_EVENTS}
        resolved = selectors.filter_for_event(account=account, event=event, raw=raw)
        return Response(samples.event_samples(account=account, event=event, resolved=resolved))
