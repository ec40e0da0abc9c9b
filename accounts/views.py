from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .decorators import owner_required
from .forms import SignUpForm
from .services import account_create, api_credentials_issue


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


@owner_required
def api_credentials(request, account):
    return render(
        request,
        "accounts/api_credentials.html",
        {"account": account, "credential": account.api_credentials.get(kind="zapier")},
    )


@owner_required
@require_POST
def api_credentials_regenerate(request, account):
    issued = api_credentials_issue(account=account)
    # Rendered, not redirected: the password is shown this once and never again.
    return render(
        request,
        "accounts/api_credentials.html",
        {"account": account, "credential": account.api_credentials.get(kind="zapier"), "issued": issued},
    )
