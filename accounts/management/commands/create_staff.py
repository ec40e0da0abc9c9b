import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.models import Role, User
from accounts.services import staff_create


class Command(BaseCommand):
    help = "Create a moderator or a support agent; prints one JSON object with user_id, email and role."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=[Role.MODERATOR.value, Role.SUPPORT.value])
        parser.add_argument("--password", help="Login password; without it the user cannot log in.")

    def handle(self, *args, email, role, password, **options):
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"--email: {email!r} is not a valid email address.") from error
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"A user with the email {email} exists already.")
        user = staff_create(email=email, role=Role(role), password=password)
        self.stdout.write(json.dumps({"user_id": user.id, "email": user.email, "role": user.role}))
