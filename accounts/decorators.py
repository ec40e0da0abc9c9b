from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from .selectors import account_for_user


def owner_required(view):
    """Owners' pages: the view gets the user's account as its second argument, and times are shown
    and read (forms' date-times) in the account's time zone.

    Anonymous visitors are sent to log in; staff and users without an account get 403.
    """

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        account = None if (user.is_moderator or user.is_support) else account_for_user(user)
        if account is None:
            raise PermissionDenied
        with timezone.override(account.timezone):
            return view(request, account, *args, **kwargs)

    return wrapped
