import random
from datetime import UTC, datetime, timedelta

import pytest

from zaphooks import policy

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _schedule(rng: random.Random) -> list[float]:
    return [policy.backoff_delay(attempt, rng=rng) for attempt in range(1, policy.MAX_ATTEMPTS)]


def test_first_retry_comes_within_ten_seconds():
    rng = random.Random(1)
    assert max(policy.backoff_delay(1, rng=rng) for _ in range(1000)) <= 10


def test_at_least_eight_attempts_spread_over_at_least_a_day_even_with_the_shortest_jitter():
    class Lowest(random.Random):
        def uniform(self, a, b):
            return a

    assert policy.MAX_ATTEMPTS >= 8
    assert sum(_schedule(Lowest())) >= 24 * 3600


def test_backoff_grows_and_is_capped():
    class Middle(random.Random):
        def uniform(self, a, b):
            return (a + b) / 2

    delays = _schedule(Middle())
    assert delays == sorted(delays)
    assert delays[-1] == policy.BACKOFF_CAP_SECONDS


def test_jitter_spreads_retries():
    rng = random.Random(7)
    assert len({round(policy.backoff_delay(3, rng=rng), 3) for _ in range(20)}) > 1


def test_network_errors_5xx_408_and_429_are_retried():
    for status in (None, 500, 502, 503, 504, 408, 429):
        assert policy.classify(status) == policy.Outcome.RETRY


def test_other_4xx_and_redirects_are_not_retried():
    for status in (400, 401, 403, 404, 422, 301, 302):
        assert policy.classify(status) == policy.Outcome.FAILED


def test_410_means_gone_and_2xx_success():
    assert policy.classify(410) == policy.Outcome.GONE
    assert policy.classify(200) == policy.classify(204) == policy.Outcome.SUCCEEDED


def test_retry_after_seconds_is_honoured():
    decision = policy.decide(status_code=429, attempt=1, retry_after="120", now=NOW)
    assert decision.next_attempt_at == NOW + timedelta(seconds=120)


def test_retry_after_http_date_is_honoured():
    decision = policy.decide(status_code=503, attempt=2, retry_after="Thu, 01 Jan 2026 00:05:00 GMT", now=NOW)
    assert decision.next_attempt_at == NOW + timedelta(minutes=5)


def test_unreadable_retry_after_falls_back_to_backoff():
    decision = policy.decide(status_code=429, attempt=1, retry_after="soon", now=NOW)
    assert NOW < decision.next_attempt_at <= NOW + timedelta(seconds=10)


def test_retry_after_is_clamped_to_a_day():
    assert policy.parse_retry_after("999999999", now=NOW) == policy.RETRY_AFTER_CAP_SECONDS


def test_last_attempt_fails_for_good():
    decision = policy.decide(status_code=500, attempt=policy.MAX_ATTEMPTS, retry_after=None, now=NOW)
    assert decision.outcome == policy.Outcome.FAILED and decision.next_attempt_at is None


@pytest.mark.parametrize("header", ["²", "١٢", "\x00", "\ud800"])
def test_retry_after_in_odd_characters_is_unreadable_not_a_crash(header):
    assert policy.parse_retry_after(header, now=NOW) is None
