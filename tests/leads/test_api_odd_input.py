"""Numbers that would wrap or overflow in PostgreSQL, and odd input (unicode
digits, NUL, lone surrogates, deep nesting, NUL in credentials and hosted page ids) answer 400 or
404 in the one error shape, never 500, and store nothing."""

import base64
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from kartra_integrations.limits import (
    ID_MAX,
    JSON_MAX_DEPTH,
    MONEY_MAX,
    POINTS_MAX,
    QUANTITY_MAX,
    SCORE_MAX,
)
from leads import services
from leads.demo import demo_assets_create
from leads.models import Form, Lead, PointsChange, PricePoint, Product, Transaction
from tests.conftest import basic_auth
from tests.leads.factories import LeadFactory

EVENTS = "/api/v1/events"


def action(command: str) -> str:
    return f"/api/v1/actions/{command}"


def post_raw(api: APIClient, url: str, body: str):
    """A body as written (ensure_ascii escapes keep lone surrogates as \\udXXX, as a client would send)."""
    return api.post(url, body, content_type="application/json")


@pytest.fixture
def demo(account):
    demo_assets_create(account=account)
    return account


@pytest.fixture
def ada(demo):
    return LeadFactory(account=demo, email="ada@example.com")


def _score(lead) -> int:
    return Lead.objects.values_list("score", flat=True).get(pk=lead.pk)


# ---------------------------------------------------------------------------------------------
# Point 5: ranges


def test_score_past_2_to_the_31_keeps_counting(api, ada):
    Lead.objects.filter(pk=ada.pk).update(score=2**31 - 1, peak_score=2**31 - 1)
    response = api.post(action("give_points_to_lead"), {"email": ada.email, "points": POINTS_MAX}, format="json")
    assert response.status_code == 200
    assert _score(ada) == 2**31 - 1 + POINTS_MAX
    assert response.json()["lead"]["score"] == 2**31 - 1 + POINTS_MAX


