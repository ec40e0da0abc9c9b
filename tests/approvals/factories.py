from datetime import timedelta

import factory
from django.utils import timezone

from approvals.models import ActivationRequest, RequestState, SupportNote
from tests.accounts.factories import AccountFactory, SupportAgentFactory


class ActivationRequestFactory(factory.django.DjangoModelFactory):
    """A row as the services would leave it; use the services themselves to test transitions."""

    class Meta:
        model = ActivationRequest

    account = factory.SubFactory(AccountFactory)
    stated_use = "Send new leads from our webinar platform into Kartra and tag them."
    state = RequestState.PENDING
    submitted_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.submitted_at + timedelta(days=1))


class SupportNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportNote

    activation_request = factory.SubFactory(ActivationRequestFactory)
    author = factory.SubFactory(SupportAgentFactory)
    body = "The owner called: they run weekly webinars."
