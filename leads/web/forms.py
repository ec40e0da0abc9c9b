"""Forms of the owner's pages. They only validate; leads.services writes.

ASSET_PAGES is what the generic asset pages need of each kind of leads.models.ASSET_KINDS (the one
table of kinds: model, label, slug, parts): which of its fields the form shows, which service creates
and edits it and, for kinds with parts (sequence steps, calendar classes, membership levels, product
price points), how a part is added.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import forms

from accounts.models import Account
from leads import services
from leads.models import (
    ASSET_KINDS,
    Asset,
    AssetKind,
    AssetPart,
    CustomFieldType,
    GdprStatus,
    LeadList,
    MembershipLevel,
    Product,
    Tag,
    asset_kind,
)

# ---------------------------------------------------------------------------------------------
# Leads


def _model_choice(form: forms.Form, name: str) -> forms.ModelChoiceField:
    """The form's model choice field `name` (to narrow its queryset to an account)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


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
        _model_choice(self, "tag").queryset = Tag.objects.filter(account=account).order_by("name")
        _model_choice(self, "list").queryset = LeadList.objects.filter(account=account).order_by("name")


class GdprSettingForm(forms.Form):
    gdpr_enabled = forms.BooleanField(
        required=False,
        label="GDPR on for this account",
        help_text="With GDPR on, only leads not subject to GDPR or who accepted it may be emailed.",
    )


# ---------------------------------------------------------------------------------------------
# Asset forms


class AccountForm(forms.Form):
    """A form of one account's asset: the asset pages build each with `account=`."""

    def __init__(self, *args, account: Account, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)


class PartForm(forms.Form):
    """A form of a part of an asset: the asset pages build each with `parent=` (the asset)."""

    def __init__(self, *args, parent: Any, **kwargs):
        super().__init__(*args, **kwargs)


class NameForm(AccountForm):
    name = forms.CharField(max_length=200)


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
        _model_choice(self, "lists").queryset = LeadList.objects.filter(account=account).order_by("name")
        _model_choice(self, "tags").queryset = Tag.objects.filter(account=account).order_by("name")


class ProductForm(NameForm):
    test_mode = forms.BooleanField(
        required=False,
        label="Test mode",
        help_text="The hosted checkout sells without payment and says so to the visitor; each sale is "
        "recorded as a test sale.",
    )


class CustomFieldForm(AccountForm):
    identifier = forms.CharField(max_length=64, help_text="Letters, digits, '-' and '_'.")
    type = forms.ChoiceField(choices=CustomFieldType.choices)
    options = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One per line: two or more, for drop-down, radio button and checkbox fields.",
    )

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


# Parts of an asset


class SequenceStepForm(PartForm):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea)
    delay_hours = forms.IntegerField(
        min_value=0, max_value=24 * 365, initial=0, help_text="Hours after the previous step (after subscribing)."
    )


class CalendarClassForm(PartForm):
    name = forms.CharField(max_length=200)
    duration_minutes = forms.IntegerField(min_value=5, max_value=24 * 60, initial=60)


class MembershipLevelForm(PartForm):
    name = forms.CharField(max_length=200)


class PricePointForm(PartForm):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = forms.CharField(min_length=3, max_length=3, initial="USD")
    recurring = forms.BooleanField(required=False)
    membership_level = forms.ModelChoiceField(
        queryset=MembershipLevel.objects.none(), required=False, empty_label="No membership", help_text="Grants"
    )

    def __init__(self, *args, parent: Product, **kwargs):
        super().__init__(*args, parent=parent, **kwargs)
        _model_choice(self, "membership_level").queryset = MembershipLevel.objects.filter(
            membership__account_id=parent.account_id
        ).select_related("membership")


# ---------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class PartPage:
    """How a kind's parts are added (and edited) on its asset page; what they are is the registry's."""

    form: type[PartForm]
    columns: tuple[str, ...]  # attributes shown in the parts table
    create: Callable[[Any, dict], Any]
    # With `update` (part, cleaned data), parts are editable on their own page.
    update: Callable[[Any, dict], Any] | None = None
    initial: Callable[[Any], dict] | None = None


