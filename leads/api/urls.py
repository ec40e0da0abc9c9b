"""The lead database's routes under /api/v1/ (included by kartra_integrations.api_urls)."""

from django.urls import path
from drf_spectacular.utils import extend_schema

from leads.api import actions, reads
from leads.api.outputs import ASSET_READS
from leads.api.responses import view_subclass

UnknownCommandApi = extend_schema(exclude=True)(view_subclass(actions.ActionApi, "UnknownCommandApi"))

urlpatterns = [
    *(path(name, reads.asset_list_view(name), name=f"api-{name}") for name in ASSET_READS),
    path("transactions", reads.transaction_list_view(), name="api-transactions"),
    path("subscriptions", reads.subscription_list_view(), name="api-subscriptions"),
    path("leads/search", reads.LeadSearchApi.as_view(), name="api-lead-search"),
    path("leads/<str:lead_id>", reads.LeadDetailApi.as_view(), name="api-lead-details"),
    *(
        path(f"actions/{command}", actions.action_view(action), name=f"api-action-{command}")
        for command, action in actions.ACTIONS.items()
    ),
    # Anything else under actions/: 404 unknown_command (after authentication, like every route).
    path("actions/<str:command>", UnknownCommandApi.as_view(), name="api-action-unknown"),
]
