from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from approvals import services as approvals_services
from approvals.selectors import go_live_requests_by_app
from kartra_integrations.errors import ApplicationError
from kartra_integrations.forms import form_add_application_error

from .decorators import owner_required
from .forms import ApiAppForm, GoLiveAnswerForm, GoLiveForm, RegenerateCredentialsForm, SignUpForm
from .models import CredentialKind
from .selectors import api_app_get_for_account, api_apps_for_account, api_credentials_by_kind
from .services import (
    ApiCredentialsChanged,
    ApiPasswordExists,
    IssuedCredentials,
    account_create,
    api_app_register,
    api_app_revoke,
    api_app_update,
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
    request,
    account,
    *,
    issued: IssuedCredentials | None = None,
    notice: str = "",
    status: int = 200,
    app_form: ApiAppForm | None = None,
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
        "apps": _apps_with_requests(account),
        "app_form": app_form or ApiAppForm(),
    }
    return render(request, "accounts/api_credentials.html", context, status=status)


def _apps_with_requests(account) -> list:
    """The account's apps, each as (app, its latest go-live request or None)."""
    requests = go_live_requests_by_app(account=account)
    return [(api_app, requests.get(api_app.pk)) for api_app in api_apps_for_account(account=account)]


def _form_add_validation_error(form, error: ValidationError) -> None:
    for name, field_messages in error.message_dict.items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


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


# --- developer apps of the command API (POST /api) ------------------------------------------------


@owner_required
@require_POST
def api_app_register_view(request, account):
    form = ApiAppForm(request.POST)
    if form.is_valid():
        try:
            api_app = api_app_register(actor=request.user, account=account, **form.service_kwargs())
        except ValidationError as error:
            _form_add_validation_error(form, error)
        else:
            messages.success(request, f"The app {api_app.name} is registered, in test mode.")
            return redirect("accounts:api_app", pk=api_app.pk)
    return _credentials_page(request, account, app_form=form, status=400)


def _app_page(request, account, api_app, *, form=None, go_live_form=None, answer_form=None, status=200):
    go_live_request = go_live_requests_by_app(account=account).get(api_app.pk)
    context = {
        "account": account,
        "app": api_app,
        "base_url": request.build_absolute_uri("/").rstrip("/"),
        "form": form or ApiAppForm(initial=ApiAppForm.initial_for(api_app)),
        "go_live_request": go_live_request,
        "go_live_form": go_live_form or GoLiveForm(),
        "answer_form": answer_form or GoLiveAnswerForm(),
    }
    return render(request, "accounts/api_app.html", context, status=status)


def _own_app(account, pk):
    api_app = api_app_get_for_account(account=account, pk=pk)
    if api_app is None:
        raise Http404("No such app")
    return api_app


@owner_required
@require_http_methods(["GET", "POST"])
def api_app_view(request, account, pk):
    """The app's page: its app_id and mode, the edit form, going live, revoking."""
    api_app = _own_app(account, pk)
    if request.method == "GET":
        return _app_page(request, account, api_app)
    form = ApiAppForm(request.POST)
    if form.is_valid():
        try:
            api_app_update(actor=request.user, api_app=api_app, **form.service_kwargs())
        except ValidationError as error:
            _form_add_validation_error(form, error)
        else:
            messages.success(request, "The app is saved.")
            return redirect("accounts:api_app", pk=api_app.pk)
    return _app_page(request, account, api_app, form=form, status=400)


@owner_required
@require_POST
def api_app_revoke_view(request, account, pk):
    api_app = _own_app(account, pk)
    try:
        api_app_revoke(actor=request.user, api_app=api_app)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The app {api_app.name} is revoked: calls with its app_id are refused.")
    return redirect("accounts:api_app", pk=api_app.pk)


@owner_required
@require_POST
def api_app_go_live_view(request, account, pk):
    api_app = _own_app(account, pk)
    form = GoLiveForm(request.POST)
    if form.is_valid():
        try:
            approvals_services.api_app_go_live_submit(
                actor=request.user, api_app=api_app, stated_use=form.cleaned_data["stated_use"]
            )
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(
                request, "Your go-live request is in the review queue; the app stays in test mode until then."
            )
            return redirect("accounts:api_app", pk=api_app.pk)
    return _app_page(request, account, api_app, go_live_form=form, status=400)


@owner_required
@require_POST
def api_app_go_live_answer_view(request, account, pk):
    """The owner answers a moderator's question on the app's go-live request."""
    api_app = _own_app(account, pk)
    go_live_request = go_live_requests_by_app(account=account).get(api_app.pk)
    if go_live_request is None:
        raise Http404("No go-live request")
    form = GoLiveAnswerForm(request.POST)
    if form.is_valid():
        try:
            approvals_services.request_answer(
                actor=request.user, activation_request=go_live_request, answer=form.cleaned_data["answer"]
            )
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, "Your answer is sent; the request is back in its place in the queue.")
            return redirect("accounts:api_app", pk=api_app.pk)
    return _app_page(request, account, api_app, answer_form=form, status=400)
