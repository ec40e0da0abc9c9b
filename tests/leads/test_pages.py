"""The owner's pages: permission matrix (owner, other owner, moderator, support, anonymous) for every
page, what each page shows, writes through services, bad input as form errors, CSRF."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from leads import services
from leads.demo import demo_assets_create
from leads.models import (
    Calendar,
    CustomField,
    Form,
    GdprStatus,
    LeadList,
    Membership,
    MembershipLevel,
    Page,
    Product,
    Sequence,
    SequenceStep,
    Tag,
    TrackingLink,
)
from leads.web.forms import ASSET_PAGES
from tests.leads.factories import LeadFactory, TagFactory

# ---------------------------------------------------------------------------------------------
# Fixtures: the owner's account with the demo assets and a lead with some history


@pytest.fixture
def demo(account):
    demo_assets_create(account=account)
    return account


@pytest.fixture
def lead(demo):
    lead = LeadFactory(account=demo, email="ada@example.com", first_name="Ada", last_name="Lovelace")
    services.lead_tag_assign(lead=lead, tag=Tag.objects.get(account=demo, name="VIP"))
    services.lead_points_give(lead=lead, points=15, reason="Webinar attended")
    return lead


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_owner(owner):
    return _client(owner)


def _first(model, account):
    return model.objects.filter(account=account).order_by("pk").first()


def _page_urls(account, lead) -> list[str]:
    """Every page of this feature, for the owner's objects."""
    sequence = _first(Sequence, account)
    urls = [
        "/leads/",
        f"/leads/{lead.pk}/",
        "/leads/settings/gdpr/",
        "/assets/",
        f"/assets/sequences/{sequence.pk}/parts/{sequence.steps.first().pk}/",
    ]
    for slug, kind in ASSET_PAGES.items():
        urls += [f"/assets/{slug}/", f"/assets/{slug}/new/", f"/assets/{slug}/{_first(kind.model, account).pk}/"]
    return urls


def _is_object_page(url: str) -> bool:
    parts = [part for part in url.strip("/").split("/") if part]
    return any(part.isdigit() for part in parts)


# ---------------------------------------------------------------------------------------------
# Permission matrix


def test_owner_sees_every_page(demo, lead, as_owner):
    for url in _page_urls(demo, lead):
        assert as_owner.get(url).status_code == 200, url


def test_other_owner_gets_404_for_every_object_of_the_account(demo, lead, other_owner):
    client = _client(other_owner)
    for url in filter(_is_object_page, _page_urls(demo, lead)):
        assert client.get(url).status_code == 404, url


def test_other_owner_lists_show_only_their_own_objects(demo, lead, other_account, other_owner):
    TagFactory(account=other_account, name="Theirs")
    client = _client(other_owner)
    leads_page = client.get("/leads/").content.decode()
    tags_page = client.get("/assets/tags/").content.decode()
    assert "ada@example.com" not in leads_page
    assert "VIP" not in tags_page and "Theirs" in tags_page


@pytest.mark.parametrize("role", ["moderator", "support_agent"])
def test_staff_are_refused_every_page(demo, lead, request, role):
    client = _client(request.getfixturevalue(role))
    for url in _page_urls(demo, lead):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_log_in_from_every_page(demo, lead):
    client = _client()
    for url in _page_urls(demo, lead):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url


@pytest.mark.parametrize("role", ["moderator", "support_agent", "other_owner"])
def test_others_cannot_write_the_owners_assets(demo, request, role):
    client = _client(request.getfixturevalue(role))
    tag = Tag.objects.get(account=demo, name="VIP")
    sequence = _first(Sequence, demo)
    step = sequence.steps.first()
    client.post(f"/assets/tags/{tag.pk}/", {"name": "Hacked"})
    client.post(f"/assets/sequences/{sequence.pk}/parts/", {"subject": "x", "body": "y", "delay_hours": 0})
    client.post(f"/assets/sequences/{sequence.pk}/parts/{step.pk}/", {"subject": "x", "body": "y", "delay_hours": 0})
    tag.refresh_from_db()
    step.refresh_from_db()
    assert tag.name == "VIP"
    assert sequence.steps.count() == 3 and step.subject != "x"


