"""Everything under /api/v1/: each app contributes its own API routes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts.apis import MeApi
from leads.event_apis import PlatformEventApi

public = {"authentication_classes": [], "permission_classes": [], "throttle_classes": []}

urlpatterns = [
    path("me", MeApi.as_view(), name="api-me"),
    path("events", PlatformEventApi.as_view(), name="api-events"),
    path("", include("leads.api_urls")),
    path("", include("zaphooks.urls_api")),
    path("schema", SpectacularAPIView.as_view(**public), name="api-schema"),
    path("docs", SpectacularRedocView.as_view(url_name="api-schema", **public), name="api-docs"),
]
