"""The Zapier REST API v1 of the lead database (issue 4): dropdown lists, lead details, search, and
`POST /api/v1/actions/{command}` for the 15 write commands.

Each view parses its input with a serializer, calls one selector or one service (which owns the
transaction and writes the lead events), and renders the result. The tenant is
`request.auth.account`; every lookup is scoped to it, so another account's lead or asset answers
exactly like a missing one.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.filters import SearchFilter
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account
from kartra_integrations.errors import ApplicationError
from kartra_integrations.idempotency import HEADER as IDEMPOTENCY_HEADER
from kartra_integrations.idempotency import LEAD_ERASED_MESSAGE, idempotent
from kartra_integrations.pagination import ApiPagination

from . import serializers as io
from .models import Calendar, LeadList, RecurringSubscription, Sequence, Tag, Transaction
from .selectors import (
    LEAD_NOT_FOUND,
    asset_resolve,
    calendar_class_resolve,
    lead_details,
    lead_get,
    recurring_subscription_get,
    subscription_list,
    transaction_get,
    transaction_list,
)
from .services import (
    custom_field_create,
    lead_calendar_cancel,
    lead_calendar_subscribe,
    lead_create,
    lead_list_subscribe_by_ref,
    lead_list_unsubscribe,
    lead_points_give,
    lead_points_remove,
    lead_sequence_subscribe,
    lead_sequence_unsubscribe,
    lead_tag_assign_by_ref,
    lead_tag_unassign,
    lead_update,
    subscription_cancel,
    transaction_refund,
)

LEAD_FOUND = "Lead found"
LEAD_EXISTS = "Lead already exists"


def _error(description: str, message: str, code: str) -> OpenApiResponse:
    return OpenApiResponse(
        io.ErrorOutput,
        description=description,
        examples=[OpenApiExample(code, value={"message": message, "code": code})],
    )


INVALID_EXAMPLES = [
    OpenApiExample(
        "invalid",
        value={"message": "Invalid input", "code": "invalid", "fields": {"email": ["Enter a valid email address."]}},
    ),
    OpenApiExample(
        "gdpr_not_settable",
        value={
            "message": io.GDPR_NOT_SETTABLE_MESSAGE,
            "code": "gdpr_not_settable",
            "fields": {"gdpr_lead_status": [io.GDPR_NOT_SETTABLE_MESSAGE]},
        },
    ),
    OpenApiExample(
        "unknown_field",
        value={"message": "Unknown field: colour", "code": "unknown_field", "fields": {"colour": ["Unknown field."]}},
    ),
]


def _invalid(*refusals: tuple[str, str, str]) -> OpenApiResponse:
    """400: bad input (`fields` names each field and what is wrong), or one of these refusals
    (code, message, field)."""
    return OpenApiResponse(
        io.ErrorOutput,
        description="Invalid input or a refused change: `fields` names each field and what is wrong with it.",
        examples=INVALID_EXAMPLES
        + [
            OpenApiExample(code, value={"message": message, "code": code, "fields": {field: [message]}})
            for code, message, field in refusals
        ],
    )


INVALID = _invalid()
UNAUTHENTICATED = _error("Missing or wrong API key / password.", "Invalid API credentials", "invalid_credentials")
NOT_ACTIVATED = _error(
    "The account's Zapier access is not (or no longer) approved.",
    "Zapier access has not been activated for this account",
    "zapier_not_activated",
)
THROTTLED = _error(
    "More than the account's requests per second; retry after `Retry-After`.", "Too many requests", "throttled"
)
LEAD_NOT_FOUND_RESPONSE = _error("No lead with that id or email in the account.", LEAD_NOT_FOUND, "lead_not_found")
COMMON_ERRORS = {401: UNAUTHENTICATED, 403: NOT_ACTIVATED, 429: THROTTLED}


# ---------------------------------------------------------------------------------------------
# Reads


class AssetListApi(ListAPIView):
    """One paginated list of an account's assets of one kind, newest first, `?search=` on the name."""

    pagination_class = ApiPagination
    filter_backends = [SearchFilter]
    search_fields = ["name"]
    model: type = None
    prefetch: tuple[str, ...] = ()

    def get_queryset(self):
        return (
            self.model.objects.filter(account=self.request.auth.account)
            .order_by("-created_at", "-id")
            .prefetch_related(*self.prefetch)
        )


