from celery import shared_task

from .services import requests_mark_overdue


@shared_task
def activation_requests_mark_overdue() -> int:
    """Beat job: flag requests past their review-start due time and alert moderators (idempotent)."""
    return len(requests_mark_overdue())
