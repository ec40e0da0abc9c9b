"""python manage.py import_leads <account id> <file.csv> [--consent-confirmed [--operator EMAIL]] [--rejects FILE]

See leads/importing.py for the rules. --consent-confirmed records that the operator confirms the
leads' consent; the operator is --operator (a user's email) or, by default, the first superuser.
"""

import csv
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Account, User
from kartra_integrations.errors import ApplicationError
from leads.services.importing import DEFAULT_BATCH_SIZE, import_columns_check, leads_import


class Command(BaseCommand):
    help = "Import leads from a CSV file (header row: email and lead profile fields) into an account."

    def add_arguments(self, parser):
        parser.add_argument("account_id", type=int)
        parser.add_argument("file", help="CSV file, UTF-8, with a header row")
        parser.add_argument(
            "--consent-confirmed",
            action="store_true",
            help="The operator confirms these leads gave GDPR and commercial email consent.",
        )
        parser.add_argument("--operator", help="Email of the user confirming consent (default: the first superuser).")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--rejects", help="Also write the rejected rows (line, email, reason) to this CSV file.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options):
        account = Account.objects.filter(pk=options["account_id"]).first()
        if account is None:
            raise CommandError(f"No account with id {options['account_id']}.")
        operator = self._operator(options) if options["consent_confirmed"] else None
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")

        try:
            with open(options["file"], encoding="utf-8-sig", newline="") as handle:
                total = max(sum(1 for _ in handle) - 1, 0)
                handle.seek(0)
                reader = csv.reader(handle)
                header = import_columns_check(next(reader, []))
                rows = ((reader.line_num, dict(zip(header, values, strict=False))) for values in reader if values)
                started = time.monotonic()
                with tqdm(total=total, unit="rows", disable=options["no_progress"]) as bar:
                    report = leads_import(
                        account=account,
                        rows=rows,
                        consent_confirmed=options["consent_confirmed"],
                        operator=operator,
                        batch_size=options["batch_size"],
                        progress=bar.update,
                    )
                elapsed = time.monotonic() - started
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{options['file']} is not UTF-8 text: {exc}") from exc
        except (ApplicationError, csv.Error) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc

        self._report(report, elapsed, options.get("rejects"))

    def _operator(self, options) -> User:
        if options["operator"]:
            operator = User.objects.filter(email__iexact=options["operator"]).first()
            if operator is None:
                raise CommandError(f"No user with email {options['operator']}.")
            return operator
        operator = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if operator is None:
            raise CommandError("--consent-confirmed needs an operator: pass --operator EMAIL or create a superuser.")
        return operator

    def _report(self, report, elapsed: float, rejects_path: str | None) -> None:
        rate = report.processed / elapsed if elapsed else 0
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
            f"rejected {len(report.rejected)}, consent records {report.consents_recorded} "
            f"in {elapsed:.1f}s ({rate:.0f} rows/s)"
        )
        for row in report.rejected[:50]:
            self.stdout.write(f"  line {row.line}: {row.email or '(no email)'}: {row.reason}")
        if len(report.rejected) > 50:
            self.stdout.write(f"  ... and {len(report.rejected) - 50} more")
        if rejects_path:
            with open(rejects_path, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "email", "reason"])
                writer.writerows((row.line, row.email, row.reason) for row in report.rejected)
            self.stdout.write(f"rejected rows written to {rejects_path}")
