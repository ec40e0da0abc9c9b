from django.contrib import admin
from django.urls import include, path

from .health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("kartra_integrations.api_urls")),
    path("", include("leads.command_api.urls")),  # POST /api: the platform's command API
    path("", include("accounts.urls")),
    path("", include("approvals.urls")),
    path("", include("leads.urls")),
    path("", include("zaphooks.urls")),
]
