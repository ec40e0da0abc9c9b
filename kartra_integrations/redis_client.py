from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis | None:
    """The process's one Redis client and connection pool; None without REDIS_URL (development).

    Short timeouts: a Redis outage slows what uses it (throttling, waking the hook dispatcher) by a
    second or two, never hangs a request.
    """
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)


@cache
def redis_script(client: redis.Redis, source: str):
    """A Lua script run by EVALSHA (loaded on first use, and again after a Redis restart): one command
    where a pipeline of several would be packed and parsed one by one."""
    return client.register_script(source)
