"""POST /api/v1/events: the platform's other parts report what a lead did (see leads.services.platform_events)."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import PlatformCredentialAuthentication
from accounts.permissions import PlatformCredential, ZapierActivated
from kartra_integrations.errors import NotFound
from leads.api.event_inputs import (
    PlatformEventInputSerializer,
    PlatformEventOutputSerializer,
    platform_event_input_parse,
)
from leads.selectors import LEAD_NOT_FOUND, lead_get
from leads.services.platform_events import platform_event_record


class PlatformEventApi(APIView):
    # The platform's own parts report here with the account's platform events credential; the
    # Zapier key is refused (403 wrong_credential_kind): it must not fabricate sales or refunds.
    authentication_classes = [PlatformCredentialAuthentication]
    permission_classes = [ZapierActivated, PlatformCredential]

    @extend_schema(
        operation_id="platform_event_record",
        request=PlatformEventInputSerializer,
        responses=PlatformEventOutputSerializer,
        description=(
            "Takes the account's platform events credential (HTTP Basic), not the Zapier one: 403 "
            "`wrong_credential_kind` for that. Report a lead event from checkout, the video player, the page "
            "tracker, the affiliate centre, the membership area, the calendar or the sequence engine. Beside "
            "`event` and `email` (or `lead_id`), "
            "each event takes its own fields, assets by id or exact name: filled_form {form}; video_play, "
            "video_complete {video}; tracking_link_click {tracking_link}; kartra_page_visit {page}; "
            "external_page_visit {url}; click_page_split_test_link {split_test_link}; affiliate_signup, "
            "jv_signup {product}; membership_granted {membership, level}; membership_revoked {membership}; "
            "buy_product {product, price_point=1, quantity=1, amount?}; cancel_subscription {subscription_id | "
            "product}; refund_product {transaction_id, amount?}; partial_refund_product {transaction_id, amount}; "
            "sequence_completion {sequence}; calendar_subscribe {calendar, class, starts_at}; calendar_complete "
            "{calendar, class, starts_at?}; calendar_cancel {calendar, class}; assign_tag, unassign_tag {tag}; "
            "list_subscription, list_unsubscription {list}; sequence_subscription {sequence, step=1}; "
            "sequence_unsubscription {sequence}. reaches_score is not reportable: it follows from points."
        ),
        examples=[
            OpenApiExample(
                "Video played",
                value={"event": "video_play", "email": "ada@example.com", "video": "Welcome"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        account = request.auth.account
        data = platform_event_input_parse(request.data)
        if data.lead_id is not None:
            lead = lead_get(account=account, id=data.lead_id)
            if data.email and data.email.strip().lower() != lead.email.lower():
                raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
        else:
            lead = lead_get(account=account, email=data.email)
        result = platform_event_record(account=account, event=data.event, lead=lead, **data.params)
        body: dict[str, object] = {"message": "Event recorded", "event_ids": result.event_ids}
        if result.transaction_id is not None:
            body["transaction_id"] = result.transaction_id
        return Response(body)
