"""Everything under /api/v1/: each app contributes its own API routes."""

from csp.constants import NONCE, SELF
from csp.decorators import csp_update
from django.http import JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts.apis import MeApi
from kartra_integrations.errors import error_body
from leads.api.events import PlatformEventApi

public: dict[str, list] = {"authentication_classes": [], "permission_classes": [], "throttle_classes": []}

# ReDoc (served by us from drf-spectacular-sidecar) builds its search index in a Web Worker it
# starts from a blob: URL, and styles itself with <style> elements it inserts at run time: those
# of its components carry the nonce the page hands it (static/js/api-docs.js); the one it inserts
# while loading, before it can know the nonce (perfect-scrollbar's CSS), is allowed by its hash
# (and by the empty element's, as it is first inserted empty).
# On this page alone the policy allows these; scripts stay our origin only. A new sidecar version
# may change the hash: tests/test_api_docs_browser.py fails on any violation.
REDOC_SCROLLBAR_CSS = [
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
]
api_docs = csp_update({"worker-src": [SELF, "blob:"], "style-src": [NONCE, *REDOC_SCROLLBAR_CSS]})(
    SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs.html", **public)
)


def api_route_not_found(request, path: str = ""):
    """Any other path under /api/v1/ answers in the API's one error shape, not Django's HTML 404."""
    return JsonResponse(error_body("No such API endpoint", "not_found"), status=404)


urlpatterns = [
    path("me", MeApi.as_view(), name="api-me"),
    path("events", PlatformEventApi.as_view(), name="api-events"),
    path("", include("leads.api.urls")),
    path("", include("zaphooks.urls_api")),
    path("schema", SpectacularAPIView.as_view(**public), name="api-schema"),
    path("docs", api_docs, name="api-docs"),
    re_path(r"^(?P<path>.*)$", api_route_not_found),
]
