from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """Liveness for load balancers and the benchmark's ceiling: no database, no session, no template."""
    return HttpResponse("ok", content_type="text/plain")
