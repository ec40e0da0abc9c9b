"""GET /api/v1/<assets>, /api/v1/leads/{id} and /api/v1/leads/search."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import CustomFieldOption, MembershipLevel, SequenceStep
from leads.services import lead_tag_assign
from tests.leads import factories as f

pytestmark = pytest.mark.django_db

SIMPLE_KINDS = [
    ("tags", f.TagFactory),
    ("lists", f.LeadListFactory),
    ("videos", f.VideoFactory),
    ("split-test-links", f.SplitTestLinkFactory),
]


@pytest.mark.parametrize(("path", "factory"), SIMPLE_KINDS)
def test_asset_list_gives_id_name_and_utc_created_at(api, account, path, factory):
    asset = factory(account=account, name="Customer")
    response = api.get(f"/api/v1/{path}")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": asset.id, "name": "Customer", "created_at": asset.created_at.isoformat().replace("+00:00", "Z")}
    ]


@pytest.mark.parametrize(("path", "factory"), SIMPLE_KINDS)
def test_asset_list_hides_other_accounts_assets(api, account, other_account, path, factory):
    factory(account=other_account, name="Theirs")
    assert api.get(f"/api/v1/{path}").json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_asset_list_is_newest_first(api, account):
    now = timezone.now()
    old = f.TagFactory(account=account, name="Old", created_at=now - timedelta(days=2))
    new = f.TagFactory(account=account, name="New", created_at=now)
    middle = f.TagFactory(account=account, name="Middle", created_at=now - timedelta(days=1))
    ids = [item["id"] for item in api.get("/api/v1/tags").json()["results"]]
    assert ids == [new.id, middle.id, old.id]


def test_asset_list_paginates_with_page_and_page_size(api, account):
    tags = [f.TagFactory(account=account) for _ in range(5)]
    newest_first = [tag.id for tag in sorted(tags, key=lambda t: (t.created_at, t.id), reverse=True)]
    body = api.get("/api/v1/tags", {"page": 2, "page_size": 2}).json()
    assert body["count"] == 5
    assert [item["id"] for item in body["results"]] == newest_first[2:4]
    assert body["next"].endswith("page=3&page_size=2")


def test_asset_list_page_size_is_capped_at_500(api, account):
    f.TagFactory.create_batch(3, account=account)
    body = api.get("/api/v1/tags", {"page_size": 100000}).json()
    assert len(body["results"]) == 3
    response = api.get("/api/v1/tags", {"page_size": 501, "page": 1})
    assert response.status_code == 200


def test_asset_list_page_past_the_last_is_404(api, account):
    f.TagFactory(account=account)
    response = api.get("/api/v1/tags", {"page": 2})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_asset_list_searches_on_name(api, account):
    f.TagFactory(account=account, name="VIP buyer")
    f.TagFactory(account=account, name="Customer")
    names = [item["name"] for item in api.get("/api/v1/tags", {"search": "vip"}).json()["results"]]
    assert names == ["VIP buyer"]


def test_sequences_come_with_their_steps(api, account):
    sequence = f.SequenceFactory(account=account, name="Onboarding", steps=2)
    item = api.get("/api/v1/sequences").json()["results"][0]
    assert item["id"] == sequence.id
    assert item["steps"] == [
        {"position": 1, "subject": "Step 1", "delay_seconds": 86400},
        {"position": 2, "subject": "Step 2", "delay_seconds": 86400},
    ]
    assert SequenceStep.objects.filter(sequence=sequence).count() == 2


def test_pages_come_with_their_url(api, account):
    f.PageFactory(account=account, name="Sales page", url="https://pages.example.com/sales")
    assert api.get("/api/v1/pages").json()["results"][0]["url"] == "https://pages.example.com/sales"


def test_forms_come_with_the_hosted_form_url(api, account):
    form = f.FormFactory(account=account, name="Lead magnet")
    assert api.get("/api/v1/forms").json()["results"][0]["url"] == f"http://testserver/f/{form.public_id}/"


def test_tracking_links_come_with_their_target(api, account):
    f.TrackingLinkFactory(account=account, name="Promo", target_url="https://example.com/promo")
    assert api.get("/api/v1/tracking-links").json()["results"][0]["target_url"] == "https://example.com/promo"


def test_calendars_come_with_their_classes(api, account):
    calendar = f.CalendarFactory(account=account, name="Coaching")
    intro = f.CalendarClassFactory(calendar=calendar, name="Intro call")
    item = api.get("/api/v1/calendars").json()["results"][0]
    assert item["classes"] == [{"id": intro.id, "name": "Intro call"}]


def test_memberships_come_with_their_levels(api, account):
    membership = f.MembershipFactory(account=account, name="Academy")
    basic = MembershipLevel.objects.create(membership=membership, name="Basic", position=1)
    pro = MembershipLevel.objects.create(membership=membership, name="Pro", position=2)
    item = api.get("/api/v1/memberships").json()["results"][0]
    assert item["levels"] == [{"id": basic.id, "name": "Basic"}, {"id": pro.id, "name": "Pro"}]


def test_products_come_with_price_points_and_checkout_url(api, account):
    product = f.ProductFactory(account=account, name="Course")
    price_point = f.PricePointFactory(product=product, number=1)
    item = api.get("/api/v1/products").json()["results"][0]
    assert item["url"] == f"http://testserver/c/{product.public_id}/"
    assert item["price_points"] == [
        {
            "id": price_point.id,
            "number": 1,
            "name": "1: 99.00 USD",
            "amount": "99.00",
            "currency": "USD",
            "recurring": False,
        }
    ]


def test_custom_fields_come_with_identifier_type_and_options(api, account):
    field = f.CustomFieldFactory(account=account, identifier="plan", type="drop_down")
    free = CustomFieldOption.objects.create(field=field, value="Free", position=1)
    paid = CustomFieldOption.objects.create(field=field, value="Paid", position=2)
    item = api.get("/api/v1/custom-fields").json()["results"][0]
    assert item["identifier"] == "plan"
    assert item["name"] == "plan"
    assert item["type"] == "drop_down"
    assert item["options"] == [{"id": free.id, "name": "Free"}, {"id": paid.id, "name": "Paid"}]


def test_custom_fields_search_on_identifier(api, account):
    f.CustomFieldFactory(account=account, identifier="favourite_color")
    f.CustomFieldFactory(account=account, identifier="plan")
    results = api.get("/api/v1/custom-fields", {"search": "colo"}).json()["results"]
    assert [item["identifier"] for item in results] == ["favourite_color"]


# Lead details


def test_lead_details_by_id(api, account):
    lead = f.LeadFactory(account=account, email="ada@example.com", first_name="Ada")
    lead_tag_assign(lead=lead, tag=f.TagFactory(account=account, name="Customer"))
    response = api.get(f"/api/v1/leads/{lead.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == lead.id
    assert body["email"] == "ada@example.com"
    assert body["first_name"] == "Ada"
    assert [tag["tag_name"] for tag in body["tags"]] == ["Customer"]


def test_lead_details_lists_every_custom_field_even_empty(api, account):
    f.CustomFieldFactory(account=account, identifier="favourite_color")
    lead = f.LeadFactory(account=account)
    fields = api.get(f"/api/v1/leads/{lead.id}").json()["custom_fields"]
    assert [(item["field_identifier"], item["field_value"]) for item in fields] == [("favourite_color", "")]


def test_lead_details_of_missing_lead_is_404_no_lead_found(api):
    response = api.get("/api/v1/leads/999999")
    assert response.status_code == 404
    assert response.json() == {"message": "No lead found", "code": "lead_not_found"}


def test_lead_details_of_non_numeric_id_is_404_no_lead_found(api):
    response = api.get("/api/v1/leads/abc")
    assert response.status_code == 404
    assert response.json() == {"message": "No lead found", "code": "lead_not_found"}


def test_lead_details_of_another_accounts_lead_is_404_like_missing(api, other_account):
    lead = f.LeadFactory(account=other_account)
    response = api.get(f"/api/v1/leads/{lead.id}")
    assert response.status_code == 404
    assert response.json() == {"message": "No lead found", "code": "lead_not_found"}


# Search


def test_search_finds_lead_case_insensitively(api, account):
    lead = f.LeadFactory(account=account, email="Ada@Example.com")
    response = api.get("/api/v1/leads/search", {"email": "ada@example.COM"})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Lead found"
    assert body["lead"]["id"] == lead.id


def test_search_for_unknown_email_is_200_no_lead_found(api):
    response = api.get("/api/v1/leads/search", {"email": "nobody@example.com"})
    assert response.status_code == 200
    assert response.json() == {"message": "No lead found", "lead": None}


def test_search_does_not_find_another_accounts_lead(api, other_account):
    f.LeadFactory(account=other_account, email="theirs@example.com")
    assert api.get("/api/v1/leads/search", {"email": "theirs@example.com"}).json() == {
        "message": "No lead found",
        "lead": None,
    }


def test_search_without_email_is_400(api):
    response = api.get("/api/v1/leads/search")
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["This field is required."]}


def test_search_with_malformed_email_is_400(api):
    response = api.get("/api/v1/leads/search", {"email": "not-an-email"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["Enter a valid email address."]}
