"""The one table of asset kinds. Everything that lists the kinds derives from it: the owner's asset
pages (leads.web.forms.ASSET_PAGES), the API's dropdowns (leads.api.outputs.ASSET_READS), the admin,
the command registry's references (leads.services.commands), and the hook filters
(zaphooks.filters, zaphooks.selectors.filter_asset_models).

A kind's `key` is the word the platform uses for it: the hook filter key, the input naming it in a
command or a platform event, and the prefix of its error codes ("tag_not_found"). Its `slug` is its
path: the owner's page /assets/<slug>/ and the dropdown GET /api/v1/<slug>.
"""

from dataclasses import dataclass

from django.db import models

from leads.models.assets import (
    Calendar,
    CalendarClass,
    Form,
    LeadList,
    Membership,
    MembershipLevel,
    Page,
    PricePoint,
    Product,
    Sequence,
    SequenceStep,
    SplitTestLink,
    Tag,
    TrackingLink,
    Video,
)
from leads.models.events import LeadAction
from leads.models.lead import CustomField

TRANSACTION_EVENTS = (
    LeadAction.BUY_PRODUCT,
    LeadAction.REFUND_PRODUCT,
    LeadAction.PARTIAL_REFUND_PRODUCT,
    LeadAction.CANCEL_SUBSCRIPTION,
)
CALENDAR_EVENTS = (LeadAction.CALENDAR_SUBSCRIBE, LeadAction.CALENDAR_COMPLETE, LeadAction.CALENDAR_CANCEL)
MEMBERSHIP_EVENTS = (LeadAction.MEMBERSHIP_GRANTED, LeadAction.MEMBERSHIP_REVOKED)


@dataclass(frozen=True)
class AssetPart:
    """A part of an asset: named by id, or by a name (or number) unique only within its asset."""

    key: str  # "class": the hook filter key and the command input naming it
    model: type[models.Model]
    label: str  # "class"
    related_name: str  # on the asset: "classes"
    # The events a hook filter on this part fits, and where its id appears in their action_details
    # (empty: the part cannot be a filter).
    events: tuple[str, ...] = ()
    detail_id_keys: tuple[str, ...] = ()
    parent_required: bool = True  # a filter on the part must name its asset too


@dataclass(frozen=True)
class AssetKind:
    key: str  # "tracking_link"
    model: type[models.Model]
    label: str  # "tracking link"
    plural: str  # "Tracking links"
    slug: str  # "tracking-links"
    # The lead events about an asset of this kind (a hook filter on the kind fits these), and the
    # names under which its id appears in their action_details (searched at any depth).
    events: tuple[str, ...] = ()
    detail_id_keys: tuple[str, ...] = ()
    part: AssetPart | None = None

    @property
    def filterable(self) -> bool:
        return bool(self.events)


ASSET_KINDS: tuple[AssetKind, ...] = (
    AssetKind(
        "tag", Tag, "tag", "Tags", "tags",
        events=(LeadAction.ASSIGN_TAG, LeadAction.UNASSIGN_TAG), detail_id_keys=("tag_id",),
    ),
    AssetKind(
        "list", LeadList, "list", "Lists", "lists",
        events=(LeadAction.LIST_SUBSCRIPTION, LeadAction.LIST_UNSUBSCRIPTION), detail_id_keys=("list_id",),
    ),
    AssetKind(
        "sequence", Sequence, "sequence", "Sequences", "sequences",
        events=(LeadAction.SEQUENCE_SUBSCRIPTION, LeadAction.SEQUENCE_UNSUBSCRIPTION, LeadAction.SEQUENCE_COMPLETION),
        detail_id_keys=("sequence_id",),
        part=AssetPart("step", SequenceStep, "step", "steps"),
    ),
    AssetKind(
        "page", Page, "page", "Pages", "pages",
        events=(LeadAction.KARTRA_PAGE_VISIT,), detail_id_keys=("kartra_page_id", "page_id"),
    ),
    AssetKind(
        "form", Form, "form", "Forms", "forms",
        events=(LeadAction.FILLED_FORM,), detail_id_keys=("form_id",),
    ),
    AssetKind(
        "video", Video, "video", "Videos", "videos",
        events=(LeadAction.VIDEO_PLAY, LeadAction.VIDEO_COMPLETE), detail_id_keys=("video_id",),
    ),
    AssetKind(
        "tracking_link", TrackingLink, "tracking link", "Tracking links", "tracking-links",
        events=(LeadAction.TRACKING_LINK_CLICK,), detail_id_keys=("tracking_link_id",),
    ),
    AssetKind(
        "split_test_link", SplitTestLink, "split-test link", "Split-test links", "split-test-links",
        events=(LeadAction.CLICK_PAGE_SPLIT_TEST_LINK,),
        detail_id_keys=("page_split_test_link_id", "split_test_link_id"),
    ),
    AssetKind(
        "calendar", Calendar, "calendar", "Calendars", "calendars",
        events=CALENDAR_EVENTS, detail_id_keys=("calendar_id",),
        part=AssetPart("class", CalendarClass, "class", "classes", CALENDAR_EVENTS, ("class_id",)),
    ),
    AssetKind(
        "membership", Membership, "membership", "Memberships", "memberships",
        events=MEMBERSHIP_EVENTS, detail_id_keys=("membership_id",),
        part=AssetPart("level", MembershipLevel, "level", "levels", MEMBERSHIP_EVENTS, ("level_id",)),
    ),
    AssetKind(
        "product", Product, "product", "Products", "products",
        events=(*TRANSACTION_EVENTS, LeadAction.AFFILIATE_SIGNUP, LeadAction.JV_SIGNUP),
        detail_id_keys=("product_id",),
        # A price point is named by its id, unique on its own, so the product is optional in a filter;
        # its id (not its number within the product) is what action_details carry.
        part=AssetPart(
            "price_point", PricePoint, "price point", "price_points", TRANSACTION_EVENTS, ("price_point_id",),
            parent_required=False,
        ),
    ),
    AssetKind("custom_field", CustomField, "custom field", "Custom fields", "custom-fields"),
)  # fmt: skip

ASSET_KINDS_BY_KEY: dict[str, AssetKind] = {kind.key: kind for kind in ASSET_KINDS}


def asset_kind(key: str) -> AssetKind:
    """The kind of asset the platform calls `key` ("tag", "list", ...); KeyError for none."""
    return ASSET_KINDS_BY_KEY[key]
