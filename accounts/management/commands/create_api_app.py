import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from accounts.services import api_app_register


class Command(BaseCommand):
    help = (
        "Register a developer app of the platform command API (POST /api) for an account; print one JSON "
        "object with app_id, name, mode and account_id. In test mode unless --live (an operator's decision, "
        "recorded as such)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, type=int, help="The account's id.")
        parser.add_argument("--name", required=True, help="The app's name.")
        parser.add_argument("--live", action="store_true", help="Live at once (no test mode, no review).")
        parser.add_argument("--allowed-ip", action="append", default=[], help="An allowed address or network.")
        parser.add_argument("--allowed-command", action="append", default=[], help="An allowed command.")

    def handle(self, *args, account, name, live, allowed_ip, allowed_command, **options):
        owner_account = Account.objects.filter(pk=account).first()
        if owner_account is None:
            raise CommandError(f"No account with id {account}.")
        try:
            api_app = api_app_register(
                actor=None,
                account=owner_account,
                name=name,
                allowed_ips=allowed_ip,
                allowed_commands=allowed_command,
                live=live,
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"--{k.replace('_', '-')}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from error
        self.stdout.write(
            json.dumps(
                {"app_id": api_app.app_id, "name": api_app.name, "mode": api_app.mode, "account_id": owner_account.pk}
            )
        )
