import logging
import secrets
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from rest_framework.throttling import SimpleRateThrottle

from kartra_integrations.redis_client import redis_client, redis_script

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counted:
    """One request counted in a rate window, and the account's credential epoch when asked for it."""

    count: int  # requests in the window so far, this one included (0: Redis unavailable, let through)
    seconds_left: int
    credential_epoch: bytes | None = None  # None: not asked for, no REDIS_URL, or Redis unavailable


class AccountRateThrottle(SimpleRateThrottle):
    """Requests per second per account (API_RATE_PER_ACCOUNT), counted in Redis.

    A counter per account whose window opens with the account's first request and lasts the rate's
    period: one Lua script (INCR, EXPIRE on the first request, TTL) in one command, atomic across
    workers. (DRF's SimpleRateThrottle reads and rewrites a list of timestamps: two round trips and a
    pickled list per request, and two workers writing at once lose each other's requests.) Without
    REDIS_URL (development, the SQLite test run) the same counter lives in Django's local-memory cache.

    The API's authentication runs the script already (it reads the account's credential epoch in the
    same command: accounts.credential_cache) and leaves its count on the request; the throttle counts
    only a request that did not come through it.
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
        return self.account_key(credential.account_id)

    def account_key(self, account_id: int) -> str:
        return self.cache_format % {"scope": self.scope, "ident": account_id}

    def allow_request(self, request, view):
        if request.auth is None:
            return True
        counted = getattr(request, "account_request_counted", None) or account_request_count(request.auth.account_id)
        self.seconds_left = counted.seconds_left
        return counted.count <= self.num_requests

    def wait(self):
        return max(self.seconds_left, 1)


def credential_epoch_key(account_id: int) -> str:
    return f"credential_epoch_{account_id}"


def new_credential_epoch() -> str:
    """A random epoch, not a counter: after Redis loses its data, a fresh epoch cannot equal one a
    process verified credentials under before."""
    return secrets.token_hex(8)


def account_request_count(account_id: int) -> Counted:
    """Count one API request of the account (API_RATE_PER_ACCOUNT) and read its credential epoch: one script."""
    throttle = AccountRateThrottle()
    return request_count(
        throttle.account_key(account_id), throttle.duration, epoch_key=credential_epoch_key(account_id)
    )


# KEYS[1] the window's counter, ARGV[1] the window in seconds; KEYS[2] (optional) an account's credential
# epoch, set to ARGV[2] when it has none yet: {requests so far, seconds left, epoch or nil}.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local epoch = false
if KEYS[2] then
  epoch = redis.call('GET', KEYS[2])
  if not epoch then
    epoch = ARGV[2]
    redis.call('SET', KEYS[2], epoch)
  end
end
return {count, redis.call('TTL', KEYS[1]), epoch}
"""


def request_count(key: str, window: int, *, epoch_key: str | None = None) -> Counted:
    """Count one request in the window `key` names, and read the credential epoch at `epoch_key` if given."""
    client = redis_client()
    if client is None:
        django_cache.add(key, 0, window)
        return Counted(django_cache.incr(key), window)
    keys, args = [key], [str(window)]
    if epoch_key is not None:
        keys.append(epoch_key)
        args.append(new_credential_epoch())
    try:
        count, seconds_left, epoch = redis_script(client, _COUNT_SCRIPT)(keys=keys, args=args)
    except redis.RedisError:
        # The limit protects capacity; losing Redis must not take the API down with it: let it through.
        logger.warning("throttle counter unavailable; request let through", exc_info=True)
        return Counted(0, window)
    return Counted(count, seconds_left, epoch)
