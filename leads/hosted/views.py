"""Hosted opt-in form (/f/<public id>), its double opt-in confirmation link (/f/confirm/<token>) and
checkout (/c/<public id>): public pages a lead fills in.

Thin: throttle the visitor's IP, find the asset, validate the Django form, call one service.
Every refusal is a page with a clear message and a 4xx (or 503) status; nothing is written.
"""

import ipaddress
from functools import wraps

from django.shortcuts import redirect, render
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_http_methods

from accounts.throttling import request_count
from kartra_integrations.client_ip import ClientIpError, client_ip
from kartra_integrations.errors import ApplicationError
from kartra_integrations.forms import form_add_application_error
from leads.hosted.forms import CheckoutForm, OptInForm
from leads.models import Form, Product
from leads.services import (
    USER_AGENT_MAX_LENGTH,
    OptInLinkError,
    Visitor,
    checkout_unavailable_reason,
    consent_notices,
    hosted_checkout_submit,
    hosted_form_submit,
    opt_in_confirm,
    opt_in_pending_create,
    opt_in_pending_get,
)

PROFILE_FIELDS = ("first_name", "last_name")

# Requests to the hosted pages per visitor IP (an IPv6 visitor: per /64, what one subscriber is given)
# and window, counted in Redis like the API's per-account limit.
HOSTED_REQUESTS_PER_WINDOW = 60
HOSTED_WINDOW_SECONDS = 60


def _error_page(request, heading: str, message: str, status: int):
    return render(request, "leads/hosted/error.html", {"heading": heading, "message": message}, status=status)


def _throttle_key(ip: str) -> str:
    """The visitor's counter: per address, per /64 for IPv6. Keyed by a keyed hash of the address, so
    Redis never holds a visitor's IP (an erased lead's address must not linger anywhere)."""
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        ip = f"{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"
    return f"throttle_hosted_{salted_hmac('hosted-throttle', ip).hexdigest()}"


def hosted_throttled(view):
    """Refuse a visitor whose connection cannot be verified (400) or who sent more than
    HOSTED_REQUESTS_PER_WINDOW requests this window (a friendly 429 page with Retry-After)."""

    @wraps(view)
    def throttled_view(request, *args, **kwargs):
        try:
            ip = client_ip(request)
        except ClientIpError as exc:
            return _error_page(request, "Cannot verify your connection", str(exc), 400)
        counted = request_count(_throttle_key(ip), HOSTED_WINDOW_SECONDS)
        if counted.count > HOSTED_REQUESTS_PER_WINDOW:
            wait = max(counted.seconds_left, 1)
            response = _error_page(
                request,
                "Too many requests",
                f"We received a lot of requests from your connection in a short time. "
                f"Please wait {wait} seconds, then try again.",
                429,
            )
            response["Retry-After"] = str(wait)
            return response
        return view(request, *args, **kwargs)

    return throttled_view


def _visitor(request) -> Visitor:
    return Visitor(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH])


@hosted_throttled
@require_http_methods(["GET", "POST"])
def hosted_form(request, public_id: str):
    form_asset = Form.objects.select_related("account").filter(public_id=public_id).first()
    if form_asset is None:
        return _error_page(request, "Form not found", "This opt-in form does not exist.", 404)
    visitor = _visitor(request)
    account = form_asset.account
    notices = consent_notices(account=account, visitor=visitor)
    form = OptInForm(request.POST if request.method == "POST" else None, notices=notices)
    if request.method == "POST" and form.is_valid():
        submission = {
            "form": form_asset,
            "email": form.cleaned_data["email"],
            "profile": {name: form.cleaned_data[name] for name in PROFILE_FIELDS},
            "visitor": visitor,
            "granted": form.granted_purposes(),
        }
        try:
            if form_asset.double_opt_in:
                opt_in_pending_create(**submission, site_url=request.build_absolute_uri("/"))
            else:
                hosted_form_submit(**submission)
        except ApplicationError as exc:
            form_add_application_error(form, exc)
        else:
            return redirect("hosted:form_done", public_id=public_id)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "form_asset": form_asset, "account": account}
    return render(request, "leads/hosted/form.html", context, status=status)


