"""Limits on guessing login passwords, enforced by django-axes (settings: AXES_*).

Failed logins are counted per account (the email typed, case-folded) and per client address,
each on its own: five failures for one account lock it whatever address they come from, and five
failures from one address lock that address whatever accounts it tries. The lock lifts by itself
after the cool-off (LOGIN_LOCKOUT_MINUTES). It covers /login/ and the admin's login alike, because
django-axes watches django.contrib.auth.authenticate.

A successful login clears the failures recorded against that account only. django-axes' own
AXES_RESET_ON_SUCCESS would also clear the failures recorded against the address, so anyone with
an account of their own could log into it between guesses and guess at others' without end.
"""

from axes.utils import reset
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import render

from kartra_integrations.client_ip import ClientIpError, client_ip


def login_client_ip(request) -> str | None:
    """The address failures are counted against: the visitor's, as the hosted pages resolve it
    (X-Forwarded-For believed only from TRUSTED_PROXIES). A malformed chain from our proxy comes
    from a tampering client: those requests share one bucket (no address) rather than being
    counted against the proxy, which would lock out everyone behind it."""
    try:
        return client_ip(request)
    except ClientIpError:
        return None


def login_username(request, credentials: dict | None) -> str | None:
    """The account failures are counted against: the email typed, trimmed and case-folded, so
    `Owner@Example.com` and `owner@example.com` share one count."""
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = request.POST.get("username") if request is not None else None
    return typed.strip().lower() if isinstance(typed, str) else None


def login_lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def login_locked_out(request, original_response=None, credentials=None):
    """The answer to a locked-out login, on our login page: what happened and when to come back."""
    return render(
        request,
        "accounts/login.html",
        {"locked_out": True, "lockout_minutes": login_lockout_minutes()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


@receiver(user_logged_in, dispatch_uid="accounts.login_lockout.reset_account_failures")
def reset_account_failures(sender, request, user, **kwargs) -> None:
    reset(username=user.get_username().lower())
