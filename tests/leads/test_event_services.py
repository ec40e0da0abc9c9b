"""Every event through its service: written once, not for a no-op, rolled back with its transaction."""

import contextlib
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kartra_integrations.errors import ApplicationError, NotFound
from leads import services
from leads.models import (
    CalendarBooking,
    LeadEvent,
    LeadTag,
    ListSubscription,
    MembershipAccess,
    PointsChange,
    SequenceSubscription,
)
from tests.leads.factories import (
    CalendarClassFactory,
    FormFactory,
    LeadListFactory,
    MembershipFactory,
    MembershipLevelFactory,
    PageFactory,
    PricePointFactory,
    ProductFactory,
    SequenceFactory,
    SplitTestLinkFactory,
    TagFactory,
    TrackingLinkFactory,
    VideoFactory,
)

# Tags


def test_tag_assign_writes_assign_tag_with_tag_details(account, lead, events):
    tag = TagFactory(account=account, name="VIP")
    services.lead_tag_assign(lead=lead, tag=tag)
    event = LeadEvent.objects.get()
    assert (event.action, event.account_id, event.lead_id) == ("assign_tag", account.pk, lead.pk)
    assert event.details == {"tag": {"tag_id": tag.pk, "tag_name": "VIP"}}


def test_tag_assign_twice_writes_one_event(account, lead, events):
    tag = TagFactory(account=account)
    services.lead_tag_assign(lead=lead, tag=tag)
    services.lead_tag_assign(lead=lead, tag=tag)
    assert events() == ["assign_tag"]
    assert LeadTag.objects.count() == 1


def test_tag_unassign_writes_unassign_tag(account, lead, events):
    tag = TagFactory(account=account)
    services.lead_tag_assign(lead=lead, tag=tag)
    assert services.lead_tag_unassign(lead=lead, tag=tag) is True
    assert events() == ["assign_tag", "unassign_tag"]


def test_tag_unassign_of_tag_not_held_writes_nothing(account, lead, events):
    assert services.lead_tag_unassign(lead=lead, tag=TagFactory(account=account)) is False
    assert events() == []


def test_tag_assign_rolls_back_with_its_transaction(account, lead):
    tag = TagFactory(account=account)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.lead_tag_assign(lead=lead, tag=tag)
        raise RuntimeError
    assert not LeadEvent.objects.exists()
    assert not LeadTag.objects.exists()


def test_tag_of_another_account_is_refused(other_account, lead, events):
    with pytest.raises(NotFound):
        services.lead_tag_assign(lead=lead, tag=TagFactory(account=other_account))
    assert events() == []


def test_tag_assign_costs_the_same_queries_however_many_tags(account, lead, django_assert_max_num_queries):
    for tag in TagFactory.create_batch(20, account=account):
        services.lead_tag_assign(lead=lead, tag=tag)
    new_tag = TagFactory(account=account)
    # One SELECT, two INSERTs, and the savepoint statements of get_or_create and the service.
    with django_assert_max_num_queries(7):
        services.lead_tag_assign(lead=lead, tag=new_tag)


# Lists


def test_list_subscribe_writes_list_subscription(account, lead, events):
    lead_list = LeadListFactory(account=account, name="Newsletter")
    services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    assert LeadEvent.objects.get().details == {"list": {"list_id": lead_list.pk, "list_name": "Newsletter"}}


def test_list_subscribe_when_active_writes_nothing(account, lead, events):
    lead_list = LeadListFactory(account=account)
    services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    assert events() == ["list_subscription"]


def test_list_unsubscribe_keeps_the_row_as_unsubscribed(account, lead, events):
    lead_list = LeadListFactory(account=account)
    services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    subscription = services.lead_list_unsubscribe(lead=lead, lead_list=lead_list)
    assert subscription.status == ListSubscription.Status.UNSUBSCRIBED
    assert events() == ["list_subscription", "list_unsubscription"]