@hosted_throttled
def hosted_form_done(request, public_id: str):
    form_asset = Form.objects.select_related("account").filter(public_id=public_id).first()
    if form_asset is None:
        return _error_page(request, "Form not found", "This opt-in form does not exist.", 404)
    if form_asset.double_opt_in:
        heading = "Check your inbox"
        message = "We sent you an email with a link to confirm your subscription. Nothing happens until you open it."
    else:
        heading, message = "Thank you!", "You are subscribed."
    context = {"account": form_asset.account, "heading": heading, "message": message}
    return render(request, "leads/hosted/done.html", context)


@hosted_throttled
@require_http_methods(["GET", "POST"])
def hosted_form_confirm(request, token: str):
    """The emailed link: a page with a Confirm button (mail scanners open links; only a person's click, a
    POST from this page, confirms, and its IP is the one verified)."""
    try:
        pending = opt_in_pending_get(token=token)
    except OptInLinkError as exc:
        heading = "Link expired" if exc.code == "link_expired" else "Invalid link"
        return _error_page(request, heading, exc.message, exc.status_code)
    context = {"account": pending.account, "form_asset": pending.form, "email": pending.email}
    if pending.confirmed_at is None and request.method == "POST":
        try:
            lead = opt_in_confirm(pending=pending, visitor=_visitor(request))
        except ApplicationError as exc:
            return _error_page(request, "Your subscription could not be confirmed", exc.message, exc.status_code)
        if lead is not None:
            context |= {"heading": "Subscription confirmed", "message": "Thank you: you are subscribed."}
            return render(request, "leads/hosted/done.html", context)
    elif pending.confirmed_at is None:
        return render(request, "leads/hosted/confirm.html", context)
    context |= {"heading": "Already confirmed", "message": "Your subscription is already confirmed."}
    return render(request, "leads/hosted/done.html", context)


@hosted_throttled
@require_http_methods(["GET", "POST"])
def hosted_checkout(request, public_id: str):
    product = Product.objects.select_related("account").filter(public_id=public_id).first()
    if product is None:
        return _error_page(request, "Product not found", "This product does not exist.", 404)
    unavailable = checkout_unavailable_reason(product=product)
    if unavailable is not None:
        return _error_page(request, "Payments are not configured", unavailable, 503)
    price_points = product.price_points.order_by("number")
    if not price_points.exists():
        return _error_page(request, "Not for sale", "This product has no price yet.", 404)
    visitor = _visitor(request)
    account = product.account
    notices = consent_notices(account=account, visitor=visitor)
    form = CheckoutForm(request.POST if request.method == "POST" else None, notices=notices, price_points=price_points)
    if request.method == "POST" and form.is_valid():
        try:
            hosted_checkout_submit(
                product=product,
                price_point=form.cleaned_data["price_point"],
                email=form.cleaned_data["email"],
                profile={name: form.cleaned_data[name] for name in PROFILE_FIELDS},
                visitor=visitor,
                granted=form.granted_purposes(),
            )
        except ApplicationError as exc:
            form_add_application_error(form, exc)
        else:
            return redirect("hosted:checkout_done", public_id=public_id)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "product": product, "account": account}
    return render(request, "leads/hosted/checkout.html", context, status=status)


@hosted_throttled
def hosted_checkout_done(request, public_id: str):
    product = Product.objects.select_related("account").filter(public_id=public_id).first()
    if product is None:
        return _error_page(request, "Product not found", "This product does not exist.", 404)
    message = "Your test order is recorded: no payment was taken." if product.test_mode else "Your order is recorded."
    context = {"account": product.account, "heading": "Thank you for your order!", "message": message}
    return render(request, "leads/hosted/done.html", context)
