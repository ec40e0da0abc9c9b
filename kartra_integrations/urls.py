from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("kartra_integrations.api_urls")),
    path("", include("accounts.urls")),
    path("", include("approvals.urls")),
    path("", include("zaphooks.urls")),
]