def test_list_unsubscribe_from_list_not_on_writes_nothing(account, lead, events):
    assert services.lead_list_unsubscribe(lead=lead, lead_list=LeadListFactory(account=account)) is None
    assert events() == []


def test_list_resubscribe_after_unsubscribe_writes_again(account, lead, events):
    lead_list = LeadListFactory(account=account)
    services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    services.lead_list_unsubscribe(lead=lead, lead_list=lead_list)
    subscription = services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    assert subscription.status == ListSubscription.Status.ACTIVE
    assert events() == ["list_subscription", "list_unsubscription", "list_subscription"]


# Forms


def test_form_filled_writes_filled_form_and_applies_lists_and_tags(account, lead, events):
    lead_list, tag = LeadListFactory(account=account), TagFactory(account=account)
    form = FormFactory(account=account, name="Lead magnet")
    form.lists.add(lead_list)
    form.tags.add(tag)
    services.lead_form_filled(lead=lead, form=form)
    assert sorted(events()) == ["assign_tag", "filled_form", "list_subscription"]
    assert LeadEvent.objects.get(action="filled_form").details == {
        "form": {"form_id": form.pk, "form_name": "Lead magnet"}
    }


def test_form_filled_again_writes_only_filled_form(account, lead, events):
    form = FormFactory(account=account)
    form.tags.add(TagFactory(account=account))
    services.lead_form_filled(lead=lead, form=form)
    services.lead_form_filled(lead=lead, form=form)
    assert sorted(events()) == ["assign_tag", "filled_form", "filled_form"]


def test_form_create_refuses_a_list_of_another_account(account, other_account):
    with pytest.raises(ApplicationError) as refused:
        services.form_create(account=account, name="Form", lists=[LeadListFactory(account=other_account)])
    assert "lists" in refused.value.fields


# Sequences


def test_sequence_subscribe_writes_sequence_subscription_and_schedules_step(account, lead, events):
    sequence = SequenceFactory(account=account, name="Onboarding")
    subscription = services.lead_sequence_subscribe(lead=lead, sequence=sequence, step=2)
    assert (subscription.step, subscription.status) == (2, SequenceSubscription.Status.ACTIVE)
    assert subscription.next_step_due_at > timezone.now()
    assert LeadEvent.objects.get().details == {"sequence": {"sequence_id": sequence.pk, "sequence_name": "Onboarding"}}


def test_sequence_subscribe_when_active_writes_nothing(account, lead, events):
    sequence = SequenceFactory(account=account)
    services.lead_sequence_subscribe(lead=lead, sequence=sequence)
    moved = services.lead_sequence_subscribe(lead=lead, sequence=sequence, step=3)
    assert moved.step == 3
    assert events() == ["sequence_subscription"]


def test_sequence_subscribe_to_missing_step_is_refused(account, lead, events):
    with pytest.raises(ApplicationError) as refused:
        services.lead_sequence_subscribe(lead=lead, sequence=SequenceFactory(account=account), step=4)
    assert refused.value.code == "sequence_step_not_found"
    assert events() == []


def test_sequence_unsubscribe_writes_sequence_unsubscription(account, lead, events):
    sequence = SequenceFactory(account=account)
    services.lead_sequence_subscribe(lead=lead, sequence=sequence)
    services.lead_sequence_unsubscribe(lead=lead, sequence=sequence)
    services.lead_sequence_unsubscribe(lead=lead, sequence=sequence)
    assert events() == ["sequence_subscription", "sequence_unsubscription"]


def test_sequence_complete_writes_sequence_completion_once(account, lead, events):
    sequence = SequenceFactory(account=account)
    services.lead_sequence_subscribe(lead=lead, sequence=sequence)
    done = services.lead_sequence_complete(lead=lead, sequence=sequence)
    assert services.lead_sequence_complete(lead=lead, sequence=sequence) is None
    assert done.status == SequenceSubscription.Status.COMPLETED
    assert events() == ["sequence_subscription", "sequence_completion"]


