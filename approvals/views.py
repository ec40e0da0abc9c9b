"""Pages of the activation review. Each view checks the visitor's role on the server (role_required)
and calls one service or selector; a service's refusal becomes a form error or a message."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import account_for_user
from kartra_integrations.errors import ApplicationError
from kartra_integrations.forms import form_add_application_error

from . import selectors, services
from .forms import (
    ActivationPolicyForm,
    ActivationRequestForm,
    AnswerForm,
    ClaimForm,
    DecideForm,
    QueueFilterForm,
    RevokeForm,
    SupportNoteForm,
)
from .models import RequestState

OWNER, MODERATOR, SUPPORT = "owner", "moderator", "support"


def user_role(user) -> str | None:
    if user.is_moderator:
        return MODERATOR
    if user.is_support:
        return SUPPORT
    if account_for_user(user) is not None:
        return OWNER
    return None


def role_required(*roles: str):
    """Logged-in users whose role is one of `roles`; anonymous visitors go to log in, others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if user_role(request.user) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# --- owners ---------------------------------------------------------------------------------------


def _integrations_page(request, *, request_form=None, answer_form=None, status=200):
    account = account_for_user(request.user)
    open_request = selectors.request_open_for_account(account=account)
    history = list(selectors.requests_for_account(account=account))
    context = {
        "account": account,
        "open_request": open_request,
        "last_closed": next((r for r in history if not r.is_open), None),
        "position": selectors.request_queue_position(activation_request=open_request) if open_request else None,
        "history": history,
        "request_form": request_form or ActivationRequestForm(),
        "answer_form": answer_form or AnswerForm(),
        "display_tz": account.timezone,
    }
    return render(request, "approvals/integrations.html", context, status=status)


@require_GET
@role_required(OWNER)
def integrations(request):
    return _integrations_page(request)


@require_POST
@role_required(OWNER)
def request_submit(request):
    form = ActivationRequestForm(request.POST)
    if form.is_valid():
        try:
            activation_request = services.request_submit(
                actor=request.user, account=account_for_user(request.user), stated_use=form.cleaned_data["stated_use"]
            )
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            if activation_request.state == RequestState.APPROVED:  # the activation policy held
                messages.success(request, "Zapier access is activated for your account: no review was needed.")
            else:
                messages.success(
                    request, "Your request is in the queue. You will get an email when a moderator decides."
                )
            return redirect("approvals:integrations")
    return _integrations_page(request, request_form=form, status=400)


def _own_request(request, pk):
    activation_request = selectors.request_get_for_owner(account=account_for_user(request.user), pk=pk)
    if activation_request is None:
        raise Http404
    return activation_request


@require_POST
@role_required(OWNER)
def request_withdraw(request, pk):
    try:
        services.request_withdraw(actor=request.user, activation_request=_own_request(request, pk))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your request was withdrawn. You can send a new one at any time.")
    return redirect("approvals:integrations")


@require_POST
@role_required(OWNER)
def request_answer(request, pk):
    activation_request = _own_request(request, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.request_answer(
                actor=request.user, activation_request=activation_request, answer=form.cleaned_data["answer"]
            )
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, "Thank you: your request is back in the queue, in its original place.")
            return redirect("approvals:integrations")
    return _integrations_page(request, answer_form=form, status=400)


# --- moderators and support -------------------------------------------------------------------------


@require_GET
@role_required(MODERATOR, SUPPORT)
def queue(request):
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    requests = selectors.request_queue(
        state=filters.get("state") or None,
        overdue=bool(filters.get("overdue")),
        assigned_to=request.user if filters.get("mine") else None,
    )
    context = {
        "filter_form": form,
        "requests": requests,
        "past_limit_count": selectors.requests_past_review_limit_count(),
        "figures": selectors.queue_figures(),
        "display_tz": settings.MODERATION_TIME_ZONE,
        "is_moderator": request.user.is_moderator,
    }
    return render(request, "approvals/queue.html", context)


def _staff_request(pk):
    activation_request = selectors.request_get(pk=pk)
    if activation_request is None:
        raise Http404
    return activation_request


