"""Hook samples are built by the code that builds real deliveries: for each of the 26 events, the sample
(of the API and of the Zapier app's static file) has exactly the keys of a real delivery."""

import json
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads import services
from leads.models import CalendarBooking, CustomFieldType, LeadAction, LeadEvent
from leads.selectors import event_payload
from tests.leads import factories as f
from zaphooks.management.commands.zapier_samples import DEFAULT_PATH, samples_json
from zaphooks.samples import sample_build, static_samples

ROOT = Path(__file__).resolve().parents[2]


def shape(value):
    """The keys of a document, recursively; for a list, the set of its items' shapes (a custom field's
    value is text for one field type and a list of options for another)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return ["list", sorted({json.dumps(shape(item), sort_keys=True) for item in value})]
    return "scalar"


@pytest.fixture
def real_deliveries(account):
    """One real event of each of the 26 kinds, produced through the services, as hook delivery sends it;
    on a lead with a tag, a list, a sequence, a membership and custom fields (so its lists have items)."""
    lead = f.LeadFactory(account=account)
    tag, lead_list, sequence = (
        f.TagFactory(account=account),
        f.LeadListFactory(account=account),
        f.SequenceFactory(account=account),
    )
    level = f.MembershipLevelFactory(membership=f.MembershipFactory(account=account))
    services.custom_field_create(
        account=account, identifier="plan", type=CustomFieldType.DROP_DOWN, options=["Free", "Paid"]
    )
    f.CustomFieldFactory(account=account, identifier="color")
    services.lead_custom_fields_set(lead=lead, values={"plan": "Paid", "color": "green"})
    product = f.ProductFactory(account=account)
    monthly = f.PricePointFactory(product=product, recurring=True, amount=Decimal("20.00"))
    calendar_class = f.CalendarClassFactory(calendar=f.CalendarFactory(account=account))
    starts_at = timezone.now() + timedelta(days=2)

    services.lead_tag_assign(lead=lead, tag=tag)
    services.lead_tag_unassign(lead=lead, tag=f.TagFactory(account=account)) or services.lead_tag_unassign(
        lead=lead, tag=tag
    )
    services.lead_tag_assign(lead=lead, tag=tag)
    services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    other_list = f.LeadListFactory(account=account)
    services.lead_list_subscribe(lead=lead, lead_list=other_list)
    services.lead_list_unsubscribe(lead=lead, lead_list=other_list)
    services.lead_form_filled(lead=lead, form=f.FormFactory(account=account))
    services.lead_sequence_subscribe(lead=lead, sequence=sequence)
    other_sequence = f.SequenceFactory(account=account)
    services.lead_sequence_subscribe(lead=lead, sequence=other_sequence)
    services.lead_sequence_unsubscribe(lead=lead, sequence=other_sequence)
    done = f.SequenceFactory(account=account)
    services.lead_sequence_subscribe(lead=lead, sequence=done)
    services.lead_sequence_complete(lead=lead, sequence=done)
    services.lead_tracking_link_click_record(lead=lead, tracking_link=f.TrackingLinkFactory(account=account))
    video = f.VideoFactory(account=account)
    services.lead_video_play_record(lead=lead, video=video)
    services.lead_video_complete_record(lead=lead, video=video)
    services.lead_points_give(lead=lead, points=10)
    services.lead_affiliate_signup(lead=lead, product=product)
    services.lead_jv_signup(lead=lead, product=product)
    other_level = f.MembershipLevelFactory(membership=f.MembershipFactory(account=account))
    services.lead_membership_grant(lead=lead, level=other_level)
    services.lead_membership_revoke(lead=lead, membership=other_level.membership)
    services.lead_membership_grant(lead=lead, level=level)
    sale = services.transaction_sale_record(lead=lead, price_point=monthly)
    services.transaction_refund(sale=sale)
    second_sale = services.transaction_sale_record(lead=lead, price_point=monthly)
    services.transaction_refund(sale=second_sale, amount=Decimal("5.00"))
    services.subscription_cancel(subscription=sale.recurring_subscription)
    services.lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=starts_at)
    services.lead_calendar_complete(booking=CalendarBooking.objects.get(lead=lead, calendar_class=calendar_class))
    services.lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=starts_at + timedelta(days=1))
    services.lead_calendar_cancel(lead=lead, calendar_class=calendar_class)
    services.lead_kartra_page_visit_record(lead=lead, page=f.PageFactory(account=account))
    services.lead_external_page_visit_record(lead=lead, url="https://example.com/landing")
    services.lead_split_test_link_click_record(lead=lead, split_test_link=f.SplitTestLinkFactory(account=account))
    deliveries = {}
    for event in LeadEvent.objects.filter(account=account).select_related("lead").order_by("occurred_at"):
        deliveries[event.action] = event_payload(event)
    assert sorted(deliveries) == sorted(LeadAction.values), "every event was produced"
    return deliveries


@pytest.mark.parametrize("event", LeadAction.values)
def test_api_sample_has_the_keys_of_a_real_delivery(account, real_deliveries, event):
    sample = sample_build(account=account, event=event, resolved={})
    assert shape(sample) == shape(real_deliveries[event])


def test_static_samples_have_the_keys_of_real_deliveries_for_all_26_events(real_deliveries):
    samples = static_samples()
    assert sorted(samples) == sorted(LeadAction.values)
    for event, sample in samples.items():
        assert shape(sample) == shape(real_deliveries[event]), event


def test_api_sample_of_an_account_without_leads_has_the_keys_of_a_real_delivery(account, other_account):
    lead = f.LeadFactory(account=other_account)
    f.CustomFieldFactory(account=account, identifier="color")
    f.CustomFieldFactory(account=other_account, identifier="color")
    services.lead_tag_assign(lead=lead, tag=f.TagFactory(account=other_account))
    real = event_payload(LeadEvent.objects.get(lead=lead))
    sample = sample_build(account=account, event="assign_tag", resolved={})
    assert shape(sample["lead"]) == shape({**real["lead"], "tags": [], "lists": [], "sequences": [], "memberships": []})
    assert sample["lead"]["email"] != lead.email  # never another account's lead


def test_transaction_samples_carry_the_subscription_id_that_cancel_needs():
    for event in ("buy_product", "refund_product", "partial_refund_product", "cancel_subscription"):
        details = static_samples()[event]["action_details"]["transaction_details"]
        assert isinstance(details["transaction_internal_subscription_id"], int), event
        assert isinstance(details["price_point_id"], int), event


def test_zapier_static_samples_file_is_up_to_date():
    assert DEFAULT_PATH.read_text(encoding="utf-8") == samples_json(), (
        "zapier/lib/samples.json is stale: run `python manage.py zapier_samples`"
    )


def test_zapier_samples_command_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "samples.json"
    stale.write_text("{}\n", encoding="utf-8")
    with pytest.raises(Exception, match="stale"):
        call_command("zapier_samples", "--check", "--path", str(stale))
    call_command("zapier_samples", "--path", str(stale))
    call_command("zapier_samples", "--check", "--path", str(stale))
    assert json.loads(stale.read_text())["buy_product"]["action"] == "buy_product"


def test_zapier_trigger_labels_equal_lead_action_labels():
    script = (
        "const {TRIGGERS} = require('./zapier/lib/triggers');"
        "console.log(JSON.stringify(TRIGGERS.map((t) => [t[0], t[1]])))"
    )
    out = subprocess.run(["node", "-e", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert dict(json.loads(out)) == dict(LeadAction.choices)
