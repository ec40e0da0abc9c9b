"""import_leads: bulk, re-runnable, rejected rows reported, consent confirmed or not."""

import io

import pytest
from django.core.management import CommandError, call_command

from leads.models import ConsentAction, ConsentRecord, ConsentSource, GdprStatus, Lead, LeadSource
from leads.selectors import lead_can_receive_email
from leads.services import lead_create
from tests.accounts.factories import UserFactory

CSV = """email,first_name,last_name,country,website
ann@example.com,Ann,Able,United States,
Bob@Example.com,Bob,,Germany,https://bob.example.com
not-an-email,Bad,,,
,No,Email,,
carl@example.com,Carl,,,not a url
bob@example.com,Bobby,,,
"""


def _run(account, tmp_path, text=CSV, *args):
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("import_leads", str(account.pk), str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_import_creates_leads_as_gdpr_unknown_with_source_import(account, tmp_path):
    out = _run(account, tmp_path)
    assert "created 2, updated 0, unchanged 0, rejected 4" in out
    ann = Lead.objects.with_email("ann@example.com").get()
    assert (ann.first_name, ann.country, ann.source) == ("Ann", "United States", LeadSource.IMPORT)
    assert ann.gdpr_status == GdprStatus.UNKNOWN  # a US address proves nothing
    assert not lead_can_receive_email(ann)
    assert not ConsentRecord.objects.exists()


def test_import_reports_each_rejected_row_with_its_reason(account, tmp_path):
    out = _run(account, tmp_path)
    assert "line 4: not-an-email: email 'not-an-email' is not a valid email address" in out
    assert "line 5: (no email): email is missing" in out
    assert "line 6: carl@example.com: website: Enter a valid URL." in out
    assert "line 7: bob@example.com: duplicate of line 3" in out


def test_import_writes_the_rejects_file(account, tmp_path):
    _run(account, tmp_path, CSV, "--rejects", str(tmp_path / "rejects.csv"))
    lines = (tmp_path / "rejects.csv").read_text().splitlines()
    assert lines[0] == "line,email,reason"
    assert len(lines) == 1 + 4


def test_rerunning_the_import_duplicates_nothing(account, tmp_path):
    _run(account, tmp_path)
    out = _run(account, tmp_path)
    assert "created 0, updated 0, unchanged 2" in out
    assert Lead.objects.count() == 2


def test_import_updates_existing_leads_with_non_empty_values(account, tmp_path):
    lead = lead_create(account=account, email="ANN@example.com", first_name="Old", city="Paris")
    out = _run(account, tmp_path)
    assert "created 1, updated 1" in out
    lead.refresh_from_db()
    assert (lead.first_name, lead.city, lead.source) == ("Ann", "Paris", LeadSource.API)


def test_import_with_confirmed_consent_records_it_with_the_operator(account, tmp_path):
    operator = UserFactory(is_superuser=True)
    out = _run(account, tmp_path, CSV, "--consent-confirmed")
    assert "consent records 4" in out
    ann = Lead.objects.with_email("ann@example.com").get()
    assert ann.gdpr_status == GdprStatus.ACCEPTED
    assert lead_can_receive_email(ann)
    records = ConsentRecord.objects.filter(lead=ann)
    assert {(r.purpose, r.action, r.source, r.actor) for r in records} == {
        ("gdpr_terms", ConsentAction.GRANTED, ConsentSource.CONFIRMED_IMPORT, operator),
        ("commercial_email", ConsentAction.GRANTED, ConsentSource.CONFIRMED_IMPORT, operator),
    }


def test_confirmed_import_names_the_operator_given(account, tmp_path, owner):
    UserFactory(is_superuser=True)
    _run(account, tmp_path, CSV, "--consent-confirmed", "--operator", owner.email)
    assert set(ConsentRecord.objects.values_list("actor", flat=True)) == {owner.pk}


def test_rerunning_a_confirmed_import_records_no_new_consent(account, tmp_path, owner):
    _run(account, tmp_path, CSV, "--consent-confirmed", "--operator", owner.email)
    out = _run(account, tmp_path, CSV, "--consent-confirmed", "--operator", owner.email)
    assert "consent records 0" in out
    assert ConsentRecord.objects.count() == 4


def test_confirmed_import_does_not_override_a_withdrawal(account, tmp_path, owner):
    from leads.services import consent_withdraw

    _run(account, tmp_path, CSV, "--consent-confirmed", "--operator", owner.email)
    ann = Lead.objects.with_email("ann@example.com").get()
    consent_withdraw(lead=ann, purpose="commercial_email", actor=owner)
    out = _run(account, tmp_path, CSV, "--consent-confirmed", "--operator", owner.email)
    assert "ann@example.com: consent not recorded: the lead withdrew consent" in out
    ann.refresh_from_db()
    assert ann.gdpr_status == GdprStatus.NOT_ACCEPTED


def test_confirmed_import_without_any_operator_is_refused(account, tmp_path):
    with pytest.raises(CommandError, match="needs an operator"):
        _run(account, tmp_path, CSV, "--consent-confirmed")
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("first_name\nAnn\n", "no 'email' column"),
        ("email,shoe_size\na@example.com,9\n", "Unknown column(s): shoe_size"),
    ],
)
def test_bad_header_refuses_the_whole_file(account, tmp_path, text, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _run(account, tmp_path, text)
    assert not Lead.objects.exists()


def test_unknown_account_and_missing_file_are_clear_errors(account, tmp_path):
    with pytest.raises(CommandError, match="No account with id"):
        call_command("import_leads", "999999", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_leads", str(account.pk), str(tmp_path / "missing.csv"))


def test_import_is_scoped_to_the_account(account, other_account, tmp_path):
    lead_create(account=other_account, email="ann@example.com", first_name="Other")
    _run(account, tmp_path)
    assert Lead.objects.with_email("ann@example.com").count() == 2
    assert Lead.objects.get(account=other_account).first_name == "Other"


def test_a_failing_batch_leaves_earlier_batches_whole(account, tmp_path, monkeypatch):
    import leads.services.importing as importing

    real = importing._import_batch
    calls = []

    def crash_on_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return real(**kwargs)

    monkeypatch.setattr(importing, "_import_batch", crash_on_second)
    text = "email\n" + "".join(f"lead{i}@example.com\n" for i in range(5))
    with pytest.raises(RuntimeError):
        _run(account, tmp_path, text, "--batch-size", "2")
    assert Lead.objects.count() == 2  # the first batch, whole; nothing of the second

    monkeypatch.setattr(importing, "_import_batch", real)
    out = _run(account, tmp_path, text, "--batch-size", "2")
    assert "created 3, updated 0, unchanged 2" in out
