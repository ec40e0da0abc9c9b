"""The lead database's routes under /api/v1/ (included by kartra_integrations.api_urls)."""

from django.urls import path
from drf_spectacular.utils import extend_schema

from . import apis
from .serializers import ASSET_READS

UnknownCommandApi = extend_schema(exclude=True)(type("UnknownCommandApi", (apis.ActionApi,), {}))

urlpatterns = [
    *(path(name, apis.asset_list_view(name), name=f"api-{name}") for name in ASSET_READS),
    path("transactions", apis.transaction_list_view(), name="api-transactions"),
    path("subscriptions", apis.subscription_list_view(), name="api-subscriptions"),
    path("leads/search", apis.LeadSearchApi.as_view(), name="api-lead-search"),
    path("leads/<str:lead_id>", apis.LeadDetailApi.as_view(), name="api-lead-details"),
    *(
        path(f"actions/{command}", apis.action_view(action), name=f"api-action-{command}")
        for command, action in apis.ACTIONS.items()
    ),
    # Anything else under actions/: 404 unknown_command (after authentication, like every route).
    path("actions/<str:command>", UnknownCommandApi.as_view(), name="api-action-unknown"),
]
