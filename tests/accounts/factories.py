import factory
from django.utils import timezone

from accounts.crypto import new_app_id
from accounts.models import Account, ApiApp, ApiAppMode, CredentialKind, Role, User
from accounts.services import api_credentials_issue

PASSWORD = "correct horse battery staple"  # every factory user's, for logging in through the page


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.SelfAttribute("email")
    password = factory.django.Password(PASSWORD)


class ModeratorFactory(UserFactory):
    role = Role.MODERATOR


class SupportAgentFactory(UserFactory):
    role = Role.SUPPORT


class AccountFactory(factory.django.DjangoModelFactory):
    """An account with both API credentials; their one-time passwords are kept on `.issued` (Zapier's)
    and `.platform_issued` (the platform events one)."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Business {n}")
    owner = factory.SubFactory(UserFactory)
    zapier_activated = False

    @factory.post_generation
    def credentials(obj, create, extracted, **kwargs):
        obj.issued = api_credentials_issue(account=obj, kind=CredentialKind.ZAPIER)
        obj.platform_issued = api_credentials_issue(account=obj, kind=CredentialKind.PLATFORM)


class ActivatedAccountFactory(AccountFactory):
    zapier_activated = True


class ApiAppFactory(factory.django.DjangoModelFactory):
    """A developer app of POST /api, in test mode unless `mode=ApiAppMode.LIVE`."""

    class Meta:
        model = ApiApp

    account = factory.SubFactory(ActivatedAccountFactory)
    name = factory.Sequence(lambda n: f"App {n}")
    app_id = factory.LazyFunction(new_app_id)
    mode = ApiAppMode.TEST
    created_at = factory.LazyFunction(timezone.now)
