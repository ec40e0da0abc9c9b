import json
import uuid

import factory
from django.utils import timezone

from tests.accounts.factories import ActivatedAccountFactory
from zaphooks.models import Delivery, HookEvent, Subscription, SubscriptionKind


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    account = factory.SubFactory(ActivatedAccountFactory)
    kind = SubscriptionKind.ZAPIER
    events = factory.LazyFunction(lambda: ["assign_tag"])
    target_url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")


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

    subscription = factory.SubFactory(SubscriptionFactory)
    event = factory.SubFactory(HookEventFactory, account=factory.SelfAttribute("..subscription.account"))
    next_attempt_at = factory.LazyFunction(timezone.now)