def test_anonymous_post_writes_nothing(demo):
    response = _client().post("/assets/tags/new/", {"name": "Drive-by"})
    assert response.status_code == 302
    assert not Tag.objects.filter(name="Drive-by").exists()


def test_staff_cannot_change_the_gdpr_setting(demo, moderator):
    assert _client(moderator).post("/leads/settings/gdpr/", {}).status_code == 403
    demo.refresh_from_db()
    assert demo.gdpr_enabled is True


# CSRF


def test_forms_carry_a_csrf_token(demo, as_owner):
    for url in ("/assets/tags/new/", "/leads/settings/gdpr/", f"/assets/products/{_first(Product, demo).pk}/"):
        assert 'name="csrfmiddlewaretoken"' in as_owner.get(url).content.decode(), url


def test_post_without_csrf_token_is_refused(demo, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post("/assets/tags/new/", {"name": "No token"}).status_code == 403
    assert client.post("/leads/settings/gdpr/", {}).status_code == 403
    assert not Tag.objects.filter(name="No token").exists()


# ---------------------------------------------------------------------------------------------
# Leads list


def test_leads_list_shows_newest_first(demo, as_owner):
    older = LeadFactory(account=demo, email="older@example.com")
    newer = LeadFactory(account=demo, email="newer@example.com")
    page = as_owner.get("/leads/").content.decode()
    assert page.index(newer.email) < page.index(older.email)


def test_leads_list_search_by_email_prefix(demo, lead, as_owner):
    LeadFactory(account=demo, email="bob@example.com", first_name="Bob", last_name="Builder")
    page = as_owner.get("/leads/", {"q": "ADA@"}).content.decode()
    assert "ada@example.com" in page and "bob@example.com" not in page


@pytest.mark.parametrize("q", ["lovelace", "Ada Love", "ada"])
def test_leads_list_search_by_name(demo, lead, as_owner, q):
    LeadFactory(account=demo, email="bob@example.com", first_name="Bob", last_name="Builder")
    page = as_owner.get("/leads/", {"q": q}).content.decode()
    assert "ada@example.com" in page and "bob@example.com" not in page


def test_leads_list_filters_by_tag(demo, lead, as_owner):
    LeadFactory(account=demo, email="untagged@example.com")
    tag = Tag.objects.get(account=demo, name="VIP")
    page = as_owner.get("/leads/", {"tag": tag.pk}).content.decode()
    assert "ada@example.com" in page and "untagged@example.com" not in page


def test_leads_list_filters_by_active_list_subscription(demo, as_owner):
    newsletter = LeadList.objects.get(account=demo, name="Newsletter")
    subscribed = LeadFactory(account=demo, email="sub@example.com")
    gone = LeadFactory(account=demo, email="gone@example.com")
    services.lead_list_subscribe(lead=subscribed, lead_list=newsletter)
    services.lead_list_subscribe(lead=gone, lead_list=newsletter)
    services.lead_list_unsubscribe(lead=gone, lead_list=newsletter)
    page = as_owner.get("/leads/", {"list": newsletter.pk}).content.decode()
    assert "sub@example.com" in page and "gone@example.com" not in page


def test_leads_list_filters_by_gdpr_status(demo, as_owner):
    LeadFactory(account=demo, email="accepted@example.com", gdpr_status=GdprStatus.ACCEPTED)
    LeadFactory(account=demo, email="unknown@example.com", gdpr_status=GdprStatus.UNKNOWN)
    page = as_owner.get("/leads/", {"gdpr_status": "accepted"}).content.decode()
    assert "accepted@example.com" in page and "unknown@example.com" not in page


def test_leads_list_filter_by_another_accounts_tag_lists_nothing(demo, lead, other_account, as_owner):
    foreign = TagFactory(account=other_account)
    response = as_owner.get("/leads/", {"tag": foreign.pk})
    assert response.status_code == 200
    assert "ada@example.com" not in response.content.decode()


def test_leads_list_pages_by_keyset_without_repeats(demo, as_owner, monkeypatch):
    monkeypatch.setattr("leads.selectors.page_lists.LEADS_PER_PAGE", 2)
    leads = [LeadFactory(account=demo, email=f"page{n}@example.com") for n in range(5)]
    seen, url = [], "/leads/"
    while url:
        response = as_owner.get(url if url.startswith("/") else "/leads/" + url)
        seen += [lead.email for lead in response.context["page"].leads]
        url = response.context["next_url"]
    assert seen == [lead.email for lead in reversed(leads)]


def test_leads_list_page_does_not_count_the_table(demo, lead, as_owner, django_assert_max_num_queries):
    # Session, user, account, tags, lists for the filter, and the page itself: no COUNT(*).
    with django_assert_max_num_queries(8) as captured:
        as_owner.get("/leads/", {"q": "ada"})
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)