def test_points_that_would_take_the_score_past_its_maximum_are_400_and_change_nothing(api, ada):
    Lead.objects.filter(pk=ada.pk).update(score=SCORE_MAX - 10, peak_score=SCORE_MAX - 10)
    response = api.post(action("give_points_to_lead"), {"email": ada.email, "points": 11}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "score_out_of_range"
    assert list(response.json()["fields"]) == ["points"]
    assert _score(ada) == SCORE_MAX - 10
    assert not PointsChange.objects.exists()


def test_removing_points_past_the_negative_maximum_is_400(api, ada):
    Lead.objects.filter(pk=ada.pk).update(score=-SCORE_MAX + 5)
    response = api.post(action("remove_points_from_lead"), {"email": ada.email, "points": 6}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "score_out_of_range"
    assert _score(ada) == -SCORE_MAX + 5


def test_points_expiry_stops_at_the_score_bound_instead_of_failing(ada):
    Lead.objects.filter(pk=ada.pk).update(score=-SCORE_MAX + 5)
    PointsChange.objects.create(lead=ada, delta=10, reason="promo", expires_at=timezone.now() - timedelta(days=1))
    assert services.points_expire_due() == 1
    assert _score(ada) == -SCORE_MAX


@pytest.mark.parametrize("points", [POINTS_MAX + 1, 2**31, 2**63, 2**64 + 1])
def test_points_past_the_per_call_maximum_are_400(api, ada, points):
    response = api.post(action("give_points_to_lead"), {"email": ada.email, "points": points}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["points"]


@pytest.mark.parametrize("quantity", [QUANTITY_MAX + 1, 2**32 + 1, 2**63])
def test_buy_product_quantity_past_the_maximum_is_400_and_records_no_sale(platform_api, ada, quantity):
    body = {"event": "buy_product", "email": ada.email, "product": "Course", "quantity": quantity, "amount": "1.00"}
    response = platform_api.post(EVENTS, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["quantity"]
    assert not Transaction.objects.exists()


def test_buy_product_whose_price_times_quantity_exceeds_the_money_maximum_is_400(platform_api, ada):
    product = Product.objects.get(account=ada.account, name="Course")
    PricePoint.objects.filter(product=product, number=1).update(amount=Decimal("9999999.99"))
    body = {"event": "buy_product", "email": ada.email, "product": "Course", "quantity": QUANTITY_MAX}
    response = platform_api.post(EVENTS, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["quantity"]
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("amount", [str(MONEY_MAX + Decimal("0.01")), "1.001", "-1.00", "1e20"])
def test_buy_product_amount_outside_the_money_range_is_400(platform_api, ada, amount):
    body = {"event": "buy_product", "email": ada.email, "product": "Course", "amount": amount}
    response = platform_api.post(EVENTS, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["amount"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "buy_product", "product": "Course", "price_point": 2**40}, "price_point"),
        ({"event": "sequence_subscription", "sequence": "Onboarding", "step": 2**40}, "step"),
        ({"event": "refund_product", "transaction_id": ID_MAX + 1}, "transaction_id"),
        ({"event": "cancel_subscription", "subscription_id": 2**64}, "subscription_id"),
    ],
)
def test_event_numbers_past_their_range_are_400(platform_api, ada, body, field):
    response = platform_api.post(EVENTS, {"email": ada.email, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("assign_tag", {"lead_id": ID_MAX + 1, "tag": "VIP"}, "lead_id"),
        ("assign_tag", {"email": "ada@example.com", "tag": ID_MAX + 1}, "tag"),
        ("refund_transaction", {"transaction_id": 2**70}, "transaction_id"),
        ("cancel_transaction", {"subscription_id": ID_MAX + 1}, "subscription_id"),
        ("subscribe_lead_to_sequence_at_step", {"email": "ada@example.com", "sequence": 1, "step": 2**31}, "step"),
        ("give_points_to_lead", {"email": "ada@example.com", "points": 1, "expiration_days": 2**31}, "expiration_days"),
    ],
)
def test_action_ids_and_numbers_past_their_range_are_400(api, ada, command, body, field):
    response = api.post(action(command), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_schema_documents_the_ranges(api):
    schemas = api.get("/api/v1/schema?format=json").json()["components"]["schemas"]
    assert schemas["GivePointsInput"]["properties"]["points"]["maximum"] == POINTS_MAX
    assert schemas["GivePointsInput"]["properties"]["lead_id"]["maximum"] == ID_MAX
    assert schemas["RefundInput"]["properties"]["transaction_id"]["maximum"] == ID_MAX
    assert schemas["PlatformEventInput"]["properties"]["lead_id"]["maximum"] == ID_MAX
    assert {"type": "integer", "minimum": 1, "maximum": ID_MAX} in schemas["TagInput"]["properties"]["tag"]["oneOf"]


# ---------------------------------------------------------------------------------------------
# Point 6: unicode digits are not ids


@pytest.mark.parametrize("lead_id", ["²", "١", "１", "৩"])
def test_lead_details_for_a_unicode_digit_id_is_404(api, ada, lead_id):
    # "١" is Arabic-Indic one: int() reads it as 1, and lead 1 must not answer to it.
    response = api.get(f"/api/v1/leads/{lead_id}")
    assert response.status_code == 404
    assert response.json() == {"message": "No lead found", "code": "lead_not_found"}


def test_lead_details_for_an_id_past_the_bigint_range_is_404(api, ada):
    assert api.get(f"/api/v1/leads/{'9' * 40}").status_code == 404


@pytest.mark.parametrize("command", ["assign_tag", "unassign_tag"])
@pytest.mark.parametrize("tag", ["²", "١"])
def test_tag_given_as_unicode_digits_is_a_name_that_does_not_exist(api, ada, command, tag):
    response = api.post(action(command), {"email": ada.email, "tag": tag}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "tag_not_found"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"event": "assign_tag", "tag": "²"}, "tag_not_found"),
        ({"event": "calendar_cancel", "calendar": "Coaching", "class": "²"}, "calendar_class_not_found"),
        ({"event": "sequence_completion", "sequence": "١"}, "sequence_not_found"),
    ],
)
def test_event_assets_given_as_unicode_digits_are_unknown_names(platform_api, ada, body, code):
    # The events endpoint reports an unknown asset as a field error (400), not a 404.
    response = platform_api.post(EVENTS, {"email": ada.email, **body}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "buy_product", "product": "Course", "quantity": "٣"}, "quantity"),
        ({"event": "buy_product", "product": "Course", "price_point": "١"}, "price_point"),
        ({"event": "video_play", "video": "Welcome", "lead_id": "١"}, "lead_id"),
    ],
)
def test_event_numbers_in_unicode_digits_are_400(platform_api, ada, body, field):
    response = platform_api.post(EVENTS, {"email": ada.email, **body}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Transaction.objects.exists()


def test_action_lead_id_in_unicode_digits_is_400(api, ada):
    response = api.post(action("give_points_to_lead"), {"lead_id": "١", "points": 5}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["lead_id"]
    assert _score(ada) == 0


@pytest.mark.parametrize("value", ["²", "١", ["²"]])
def test_custom_field_option_in_unicode_digits_is_400(api, ada, value):
    kind = "checkbox" if isinstance(value, list) else "drop_down"
    services.custom_field_create(account=ada.account, identifier="tier", type=kind, options=["Basic", "Pro"])
    response = api.post(action("edit_lead"), {"email": ada.email, "custom_fields": {"tier": value}}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_custom_field"


def test_hook_score_filter_in_unicode_digits_is_400(api):
    body = {"target_url": "https://hooks.zapier.com/1", "event": "reaches_score", "filter": {"score": "²"}}
    response = api.post("/api/v1/hooks", body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "filter": [f"score: The score must be a whole number from 1 to {SCORE_MAX:,}."]
    }


# ---------------------------------------------------------------------------------------------
# Point 6: NUL and lone surrogates, anywhere in a body


@pytest.mark.parametrize(
    ("url", "body", "fields"),
    [
        (
            action("edit_lead"),
            '{"email": "ada@example.com", "\\ud800": "x"}',
            {"non_field_errors": ["Keys must not contain unpaired surrogates (U+D800 to U+DFFF)."]},
        ),
        (
            action("edit_lead"),
            '{"email": "ada@example.com", "custom_fields": {"\\udfff": "x"}}',
            {"custom_fields": ["Keys must not contain unpaired surrogates (U+D800 to U+DFFF)."]},
        ),
        (
            action("edit_lead"),
            '{"email": "ada@example.com", "custom_fields": {"plan": ["\\ud83d"]}}',
            {"custom_fields": ["plan.0: Text must not contain unpaired surrogates (U+D800 to U+DFFF)."]},
        ),
        (
            action("assign_tag"),
            '{"email": "ada@example.com", "tag": "VIP\\ud800"}',
            {"tag": ["Text must not contain unpaired surrogates (U+D800 to U+DFFF)."]},
        ),
        (
            action("assign_tag"),
            '{"email": "ada@example.com", "tag": "VIP", "\\u0000": 1}',
            {"non_field_errors": ["Keys must not contain NUL characters (U+0000)."]},
        ),
        (
            EVENTS,
            '{"event": "external_page_visit", "email": "ada@example.com", "url": "https://a.example/\\u0000"}',
            {"url": ["Text must not contain NUL characters (U+0000)."]},
        ),
        (
            "/api/v1/hooks",
            '{"target_url": "https://hooks.zapier.com/1", "event": "assign_tag", "filter": {"tag": "\\udc00"}}',
            {"filter": ["tag: Text must not contain unpaired surrogates (U+D800 to U+DFFF)."]},
        ),
    ],
)
def test_nul_or_lone_surrogate_in_a_key_or_value_is_400_naming_the_field(api, platform_api, ada, url, body, fields):
    response = post_raw(platform_api if url == EVENTS else api, url, body)
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid input", "code": "invalid", "fields": fields}


def test_a_paired_surrogate_escape_is_an_ordinary_character(api, ada):
    response = post_raw(api, action("edit_lead"), '{"email": "ada@example.com", "first_name": "Ada \\ud83d\\ude00"}')
    assert response.status_code == 200
    assert Lead.objects.get(pk=ada.pk).first_name == "Ada \U0001f600"


@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 5_000, 100_000])
def test_json_nested_too_deep_is_400(api, ada, depth):
    body = '{"email": "ada@example.com", "custom_fields": {"plan": ' + "[" * depth + "]" * depth + "}}"
    response = post_raw(api, action("edit_lead"), body)
    assert response.status_code == 400
    assert response.json() == {
        "message": f"JSON parse error - nested more than {JSON_MAX_DEPTH} levels deep.",
        "code": "parse_error",
    }


def test_json_nested_to_the_limit_is_parsed(api, ada):
    nested = json.dumps(
        {"email": ada.email, "tag": "VIP", "x": json.loads("[" * (JSON_MAX_DEPTH - 1) + "]" * (JSON_MAX_DEPTH - 1))}
    )
    response = post_raw(api, action("assign_tag"), nested)
    # Parsed, then refused for the unknown key: the depth itself is fine.
    assert response.json()["code"] == "unknown_field"


# ---------------------------------------------------------------------------------------------
# Point 6: unauthenticated input


@pytest.mark.parametrize(
    "credentials",
    ["ki_\x00abc:password", "\x00:\x00", "ki_abc\x00:x", "١٢٣:x", "ki_" + "a" * 100 + ":x", "\ud800:x", ":x"],
)
def test_odd_basic_credentials_are_401_invalid_credentials(db, credentials):
    header = "Basic " + base64.b64encode(credentials.encode("utf-8", "surrogatepass")).decode()
    response = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid API credentials", "code": "invalid_credentials"}


def test_nul_in_the_api_password_is_401(account):
    response = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, "pw\x00"))
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/f/%00/", "/f/%00/thanks/", "/c/%00/", "/c/%00/thanks/", "/f/abc%00def/", "/c/²/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_hosted_page_with_a_malformed_public_id_is_404(db, path, method):
    response = getattr(Client(), method)(path)
    assert response.status_code == 404


def test_hosted_pages_with_a_real_public_id_still_open(demo):
    form = Form.objects.get(account=demo, name="Lead magnet")
    product = Product.objects.get(account=demo, name="Course")
    assert Client().get(form.get_absolute_url()).status_code == 200
    assert Client().get(product.get_absolute_url()).status_code == 200