# Points and reaches_score


def test_points_give_keeps_score_as_running_total_of_the_log(lead):
    services.lead_points_give(lead=lead, points=10, reason="webinar")
    services.lead_points_remove(lead=lead, points=3)
    lead.refresh_from_db()
    assert lead.score == 7 == sum(PointsChange.objects.filter(lead=lead).values_list("delta", flat=True))


def test_points_give_with_expiry_sets_expires_at(lead):
    change = services.lead_points_give(lead=lead, points=5, expires_in_days=30)
    assert change.expires_at - change.created_at > timedelta(days=29)


def test_points_must_be_positive(lead):
    with pytest.raises(ApplicationError) as refused:
        services.lead_points_give(lead=lead, points=0)
    assert "points" in refused.value.fields


def test_reaches_score_records_previous_and_new_peak(lead):
    services.lead_points_give(lead=lead, points=10)
    services.lead_points_give(lead=lead, points=5)
    details = [e.details for e in LeadEvent.objects.filter(action="reaches_score").order_by("occurred_at")]
    assert details == [
        {"points": 10, "previous_peak": 0, "new_peak": 10},
        {"points": 15, "previous_peak": 10, "new_peak": 15},
    ]


def test_score_below_the_old_peak_writes_no_reaches_score(lead, events):
    services.lead_points_give(lead=lead, points=10)
    services.lead_points_remove(lead=lead, points=8)
    services.lead_points_give(lead=lead, points=8)
    assert events() == ["reaches_score"]


def test_removing_points_writes_no_event(lead, events):
    services.lead_points_remove(lead=lead, points=4)
    assert events() == []


def test_expired_points_are_taken_back_once(lead, events):
    change = services.lead_points_give(lead=lead, points=5, expires_in_days=1)
    later = change.expires_at + timedelta(seconds=1)
    assert services.points_expire_due(now=later) == 1
    assert services.points_expire_due(now=later) == 0
    lead.refresh_from_db()
    assert (lead.score, lead.peak_score) == (0, 5)


# Calendars


def test_calendar_subscribe_writes_calendar_subscribe_with_class(account, lead):
    calendar_class = CalendarClassFactory(calendar__account=account, name="Intro call")
    starts_at = timezone.now() + timedelta(days=2)
    booking = services.lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=starts_at)
    details = LeadEvent.objects.get().details["calendar"]
    assert (details["class_id"], details["class_name"], details["calendar_subscription_id"]) == (
        calendar_class.pk,
        "Intro call",
        booking.pk,
    )
    assert booking.ends_at == starts_at + calendar_class.duration


def test_calendar_subscribe_same_slot_twice_writes_one_event(account, lead, events):
    calendar_class = CalendarClassFactory(calendar__account=account)
    starts_at = timezone.now() + timedelta(days=2)
    services.lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=starts_at)
    services.lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=starts_at)
    assert events() == ["calendar_subscribe"]


def test_calendar_subscribe_in_the_past_is_refused(account, lead):
    calendar_class = CalendarClassFactory(calendar__account=account)
    with pytest.raises(ApplicationError) as refused:
        services.lead_calendar_subscribe(
            lead=lead, calendar_class=calendar_class, starts_at=timezone.now() - timedelta(hours=1)
        )
    assert refused.value.code == "starts_at_in_past"


def test_calendar_cancel_writes_calendar_cancel_then_nothing(account, lead, events):
    calendar_class = CalendarClassFactory(calendar__account=account)
    services.lead_calendar_subscribe(
        lead=lead, calendar_class=calendar_class, starts_at=timezone.now() + timedelta(days=1)
    )
    cancelled = services.lead_calendar_cancel(lead=lead, calendar_class=calendar_class)
    assert services.lead_calendar_cancel(lead=lead, calendar_class=calendar_class) == []
    assert [b.status for b in cancelled] == [CalendarBooking.Status.CANCELLED]
    assert events() == ["calendar_subscribe", "calendar_cancel"]


