from celery import shared_task

from . import services


@shared_task
def calendar_bookings_complete_ended_task() -> int:
    """Beat job: bookings whose class has ended become completed (calendar_complete); idempotent."""
    return services.calendar_bookings_complete_ended()


@shared_task
def points_expire_due_task() -> int:
    """Beat job: points past their expiry are taken back with a reversing log entry; idempotent."""
    return services.points_expire_due()
