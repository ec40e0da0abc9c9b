"""Lead lookups and the leads-list page at 10 thousand and at a million leads in one account.

    make bench-leads                      # 10k then 1M leads, in PostgreSQL database ki_bench_leads
    BENCH_SMALL=2000 BENCH_LARGE=50000 make bench-leads     # a quick iteration

Creates the database if missing (through the `postgres` database), migrates it, empties the bench
account's leads, bulk-loads leads with COPY, and times the selectors the owner's pages and the API
use: leads.selectors.lead_get (lookup by email) and leads.selectors.lead_list_page (first page, a deep
keyset page, a starts-with search by email and by name, filters by tag, list and GDPR status).
Prints median milliseconds per call, then `lookup ratio 1M/10k: <x>`.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ki_bench_leads),
BENCH_SMALL (10000), BENCH_LARGE (1000000), BENCH_REPEAT (200 lookups, 30 list calls per figure).
"""

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import LOCAL_POSTGRES, ensure_database  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"{LOCAL_POSTGRES}/ki_bench_leads")
SMALL = int(os.environ.get("BENCH_SMALL", "10000"))
LARGE = int(os.environ.get("BENCH_LARGE", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))
LIST_REPEAT = max(5, REPEAT // 7)

FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Linus", "Ken", "Frances"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Torvalds", "Thompson"]
GDPR_CYCLE = ["unknown", "unknown", "accepted", "not_subject", "not_accepted", "pending"]
TAGGED_EVERY, LISTED_EVERY = 10, 7


def setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartra_integrations.settings.development")
    os.environ["DEBUG"] = "false"  # no query log kept in memory
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_account():
    from accounts.models import Account
    from accounts.services import account_create
    from leads.demo import demo_assets_create

    account = Account.objects.filter(owner__email="bench-leads@example.com").first()
    if account is None:
        account = account_create(email="bench-leads@example.com", name="Bench leads", password=None)
    demo_assets_create(account=account)
    return account


def lead_columns() -> list[str]:
    from leads.models import Lead

    return [field.column for field in Lead._meta.concrete_fields if not field.primary_key]


def lead_row(account_id: int, n: int, joined: datetime) -> tuple:
    values = {
        "account_id": account_id,
        "email": f"lead{n}@bench.example.com",
        "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
        "last_name": LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)],
        "ip": None,
        "source": "import",
        "score": 0,
        "peak_score": 0,
        "date_joined": joined - timedelta(seconds=n),
        "blacklisted": False,
        "gdpr_status": GDPR_CYCLE[n % len(GDPR_CYCLE)],
        "gdpr_status_date": None,
        "gdpr_status_ip": None,
    }
    return tuple(values.get(column, "") for column in lead_columns_cached)


lead_columns_cached: list[str] = []


def load_leads(account, start: int, stop: int) -> float:
    """COPY leads start..stop-1 into the account, tag about one in 10 and list about one in 7 (picked by a
    hash of the id, so the tag, the list and the GDPR status are independent); seconds taken."""
    from django.db import connection

    from leads.models import LeadList, Tag

    began = time.perf_counter()
    joined = datetime(2026, 1, 1, tzinfo=UTC)
    columns = ", ".join(lead_columns_cached)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        before = raw.execute("SELECT coalesce(max(id), 0) FROM leads_lead").fetchone()[0]
        with raw.copy(f"COPY leads_lead ({columns}) FROM STDIN") as copy:
            for n in range(start, stop):
                copy.write_row(lead_row(account.pk, n, joined))
        tag = Tag.objects.get(account=account, name="VIP")
        newsletter = LeadList.objects.get(account=account, name="Newsletter")
        raw.execute(
            "INSERT INTO leads_leadtag (lead_id, tag_id, created_at) SELECT id, %s, now() FROM leads_lead "
            "WHERE account_id = %s AND id > %s AND abs(hashtext(id::text)) %% %s = 0",
            [tag.pk, account.pk, before, TAGGED_EVERY],
        )
        raw.execute(
            "INSERT INTO leads_listsubscription (lead_id, list_id, status, subscribed_at) "
            "SELECT id, %s, 'active', now() FROM leads_lead "
            "WHERE account_id = %s AND id > %s AND abs(hashtext(id::text || 'list')) %% %s = 0",
            [newsletter.pk, account.pk, before, LISTED_EVERY],
        )
        raw.execute("ANALYZE leads_lead; ANALYZE leads_leadtag; ANALYZE leads_listsubscription")
    return time.perf_counter() - began


def median_ms(call, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def measure(account, count: int) -> dict[str, float]:
    from leads import selectors
    from leads.models import LeadList, Tag

    rng = random.Random(count)  # noqa: S311 - a benchmark's sample, not a secret
    tag = Tag.objects.get(account=account, name="VIP")
    newsletter = LeadList.objects.get(account=account, name="Newsletter")
    emails = iter([f"LEAD{rng.randrange(count)}@bench.example.com" for _ in range(REPEAT * 2)])
    deep = selectors.lead_list_page(account=account, before_id=None, per_page=1)
    middle_id = deep.leads[0].pk - count // 2

    def lookup():
        selectors.lead_get(account=account, email=next(emails))

    for _ in range(20):  # warm the connection and caches
        lookup()
    figures = {"lookup by email": median_ms(lookup, REPEAT)}
    pages = {
        "list: first page": {},
        "list: page halfway (keyset)": {"before_id": middle_id},
        "list: search email 'lead4242'": {"q": "lead4242"},
        "list: search name 'grace hop'": {"q": "grace hop"},
        "list: filter tag VIP": {"tag_id": tag.pk},
        "list: filter list Newsletter": {"list_id": newsletter.pk},
        "list: filter GDPR accepted": {"gdpr_status": "accepted"},
        "list: tag VIP + GDPR accepted": {"tag_id": tag.pk, "gdpr_status": "accepted"},
    }
    for label, filters in pages.items():
        figures[label] = median_ms(lambda f=filters: selectors.lead_list_page(account=account, **f), LIST_REPEAT)
    return figures


def main() -> None:
    if LARGE <= SMALL:
        sys.exit("BENCH_LARGE must be greater than BENCH_SMALL")
    ensure_database(DATABASE_URL)
    setup_django()
    from django.db import connection

    lead_columns_cached.extend(lead_columns())
    account = bench_account()
    with connection.cursor() as cursor:
        # The bench database holds only the bench: start from no leads at all.
        cursor.execute("TRUNCATE leads_lead CASCADE")
    print(f"database {urlsplit(DATABASE_URL).path.lstrip('/')}, account {account.pk}")

    results = {}
    loaded = 0
    for target in (SMALL, LARGE):
        seconds = load_leads(account, loaded, target)
        print(f"loaded {target - loaded:,} leads in {seconds:.1f} s (now {target:,})")
        loaded = target
        results[target] = measure(account, target)

    width = max(len(label) for label in results[SMALL])
    print(f"\n{'median ms per call':<{width}}  {SMALL:>10,}  {LARGE:>10,}")
    for label in results[SMALL]:
        print(f"{label:<{width}}  {results[SMALL][label]:>10.3f}  {results[LARGE][label]:>10.3f}")
    ratio = results[LARGE]["lookup by email"] / results[SMALL]["lookup by email"]
    print(
        f"\nlookup ratio {LARGE // 1000 if LARGE < 1_000_000 else LARGE // 1_000_000}"
        f"{'k' if LARGE < 1_000_000 else 'M'}/{SMALL // 1000}k: {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
