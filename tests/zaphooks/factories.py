import json
import uuid

import factory
from django.utils import timezone

from tests.accounts.factories import ActivatedAccountFactory
from zaphooks.models import Delivery, DeliveryAttempt, DeliveryState, HookEvent, Subscription, SubscriptionKind


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A Zap's subscription (Zapier made it)."""

    class Meta:
        model = Subscription

    account = factory.SubFactory(ActivatedAccountFactory)
    kind = SubscriptionKind.ZAPIER
    events = factory.LazyFunction(lambda: ["assign_tag"])
    target_url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")


class EndpointFactory(SubscriptionFactory):
    """An owner's own outbound endpoint."""

    kind = SubscriptionKind.ENDPOINT
    events = factory.LazyFunction(lambda: ["assign_tag", "buy_product"])
    target_url = factory.Sequence(lambda n: f"https://crm.example.com/kartra/in-{n}")


class HookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HookEvent

    id = factory.LazyFunction(uuid.uuid4)
    account = factory.SubFactory(ActivatedAccountFactory)
    action = "assign_tag"
    occurred_at = factory.LazyFunction(timezone.now)
    body = factory.LazyAttribute(lambda o: json.dumps({"id": str(o.id), "action": o.action}))


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery
        skip_postgeneration_save = True

    subscription = factory.SubFactory(SubscriptionFactory)
    event = factory.SubFactory(HookEventFactory, account=factory.SelfAttribute("..subscription.account"))
    next_attempt_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def created_at(obj, create, extracted, **kwargs):
        """`created_at=` backdates the row (auto_now_add ignores a value given at creation)."""
        if create and extracted:
            Delivery.objects.filter(pk=obj.pk).update(created_at=extracted)
            obj.created_at = extracted


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    """A failed attempt (503) by default."""

    class Meta:
        model = DeliveryAttempt

    delivery = factory.SubFactory(DeliveryFactory)
    attempted_at = factory.LazyFunction(timezone.now)
    status_code = 503
    duration_ms = 120
    response_start = "Service Unavailable"


class FailedDeliveryFactory(DeliveryFactory):
    """A delivery that gave up, with the attempt that failed it."""

    state = DeliveryState.FAILED
    next_attempt_at = None
    attempts = 1
    last_status_code = 503
    finished_at = factory.LazyFunction(timezone.now)
    attempt = factory.RelatedFactory(DeliveryAttemptFactory, factory_related_name="delivery")


def job_for(delivery: Delivery):
    """The dispatcher's Job for a delivery row, as a claim would hand it out."""
    from zaphooks.services import Job

    return Job(
        delivery.pk,
        delivery.subscription_id,
        delivery.subscription.account_id,
        str(delivery.event_id),
        delivery.subscription.target_url,
        delivery.event.body,
        delivery.attempts,
    )
