"""One table of asset kinds (leads.models.ASSET_KINDS); the pages, the dropdowns, the admin and the
hook filters list the kinds it lists."""

from django.contrib import admin

from leads.api.outputs import ASSET_READS
from leads.models import ASSET_KINDS, Asset
from leads.web.forms import ASSET_PAGES
from zaphooks.filters import DETAIL_ID_KEYS, KEY_EVENTS, PARENT_KEY, PARENT_REQUIRED
from zaphooks.selectors import filter_asset_models


def _asset_models() -> set[type]:
    return {model for model in Asset.__subclasses__() if not model._meta.abstract}


def test_every_asset_model_is_in_the_table_under_its_own_kind():
    kinds = {kind.model: kind for kind in ASSET_KINDS}
    assert _asset_models() <= set(kinds)
    assert all(kinds[model].key == model.kind for model in _asset_models())


def test_pages_and_dropdowns_list_every_kind_by_its_slug():
    slugs = [kind.slug for kind in ASSET_KINDS]
    assert list(ASSET_PAGES) == slugs
    assert list(ASSET_READS) == slugs
    assert all(ASSET_PAGES[kind.slug].model is kind.model is ASSET_READS[kind.slug][0] for kind in ASSET_KINDS)


def test_hook_filters_take_every_filterable_kind_and_its_parts():
    filterable = {kind.key: kind for kind in ASSET_KINDS if kind.filterable}
    assert filter_asset_models() == {key: kind.model for key, kind in filterable.items()}
    parts = {kind.part.key: kind.key for kind in filterable.values() if kind.part and kind.part.events}
    assert parts == PARENT_KEY
    assert {"class", "level"} == PARENT_REQUIRED
    assert set(KEY_EVENTS) == {*filterable, *parts, "score"}
    assert set(DETAIL_ID_KEYS) == {*filterable, *parts}


def test_every_kind_has_an_admin():
    assert all(admin.site.is_registered(kind.model) for kind in ASSET_KINDS)
