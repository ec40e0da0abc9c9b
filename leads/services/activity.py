"""A lead's activity: form fills, page visits, video plays and link clicks, each logged as
LeadActivity with its lead event."""

from typing import Any

from django.core.exceptions import ValidationError

from leads.models import (
    Form,
    Lead,
    LeadAction,
    LeadActivity,
    LeadEvent,
    Page,
    SplitTestLink,
    TrackingLink,
    Video,
)
from leads.services.engagement import _check_same_account, lead_list_subscribe, lead_tag_assign
from leads.services.events import (
    _external_page_details,
    _form_details,
    _kartra_page_details,
    _split_test_link_details,
    _tracking_link_details,
    _video_details,
    lead_event_write,
)
from leads.services.leads import _validation_error_to_application
from leads.services.transactions import lead_transaction

# ---------------------------------------------------------------------------------------------
# Forms and activity


@lead_transaction
def lead_form_filled(*, lead: Lead, form: Form) -> LeadEvent:
    """Record a form submission (filled_form) and apply the form's lists and tags (their events too)."""
    _check_same_account(lead, form)
    event = lead_event_write(lead=lead, action=LeadAction.FILLED_FORM, details=_form_details(form))
    for lead_list in form.lists.all():
        lead_list_subscribe(lead=lead, lead_list=lead_list)
    for tag in form.tags.all():
        lead_tag_assign(lead=lead, tag=tag)
    return event


def _activity(*, lead: Lead, kind: str, action: LeadAction, details: dict, **targets: Any) -> LeadActivity:
    activity = LeadActivity.objects.create(lead=lead, kind=kind, **targets)
    lead_event_write(lead=lead, action=action, details=details)
    return activity


@lead_transaction
def lead_kartra_page_visit_record(*, lead: Lead, page: Page) -> LeadActivity:
    _check_same_account(lead, page)
    details = _kartra_page_details(page)
    return _activity(
        lead=lead, kind=LeadActivity.Kind.PAGE_VISIT, action=LeadAction.KARTRA_PAGE_VISIT, details=details, page=page
    )


@lead_transaction
def lead_external_page_visit_record(*, lead: Lead, url: str) -> LeadActivity:
    activity = LeadActivity(lead=lead, kind=LeadActivity.Kind.EXTERNAL_PAGE_VISIT, url=(url or "").strip())
    try:
        activity.full_clean(exclude=["lead"])
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    activity.save()
    lead_event_write(lead=lead, action=LeadAction.EXTERNAL_PAGE_VISIT, details=_external_page_details(activity.url))
    return activity


def _video_activity(*, lead: Lead, video: Video, kind: str, action: LeadAction) -> LeadActivity:
    _check_same_account(lead, video)
    details = _video_details(video)
    return _activity(lead=lead, kind=kind, action=action, details=details, video=video)


@lead_transaction
def lead_video_play_record(*, lead: Lead, video: Video) -> LeadActivity:
    return _video_activity(lead=lead, video=video, kind=LeadActivity.Kind.VIDEO_PLAY, action=LeadAction.VIDEO_PLAY)


@lead_transaction
def lead_video_complete_record(*, lead: Lead, video: Video) -> LeadActivity:
    return _video_activity(
        lead=lead, video=video, kind=LeadActivity.Kind.VIDEO_COMPLETE, action=LeadAction.VIDEO_COMPLETE
    )


@lead_transaction
def lead_tracking_link_click_record(*, lead: Lead, tracking_link: TrackingLink) -> LeadActivity:
    _check_same_account(lead, tracking_link)
    details = _tracking_link_details(tracking_link)
    return _activity(
        lead=lead,
        kind=LeadActivity.Kind.TRACKING_LINK_CLICK,
        action=LeadAction.TRACKING_LINK_CLICK,
        details=details,
        tracking_link=tracking_link,
    )


@lead_transaction
def lead_split_test_link_click_record(*, lead: Lead, split_test_link: SplitTestLink) -> LeadActivity:
    _check_same_account(lead, split_test_link)
    details = _split_test_link_details(split_test_link)
    return _activity(
        lead=lead,
        kind=LeadActivity.Kind.SPLIT_TEST_LINK_CLICK,
        action=LeadAction.CLICK_PAGE_SPLIT_TEST_LINK,
        details=details,
        split_test_link=split_test_link,
    )
