"""The v1 API's reads: asset dropdowns, lead details and search, transactions and subscriptions."""

from collections.abc import Callable

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.filters import SearchFilter
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_account
from kartra_integrations.errors import ApplicationError
from kartra_integrations.pagination import ApiPagination
from leads.api.outputs import (
    ASSET_READS,
    LeadDetailsOutput,
    LeadSearchOutput,
    SubscriptionQuery,
    SubscriptionReadOutput,
    TransactionQuery,
    TransactionReadOutput,
)
from leads.api.responses import (
    COMMON_ERRORS,
    INVALID,
    LEAD_FOUND,
    LEAD_NOT_FOUND_RESPONSE,
    _error,
    view_subclass,
)
from leads.models import RecurringSubscription, Transaction
from leads.selectors import (
    LEAD_NOT_FOUND,
    lead_get_with_details,
    subscription_list,
    transaction_list,
)

# ---------------------------------------------------------------------------------------------
# Reads


class AssetListApi(ListAPIView):
    """One paginated list of an account's assets of one kind, newest first, `?search=` on the name."""

    pagination_class = ApiPagination
    filter_backends = [SearchFilter]
    search_fields = ["name"]
    model: type[models.Model]  # set by asset_list_view
    prefetch: tuple[str, ...] = ()

    def get_queryset(self):
        return (
            self.model._default_manager.filter(account=request_account(self.request))
            .order_by("-created_at", "-id")
            .prefetch_related(*self.prefetch)
        )


def asset_list_view(path: str):
    model, output, prefetch = ASSET_READS[path]
    label = path.replace("-", " ")
    view = view_subclass(
        AssetListApi,
        f"{model.__name__}ListApi",
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
        responses={200: LeadDetailsOutput, 404: LEAD_NOT_FOUND_RESPONSE} | COMMON_ERRORS,
    )
    def get(self, request: Request, lead_id: str):
        _lead, details = lead_get_with_details(account=request_account(request), id=lead_id)
        return Response(details)


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
                LeadSearchOutput,
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
            _lead, details = lead_get_with_details(
                account=request_account(request), email=query.validated_data["email"]
            )
        except ApplicationError as error:
            if error.code != "lead_not_found":
                raise
            return Response({"message": LEAD_NOT_FOUND, "lead": None})
        return Response({"message": LEAD_FOUND, "lead": details})


class _FilteredListApi(ListAPIView):
    """A paginated, newest-first list of one account's rows, filtered by a query serializer."""

    pagination_class = ApiPagination
    # Set by _filtered_list_view:
    query: type[serializers.Serializer]
    select: Callable[..., models.QuerySet]
    model: type[models.Model]  # what the rows are, for the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no account
            return self.model._default_manager.none()
        query = self.query(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return type(self).select(account=request_account(self.request), **query.validated_data)


def _filtered_list_view(name: str, *, model, query, output, select, summary: str, description: str):
    attributes = {"model": model, "query": query, "serializer_class": output, "select": staticmethod(select)}
    view = view_subclass(_FilteredListApi, f"{name.title()}ListApi", attributes)
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
        query=TransactionQuery,
        output=TransactionReadOutput,
        select=transaction_list,
        summary="List transactions",
        description="The account's sales and refunds, newest first, by `id`, the lead's email and `kind` "
        "(Zapier's Find Transaction; `id` is what refund_transaction takes).",
    )


def subscription_list_view():
    return _filtered_list_view(
        "subscriptions",
        model=RecurringSubscription,
        query=SubscriptionQuery,
        output=SubscriptionReadOutput,
        select=subscription_list,
        summary="List recurring subscriptions",
        description="The account's recurring subscriptions, newest first, by `id`, the lead's email and "
        "`status` (Zapier's Find Subscription; `id` is what cancel_transaction takes).",
    )