def asset_list_view(path: str):
    model, output, prefetch = io.ASSET_READS[path]
    label = path.replace("-", " ")
    view = type(
        f"{model.__name__}ListApi",
        (AssetListApi,),
        {
            "model": model,
            "serializer_class": output,
            "prefetch": prefetch,
            "search_fields": ["identifier"] if path == "custom-fields" else ["name"],
        },
    )
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"list_{path.replace('-', '_')}",
            summary=f"List the account's {label}",
            description=f"The account's {label}, newest first. `page` from 1, `page_size` up to 500 (default 100); "
            "a page past the last is 404.",
            tags=["Dropdowns"],
            responses={200: output(many=True), 404: _error("A page past the last.", "Invalid page.", "not_found")}
            | COMMON_ERRORS,
        )
    )(view).as_view()


class LeadDetailApi(APIView):
    @extend_schema(
        operation_id="lead_details",
        summary="Retrieve lead details",
        description="The lead details document: profile, every custom field (empty ones too), tags, lists, "
        "sequences, memberships, score and the GDPR fields.",
        tags=["Leads"],
        parameters=[OpenApiParameter("lead_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The lead's id.")],
        responses={200: io.LeadDetailsOutput, 404: LEAD_NOT_FOUND_RESPONSE} | COMMON_ERRORS,
    )
    def get(self, request: Request, lead_id: str):
        lead = lead_get(account=request.auth.account, id=lead_id)
        return Response(lead_details(lead))


class LeadSearchInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="The email to look for (case-insensitive).")


class LeadSearchApi(APIView):
    @extend_schema(
        operation_id="lead_search",
        summary="Search lead",
        description='Always 200: `{"message": "Lead found", "lead": {...}}` or `{"message": "No lead found", '
        '"lead": null}`, for Zapier Filter steps on the message.',
        tags=["Leads"],
        parameters=[LeadSearchInput],
        responses={
            200: OpenApiResponse(
                io.LeadSearchOutput,
                examples=[OpenApiExample("not found", value={"message": LEAD_NOT_FOUND, "lead": None})],
            ),
            400: INVALID,
        }
        | COMMON_ERRORS,
    )
    def get(self, request: Request):
        query = LeadSearchInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            lead = lead_get(account=request.auth.account, email=query.validated_data["email"])
        except ApplicationError as error:
            if error.code != "lead_not_found":
                raise
            return Response({"message": LEAD_NOT_FOUND, "lead": None})
        return Response({"message": LEAD_FOUND, "lead": lead_details(lead)})


class _FilteredListApi(ListAPIView):
    """A paginated, newest-first list of one account's rows, filtered by a query serializer."""

    pagination_class = ApiPagination
    query: type[serializers.Serializer] = None
    select: Callable = None
    model: type = None  # what the rows are, for the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no account
            return self.model.objects.none()
        query = self.query(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return type(self).select(account=self.request.auth.account, **query.validated_data)


def _filtered_list_view(name: str, *, model, query, output, select, summary: str, description: str):
    attributes = {"model": model, "query": query, "serializer_class": output, "select": staticmethod(select)}
    view = type(f"{name.title()}ListApi", (_FilteredListApi,), attributes)
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"list_{name}",
            summary=summary,
            description=description + " `page` from 1, `page_size` up to 500 (default 100); a page past the last "
            "is 404. Another account's rows are never listed.",
            tags=["Transactions"],
            parameters=[query],
            responses={
                200: output(many=True),
                400: INVALID,
                404: _error("A page past the last.", "Invalid page.", "not_found"),
            }
            | COMMON_ERRORS,
        )
    )(view).as_view()


def transaction_list_view():
    return _filtered_list_view(
        "transactions",
        model=Transaction,
        query=io.TransactionQuery,
        output=io.TransactionReadOutput,
        select=transaction_list,
        summary="List transactions",
        description="The account's sales and refunds, newest first, by `id`, the lead's email and `kind` "
        "(Zapier's Find Transaction; `id` is what refund_transaction takes).",
    )


def subscription_list_view():
    return _filtered_list_view(
        "subscriptions",
        model=RecurringSubscription,
        query=io.SubscriptionQuery,
        output=io.SubscriptionReadOutput,
        select=subscription_list,
        summary="List recurring subscriptions",
        description="The account's recurring subscriptions, newest first, by `id`, the lead's email and "
        "`status` (Zapier's Find Subscription; `id` is what cancel_transaction takes).",
    )


