"""Login lockout: failures are limited per account and per address, the lock
expires, a success clears the account's failures; /login/ and the admin login alike."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 3
LOCKED = "Too many failed log-in attempts"


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def _log_in(client, email, password, ip="203.0.113.10", path="/login/", **headers):
    return client.post(path, {"username": email, "password": password}, REMOTE_ADDR=ip, **headers)


def _fail(client, email, times, ip="203.0.113.10", **headers):
    return [_log_in(client, email, "wrong password", ip=ip, **headers).status_code for _ in range(times)]


def _logged_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def test_failures_up_to_the_limit_lock_the_account_with_a_clear_message(client):
    user = UserFactory()
    statuses = _fail(client, user.email, LIMIT)
    assert statuses == [200] * (LIMIT - 1) + [429]
    response = _log_in(client, user.email, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert "locked for 15 minutes" in page
    assert not response.wsgi_request.user.is_authenticated


def test_account_lock_holds_from_any_address(client):
    user = UserFactory()
    for n in range(LIMIT):
        _fail(client, user.email, 1, ip=f"198.51.100.{n + 1}")
    assert _log_in(client, user.email, PASSWORD, ip="192.0.2.77").status_code == 429


def test_account_lock_ignores_the_case_of_the_email(client):
    user = UserFactory()
    _fail(client, user.email.upper(), LIMIT - 1, ip="198.51.100.1")
    _fail(client, user.email.title(), 1, ip="198.51.100.2")
    assert _log_in(client, user.email, PASSWORD, ip="192.0.2.77").status_code == 429


def test_address_lock_holds_for_every_account(client):
    for _ in range(LIMIT):
        _fail(client, UserFactory().email, 1)
    fresh = UserFactory()
    response = _log_in(client, fresh.email, PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    # The same account from another address is not locked.
    assert _logged_in(_log_in(client, fresh.email, PASSWORD, ip="192.0.2.77"))


def test_behind_a_trusted_proxy_each_visitor_is_counted_on_its_own(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(LIMIT):
        _fail(client, UserFactory().email, 1, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9")
    other_visitor = UserFactory()
    response = _log_in(client, other_visitor.email, PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.5")
    assert _logged_in(response)
    assert AccessAttempt.objects.filter(ip_address="198.51.100.9").count() == LIMIT


def test_forwarded_for_from_an_untrusted_peer_cannot_dodge_the_address_lock(client):
    for n in range(LIMIT):
        _fail(client, UserFactory().email, 1, HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}")
    assert _log_in(client, UserFactory().email, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_lock_expires_after_the_cool_off(client):
    user = UserFactory()
    _fail(client, user.email, LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _logged_in(_log_in(client, user.email, PASSWORD))


def test_lock_still_holds_before_the_cool_off_ends(client):
    user = UserFactory()
    _fail(client, user.email, LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert _log_in(client, user.email, PASSWORD).status_code == 429


def test_success_resets_the_accounts_failures(client):
    user = UserFactory()
    _fail(client, user.email, LIMIT - 1)
    assert _logged_in(_log_in(client, user.email, PASSWORD))
    client.logout()
    # A fresh budget: LIMIT - 1 new failures do not lock it.
    assert _fail(client, user.email, LIMIT - 1, ip="192.0.2.77") == [200] * (LIMIT - 1)
    assert _logged_in(_log_in(client, user.email, PASSWORD, ip="192.0.2.77"))


def test_success_on_ones_own_account_does_not_reset_the_addresss_failures(client):
    victim, attacker = UserFactory(), UserFactory()
    _fail(client, victim.email, LIMIT - 1)
    assert _logged_in(_log_in(client, attacker.email, PASSWORD))
    client.logout()
    assert _fail(client, victim.email, 1) == [429]


def test_admin_login_is_locked_too(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    statuses = [_log_in(client, admin.email, "wrong password", path="/admin/login/").status_code for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]
    response = _log_in(client, admin.email, PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
