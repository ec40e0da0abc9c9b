from django.test import override_settings

from leads.services import lead_tag_assign
from tests.conftest import api_client_for
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks.models import Subscription, SubscriptionState

from .factories import SubscriptionFactory

HOOKS = "/api/v1/hooks"


def _subscribe(api, **body):
    return api.post(HOOKS, {"event": "assign_tag", "target_url": "https://hooks.example.com/1", **body}, format="json")


def test_subscribe_answers_201_with_the_contract_fields(api, tag):
    response = _subscribe(api, filter={"tag": "VIP"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "event", "target_url", "filter", "created_at"}
    assert body["event"] == "assign_tag" and body["filter"] == {"tag": "VIP"}
    assert Subscription.objects.get(pk=body["id"]).filter_resolved == {"tag": tag.pk}


def test_subscribe_without_filter(api):
    assert _subscribe(api).json()["filter"] == {}


def test_unknown_event_is_a_400(api):
    response = _subscribe(api, event="lead.created")
    assert response.status_code == 400 and "event" in response.json()["fields"]


def test_filter_key_that_does_not_fit_the_event_is_a_400(api):
    response = _subscribe(api, filter={"list": "Newsletter"})
    assert response.status_code == 400
    assert "list" in response.json()["fields"]["filter"][0]


def test_unknown_asset_is_a_400(api):
    response = _subscribe(api, filter={"tag": "No such tag"})
    assert response.status_code == 400 and "No such tag" in response.json()["fields"]["filter"][0]


def test_reaches_score_without_score_is_a_400(api):
    assert _subscribe(api, event="reaches_score").status_code == 400
    assert _subscribe(api, event="reaches_score", filter={"score": 100}).status_code == 201


@override_settings(HOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_http_target_is_refused_in_production(api):
    response = _subscribe(api, target_url="http://8.8.8.8/hook")
    assert response.status_code == 400 and "https" in response.json()["fields"]["target_url"][0]


@override_settings(HOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_private_target_is_refused_in_production(api):
    for url in ("https://127.0.0.1/hook", "https://10.0.0.5/hook", "https://169.254.169.254/"):
        assert _subscribe(api, target_url=url).status_code == 400


def test_list_shows_only_active_hooks_of_the_account(api, account, other_account):
    mine = SubscriptionFactory(account=account)
    SubscriptionFactory(account=account, state=SubscriptionState.DELETED)
    SubscriptionFactory(account=other_account)
    assert [hook["id"] for hook in api.get(HOOKS).json()] == [mine.pk]


def test_unsubscribe_answers_204_also_when_already_gone(api, account):
    hook = SubscriptionFactory(account=account)
    assert api.delete(f"{HOOKS}/{hook.pk}").status_code == 204
    assert api.delete(f"{HOOKS}/{hook.pk}").status_code == 204
    assert api.delete(f"{HOOKS}/999999").status_code == 204
    hook.refresh_from_db()
    assert hook.state == SubscriptionState.DELETED


def test_unsubscribe_never_touches_another_accounts_hook(api, other_account):
    theirs = SubscriptionFactory(account=other_account)
    assert api.delete(f"{HOOKS}/{theirs.pk}").status_code == 204
    theirs.refresh_from_db()
    assert theirs.state == SubscriptionState.ACTIVE


def test_hooks_need_an_activated_account(pending_account):
    response = api_client_for(pending_account).get(HOOKS)
    assert response.status_code == 403


def test_samples_are_recent_real_events_newest_first(api, account):
    lead = LeadFactory(account=account)
    tags = [TagFactory(account=account) for _ in range(4)]
    for tag in tags:
        lead_tag_assign(lead=lead, tag=tag)
    samples = api.get(f"{HOOKS}/samples/assign_tag").json()
    assert [s["action_details"]["tag"]["tag_id"] for s in samples] == [t.pk for t in reversed(tags)][:3]
    assert set(samples[0]) == {"id", "action", "occurred_at", "lead", "action_details"}


def test_samples_apply_the_filter(api, account):
    lead = LeadFactory(account=account)
    wanted, other = TagFactory(account=account), TagFactory(account=account)
    lead_tag_assign(lead=lead, tag=wanted)
    lead_tag_assign(lead=lead, tag=other)
    samples = api.get(f"{HOOKS}/samples/assign_tag", {"tag": wanted.name}).json()
    assert [s["action_details"]["tag"]["tag_id"] for s in samples] == [wanted.pk]


def test_without_events_one_sample_from_the_accounts_own_data(api, account, tag):
    lead = LeadFactory(account=account, email="real.lead@example.com")
    samples = api.get(f"{HOOKS}/samples/assign_tag").json()
    assert len(samples) == 1
    assert samples[0]["lead"]["email"] == lead.email
    assert samples[0]["action_details"] == {"tag": {"tag_id": tag.pk, "tag_name": "VIP"}}
    assert api.get(f"{HOOKS}/samples/assign_tag").json()[0]["id"] == samples[0]["id"]


def test_every_event_has_a_sample(api):
    from django.core.cache import cache

    from zaphooks.filters import EVENTS

    for event in EVENTS:
        cache.clear()  # 26 calls in a row would meet the per-account throttle
        params = {"score": 10} if event == "reaches_score" else {}
        response = api.get(f"{HOOKS}/samples/{event}", params)
        assert response.status_code == 200, event
        assert response.json()[0]["action"] == event


def test_samples_never_show_another_accounts_events(api, other_account):
    their_lead = LeadFactory(account=other_account, email="theirs@example.com")
    lead_tag_assign(lead=their_lead, tag=TagFactory(account=other_account))
    samples = api.get(f"{HOOKS}/samples/assign_tag").json()
    assert all(s["lead"]["email"] != "theirs@example.com" for s in samples)


def test_samples_with_a_bad_filter_are_a_400(api):
    assert api.get(f"{HOOKS}/samples/assign_tag", {"tag": "nope"}).status_code == 400
    assert api.get(f"{HOOKS}/samples/reaches_score").status_code == 400


def test_samples_of_an_unknown_event_are_a_404(api):
    assert api.get(f"{HOOKS}/samples/nothing").status_code == 404