def _detail_page(
    request, activation_request, *, claim_form=None, decide_form=None, revoke_form=None, note_form=None, status=200
):
    user = request.user
    can_claim = user.is_moderator and activation_request.state == RequestState.PENDING
    position = selectors.request_queue_position(activation_request=activation_request) if can_claim else None
    context = {
        "activation_request": activation_request,
        "history": selectors.account_history(account=activation_request.account, current=activation_request),
        "audit_trail": selectors.request_audit_trail(activation_request=activation_request),
        "notes": activation_request.support_notes.select_related("author"),
        "is_moderator": user.is_moderator,
        "can_claim": can_claim,
        "waiting_ahead": position - 1 if position else 0,
        "claim_form": claim_form or ClaimForm(),
        "can_decide": user.is_moderator
        and activation_request.state == RequestState.IN_REVIEW
        and activation_request.assigned_to_id == user.pk,
        # Revocation withdraws the account's Zapier access: offered on Zapier requests only.
        "can_revoke": user.is_moderator
        and not activation_request.is_go_live
        and activation_request.account.zapier_activated,
        "can_note": user.is_support,
        "decide_form": decide_form or DecideForm(),
        "revoke_form": revoke_form or RevokeForm(),
        "note_form": note_form or SupportNoteForm(),
        "display_tz": settings.MODERATION_TIME_ZONE,
    }
    return render(request, "approvals/request_detail.html", context, status=status)


@require_GET
@role_required(MODERATOR, SUPPORT)
def request_detail(request, pk):
    return _detail_page(request, _staff_request(pk))


@require_POST
@role_required(MODERATOR)
def request_claim(request, pk):
    """Claim this request; out of FIFO order only with a reason (a form error without one)."""
    activation_request = _staff_request(pk)
    form = ClaimForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, activation_request, claim_form=form, status=400)
    try:
        services.request_claim(
            actor=request.user,
            activation_request=activation_request,
            out_of_order_reason=form.cleaned_data["out_of_order_reason"],
        )
    except ApplicationError as error:
        if error.fields:
            form_add_application_error(form, error)
            return _detail_page(request, activation_request, claim_form=form, status=400)
        messages.error(request, error.message)
    else:
        messages.success(request, "You claimed this request; its review has started.")
    return redirect("approvals:request_detail", pk=activation_request.pk)


@require_POST
@role_required(MODERATOR)
def request_claim_next(request):
    """The queue's "Claim next": the request at the head of the queue, whoever looks at which."""
    try:
        activation_request = services.request_claim_next(actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("approvals:queue")
    messages.success(request, "You claimed the next request in the queue; its review has started.")
    return redirect("approvals:request_detail", pk=activation_request.pk)


def _staff_form_action(request, pk, *, form_class, form_name, perform, success):
    """POST of a form on the request page: validate, call the service, or re-render with the error."""
    activation_request = _staff_request(pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            perform(activation_request, form.cleaned_data)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, success)
            return redirect("approvals:request_detail", pk=activation_request.pk)
    return _detail_page(request, activation_request, **{form_name: form}, status=400)


@require_POST
@role_required(MODERATOR)
def request_decide(request, pk):
    return _staff_form_action(
        request,
        pk,
        form_class=DecideForm,
        form_name="decide_form",
        perform=lambda activation_request, data: services.request_decide(
            actor=request.user, activation_request=activation_request, **data
        ),
        success="Decision recorded; the owner is emailed.",
    )


@require_POST
@role_required(MODERATOR)
def account_revoke(request, pk):
    return _staff_form_action(
        request,
        pk,
        form_class=RevokeForm,
        form_name="revoke_form",
        perform=lambda activation_request, data: services.account_revoke(
            actor=request.user, account=activation_request.account, **data
        ),
        success="Zapier access revoked; the API refuses this account from now on.",
    )


@require_POST
@role_required(SUPPORT)
def support_note_add(request, pk):
    return _staff_form_action(
        request,
        pk,
        form_class=SupportNoteForm,
        form_name="note_form",
        perform=lambda activation_request, data: services.support_note_add(
            actor=request.user, activation_request=activation_request, body=data["body"]
        ),
        success="Note added for the moderators.",
    )


@require_http_methods(["GET", "POST"])
@role_required(MODERATOR)
def activation_policy(request):
    """The activation policy: moderators read and change it here; every change is listed."""
    policy = selectors.activation_policy_get()
    form = ActivationPolicyForm(request.POST or None, initial=policy.values())
    if request.method == "POST" and form.is_valid():
        try:
            services.activation_policy_update(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, "Activation policy saved.")
            return redirect("approvals:activation_policy")
    context = {
        "policy": policy,
        "form": form,
        "changes": selectors.activation_policy_changes(),
        "display_tz": settings.MODERATION_TIME_ZONE,
    }
    return render(request, "approvals/activation_policy.html", context, status=400 if form.is_bound else 200)
