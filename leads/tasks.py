"""The lead database's Celery tasks: each takes ids, calls one service, and is safe to run twice.
Their registered names are part of the beat schedule (settings CELERY_BEAT_SCHEDULE): a task that
moves keeps its name with `name=`."""

from celery import shared_task

from leads import services


@shared_task
def calendar_bookings_complete_ended_task() -> int:
    """Beat job: bookings whose class has ended become completed (calendar_complete); idempotent."""
    return services.calendar_bookings_complete_ended()


@shared_task
def points_expire_due_task() -> int:
    """Beat job: points past their expiry are taken back with a reversing log entry; idempotent."""
    return services.points_expire_due()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def opt_in_confirmation_send_task(pending_id: str) -> bool:
    """Email a double opt-in's confirmation link (scheduled after the submission commits); sends at most
    once per pending opt-in, and a mail server error (OSError, smtplib's included) is retried."""
    return services.opt_in_confirmation_send(pending_id=pending_id)


@shared_task
def pending_opt_ins_purge_task() -> int:
    """Beat job: delete pending opt-ins whose confirmation link has expired; idempotent."""
    return services.pending_opt_ins_purge()


@shared_task(name="leads.sequence_engine.sequence_engine_run_task")
def sequence_engine_run_task() -> dict:
    """Beat job (every minute): send due sequence steps; idempotent."""
    return vars(services.sequence_engine_run())
