"""Forms of the owner's pages. They only validate; leads.services writes.

ASSET_KINDS is the registry behind the generic asset pages: one entry per kind says its model, which
of its fields the form shows, which service creates and edits it and, for kinds with parts (sequence
steps, calendar classes, membership levels, product price points), how a part is added.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import forms

from accounts.models import Account

from . import services
from .models import (
    Asset,
    Calendar,
    CustomField,
    CustomFieldType,
    Form,
    GdprStatus,
    LeadList,
    Membership,
    MembershipLevel,
    Page,
    Product,
    Sequence,
    SplitTestLink,
    Tag,
    TrackingLink,
    Video,
)

# ---------------------------------------------------------------------------------------------
# Leads


class LeadFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=254, label="Search", help_text="Email, or first / last name")
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), required=False, empty_label="Any tag")
    list = forms.ModelChoiceField(queryset=LeadList.objects.none(), required=False, empty_label="Any list")
    gdpr_status = forms.ChoiceField(
        choices=[("", "Any GDPR status"), *GdprStatus.choices], required=False, label="GDPR status"
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = Tag.objects.filter(account=account).order_by("name")
        self.fields["list"].queryset = LeadList.objects.filter(account=account).order_by("name")


class GdprSettingForm(forms.Form):
    gdpr_enabled = forms.BooleanField(
        required=False,
        label="GDPR on for this account",
        help_text="With GDPR on, only leads not subject to GDPR or who accepted it may be emailed.",
    )


# ---------------------------------------------------------------------------------------------
# Asset forms


class NameForm(forms.Form):
    name = forms.CharField(max_length=200)

    def __init__(self, *args, account: Account, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)


class PageForm(NameForm):
    slug = forms.SlugField(max_length=100, required=False)
    url = forms.URLField(max_length=500, required=False, label="URL", assume_scheme="https")


class TrackingLinkForm(NameForm):
    target_url = forms.URLField(max_length=500, label="Target URL", assume_scheme="https")


class FormAssetForm(NameForm):
    lists = forms.ModelMultipleChoiceField(
        queryset=LeadList.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, help_text="Subscribe to"
    )
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, help_text="Assign"
    )
    double_opt_in = forms.BooleanField(
        required=False,
        label="Double opt-in",
        help_text="Email each visitor a link to confirm; the lead, its consent and its details are saved "
        "only when the link is opened.",
    )

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, account=account, **kwargs)
        self.fields["lists"].queryset = LeadList.objects.filter(account=account).order_by("name")
        self.fields["tags"].queryset = Tag.objects.filter(account=account).order_by("name")


class ProductForm(NameForm):
    test_mode = forms.BooleanField(
        required=False,
        label="Test mode",
        help_text="The hosted checkout sells without payment and says so to the visitor; each sale is "
        "recorded as a test sale.",
    )


class CustomFieldForm(forms.Form):
    identifier = forms.CharField(max_length=64, help_text="Letters, digits, '-' and '_'.")
    type = forms.ChoiceField(choices=CustomFieldType.choices)
    options = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One per line: two or more, for drop-down, radio button and checkbox fields.",
    )

    def __init__(self, *args, account: Account, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


# Parts of an asset


class SequenceStepForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea)
    delay_hours = forms.IntegerField(
        min_value=0, max_value=24 * 365, initial=0, help_text="Hours after the previous step (after subscribing)."
    )

    def __init__(self, *args, parent: Sequence, **kwargs):
        super().__init__(*args, **kwargs)


class CalendarClassForm(forms.Form):
    name = forms.CharField(max_length=200)
    duration_minutes = forms.IntegerField(min_value=5, max_value=24 * 60, initial=60)

    def __init__(self, *args, parent: Calendar, **kwargs):
        super().__init__(*args, **kwargs)


class MembershipLevelForm(forms.Form):
    name = forms.CharField(max_length=200)

    def __init__(self, *args, parent: Membership, **kwargs):
        super().__init__(*args, **kwargs)


class PricePointForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = forms.CharField(min_length=3, max_length=3, initial="USD")
    recurring = forms.BooleanField(required=False)
    membership_level = forms.ModelChoiceField(
        queryset=MembershipLevel.objects.none(), required=False, empty_label="No membership", help_text="Grants"
    )

    def __init__(self, *args, parent: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership_level"].queryset = MembershipLevel.objects.filter(
            membership__account_id=parent.account_id
        ).select_related("membership")


# ---------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class PartKind:
    label: str  # "step"
    related_name: str  # on the asset: "steps"
    form: type[forms.Form]
    columns: tuple[str, ...]  # attributes shown in the parts table
    create: Callable[[Any, dict], Any]
    # With `update` (part, cleaned data), parts are editable on their own page.
    update: Callable[[Any, dict], Any] | None = None
    initial: Callable[[Any], dict] | None = None


@dataclass(frozen=True)
class AssetKind:
    slug: str
    model: type
    label: str
    plural: str
    form: type[forms.Form]
    columns: tuple[str, ...] = ()
    create: Callable[[Account, dict], Any] | None = None
    update: Callable[[Any, dict], Any] | None = None
    initial: Callable[[Any], dict] = field(default=lambda obj: {"name": obj.name})
    part: PartKind | None = None
    lookup: str = "name"  # what the list is ordered by and shows first


def _asset_create(model: type[Asset]):
    return lambda account, data: services.asset_create(account=account, model=model, **data)


def _asset_update(asset, data):
    return services.asset_update(asset=asset, **data)


def _fields_initial(*names: str):
    return lambda obj: {name: getattr(obj, name) for name in ("name", *names)}


def _step_create(sequence, data):
    return services.sequence_step_create(
        sequence=sequence, subject=data["subject"], body=data["body"], delay=timedelta(hours=data["delay_hours"])
    )


def _step_update(step, data):
    return services.sequence_step_update(
        step=step, subject=data["subject"], body=data["body"], delay=timedelta(hours=data["delay_hours"])
    )


def _step_initial(step):
    return {"subject": step.subject, "body": step.body, "delay_hours": int(step.delay.total_seconds() // 3600)}


def _simple(slug: str, model: type[Asset], label: str, plural: str, form=NameForm, columns=(), **extra) -> AssetKind:
    names = tuple(name for name in form.base_fields if name != "name")
    return AssetKind(
        slug=slug,
        model=model,
        label=label,
        plural=plural,
        form=form,
        columns=columns or names,
        create=_asset_create(model),
        update=_asset_update,
        initial=_fields_initial(*names),
        **extra,
    )


ASSET_KINDS: dict[str, AssetKind] = {
    kind.slug: kind
    for kind in (
        _simple("tags", Tag, "tag", "Tags"),
        _simple("lists", LeadList, "list", "Lists"),
        _simple(
            "sequences",
            Sequence,
            "sequence",
            "Sequences",
            part=PartKind(
                label="step",
                related_name="steps",
                form=SequenceStepForm,
                columns=("position", "subject", "delay"),
                create=_step_create,
                update=_step_update,
                initial=_step_initial,
            ),
        ),
        _simple("pages", Page, "page", "Pages", form=PageForm),
        AssetKind(
            slug="forms",
            model=Form,
            label="form",
            plural="Forms",
            form=FormAssetForm,
            columns=("lists", "tags", "double_opt_in"),
            create=lambda account, data: services.form_create(account=account, **data),
            update=lambda form, data: services.form_update(form=form, **data),
            initial=lambda form: {
                "name": form.name,
                "lists": list(form.lists.all()),
                "tags": list(form.tags.all()),
                "double_opt_in": form.double_opt_in,
            },
        ),
        _simple("videos", Video, "video", "Videos"),
        _simple("tracking-links", TrackingLink, "tracking link", "Tracking links", form=TrackingLinkForm),
        _simple("split-test-links", SplitTestLink, "split-test link", "Split-test links"),
        _simple(
            "calendars",
            Calendar,
            "calendar",
            "Calendars",
            part=PartKind(
                label="class",
                related_name="classes",
                form=CalendarClassForm,
                columns=("name", "duration"),
                create=lambda calendar, data: services.calendar_class_create(
                    calendar=calendar, name=data["name"], duration=timedelta(minutes=data["duration_minutes"])
                ),
            ),
        ),
        _simple(
            "memberships",
            Membership,
            "membership",
            "Memberships",
            part=PartKind(
                label="level",
                related_name="levels",
                form=MembershipLevelForm,
                columns=("position", "name"),
                create=lambda membership, data: services.membership_level_create(
                    membership=membership, name=data["name"]
                ),
            ),
        ),
        _simple(
            "products",
            Product,
            "product",
            "Products",
            form=ProductForm,
            part=PartKind(
                label="price point",
                related_name="price_points",
                form=PricePointForm,
                columns=("number", "amount", "currency", "recurring", "membership_level"),
                create=lambda product, data: services.price_point_create(product=product, **data),
            ),
        ),
        AssetKind(
            slug="custom-fields",
            model=CustomField,
            label="custom field",
            plural="Custom fields",
            form=CustomFieldForm,
            columns=("type", "options"),
            create=lambda account, data: services.custom_field_create(account=account, **data),
            lookup="identifier",
        ),
    )
}
