"""`POST /api/v1/actions/{command}`: the v1 API's 15 write commands (the reads are leads.api.reads).

Each view parses its input with a serializer, runs the command of the same name in the one command
registry (leads.services.commands: it resolves the lead and the assets, calls the service that owns
the transaction and writes the lead events, and states the success message), and renders the
result. The tenant is `request.auth.account`; every lookup is scoped to it, so another account's
lead or asset answers exactly like a missing one.
"""

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
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_account
from kartra_integrations.errors import ApplicationError
from kartra_integrations.idempotency import HEADER as IDEMPOTENCY_HEADER
from kartra_integrations.idempotency import LEAD_ERASED_MESSAGE, idempotent
from leads.api.inputs import (
    AssignTagInput,
    CalendarClassInput,
    CalendarSubscribeInput,
    CancelInput,
    CreateCustomFieldInput,
    CreateLeadInput,
    EditLeadInput,
    GivePointsInput,
    ListInput,
    RefundInput,
    RemovePointsInput,
    SequenceInput,
    SequenceSubscribeInput,
    SubscribeListInput,
    TagInput,
)
from leads.api.outputs import (
    CancelOutput,
    CustomFieldCreatedOutput,
    CustomFieldOutput,
    ErrorOutput,
    LeadMessageOutput,
    RefundOutput,
    SubscriptionOutput,
    TransactionOutput,
)
from leads.api.responses import (
    COMMON_ERRORS,
    INVALID,
    LEAD_EXISTS,
    LEAD_NOT_FOUND_RESPONSE,
    _error,
    _invalid,
    view_subclass,
)
from leads.selectors import (
    LEAD_NOT_FOUND,
)
from leads.services.commands import COMMANDS, command_run

# ---------------------------------------------------------------------------------------------
# Actions: each runs one command of leads.services.commands (its service owns the transaction and
# writes the events) and renders its result.


@dataclass(frozen=True)
class Action:
    command: str  # the name in leads.services.commands.COMMANDS, which states its success message
    input: type[serializers.Serializer]
    output: type[serializers.Serializer]
    summary: str
    created: bool = False
    # What the command wrote, rendered beside the message: body key -> output serializer. Without
    # any, the body carries the lead's details.
    renders: dict[str, type[serializers.Serializer]] = field(default_factory=dict)
    errors: dict[int, OpenApiResponse] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return COMMANDS[self.command].message

    @property
    def on_lead(self) -> bool:
        return COMMANDS[self.command].lead == "required"


def _lead_exists_is_conflict(error: ApplicationError) -> ApplicationError:
    if error.code == "lead_exists":
        return ApplicationError(
            LEAD_EXISTS, code="lead_exists", status_code=status.HTTP_409_CONFLICT, fields=error.fields
        )
    return error


def _not_found(kind: str, example: str) -> OpenApiResponse:
    label = kind.replace("_", " ").capitalize()
    return OpenApiResponse(
        ErrorOutput,
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
        ErrorOutput,
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
        Action("create_lead", CreateLeadInput, LeadMessageOutput, "Create new lead", created=True,
               errors={409: CONFLICT_LEAD_EXISTS, 400: CUSTOM_FIELD_INVALID}),
        Action("edit_lead", EditLeadInput, LeadMessageOutput, "Edit lead",
               errors={409: CONFLICT_LEAD_EXISTS, 400: CUSTOM_FIELD_INVALID}),
        Action("assign_tag", AssignTagInput, LeadMessageOutput, "Assign tag to lead",
               errors={404: TAG_NOT_FOUND}),
        Action("unassign_tag", TagInput, LeadMessageOutput, "Unassign tag from lead",
               errors={404: TAG_NOT_FOUND}),
        Action("subscribe_lead_to_list", SubscribeListInput, LeadMessageOutput, "Subscribe lead to list",
               errors={404: LIST_NOT_FOUND}),
        Action("unsubscribe_lead_from_list", ListInput, LeadMessageOutput, "Unsubscribe lead from list",
               errors={404: LIST_NOT_FOUND}),
        Action("give_points_to_lead", GivePointsInput, LeadMessageOutput, "Add points to lead"),
        Action("remove_points_from_lead", RemovePointsInput, LeadMessageOutput, "Remove points from lead"),
        Action("subscribe_lead_to_sequence_at_step", SequenceSubscribeInput, LeadMessageOutput,
               "Subscribe lead to sequence", errors={404: SEQUENCE_NOT_FOUND, 400: _invalid(
                   ("sequence_step_not_found", 'Sequence "Onboarding" has no step 9.', "step"))}),
        Action("unsubscribe_lead_from_sequence", SequenceInput, LeadMessageOutput,
               "Unsubscribe lead from sequence", errors={404: SEQUENCE_NOT_FOUND}),
        Action("calendar_subscribe", CalendarSubscribeInput, LeadMessageOutput, "Subscribe lead to calendar",
               errors={404: CLASS_NOT_FOUND, 400: _invalid(
                   ("starts_at_in_past", "The start time is in the past.", "starts_at"))}),
        Action("calendar_cancel", CalendarClassInput, LeadMessageOutput, "Cancel lead subscription to calendar",
               errors={404: CLASS_NOT_FOUND}),
        Action("refund_transaction", RefundInput, RefundOutput, "Refund a transaction",
               renders={"transaction": TransactionOutput}, errors={
                   404: _refused("No sale with that id in the account.",
                                 ("transaction_not_found", 'Transaction "9001" does not exist')),
                   400: _invalid(("already_refunded", "This sale has already been refunded in full.", "transaction"),
                                 ("refund_exceeds_remaining",
                                  "The refund amount exceeds what is left to refund (10.00).", "amount"),
                                 ("not_a_sale", "Only a sale can be refunded.", "transaction")),
               }),
        Action("cancel_transaction", CancelInput, CancelOutput, "Cancel a subscription",
               renders={"subscription": SubscriptionOutput}, errors={
                   404: _refused("No recurring subscription with that id in the account.",
                                 ("subscription_not_found", 'Subscription "14833" does not exist')),
                   409: _refused("Only an active subscription can be cancelled.",
                                 ("subscription_not_active", "This subscription is not active.")),
               }),
        Action("create_custom_field", CreateCustomFieldInput, CustomFieldCreatedOutput, "Create custom field",
               created=True, renders={"custom_field": CustomFieldOutput}, errors={
                   400: _invalid(("name_taken", 'A custom field "plan" already exists.', "identifier")),
               }),
    )
}  # fmt: skip


class ActionApi(APIView):
    """POST /api/v1/actions/{command}: one write, with an optional Idempotency-Key."""

    action: Action | None = None

    def post(self, request: Request, command: str | None = None):
        action = self.action or (ACTIONS.get(command) if command is not None else None)
        if action is None:
            raise ApplicationError(f'Unknown command "{command}"', code="unknown_command", status_code=404)
        return idempotent(request, lambda: self._perform(request, action))

    @staticmethod
    def _perform(request: Request, action: Action) -> Response:
        data = action.input(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = command_run(name=action.command, account=request_account(request), inputs=data.validated_data)
        except ApplicationError as error:
            raise _lead_exists_is_conflict(error) from error
        body: dict = {"message": result.message}
        if action.renders:
            body |= {key: output(result.objects[key]).data for key, output in action.renders.items()}
        else:
            body["lead"] = result.lead_document
        return Response(body, status=status.HTTP_201_CREATED if action.created else status.HTTP_200_OK)


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
    view = view_subclass(ActionApi, f"{action.command.title().replace('_', '')}Api", {"action": action})
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