# Lead detail


def test_lead_detail_shows_profile_relations_history_and_timeline(demo, lead, as_owner):
    services.transaction_sale_record(
        lead=lead, price_point=Product.objects.get(account=demo, name="Course").price_points.get(number=1)
    )
    page = as_owner.get(f"/leads/{lead.pk}/").content.decode()
    for expected in ("Ada", "Lovelace", "VIP", "Webinar attended", "+15", "Course", "99.00", "Academy / Basic"):
        assert expected in page, expected
    for action in ("assign_tag", "reaches_score", "buy_product", "membership_granted"):
        assert f"<code>{action}</code>" in page, action
    assert "favourite_color" in page and "plan" in page


def test_lead_detail_shows_gdpr_status_and_email_gate(demo, lead, as_owner):
    page = as_owner.get(f"/leads/{lead.pk}/").content.decode()
    assert "Unknown" in page
    assert '<span class="badge rejected">no</span>' in page


def test_owner_pages_show_times_in_the_accounts_time_zone(demo, as_owner):
    demo.timezone = "Asia/Tokyo"  # UTC+9
    demo.save(update_fields=["timezone"])
    lead = LeadFactory(account=demo, date_joined=datetime(2026, 3, 1, 20, 15, tzinfo=UTC))
    page = as_owner.get(f"/leads/{lead.pk}/").content.decode()
    assert "2026-03-02 05:15 JST" in page


def test_lead_detail_of_missing_lead_is_404(demo, as_owner):
    assert as_owner.get("/leads/999999/").status_code == 404


# GDPR setting


def test_gdpr_setting_turns_gdpr_off_and_on(demo, as_owner):
    response = as_owner.post("/leads/settings/gdpr/", {})
    assert response.status_code == 302
    demo.refresh_from_db()
    assert demo.gdpr_enabled is False
    as_owner.post("/leads/settings/gdpr/", {"gdpr_enabled": "on"})
    demo.refresh_from_db()
    assert demo.gdpr_enabled is True


def test_gdpr_setting_changes_who_may_be_emailed(demo, lead, as_owner):
    as_owner.post("/leads/settings/gdpr/", {})
    page = as_owner.get(f"/leads/{lead.pk}/").content.decode()
    assert '<span class="badge active">yes</span>' in page


# ---------------------------------------------------------------------------------------------
# Asset pages


def test_create_tag_through_the_page(demo, as_owner):
    response = as_owner.post("/assets/tags/new/", {"name": "  Hot lead "})
    tag = Tag.objects.get(account=demo, name="Hot lead")
    assert response.status_code == 302
    assert response["Location"] == f"/assets/tags/{tag.pk}/"