@dataclass(frozen=True)
class AssetPage:
    """The owner's pages of one asset kind: `kind` (leads.models.ASSET_KINDS) says what it is, the
    rest how its form shows and saves it."""

    kind: AssetKind
    form: type[AccountForm]
    create: Callable[[Account, dict], Any]
    columns: tuple[str, ...] = ()
    update: Callable[[Any, dict], Any] | None = None
    initial: Callable[[Any], dict] = field(default=lambda obj: {"name": obj.name})
    part_page: PartPage | None = None
    lookup: str = "name"  # what the list is ordered by and shows first

    slug = property(lambda self: self.kind.slug)
    model = property(lambda self: self.kind.model)
    label = property(lambda self: self.kind.label)
    plural = property(lambda self: self.kind.plural)

    @property
    def part(self) -> "PartOfPage | None":
        if self.part_page is None or self.kind.part is None:
            return None
        return PartOfPage(self.kind.part, self.part_page)


@dataclass(frozen=True)
class PartOfPage:
    """A part as the pages use it: the registry's label and related name with the page's form."""

    part: AssetPart
    page: PartPage

    label = property(lambda self: self.part.label)
    related_name = property(lambda self: self.part.related_name)
    form = property(lambda self: self.page.form)
    columns = property(lambda self: self.page.columns)
    create = property(lambda self: self.page.create)
    update = property(lambda self: self.page.update)
    initial = property(lambda self: self.page.initial)


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


def _simple(key: str, form=NameForm, columns=(), **extra) -> AssetPage:
    kind = asset_kind(key)
    assert issubclass(kind.model, Asset), f"{key} is not made by asset_create"
    names = tuple(name for name in form.base_fields if name != "name")
    return AssetPage(
        kind=kind,
        form=form,
        columns=columns or names,
        create=_asset_create(kind.model),
        update=_asset_update,
        initial=_fields_initial(*names),
        **extra,
    )


_PAGES: dict[str, dict[str, Any]] = {
    "sequence": {
        "part_page": PartPage(
            form=SequenceStepForm,
            columns=("position", "subject", "delay"),
            create=_step_create,
            update=_step_update,
            initial=_step_initial,
        )
    },
    "page": {"form": PageForm},
    "tracking_link": {"form": TrackingLinkForm},
    "calendar": {
        "part_page": PartPage(
            form=CalendarClassForm,
            columns=("name", "duration"),
            create=lambda calendar, data: services.calendar_class_create(
                calendar=calendar, name=data["name"], duration=timedelta(minutes=data["duration_minutes"])
            ),
        )
    },
    "membership": {
        "part_page": PartPage(
            form=MembershipLevelForm,
            columns=("position", "name"),
            create=lambda membership, data: services.membership_level_create(membership=membership, name=data["name"]),
        )
    },
    "product": {
        "form": ProductForm,
        "part_page": PartPage(
            form=PricePointForm,
            columns=("number", "amount", "currency", "recurring", "membership_level"),
            create=lambda product, data: services.price_point_create(product=product, **data),
        ),
    },
}


def _page(kind: AssetKind) -> AssetPage:
    if kind.key == "form":
        return AssetPage(
            kind=kind,
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
        )
    if kind.key == "custom_field":
        return AssetPage(
            kind=kind,
            form=CustomFieldForm,
            columns=("type", "options"),
            create=lambda account, data: services.custom_field_create(account=account, **data),
            lookup="identifier",
        )
    return _simple(kind.key, **_PAGES.get(kind.key, {}))


# slug -> the pages of that kind, one for every kind of leads.models.ASSET_KINDS, in its order.
ASSET_PAGES: dict[str, AssetPage] = {kind.slug: _page(kind) for kind in ASSET_KINDS}