# ---------------------------------------------------------------------------------------------
# Actions: each runs one service (one transaction, its events with it) and answers
# (status, body).

Result = tuple[int, dict]


def _lead(account: Account, data: dict):
    return lead_get(account=account, id=data.get("lead_id"), email=data.get("email"))


def _with_lead(message: str, lead) -> Result:
    return status.HTTP_200_OK, {"message": message, "lead": lead_details(lead)}


def _lead_exists_is_conflict(error: ApplicationError) -> ApplicationError:
    if error.code == "lead_exists":
        return ApplicationError(
            LEAD_EXISTS, code="lead_exists", status_code=status.HTTP_409_CONFLICT, fields=error.fields
        )
    return error


def create_lead(request: Request, account: Account, data: dict) -> Result:
    profile = dict(data)
    email, custom_fields = profile.pop("email"), profile.pop("custom_fields", None)
    try:
        lead = lead_create(account=account, email=email, custom_fields=custom_fields, **profile)
    except ApplicationError as error:
        raise _lead_exists_is_conflict(error) from error
    return status.HTTP_201_CREATED, {"message": "Lead created", "lead": lead_details(lead)}


def edit_lead(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    profile = {name: value for name, value in data.items() if name not in ("lead_id", "email")}
    new_email, custom_fields = profile.pop("new_email", None), profile.pop("custom_fields", None)
    try:
        lead = lead_update(lead=lead, new_email=new_email, custom_fields=custom_fields, **profile)
    except ApplicationError as error:
        raise _lead_exists_is_conflict(error) from error
    return _with_lead("Lead edited", lead)


def assign_tag(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_tag_assign_by_ref(lead=lead, tag=data["tag"], create_if_missing=data.get("create_if_missing", False))
    return _with_lead("Tag added to lead", lead)


def unassign_tag(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_tag_unassign(lead=lead, tag=asset_resolve(account=account, model=Tag, ref=data["tag"]))
    return _with_lead("Tag removed from lead", lead)


def subscribe_lead_to_list(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    create = data.get("create_if_missing", False)
    lead_list_subscribe_by_ref(lead=lead, lead_list=data["list"], create_if_missing=create)
    return _with_lead("Lead subscribed to list", lead)


def unsubscribe_lead_from_list(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_list_unsubscribe(lead=lead, lead_list=asset_resolve(account=account, model=LeadList, ref=data["list"]))
    return _with_lead("Lead unsubscribed from list", lead)


def give_points_to_lead(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_points_give(lead=lead, points=data["points"], expires_in_days=data.get("expiration_days") or None)
    return _with_lead("Points added to lead", lead)


def remove_points_from_lead(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_points_remove(lead=lead, points=data["points"])
    return _with_lead("Points removed from lead", lead)


def subscribe_lead_to_sequence_at_step(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    sequence = asset_resolve(account=account, model=Sequence, ref=data["sequence"])
    lead_sequence_subscribe(lead=lead, sequence=sequence, step=data["step"])
    return _with_lead("Lead added to sequence", lead)


def unsubscribe_lead_from_sequence(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_sequence_unsubscribe(lead=lead, sequence=asset_resolve(account=account, model=Sequence, ref=data["sequence"]))
    return _with_lead("Lead removed from sequence", lead)


def _calendar_class(account: Account, data: dict):
    calendar = asset_resolve(account=account, model=Calendar, ref=data["calendar"])
    return calendar_class_resolve(calendar=calendar, ref=data["class"])


def calendar_subscribe(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_calendar_subscribe(lead=lead, calendar_class=_calendar_class(account, data), starts_at=data["starts_at"])
    return _with_lead("Lead subscribed to class", lead)


def calendar_cancel(request: Request, account: Account, data: dict) -> Result:
    lead = _lead(account, data)
    lead_calendar_cancel(lead=lead, calendar_class=_calendar_class(account, data))
    return _with_lead("Lead unsubscribed from class", lead)


def refund_transaction(request: Request, account: Account, data: dict) -> Result:
    sale = transaction_get(account=account, id=data["transaction_id"])
    refund = transaction_refund(sale=sale, amount=data.get("amount"))
    return status.HTTP_200_OK, {"message": "Transaction refunded", "transaction": io.TransactionOutput(refund).data}


def cancel_transaction(request: Request, account: Account, data: dict) -> Result:
    subscription = recurring_subscription_get(account=account, id=data["subscription_id"])
    subscription = subscription_cancel(subscription=subscription, require_active=True)
    return status.HTTP_200_OK, {
        "message": "Subscription cancelled",
        "subscription": io.SubscriptionOutput(subscription).data,
    }


def create_custom_field(request: Request, account: Account, data: dict) -> Result:
    custom_field = custom_field_create(
        account=account, identifier=data["identifier"], type=data["type"], options=data.get("options", ())
    )
    body = {"message": "Custom Field created", "custom_field": io.CustomFieldOutput(custom_field).data}
    return status.HTTP_201_CREATED, body


@dataclass(frozen=True)
class Action:
    perform: Callable[[Request, Account, dict], Result]
    input: type[serializers.Serializer]
    output: type[serializers.Serializer]
    summary: str
    message: str
    created: bool = False
    on_lead: bool = True
    errors: dict[int, OpenApiResponse] = field(default_factory=dict)

    @property
    def command(self) -> str:
        return self.perform.__name__


def _not_found(kind: str, example: str) -> OpenApiResponse:
    label = kind.replace("_", " ").capitalize()
    return OpenApiResponse(
        io.ErrorOutput,
        description=f"No lead found, or no {kind.replace('_', ' ')} with that id or exact name in the account.",
        examples=[
            OpenApiExample("lead_not_found", value={"message": LEAD_NOT_FOUND, "code": "lead_not_found"}),
            OpenApiExample(
                f"{kind}_not_found",
                value={"message": f'{label} "{example}" does not exist', "code": f"{kind}_not_found"},
            ),
        ],
    )


def _refused(description: str, *examples: tuple[str, str]) -> OpenApiResponse:
    return OpenApiResponse(
        io.ErrorOutput,
        description=description,
        examples=[OpenApiExample(code, value={"message": message, "code": code}) for code, message in examples],
    )


CONFLICT_LEAD_EXISTS = _refused("A lead with this email exists in the account.", ("lead_exists", LEAD_EXISTS))
CUSTOM_FIELD_INVALID = _invalid(
    ("invalid_custom_field", 'custom_fields.colour: Custom field "colour" does not exist.', "custom_fields.colour")
)
TAG_NOT_FOUND = _not_found("tag", "VIP")
LIST_NOT_FOUND = _not_found("list", "Newsletter")
SEQUENCE_NOT_FOUND = _not_found("sequence", "Onboarding")
CLASS_NOT_FOUND = _not_found("calendar", "Coaching")

ACTIONS: dict[str, Action] = {
    action.command: action
    for action in (
        Action(create_lead, io.CreateLeadInput, io.LeadMessageOutput, "Create new lead", "Lead created",
               created=True, on_lead=False, errors={409: CONFLICT_LEAD_EXISTS, 400: CUSTOM_FIELD_INVALID}),
        Action(edit_lead, io.EditLeadInput, io.LeadMessageOutput, "Edit lead", "Lead edited",
               errors={409: CONFLICT_LEAD_EXISTS, 400: CUSTOM_FIELD_INVALID}),
        Action(assign_tag, io.AssignTagInput, io.LeadMessageOutput, "Assign tag to lead", "Tag added to lead",
               errors={404: TAG_NOT_FOUND}),
        Action(unassign_tag, io.TagInput, io.LeadMessageOutput, "Unassign tag from lead", "Tag removed from lead",
               errors={404: TAG_NOT_FOUND}),
        Action(subscribe_lead_to_list, io.SubscribeListInput, io.LeadMessageOutput, "Subscribe lead to list",
               "Lead subscribed to list", errors={404: LIST_NOT_FOUND}),
        Action(unsubscribe_lead_from_list, io.ListInput, io.LeadMessageOutput, "Unsubscribe lead from list",
               "Lead unsubscribed from list", errors={404: LIST_NOT_FOUND}),
        Action(give_points_to_lead, io.GivePointsInput, io.LeadMessageOutput, "Add points to lead",
               "Points added to lead"),
        Action(remove_points_from_lead, io.RemovePointsInput, io.LeadMessageOutput, "Remove points from lead",
               "Points removed from lead"),
        Action(subscribe_lead_to_sequence_at_step, io.SequenceSubscribeInput, io.LeadMessageOutput,
               "Subscribe lead to sequence", "Lead added to sequence", errors={404: SEQUENCE_NOT_FOUND, 400: _invalid(
                   ("sequence_step_not_found", 'Sequence "Onboarding" has no step 9.', "step"))}),
        Action(unsubscribe_lead_from_sequence, io.SequenceInput, io.LeadMessageOutput,
               "Unsubscribe lead from sequence", "Lead removed from sequence", errors={404: SEQUENCE_NOT_FOUND}),
        Action(calendar_subscribe, io.CalendarSubscribeInput, io.LeadMessageOutput, "Subscribe lead to calendar",
               "Lead subscribed to class", errors={404: CLASS_NOT_FOUND, 400: _invalid(
                   ("starts_at_in_past", "The start time is in the past.", "starts_at"))}),
        Action(calendar_cancel, io.CalendarClassInput, io.LeadMessageOutput, "Cancel lead subscription to calendar",
               "Lead unsubscribed from class", errors={404: CLASS_NOT_FOUND}),
        Action(refund_transaction, io.RefundInput, io.RefundOutput, "Refund a transaction", "Transaction refunded",
               on_lead=False, errors={
                   404: _refused("No sale with that id in the account.",
                                 ("transaction_not_found", 'Transaction "9001" does not exist')),
                   400: _invalid(("already_refunded", "This sale has already been refunded in full.", "transaction"),
                                 ("refund_exceeds_remaining",
                                  "The refund amount exceeds what is left to refund (10.00).", "amount"),
                                 ("not_a_sale", "Only a sale can be refunded.", "transaction")),
               }),
        Action(cancel_transaction, io.CancelInput, io.CancelOutput, "Cancel a subscription", "Subscription cancelled",
               on_lead=False, errors={
                   404: _refused("No recurring subscription with that id in the account.",
                                 ("subscription_not_found", 'Subscription "14833" does not exist')),
                   409: _refused("Only an active subscription can be cancelled.",
                                 ("subscription_not_active", "This subscription is not active.")),
               }),
        Action(create_custom_field, io.CreateCustomFieldInput, io.CustomFieldCreatedOutput, "Create custom field",
               "Custom Field created", created=True, on_lead=False, errors={
                   400: _invalid(("name_taken", 'A custom field "plan" already exists.', "identifier")),
               }),
    )
}  # fmt: skip


class ActionApi(APIView):
    """POST /api/v1/actions/{command}: one write, with an optional Idempotency-Key."""

    action: Action | None = None

    def post(self, request: Request, command: str | None = None):
        action = self.action or ACTIONS.get(command)
        if action is None:
            raise ApplicationError(f'Unknown command "{command}"', code="unknown_command", status_code=404)
        return idempotent(request, lambda: self._perform(request, action))

    @staticmethod
    def _perform(request: Request, action: Action) -> Response:
        data = action.input(data=request.data)
        data.is_valid(raise_exception=True)
        status_code, body = action.perform(request, request.auth.account, data.validated_data)
        return Response(body, status=status_code)


def action_view(action: Action):
    success = status.HTTP_201_CREATED if action.created else status.HTTP_200_OK
    responses = {success: OpenApiResponse(action.output, description=f'`"message": "{action.message}"`'), 400: INVALID}
    if action.on_lead:
        responses[404] = LEAD_NOT_FOUND_RESPONSE
    responses |= action.errors
    responses |= COMMON_ERRORS
    responses[422] = _error(
        "The Idempotency-Key was used with a different request.",
        "This Idempotency-Key was already used with a different request",
        "idempotency_key_reused",
    )
    responses[410] = _error(
        "The Idempotency-Key's first request concerned a lead erased since: its response is not kept.",
        LEAD_ERASED_MESSAGE,
        "lead_erased",
    )
    lead_note = " The lead is given by `lead_id` or `email` (`lead_id` wins)." if action.on_lead else ""
    view = type(f"{action.command.title().replace('_', '')}Api", (ActionApi,), {"action": action})
    return extend_schema_view(
        post=extend_schema(
            operation_id=action.command,
            summary=action.summary,
            description=f'Success: `"message": "{action.message}"`.{lead_note} A no-op (nothing to change) succeeds '
            "with the same message and writes no event.",
            tags=["Actions"],
            request=action.input,
            responses=responses,
            parameters=[
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="Optional, up to 255 characters. The same key with the same body within 24 hours "
                    "replays the first response without doing the work again; with a different body: 422; once "
                    "the lead it concerned is erased: 410.",
                )
            ],
        )
    )(view).as_view()
