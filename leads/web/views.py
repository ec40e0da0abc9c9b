"""The owner's pages: leads list and detail, the GDPR setting, and the generic asset pages.

Owner only: a moderator or support agent is refused (403), a visitor is sent to log in, and every
object is looked up inside the owner's account, so another account's object is a 404.
Views stay thin: forms validate, leads.services writes, leads.selectors reads.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import owner_required
from kartra_integrations.errors import ApplicationError, NotFound
from kartra_integrations.forms import form_add_application_error
from leads import selectors, services
from leads.models import GdprStatus, Transaction
from leads.web.forms import ASSET_PAGES, AssetPage, GdprSettingForm, LeadFilterForm

ASSETS_PER_PAGE = 100


def _posted(request):
    """The POST data on a POST (even an empty one, an unticked checkbox), None otherwise."""
    return request.POST if request.method == "POST" else None


# ---------------------------------------------------------------------------------------------
# Leads


@owner_required
def lead_list(request, account):
    form = LeadFilterForm(request.GET or None, account=account)
    if form.is_bound and not form.is_valid():
        # A filter naming nothing of this account (another account's tag, say) lists nothing.
        filters, page = {}, selectors.LeadPage(leads=[], next_before_id=None)
    else:
        filters = form.cleaned_data if form.is_bound else {}
        page = selectors.lead_list_page(
            account=account,
            q=filters.get("q") or "",
            tag_id=filters["tag"].pk if filters.get("tag") else None,
            list_id=filters["list"].pk if filters.get("list") else None,
            gdpr_status=filters.get("gdpr_status") or "",
            before_id=filters.get("before"),
            per_page=selectors.LEADS_PER_PAGE,
        )
    next_url = None
    if page.next_before_id is not None:
        query = {key: value for key, value in request.GET.items() if key != "before" and value}
        next_url = "?" + urlencode({**query, "before": page.next_before_id})
    first_url = None
    if filters.get("before"):
        first_url = "?" + urlencode({key: value for key, value in request.GET.items() if key != "before" and value})
    return render(
        request,
        "leads/lead_list.html",
        {"form": form, "page": page, "next_url": next_url, "first_url": first_url, "gdpr_labels": GdprStatus},
    )


# An event's action_details as the lines a person reads ("Tag: VIP", "Score: 15"), one per fact.
# The documents are the platform's (leads.services builds them); what is not listed here still shows,
# its key made readable. Ids, the lead's own profile (on the page already) and repeats are left out.
EVENT_DETAIL_LABELS = {
    "tag_name": "Tag",
    "list_name": "List",
    "form_name": "Form",
    "sequence_name": "Sequence",
    "tracking_link_name": "Tracking link",
    "target_url": "Goes to",
    "video_name": "Video",
    "kartra_page_name": "Page",
    "url": "URL",
    "page_split_test_link_name": "Split-test link",
    "membership_name": "Membership",
    "level_name": "Level",
    "product_name": "Product",
    "calendar_name": "Calendar",
    "class_name": "Class",
    "starts_at": "Starts",
    "ends_at": "Ends",
    "hosts": "Host",
    "points": "Score",
    "previous_peak": "Highest score before",
    "new_peak": "New highest score",
    "transaction_id": "Transaction",
    "transaction_type": "Type",
    "transaction_parent_id": "Refund of transaction",
    "transaction_date": "Date",
    "product_price_point": "Price point",
    "transaction_quantity": "Quantity",
    "transaction_full_amount": "Amount",
    "transaction_internal_subscription_id": "Subscription",
    "transaction_test": "Test sale",
}
EVENT_DETAIL_SKIPPED = {
    "official_product_name",
    "lead_first_name",
    "lead_last_name",
    "lead_email",
    "lead_username",
    "calendar_subscription_id",
    "vendor_timezone",
    "transaction_currency",  # shown with the amount
}
EVENT_DETAIL_TIMES = {"starts_at", "ends_at", "transaction_date"}


def event_detail_lines(details: dict) -> list[tuple[str, str]]:
    """(label, value) pairs for an event's action_details; times in the active (the account's) zone."""
    lines: list[tuple[str, str]] = []
    _detail_lines(details if isinstance(details, dict) else {}, lines)
    return lines


_DETAIL_ORDER = {key: position for position, key in enumerate(EVENT_DETAIL_LABELS)}


def _detail_lines(node: dict, lines: list[tuple[str, str]]) -> None:
    # jsonb keeps keys in its own order (shortest first): put them in the order of the labels above.
    for key, value in sorted(node.items(), key=lambda item: _DETAIL_ORDER.get(item[0], len(_DETAIL_ORDER))):
        if value is None or value == "" or value is False or key in EVENT_DETAIL_SKIPPED:
            continue
        if key.endswith("_id") and key not in EVENT_DETAIL_LABELS:
            continue
        if isinstance(value, dict):
            _detail_lines(value, lines)
            continue
        label = EVENT_DETAIL_LABELS.get(key) or key.replace("_", " ").capitalize()
        if key == "hosts" and isinstance(value, list):
            lines.extend((label, _host(host)) for host in value if isinstance(host, dict))
        elif isinstance(value, list):
            lines.append((label, ", ".join(str(item) for item in value)))
        else:
            lines.append((label, _detail_value(key, value, node)))


def _host(host: dict) -> str:
    name = f"{host.get('host_first_name') or ''} {host.get('host_last_name') or ''}".strip()
    email = host.get("host_email_address") or ""
    return f"{name} ({email})" if name and email else name or email


def _detail_value(key: str, value, node: dict) -> str:
    if value is True:
        return "yes"
    if key in EVENT_DETAIL_TIMES and isinstance(value, str) and (moment := parse_datetime(value)):
        return dateformat.format(timezone.localtime(moment), "Y-m-d H:i T")
    if key == "transaction_type" and value in Transaction.Kind.values:
        return Transaction.Kind(value).label
    if key in ("transaction_id", "transaction_parent_id", "transaction_internal_subscription_id"):
        return f"#{value}"
    if key == "transaction_full_amount" and node.get("transaction_currency"):
        return f"{value} {node['transaction_currency']}"
    return str(value)


@owner_required
def lead_detail(request, account, pk: int):
    try:
        lead = selectors.lead_get(account=account, id=pk)
    except NotFound:
        raise Http404 from None
    history = selectors.lead_history(lead=lead)
    for event in history["events"]:
        event.detail_lines = event_detail_lines(event.details)
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "details": selectors.lead_details(lead),
            "history": history,
            "can_email": selectors.lead_can_receive_email(lead),
            "gdpr_label": GdprStatus(lead.gdpr_status).label,
        },
    )


@owner_required
@require_http_methods(["GET", "POST"])
def gdpr_setting(request, account):
    form = GdprSettingForm(_posted(request), initial={"gdpr_enabled": account.gdpr_enabled})
    if request.method == "POST" and form.is_valid():
        services.account_gdpr_enabled_set(
            account=account, enabled=form.cleaned_data["gdpr_enabled"], actor=request.user
        )
        messages.success(request, f"GDPR is now {'on' if account.gdpr_enabled else 'off'} for this account.")
        return redirect("leads:gdpr_setting")
    return render(
        request,
        "leads/gdpr_setting.html",
        {"form": form, "account": account, "changes": selectors.gdpr_setting_changes(account=account)},
    )


# ---------------------------------------------------------------------------------------------
# Assets: one set of views for every kind in forms.ASSET_PAGES


def _kind(slug: str) -> AssetPage:
    kind = ASSET_PAGES.get(slug)
    if kind is None:
        raise Http404
    return kind


def _asset(account, kind: AssetPage, pk: int):
    return get_object_or_404(kind.model, account=account, pk=pk)


def _cell(obj, name: str) -> str:
    value = getattr(obj, name)
    if hasattr(value, "all"):
        return ", ".join(str(item) for item in value.all()) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    if hasattr(obj, f"get_{name}_display"):
        return getattr(obj, f"get_{name}_display")()
    return str(value)


def _rows(objects, columns) -> list[tuple]:
    return [(obj, [_cell(obj, name) for name in columns]) for obj in objects]


@owner_required
def asset_index(request, account):
    return render(request, "leads/asset_index.html", {"kinds": ASSET_PAGES.values()})


@owner_required
def asset_list(request, account, kind: str):
    asset_page = _kind(kind)
    objects = asset_page.model.objects.filter(account=account).order_by(asset_page.lookup, "pk")
    page = Paginator(objects, ASSETS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "leads/asset_list.html",
        {"kind": asset_page, "page": page, "rows": _rows(page.object_list, asset_page.columns)},
    )


@owner_required
@require_http_methods(["GET", "POST"])
def asset_create(request, account, kind: str):
    asset_page = _kind(kind)
    form = asset_page.form(_posted(request), account=account)
    if request.method == "POST" and form.is_valid():
        try:
            obj = asset_page.create(account, form.cleaned_data)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, f"{asset_page.label.capitalize()} “{getattr(obj, asset_page.lookup)}” created.")
            return redirect("leads:asset_edit", kind=asset_page.slug, pk=obj.pk)
    return render(request, "leads/asset_form.html", {"kind": asset_page, "form": form, "obj": None})


def _edit_page(request, asset_page: AssetPage, obj, *, form=None, part_form=None, status=200):
    account = obj.account
    if form is None and asset_page.update is not None:
        form = asset_page.form(initial=asset_page.initial(obj), account=account)
    part_rows = []
    if asset_page.part is not None:
        part_form = part_form or asset_page.part.form(parent=obj)
        part_rows = _rows(getattr(obj, asset_page.part.related_name).all(), asset_page.part.columns)
    return render(
        request,
        "leads/asset_form.html",
        {
            "kind": asset_page,
            "form": form,
            "obj": obj,
            "details": list(zip(asset_page.columns, _rows([obj], asset_page.columns)[0][1], strict=True)),
            "part_form": part_form,
            "part_rows": part_rows,
        },
        status=status,
    )


@owner_required
@require_http_methods(["GET", "POST"])
def asset_edit(request, account, kind: str, pk: int):
    asset_page = _kind(kind)
    obj = _asset(account, asset_page, pk)
    if request.method == "GET":
        return _edit_page(request, asset_page, obj)
    if asset_page.update is None:
        raise Http404
    form = asset_page.form(request.POST, account=account)
    if form.is_valid():
        try:
            asset_page.update(obj, form.cleaned_data)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, f"{asset_page.label.capitalize()} saved.")
            return redirect("leads:asset_edit", kind=asset_page.slug, pk=obj.pk)
    obj = _asset(account, asset_page, pk)  # the form's data is not the saved state
    return _edit_page(request, asset_page, obj, form=form, status=400)


@owner_required
@require_POST
def asset_part_add(request, account, kind: str, pk: int):
    asset_page = _kind(kind)
    if asset_page.part is None:
        raise Http404
    obj = _asset(account, asset_page, pk)
    part_form = asset_page.part.form(request.POST, parent=obj)
    if part_form.is_valid():
        try:
            asset_page.part.create(obj, part_form.cleaned_data)
        except ApplicationError as error:
            form_add_application_error(part_form, error)
        else:
            messages.success(request, f"{asset_page.part.label.capitalize()} added.")
            return redirect("leads:asset_edit", kind=asset_page.slug, pk=obj.pk)
    return _edit_page(request, asset_page, obj, part_form=part_form, status=400)


@owner_required
@require_http_methods(["GET", "POST"])
def asset_part_edit(request, account, kind: str, pk: int, part_pk: int):
    asset_page = _kind(kind)
    if asset_page.part is None or asset_page.part.update is None:
        raise Http404
    obj = _asset(account, asset_page, pk)
    part = get_object_or_404(getattr(obj, asset_page.part.related_name), pk=part_pk)
    form = asset_page.part.form(_posted(request), parent=obj, initial=asset_page.part.initial(part))
    if request.method == "POST" and form.is_valid():
        try:
            asset_page.part.update(part, form.cleaned_data)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, f"{asset_page.part.label.capitalize()} saved.")
            return redirect("leads:asset_edit", kind=asset_page.slug, pk=obj.pk)
    back = reverse("leads:asset_edit", kwargs={"kind": asset_page.slug, "pk": obj.pk})
    return render(
        request,
        "leads/asset_part_form.html",
        {"kind": asset_page, "obj": obj, "part": part, "form": form, "back": back},
        status=400 if request.method == "POST" else 200,
    )
