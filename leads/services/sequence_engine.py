"""The sequence engine: a beat job (leads.tasks.sequence_engine_run_task) sends each due step email
and moves the lead on.

Per due subscription, in its own short transaction with the row locked (SKIP LOCKED: two workers
never take the same subscription):
- the lead may be emailed (leads.selectors.lead_can_receive_email, the one gate): a StepDelivery
  is queued, the subscription moves to the next step (due after that step's delay), and passing
  the last step completes the sequence (sequence_completion);
- it may not: the step is held, recorded once as a suppressed StepDelivery (GDPR or blacklist),
  and the subscription stays due; it is picked up again as soon as the lead becomes eligible.
After commit each queued delivery is claimed with a conditional update (queued -> sending) and
sent through Django's email backend, so a re-run or a second worker never sends it twice.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from leads.models import Lead, LeadSource, SequenceStep, SequenceSubscription, StepDelivery
from leads.selectors import EMAILABLE_GDPR_STATUSES, lead_can_receive_email
from leads.services.engagement import lead_sequence_complete
from leads.services.transactions import lead_transaction

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 20


@dataclass
class EngineRun:
    queued: int = 0
    not_sent: int = 0  # held by the email gate, taken by another worker, or sequence had no step left
    sent: int = 0


def _maybe_eligible() -> Q:
    """A SQL pre-filter mirroring lead_can_receive_email, used only to skip held subscriptions whose
    lead is still blocked; the selector itself decides for every subscription the engine takes."""
    return (
        Q(lead__blacklisted=False)
        & ~Q(lead__source=LeadSource.API_TEST)
        & (Q(lead__account__gdpr_enabled=False) | Q(lead__gdpr_status__in=EMAILABLE_GDPR_STATUSES))
    )


def sequence_due_subscription_ids(*, now: datetime, limit: int = BATCH_SIZE) -> list[int]:
    """Due subscriptions, except those already held on their current step whose lead is still blocked."""
    held = StepDelivery.objects.filter(
        subscription=OuterRef("pk"),
        step__position=OuterRef("step"),
        round_started_at=OuterRef("subscribed_at"),
        status=StepDelivery.Status.SUPPRESSED,
    )
    due = SequenceSubscription.objects.filter(status=SequenceSubscription.Status.ACTIVE, next_step_due_at__lte=now)
    return list(
        due.filter(~Exists(held) | _maybe_eligible())
        .order_by("next_step_due_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def _held_reason(lead: Lead) -> str:
    if lead.blacklisted:
        return StepDelivery.Reason.BLACKLISTED
    if lead.source == LeadSource.API_TEST:
        return StepDelivery.Reason.TEST_LEAD
    return StepDelivery.Reason.GDPR


@lead_transaction(durable=True)
def sequence_subscription_step_process(*, subscription_id: int, now: datetime | None = None) -> StepDelivery | None:
    """Queue (or hold) the current step of one due subscription. Returns the queued delivery, if any."""
    now = now or timezone.now()
    subscription = (
        SequenceSubscription.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("lead__account", "sequence")
        .filter(pk=subscription_id, status=SequenceSubscription.Status.ACTIVE, next_step_due_at__lte=now)
        .first()
    )
    if subscription is None:
        return None  # not due any more, or another worker has it
    lead, sequence = subscription.lead, subscription.sequence
    step = SequenceStep.objects.filter(sequence=sequence, position=subscription.step).first()
    if step is None:  # the owner removed the remaining steps: nothing left to send
        lead_sequence_complete(lead=lead, sequence=sequence)
        return None

    if not lead_can_receive_email(lead):
        StepDelivery.objects.get_or_create(
            subscription=subscription,
            step=step,
            round_started_at=subscription.subscribed_at,
            status=StepDelivery.Status.SUPPRESSED,
            defaults={
                "reason": _held_reason(lead),
                "created_at": now,
            },
        )
        return None

    delivery = StepDelivery.objects.create(
        subscription=subscription,
        step=step,
        round_started_at=subscription.subscribed_at,
        status=StepDelivery.Status.QUEUED,
        to_email=lead.email,
        created_at=now,
    )
    next_step = SequenceStep.objects.filter(sequence=sequence, position__gt=step.position).order_by("position").first()
    if next_step is None:
        lead_sequence_complete(lead=lead, sequence=sequence)
    else:
        subscription.step = next_step.position
        subscription.next_step_due_at = now + next_step.delay
        subscription.updated_at = now
        subscription.save(update_fields=["step", "next_step_due_at", "updated_at"])
    return delivery


def step_delivery_send(*, delivery_id: int) -> bool:
    """Send one queued step email; False when it was not queued (sent already, or being sent)."""
    claimed = StepDelivery.objects.filter(pk=delivery_id, status=StepDelivery.Status.QUEUED).update(
        status=StepDelivery.Status.SENDING
    )
    if not claimed:
        return False
    delivery = StepDelivery.objects.select_related("step").get(pk=delivery_id)
    try:
        send_mail(
            subject=delivery.step.subject,
            message=delivery.step.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[delivery.to_email],
        )
    except Exception:
        # Put it back for the next run; the claim makes sure only one worker retries it.
        StepDelivery.objects.filter(pk=delivery_id, status=StepDelivery.Status.SENDING).update(
            status=StepDelivery.Status.QUEUED
        )
        raise
    StepDelivery.objects.filter(pk=delivery_id).update(status=StepDelivery.Status.SENT, sent_at=timezone.now())
    return True


def sequence_engine_run(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> EngineRun:
    """One beat tick: queue or hold every due step, then send everything queued (this run's and any
    left over by an earlier run that stopped between commit and send)."""
    now = now or timezone.now()
    run = EngineRun()
    previous: list[int] = []
    for _ in range(MAX_BATCHES_PER_RUN):
        ids = sequence_due_subscription_ids(now=now, limit=batch_size)
        if not ids or ids == previous:  # nothing due, or only rows other workers hold
            break
        previous = ids
        for subscription_id in ids:
            delivery = sequence_subscription_step_process(subscription_id=subscription_id, now=now)
            if delivery is None:
                run.not_sent += 1
            else:
                run.queued += 1
    queued_ids = (
        StepDelivery.objects.filter(status=StepDelivery.Status.QUEUED).order_by("id").values_list("id", flat=True)
    )
    for delivery_id in list(queued_ids[: batch_size * MAX_BATCHES_PER_RUN]):
        if step_delivery_send(delivery_id=delivery_id):
            run.sent += 1
    return run