def test_create_with_a_taken_name_is_a_form_error(demo, as_owner):
    response = as_owner.post("/assets/tags/new/", {"name": "VIP"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Tag.objects.filter(account=demo, name="VIP").count() == 1


def test_a_name_taken_in_another_account_is_free(demo, other_account, as_owner):
    TagFactory(account=other_account, name="Shared name")
    as_owner.post("/assets/tags/new/", {"name": "Shared name"})
    assert Tag.objects.filter(account=demo, name="Shared name").exists()


def test_create_with_an_empty_name_is_a_form_error(demo, as_owner):
    response = as_owner.post("/assets/videos/new/", {"name": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_rename_an_asset(demo, as_owner):
    video = _first(Calendar, demo)
    response = as_owner.post(f"/assets/calendars/{video.pk}/", {"name": "Mentoring"})
    assert response.status_code == 302
    video.refresh_from_db()
    assert video.name == "Mentoring"


def test_rename_to_a_taken_name_is_refused(demo, as_owner):
    tag = Tag.objects.get(account=demo, name="Customer")
    response = as_owner.post(f"/assets/tags/{tag.pk}/", {"name": "VIP"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    tag.refresh_from_db()
    assert tag.name == "Customer"


def test_tracking_link_needs_a_valid_target_url(demo, as_owner):
    response = as_owner.post("/assets/tracking-links/new/", {"name": "Bad", "target_url": "not a url"})
    assert response.status_code == 200
    assert not TrackingLink.objects.filter(name="Bad").exists()
    as_owner.post("/assets/tracking-links/new/", {"name": "Good", "target_url": "https://example.com/x"})
    assert TrackingLink.objects.get(account=demo, name="Good").target_url == "https://example.com/x"


def test_page_keeps_slug_and_url(demo, as_owner):
    as_owner.post("/assets/pages/new/", {"name": "Thanks", "slug": "thanks", "url": "https://example.com/thanks"})
    assert Page.objects.filter(account=demo, name="Thanks", slug="thanks", url="https://example.com/thanks").exists()


def test_form_subscribes_to_chosen_lists_and_tags(demo, as_owner):
    newsletter = LeadList.objects.get(account=demo, name="Newsletter")
    vip = Tag.objects.get(account=demo, name="VIP")
    as_owner.post("/assets/forms/new/", {"name": "Quiz", "lists": [newsletter.pk], "tags": [vip.pk]})
    form = Form.objects.get(account=demo, name="Quiz")
    assert list(form.lists.all()) == [newsletter] and list(form.tags.all()) == [vip]


@pytest.mark.parametrize(("kind", "model", "name"), [("forms", Form, "Lead magnet"), ("products", Product, "Course")])
def test_form_and_product_pages_link_their_hosted_page(demo, as_owner, kind, model, name):
    asset = model.objects.get(account=demo, name=name)
    page = as_owner.get(f"/assets/{kind}/{asset.pk}/").content.decode()
    assert f'href="{asset.get_absolute_url()}"' in page


def test_form_refuses_a_list_of_another_account(demo, other_account, as_owner):
    foreign = LeadList.objects.create(account=other_account, name="Foreign")
    response = as_owner.post("/assets/forms/new/", {"name": "Sneaky", "lists": [foreign.pk]})
    assert response.status_code == 200
    assert not Form.objects.filter(name="Sneaky").exists()


def test_edit_form_changes_its_lists(demo, as_owner):
    form = Form.objects.get(account=demo, name="Lead magnet")
    webinar = LeadList.objects.get(account=demo, name="Webinar")
    as_owner.post(f"/assets/forms/{form.pk}/", {"name": "Lead magnet", "lists": [webinar.pk]})
    assert list(form.lists.all()) == [webinar]
    assert not form.tags.exists()


def test_sequence_steps_are_added_at_the_end_and_edited(demo, as_owner):
    sequence = Sequence.objects.get(account=demo, name="Onboarding")
    as_owner.post(f"/assets/sequences/{sequence.pk}/parts/", {"subject": "Last", "body": "Bye", "delay_hours": 48})
    step = SequenceStep.objects.get(sequence=sequence, position=4)
    assert (step.subject, step.delay) == ("Last", timedelta(hours=48))
    as_owner.post(
        f"/assets/sequences/{sequence.pk}/parts/{step.pk}/", {"subject": "Final", "body": "Bye", "delay_hours": 1}
    )
    step.refresh_from_db()
    assert (step.subject, step.delay) == ("Final", timedelta(hours=1))


def test_step_of_another_sequence_is_404_under_this_one(demo, as_owner):
    onboarding = Sequence.objects.get(account=demo, name="Onboarding")
    other = services.asset_create(account=demo, model=Sequence, name="Other")
    step = services.sequence_step_create(sequence=other, subject="S", body="B")
    assert as_owner.get(f"/assets/sequences/{onboarding.pk}/parts/{step.pk}/").status_code == 404


def test_step_without_subject_is_a_form_error(demo, as_owner):
    sequence = Sequence.objects.get(account=demo, name="Onboarding")
    response = as_owner.post(f"/assets/sequences/{sequence.pk}/parts/", {"subject": "", "body": "x", "delay_hours": 0})
    assert response.status_code == 400
    assert sequence.steps.count() == 3


def test_calendar_classes_are_added(demo, as_owner):
    calendar = Calendar.objects.get(account=demo, name="Coaching")
    as_owner.post(f"/assets/calendars/{calendar.pk}/parts/", {"name": "Deep dive", "duration_minutes": 90})
    assert calendar.classes.get(name="Deep dive").duration == timedelta(minutes=90)


def test_duplicate_class_name_is_a_form_error(demo, as_owner):
    calendar = Calendar.objects.get(account=demo, name="Coaching")
    response = as_owner.post(f"/assets/calendars/{calendar.pk}/parts/", {"name": "Intro call", "duration_minutes": 30})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_membership_levels_are_added(demo, as_owner):
    academy = Membership.objects.get(account=demo, name="Academy")
    as_owner.post(f"/assets/memberships/{academy.pk}/parts/", {"name": "Gold"})
    assert list(academy.levels.values_list("name", flat=True)) == ["Basic", "Pro", "Gold"]


def test_price_points_are_numbered_and_may_grant_a_level(demo, as_owner):
    course = Product.objects.get(account=demo, name="Course")
    pro = MembershipLevel.objects.get(membership__account=demo, name="Pro")
    as_owner.post(
        f"/assets/products/{course.pk}/parts/",
        {"amount": "199.00", "currency": "eur", "recurring": "on", "membership_level": pro.pk},
    )
    price_point = course.price_points.get(number=3)
    assert (price_point.amount, price_point.currency, price_point.recurring) == (Decimal("199.00"), "EUR", True)
    assert price_point.membership_level == pro


def test_price_point_cannot_grant_another_accounts_level(demo, other_account, as_owner):
    demo_assets_create(account=other_account)
    foreign = MembershipLevel.objects.get(membership__account=other_account, name="Pro")
    course = Product.objects.get(account=demo, name="Course")
    response = as_owner.post(
        f"/assets/products/{course.pk}/parts/", {"amount": "1", "currency": "USD", "membership_level": foreign.pk}
    )
    assert response.status_code == 400
    assert course.price_points.count() == 2


def test_custom_field_with_options_is_created(demo, as_owner):
    as_owner.post("/assets/custom-fields/new/", {"identifier": "size", "type": "radio_button", "options": "S\nM\nL"})
    field = CustomField.objects.get(account=demo, identifier="size")
    assert list(field.options.values_list("value", flat=True)) == ["S", "M", "L"]


@pytest.mark.parametrize(
    "data",
    [
        {"identifier": "bad id!", "type": "input_field", "options": ""},
        {"identifier": "one", "type": "drop_down", "options": "Only"},
        {"identifier": "plan", "type": "input_field", "options": ""},
    ],
    ids=["bad-identifier", "one-option", "taken"],
)
def test_custom_field_bad_input_is_a_form_error(demo, as_owner, data):
    before = CustomField.objects.count()
    response = as_owner.post("/assets/custom-fields/new/", data)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert CustomField.objects.count() == before


def test_custom_field_page_shows_its_options(demo, as_owner):
    plan = CustomField.objects.get(account=demo, identifier="plan")
    page = as_owner.get(f"/assets/custom-fields/{plan.pk}/").content.decode()
    assert "Free, Paid" in page


def test_unknown_asset_kind_is_404(demo, as_owner):
    assert as_owner.get("/assets/widgets/").status_code == 404
