"""Hosted opt-in form (/f/<public id>) and checkout (/c/<public id>): public pages a lead fills in.

Thin: find the asset, verify the visitor's IP, validate the Django form, call one service.
Every refusal is a page with a clear message and a 4xx status; nothing is written.
"""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kartra_integrations.errors import ApplicationError
from kartra_integrations.forms import form_add_application_error

from .client_ip import ClientIpError, client_ip
from .consent_services import (
    USER_AGENT_MAX_LENGTH,
    Visitor,
    consent_notices,
    hosted_checkout_submit,
    hosted_form_submit,
)
from .hosted_forms import CheckoutForm, OptInForm
from .models import Form, Product

PROFILE_FIELDS = ("first_name", "last_name")


def _error_page(request, heading: str, message: str, status: int):
    return render(request, "leads/hosted/error.html", {"heading": heading, "message": message}, status=status)


def _visitor(request) -> Visitor:
    return Visitor(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH])


@require_http_methods(["GET", "POST"])
def hosted_form(request, public_id: str):
    form_asset = Form.objects.select_related("account").filter(public_id=public_id).first()
    if form_asset is None:
        return _error_page(request, "Form not found", "This opt-in form does not exist.", 404)
    try:
        visitor = _visitor(request)
    except ClientIpError as exc:
        return _error_page(request, "Cannot verify your connection", str(exc), 400)
    account = form_asset.account
    notices = consent_notices(account=account, visitor=visitor)
    form = OptInForm(request.POST if request.method == "POST" else None, notices=notices)
    if request.method == "POST" and form.is_valid():
        try:
            hosted_form_submit(
                form=form_asset,
                email=form.cleaned_data["email"],
                profile={name: form.cleaned_data[name] for name in PROFILE_FIELDS},
                visitor=visitor,
                granted=form.granted_purposes(),
            )
        except ApplicationError as exc:
            form_add_application_error(form, exc)
        else:
            return redirect("hosted:form_done", public_id=public_id)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "form_asset": form_asset, "account": account}
    return render(request, "leads/hosted/form.html", context, status=status)


def hosted_form_done(request, public_id: str):
    form_asset = Form.objects.select_related("account").filter(public_id=public_id).first()
    if form_asset is None:
        return _error_page(request, "Form not found", "This opt-in form does not exist.", 404)
    context = {"account": form_asset.account, "heading": "Thank you!", "message": "You are subscribed."}
    return render(request, "leads/hosted/done.html", context)


@require_http_methods(["GET", "POST"])
def hosted_checkout(request, public_id: str):
    product = Product.objects.select_related("account").filter(public_id=public_id).first()
    if product is None:
        return _error_page(request, "Product not found", "This product does not exist.", 404)
    price_points = product.price_points.order_by("number")
    if not price_points.exists():
        return _error_page(request, "Not for sale", "This product has no price yet.", 404)
    try:
        visitor = _visitor(request)
    except ClientIpError as exc:
        return _error_page(request, "Cannot verify your connection", str(exc), 400)
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


def hosted_checkout_done(request, public_id: str):
    product = Product.objects.select_related("account").filter(public_id=public_id).first()
    if product is None:
        return _error_page(request, "Product not found", "This product does not exist.", 404)
    context = {
        "account": product.account,
        "heading": "Thank you for your order!",
        "message": "Your purchase is confirmed.",
    }
    return render(request, "leads/hosted/done.html", context)
