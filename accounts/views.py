from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .decorators import owner_required
from .forms import RegenerateCredentialsForm, SignUpForm
from .models import CredentialKind
from .selectors import api_credentials_by_kind
from .services import (
    ApiCredentialsChanged,
    ApiPasswordExists,
    IssuedCredentials,
    account_create,
    api_credentials_regenerate,
    api_password_create,
)


@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = account_create(
            email=form.cleaned_data["email"],
            name=form.cleaned_data["account_name"],
            password=form.cleaned_data["password"],
            timezone_name=form.cleaned_data["timezone"],
        )
        login(request, account.owner, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("approvals:integrations")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def home(request):
    """Send each kind of user to the page they work from."""
    if request.user.is_moderator or request.user.is_support:
        return redirect("approvals:queue")
    return redirect("approvals:integrations")


def _kind(kind: str) -> str:
    if kind not in CredentialKind.values:
        raise Http404("No such credential")
    return kind


def _credentials_page(
    request, account, *, issued: IssuedCredentials | None = None, notice: str = "", status: int = 200
):
    """The credentials page. A password is in it only as `issued`, in the answer to the POST that
    created it: rendered, not redirected to, and never cached, so a reload or Back cannot show it
    again (the password is kept only as a hash)."""
    credentials = api_credentials_by_kind(account=account)
    context = {
        "account": account,
        "base_url": request.build_absolute_uri("/").rstrip("/"),
        "zapier": credentials.get(CredentialKind.ZAPIER),
        "platform": credentials.get(CredentialKind.PLATFORM),
        "issued": issued,
        "notice": notice,
    }
    return render(request, "accounts/api_credentials.html", context, status=status)


@owner_required
@never_cache
def api_credentials(request, account):
    return _credentials_page(request, account)


@owner_required
@never_cache
@require_POST
def api_password_create_view(request, account, kind):
    """A credential's first password, shown once in this answer."""
    try:
        issued = api_password_create(account=account, kind=_kind(kind))
    except ApiPasswordExists:
        notice = (
            "This credential has a password already (it was shown once, when it was created). "
            "Regenerate it if it is lost."
        )
        return _credentials_page(request, account, notice=notice, status=409)
    return _credentials_page(request, account, issued=issued)


@owner_required
@never_cache
@require_http_methods(["GET", "POST"])
def api_credentials_regenerate_view(request, account, kind):
    """GET asks for confirmation (a page, no JavaScript needed); the confirming POST replaces the
    key and password of that kind and shows the new password once."""
    kind = _kind(kind)
    credential = api_credentials_by_kind(account=account).get(kind)
    if credential is None:
        raise Http404("No such credential")
    if request.method == "GET":
        form = RegenerateCredentialsForm(initial={"api_key": credential.api_key})
        return render(
            request,
            "accounts/api_credentials_regenerate.html",
            {"account": account, "credential": credential, "form": form},
        )
    form = RegenerateCredentialsForm(request.POST)
    try:
        if not form.is_valid():
            raise ApiCredentialsChanged
        issued = api_credentials_regenerate(account=account, kind=kind, confirmed_key=form.cleaned_data["api_key"])
    except ApiCredentialsChanged:
        notice = (
            "Nothing was regenerated: these credentials changed since that confirmation page was shown "
            "(regenerated already; their new password was shown once, then). Regenerate again if it is lost."
        )
        return _credentials_page(request, account, notice=notice, status=409)
    return _credentials_page(request, account, issued=issued)