# Memberships


def test_membership_grant_writes_membership_granted(account, lead):
    level = MembershipLevelFactory(membership__account=account, membership__name="Academy", name="Basic")
    services.lead_membership_grant(lead=lead, level=level)
    assert LeadEvent.objects.get().details == {
        "membership": {
            "membership_id": level.membership_id,
            "membership_name": "Academy",
            "level_id": level.pk,
            "level_name": "Basic",
        }
    }


def test_membership_grant_of_held_level_writes_nothing(account, lead, events):
    level = MembershipLevelFactory(membership__account=account)
    services.lead_membership_grant(lead=lead, level=level)
    services.lead_membership_grant(lead=lead, level=level)
    assert events() == ["membership_granted"]


def test_membership_grant_of_another_level_moves_the_lead(account, lead, events):
    membership = MembershipFactory(account=account)
    basic, pro = MembershipLevelFactory(membership=membership), MembershipLevelFactory(membership=membership)
    services.lead_membership_grant(lead=lead, level=basic)
    access = services.lead_membership_grant(lead=lead, level=pro)
    assert MembershipAccess.objects.get(pk=access.pk).level == pro
    assert events() == ["membership_granted", "membership_granted"]


def test_membership_revoke_writes_membership_revoked_once(account, lead, events):
    level = MembershipLevelFactory(membership__account=account)
    services.lead_membership_grant(lead=lead, level=level)
    services.lead_membership_revoke(lead=lead, membership=level.membership)
    assert services.lead_membership_revoke(lead=lead, membership=level.membership) is None
    assert events() == ["membership_granted", "membership_revoked"]


# Affiliates, JV partners


def test_affiliate_signup_writes_affiliate_signup_once(account, lead, events):
    product = ProductFactory(account=account, name="Course")
    services.lead_affiliate_signup(lead=lead, product=product)
    services.lead_affiliate_signup(lead=lead, product=product)
    assert events() == ["affiliate_signup"]
    assert LeadEvent.objects.get().details["product"]["product_name"] == "Course"


def test_jv_signup_writes_jv_signup(account, lead, events):
    product = ProductFactory(account=account)
    services.lead_affiliate_signup(lead=lead, product=product)
    services.lead_jv_signup(lead=lead, product=product)
    assert events() == ["affiliate_signup", "jv_signup"]


# Activity


def test_page_visit_writes_kartra_page_visit_each_time(account, lead, events):
    page = PageFactory(account=account, name="Sales page")
    services.lead_kartra_page_visit_record(lead=lead, page=page)
    services.lead_kartra_page_visit_record(lead=lead, page=page)
    assert events() == ["kartra_page_visit", "kartra_page_visit"]
    assert LeadEvent.objects.first().details == {
        "kartra_page": {"kartra_page_id": page.pk, "kartra_page_name": "Sales page"}
    }


def test_external_page_visit_writes_external_page_visit(lead, events):
    services.lead_external_page_visit_record(lead=lead, url="https://example.org/pricing")
    assert LeadEvent.objects.get().details == {"external_page": {"url": "https://example.org/pricing"}}


def test_external_page_visit_refuses_a_bad_url(lead, events):
    with pytest.raises(ApplicationError) as refused:
        services.lead_external_page_visit_record(lead=lead, url="javascript:alert(1)")
    assert "url" in refused.value.fields
    assert events() == []


def test_video_play_and_complete_write_their_events(account, lead, events):
    video = VideoFactory(account=account, name="Welcome")
    services.lead_video_play_record(lead=lead, video=video)
    services.lead_video_complete_record(lead=lead, video=video)
    assert events() == ["video_play", "video_complete"]
    assert LeadEvent.objects.first().details == {"video": {"video_id": video.pk, "video_name": "Welcome"}}


