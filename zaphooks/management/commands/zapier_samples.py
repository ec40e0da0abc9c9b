"""Write the Zapier app's static trigger samples (zapier/lib/samples.json) from the Python builders.

python manage.py zapier_samples            # (re)writes the file
python manage.py zapier_samples --check    # exit 1 when the file is missing or stale
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zaphooks.samples import static_samples

DEFAULT_PATH = Path(settings.BASE_DIR) / "zapier" / "lib" / "samples.json"


def samples_json() -> str:
    return json.dumps(static_samples(), indent=2, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write zapier/lib/samples.json (the Zapier app's trigger samples) from zaphooks.samples."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="Where to write (default: %(default)s).")
        parser.add_argument("--check", action="store_true", help="Only check that the file is up to date.")

    def handle(self, *args, path: Path, check: bool, **options):
        wanted = samples_json()
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != wanted:
                raise CommandError(f"{path} is stale: run `python manage.py zapier_samples`.")
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(wanted, encoding="utf-8")
        self.stdout.write(f"Wrote {path} ({len(json.loads(wanted))} events).")
