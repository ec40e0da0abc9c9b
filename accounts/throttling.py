import logging

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from rest_framework.throttling import SimpleRateThrottle

from kartra_integrations.redis_client import redis_client, redis_script

logger = logging.getLogger(__name__)


class AccountRateThrottle(SimpleRateThrottle):
    """Requests per second per account (API_RATE_PER_ACCOUNT), counted in Redis.

    A counter per account whose window opens with the account's first request and lasts the rate's
    period: one Lua script (INCR, EXPIRE on the first request, TTL) in one command, atomic across
    workers. (DRF's SimpleRateThrottle reads and rewrites a list of timestamps: two round trips and a
    pickled list per request, and two workers writing at once lose each other's requests.) Without
    REDIS_URL (development, the SQLite test run) the same counter lives in Django's local-memory cache.
    """

    scope = "account"

    # Set by SimpleRateThrottle.__init__ from the rate (djangorestframework-stubs leaves them out).
    num_requests: int
    duration: int

    def get_rate(self):
        return settings.API_RATE_PER_ACCOUNT

    def get_cache_key(self, request, view):
        credential = request.auth
        if credential is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": credential.account_id}

    def allow_request(self, request, view):
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, self.seconds_left = request_count(key, self.duration)
        return count <= self.num_requests

    def wait(self):
        return max(self.seconds_left, 1)


# KEYS[1] the window's counter, ARGV[1] the window in seconds: {requests so far, seconds left}.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""


def request_count(key: str, window: int) -> tuple[int, int]:
    """Count one request in the window `key` names; returns (requests so far, seconds the window has left)."""
    client = redis_client()
    if client is None:
        django_cache.add(key, 0, window)
        return django_cache.incr(key), window
    try:
        count, seconds_left = redis_script(client, _COUNT_SCRIPT)(keys=[key], args=[window])
    except redis.RedisError:
        # The limit protects capacity; losing Redis must not take the API down with it: let it through.
        logger.warning("throttle counter unavailable; request let through", exc_info=True)
        return 0, window
    return count, seconds_left
