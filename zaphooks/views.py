"""Owner pages (Zaps, endpoints, delivery log, replay, signing secret) and the moderators' health page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import owner_required
from kartra_integrations.errors import ApplicationError, NotFound
from kartra_integrations.forms import form_add_application_error
from kartra_integrations.limits import ascii_int
from leads.models import LeadAction

from . import selectors, services
from .forms import EndpointForm, ReplayRangeForm
from .models import SubscriptionKind


@owner_required
@require_http_methods(["GET", "POST"])
def hooks(request, account):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_create(account=account, **form.cleaned_data)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, "Endpoint added.")
            return redirect("zaphooks:hooks")
    services.signing_secret_get_or_create(account=account)
    subscriptions = selectors.subscriptions_with_stats(account=account)
    kinds = {subscription.kind for subscription in subscriptions}
    return render(
        request,
        "zaphooks/hooks.html",
        {
            "subscriptions": subscriptions,
            "has_zaps": SubscriptionKind.ZAPIER in kinds,
            "has_endpoints": SubscriptionKind.ENDPOINT in kinds,
            "example_trigger": LeadAction.ASSIGN_TAG.label,
            "secrets": selectors.signing_secrets_current(account=account),
            "form": form,
        },
    )


@owner_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, account, subscription_id: int):
    endpoint = _get_or_404(account, subscription_id, kind=SubscriptionKind.ENDPOINT)  # a Zap is Zapier's to change
    form = EndpointForm(request.POST or None, initial={"target_url": endpoint.target_url, "events": endpoint.events})
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(account=account, subscription_id=endpoint.pk, **form.cleaned_data)
        except NotFound as error:  # deleted meanwhile
            raise Http404(error.message) from error
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("zaphooks:hooks")
    return render(
        request,
        "zaphooks/endpoint_form.html",
        {"endpoint": endpoint, "form": form},
        status=400 if form.is_bound else 200,
    )


@owner_required
@require_POST
def secret_rotate(request, account):
    services.signing_secret_rotate(account=account)
    messages.success(request, "New signing secret created; the previous one keeps signing for 24 hours.")
    return redirect("zaphooks:hooks")


@owner_required
@require_POST
def subscription_state(request, account, subscription_id: int):
    _get_or_404(account, subscription_id)  # another account's subscription is a 404
    if request.POST.get("action") == "enable":
        try:
            services.subscription_enable(account=account, subscription_id=subscription_id)
        except NotFound as error:  # deleted meanwhile
            raise Http404(error.message) from error
        except ApplicationError as error:  # no Zapier access: refused, with the way back
            messages.error(request, error.message)
        else:
            messages.success(request, "Re-enabled. Replay the failed deliveries from its log if you want them.")
    elif request.POST.get("action") == "disable":
        services.subscription_disable(account=account, subscription_id=subscription_id)
        messages.success(request, "Disabled.")
    elif request.POST.get("action") == "delete":
        try:
            services.endpoint_delete(account=account, subscription_id=subscription_id)
        except NotFound as error:  # a Zap: Zapier deletes it when the Zap is turned off
            raise Http404(error.message) from error
        messages.success(request, "Endpoint deleted.")
        return redirect("zaphooks:hooks")
    return redirect("zaphooks:log", subscription_id=subscription_id)


@owner_required
def delivery_log(request, account, subscription_id: int):
    return _log_page(request, account, _get_or_404(account, subscription_id), ReplayRangeForm())


@owner_required
@require_POST
def replay(request, account, subscription_id: int):
    subscription = _get_or_404(account, subscription_id)
    delivery_id = since = until = None
    raw_delivery_id = request.POST.get("delivery_id", "")
    if raw_delivery_id:
        delivery_id = ascii_int(raw_delivery_id)
        if delivery_id is None:
            messages.error(request, "That delivery is not in this log.")
            return _log_page(request, account, subscription, ReplayRangeForm(), status=400)
    else:
        form = ReplayRangeForm(request.POST)
        if not form.is_valid():
            return _log_page(request, account, subscription, form, status=400)
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    try:
        count = services.deliveries_replay(
            account=account, subscription_id=subscription.pk, delivery_id=delivery_id, since=since, until=until
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{count} deliver{'y' if count == 1 else 'ies'} queued again.")
    return redirect("zaphooks:log", subscription_id=subscription.pk)


@owner_required
def delivery_payload(request, account, subscription_id: int, delivery_id: int):
    """The JSON body a delivery sent (every attempt and replay sends the same bytes)."""
    subscription = _get_or_404(account, subscription_id)
    try:
        delivery = selectors.delivery_get(subscription=subscription, delivery_id=delivery_id)
    except NotFound as error:
        raise Http404(error.message) from error
    return render(
        request,
        "zaphooks/payload.html",
        {
            "subscription": subscription,
            "delivery": delivery,
            "event_label": selectors.event_labels([delivery.event.action])[0],
            "payload": selectors.delivery_payload_pretty(delivery),
        },
    )


def _log_page(request, account, subscription, range_form, *, status=200):
    context = {
        "subscription": subscription,
        "event_labels": selectors.event_labels(subscription.events),
        "filter_described": selectors.filters_described(account=account, subscriptions=[subscription])[subscription.pk],
        "deliveries": selectors.delivery_log(subscription=subscription),
        "range_form": range_form,
    }
    return render(request, "zaphooks/log.html", context, status=status)


def _get_or_404(account, subscription_id, *, kind=None):
    try:
        return selectors.subscription_get(account=account, subscription_id=subscription_id, kind=kind)
    except NotFound as error:
        raise Http404(error.message) from error


@login_required
def health(request):
    if not request.user.is_moderator:
        raise PermissionDenied
    return render(request, "zaphooks/health.html", {"rows": selectors.delivery_health()})
