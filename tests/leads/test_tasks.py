from datetime import timedelta

from django.utils import timezone

from leads import services, tasks
from leads.models import CalendarBooking, LeadEvent
from tests.leads.factories import CalendarClassFactory


def _book(lead, account, *, starts_in):
    calendar_class = CalendarClassFactory(calendar__account=account, duration=timedelta(hours=1))
    booking = services.lead_calendar_subscribe(
        lead=lead, calendar_class=calendar_class, starts_at=timezone.now() + timedelta(minutes=5)
    )
    # Move the slot to where the test needs it (booking in the past is refused by the service).
    CalendarBooking.objects.filter(pk=booking.pk).update(
        starts_at=timezone.now() + starts_in, ends_at=timezone.now() + starts_in + timedelta(hours=1)
    )
    return booking


def test_ended_class_completes_its_booking_once(account, lead, events):
    booking = _book(lead, account, starts_in=-timedelta(hours=2))
    assert tasks.calendar_bookings_complete_ended_task() == 1
    assert tasks.calendar_bookings_complete_ended_task() == 0
    booking.refresh_from_db()
    assert booking.status == CalendarBooking.Status.COMPLETED
    assert events() == ["calendar_subscribe", "calendar_complete"]
    assert (
        LeadEvent.objects.get(action="calendar_complete").details["calendar"]["calendar_subscription_id"] == booking.pk
    )


def test_class_not_yet_ended_is_left_registered(account, lead, events):
    booking = _book(lead, account, starts_in=-timedelta(minutes=30))
    assert tasks.calendar_bookings_complete_ended_task() == 0
    booking.refresh_from_db()
    assert booking.status == CalendarBooking.Status.REGISTERED


def test_cancelled_booking_is_not_completed(account, lead, events):
    booking = _book(lead, account, starts_in=-timedelta(hours=2))
    services.lead_calendar_cancel(lead=lead, calendar_class=booking.calendar_class)
    assert tasks.calendar_bookings_complete_ended_task() == 0
    assert events() == ["calendar_subscribe", "calendar_cancel"]


def test_points_expiry_task_takes_back_expired_points(lead):
    change = services.lead_points_give(lead=lead, points=5, expires_in_days=1)
    change.expires_at = timezone.now() - timedelta(seconds=1)
    change.save()
    assert tasks.points_expire_due_task() == 1
    lead.refresh_from_db()
    assert lead.score == 0