def test_tracking_link_click_writes_tracking_link_click(account, lead, events):
    services.lead_tracking_link_click_record(lead=lead, tracking_link=TrackingLinkFactory(account=account))
    assert events() == ["tracking_link_click"]


def test_split_test_link_click_writes_click_page_split_test_link(account, lead):
    link = SplitTestLinkFactory(account=account, name="Hero test")
    services.lead_split_test_link_click_record(lead=lead, split_test_link=link)
    assert LeadEvent.objects.get().details == {
        "page_split_test_link": {"page_split_test_link_id": link.pk, "page_split_test_link_name": "Hero test"}
    }


def test_video_of_another_account_is_refused(other_account, lead, events):
    with pytest.raises(NotFound) as refused:
        services.lead_video_play_record(lead=lead, video=VideoFactory(account=other_account, name="Theirs"))
    assert refused.value.code == "video_not_found"
    assert events() == []


# Assets


def test_asset_create_refuses_a_taken_name_with_field_error(account):
    services.asset_create(account=account, model=TagFactory._meta.model, name="VIP")
    with pytest.raises(ApplicationError) as refused:
        services.asset_create(account=account, model=TagFactory._meta.model, name=" VIP ")
    assert refused.value.code == "name_taken"
    assert refused.value.fields == {"name": ['Tag "VIP" already exists.']}


def test_asset_update_renames_and_refuses_a_taken_name(account):
    tag = TagFactory(account=account, name="A")
    TagFactory(account=account, name="B")
    services.asset_update(asset=tag, name="C")
    with pytest.raises(ApplicationError):
        services.asset_update(asset=tag, name="B")
    tag.refresh_from_db()
    assert tag.name == "C"


def test_asset_create_refuses_an_empty_name(account):
    with pytest.raises(ApplicationError) as refused:
        services.asset_create(account=account, model=TagFactory._meta.model, name="  ")
    assert "name" in refused.value.fields


def test_a_committed_event_wakes_hook_delivery(lead, monkeypatch, django_capture_on_commit_callbacks):
    woken = []
    monkeypatch.setattr(services.events, "events_committed", lambda: woken.append(True))
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account))
    assert woken == [True]


def test_a_transaction_writing_many_events_wakes_hook_delivery_once(
    lead, monkeypatch, django_capture_on_commit_callbacks
):
    woken = []
    monkeypatch.setattr(services.events, "events_committed", lambda: woken.append(True))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(3):
            services.lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account))
    assert woken == [True]


def test_an_event_after_a_rolled_back_savepoint_still_wakes_hook_delivery(
    lead, monkeypatch, django_capture_on_commit_callbacks
):
    woken = []
    monkeypatch.setattr(services.events, "events_committed", lambda: woken.append(True))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with contextlib.suppress(RuntimeError), transaction.atomic():
            services.lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account))
            raise RuntimeError("the inner step failed")
        services.lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account))
    assert woken == [True]


def test_purchase_and_cancellation_of_a_plan_name_its_subscription(lead):
    monthly = PricePointFactory(product=ProductFactory(account=lead.account), recurring=True)
    sale = services.transaction_sale_record(lead=lead, price_point=monthly)
    subscription = services.subscription_cancel(subscription=sale.recurring_subscription)
    buy, cancel = LeadEvent.objects.filter(lead=lead).order_by("occurred_at", "id")
    for event in (buy, cancel):
        assert event.details["transaction_details"]["transaction_internal_subscription_id"] == subscription.pk


def test_a_tag_the_lead_already_has_wakes_nothing(lead, monkeypatch, django_capture_on_commit_callbacks):
    tag = TagFactory(account=lead.account)
    services.lead_tag_assign(lead=lead, tag=tag)
    woken = []
    monkeypatch.setattr(services.events, "events_committed", lambda: woken.append(True))
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_tag_assign(lead=lead, tag=tag)
    assert woken == []
