"""What to do after an attempt: the retry schedule and how each outcome is classified (pure logic)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# Exponential backoff: 5 s, 30 s, 3 min, 18 min, 1.8 h, then 10 h, each with +-20 % jitter.
# 9 attempts in all, the last no sooner than ~25.6 h after the first (>= 8 attempts over >= 24 h),
# and the first retry at most 6 s after the first attempt.
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_FACTOR = 6.0
BACKOFF_CAP_SECONDS = 10 * 3600.0
JITTER = 0.2
MAX_ATTEMPTS = 9
# A Retry-After longer than this is clamped (a receiver cannot park a delivery for a week).
RETRY_AFTER_CAP_SECONDS = 24 * 3600.0
# A subscription whose attempts have all failed for this long is disabled.
DISABLE_AFTER = timedelta(days=1)

RETRIED_STATUSES = {408, 429}


class Outcome:
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"  # do not retry this delivery
    GONE = "gone"  # 410: the subscription is dead


@dataclass(frozen=True)
class Decision:
    outcome: str
    next_attempt_at: datetime | None


def backoff_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    base = min(BACKOFF_BASE_SECONDS * BACKOFF_FACTOR ** (attempt - 1), BACKOFF_CAP_SECONDS)
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true, and float("²") raises
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def classify(status_code: int | None) -> str:
    """None means a network error or timeout."""
    if status_code is None:
        return Outcome.RETRY
    if 200 <= status_code < 300:
        return Outcome.SUCCEEDED
    if status_code == 410:
        return Outcome.GONE
    if status_code >= 500 or status_code in RETRIED_STATUSES:
        return Outcome.RETRY
    # Other 4xx, and 3xx (redirects are not followed): the receiver refuses; retrying will not help.
    return Outcome.FAILED


def decide(*, status_code: int | None, attempt: int, retry_after: str | None, now: datetime) -> Decision:
    outcome = classify(status_code)
    if outcome != Outcome.RETRY:
        return Decision(outcome, None)
    if attempt >= MAX_ATTEMPTS:
        return Decision(Outcome.FAILED, None)
    delay = parse_retry_after(retry_after, now=now)
    if delay is None:
        delay = backoff_delay(attempt)
    return Decision(Outcome.RETRY, now + timedelta(seconds=delay))
