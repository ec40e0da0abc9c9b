import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import CredentialKind, User
from accounts.services import account_create, api_credentials_issue
from approvals.services import account_approve_by_operator
from leads.demo import demo_assets_create
from zaphooks.services import signing_secret_get_or_create


class Command(BaseCommand):
    help = (
        "Create an owner and account; print one JSON object with account_id, api_key and api_password (the "
        "Zapier credential), platform_api_key and platform_api_password (for POST /api/v1/events), signing_secret."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="The account (business) name.")
        parser.add_argument("--password", help="The owner's login password; without it the owner cannot log in.")
        parser.add_argument(
            "--zapier-approved", action="store_true", help="Activate Zapier access (audited as an operator approval)."
        )
        parser.add_argument("--demo-data", action="store_true", help="Give the account the standard demo assets.")

    def handle(self, *args, email, name, password, zapier_approved, demo_data, **options):
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"--email: {email!r} is not a valid email address.") from error
        if not name.strip():
            raise CommandError("--name must not be empty.")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"A user with the email {email} exists already.")
        with transaction.atomic():
            account = account_create(email=email, name=name.strip(), password=password)
            # The pairs to print: only their hashes are kept.
            issued = api_credentials_issue(account=account, kind=CredentialKind.ZAPIER)
            platform = api_credentials_issue(account=account, kind=CredentialKind.PLATFORM)
            if zapier_approved:
                account_approve_by_operator(account=account)
            if demo_data:
                demo_assets_create(account=account)

        self.stdout.write(
            json.dumps(
                {
                    "account_id": account.id,
                    "api_key": issued.api_key,
                    "api_password": issued.api_password,
                    "platform_api_key": platform.api_key,
                    "platform_api_password": platform.api_password,
                    "signing_secret": signing_secret_get_or_create(account=account),
                }
            )
        )
