from celery import shared_task

from kartra_integrations.idempotency import idempotency_keys_expire


@shared_task
def idempotency_keys_expire_task() -> int:
    """Hourly: forget Idempotency-Key responses older than 24 hours."""
    return idempotency_keys_expire()
