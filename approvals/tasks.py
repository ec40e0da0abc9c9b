from celery import shared_task

from .services import requests_mark_overdue, requests_mark_past_review_limit


@shared_task
def activation_requests_mark_overdue() -> int:
    """Beat job (every 5 minutes): flag requests past their review-start due time, and reviews running
    past two weeks, alerting the moderators once for each (idempotent)."""
    return len(requests_mark_overdue()) + len(requests_mark_past_review_limit())
