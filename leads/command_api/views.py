"""POST /api (and /api/): the platform command API's one endpoint. No session, no CSRF (the
credentials are in the body); every answer is HTTP 200 in the platform's envelope, except 429 past
the app's rate limit and 400 for a body that is not a command API request at all. Where https is
required (SECURE_SSL_REDIRECT, production, with /api exempt from the redirect), plain http answers
201 "Connection not secure"."""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import codes
from .access import AccessRefused, RateLimited, caller_authenticate
from .commands import call_answer
from .parsing import ParseFailure, request_data


@csrf_exempt
@never_cache
@require_POST
def command_api(request):
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        # Production: plain http (request.is_secure reads SECURE_PROXY_SSL_HEADER behind the proxy).
        return JsonResponse(codes.failure(codes.error(201)))
    try:
        data = request_data(request)
    except ParseFailure as exc:
        body = {
            "status": codes.ERROR,
            "message": exc.message,
            "code": "parse_error",
            "fields": {exc.field: [exc.message]},
        }
        return JsonResponse(body, status=400)
    try:
        caller = caller_authenticate(data=data, request=request)
    except AccessRefused as exc:
        return JsonResponse(codes.failure(exc.reply))
    except RateLimited as exc:
        response = JsonResponse({"status": codes.ERROR, "message": codes.TOO_MANY_REQUESTS}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return JsonResponse(call_answer(data, caller))
