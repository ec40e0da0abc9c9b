"""The second request kind: an API app's go-live, in the same queue as Zapier activation (FIFO, the
same one-business-day SLA, claim-next, audit); a moderator's approval makes the app live."""

import pytest
from django.test import Client

from accounts.models import ApiAppChange, ApiAppMode
from approvals.business_days import next_business_day_same_time
from approvals.models import ActivationRequest, AuditAction, RequestKind, RequestState
from approvals.services import (
    account_revoke,
    api_app_go_live_submit,
    request_claim_next,
    request_decide,
    request_submit,
    request_withdraw,
)
from kartra_integrations.errors import ApplicationError
from tests.accounts.factories import ApiAppFactory
from tests.approvals.conftest import STATED_USE

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(pending_account):
    return ApiAppFactory(account=pending_account)


@pytest.fixture
def go_live(app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return api_app_go_live_submit(actor=app.account.owner, api_app=app, stated_use=STATED_USE)


def test_a_go_live_request_waits_in_the_queue_with_the_same_sla_and_an_audit_row(go_live, app, mailoutbox):
    assert (go_live.kind, go_live.api_app, go_live.state) == (RequestKind.API_APP_GO_LIVE, app, RequestState.PENDING)
    assert go_live.due_at == next_business_day_same_time(go_live.submitted_at)
    assert go_live.audit_entries.get().action == AuditAction.SUBMITTED
    assert mailoutbox[-1].subject == f"We received the go-live request of your API app {app.name}"


def test_claim_next_takes_both_kinds_first_in_first_out(pending_account, other_account, moderator):
    first = request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)
    second_app = ApiAppFactory(account=other_account)
    second = api_app_go_live_submit(actor=other_account.owner, api_app=second_app, stated_use=STATED_USE)
    assert request_claim_next(actor=moderator).pk == first.pk
    assert request_claim_next(actor=moderator).pk == second.pk


def test_approval_makes_the_app_live_and_leaves_zapier_access_alone(
    go_live, app, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    claimed = request_claim_next(actor=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(actor=moderator, activation_request=claimed, outcome="approved", reason="use_clear")
    app.refresh_from_db()
    assert app.mode == ApiAppMode.LIVE
    assert app.went_live_at is not None
    assert ApiAppChange.objects.filter(api_app=app, action="went_live", actor=moderator).exists()
    app.account.refresh_from_db()
    assert app.account.zapier_activated is False
    assert mailoutbox[-1].subject == f"Your API app {app.name} is live"


def test_rejection_keeps_the_app_in_test_mode(go_live, app, moderator):
    claimed = request_claim_next(actor=moderator)
    request_decide(actor=moderator, activation_request=claimed, outcome="rejected", reason="use_unclear")
    app.refresh_from_db()
    assert app.mode == ApiAppMode.TEST


def test_one_open_go_live_request_per_app(go_live, app):
    with pytest.raises(ApplicationError) as error:
        api_app_go_live_submit(actor=app.account.owner, api_app=app, stated_use=STATED_USE)
    assert error.value.code == "open_request_exists"


def test_an_open_go_live_request_does_not_block_a_zapier_request(go_live, pending_account):
    zapier = request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)
    assert zapier.kind == RequestKind.ZAPIER


def test_the_owner_can_withdraw_a_go_live_request_and_ask_again(go_live, app):
    request_withdraw(actor=app.account.owner, activation_request=go_live)
    again = api_app_go_live_submit(actor=app.account.owner, api_app=app, stated_use=STATED_USE)
    assert again.state == RequestState.PENDING


@pytest.mark.parametrize("state", ["live", "revoked"])
def test_a_live_or_revoked_app_cannot_ask_to_go_live(app, state):
    from django.utils import timezone

    if state == "live":
        app.mode = ApiAppMode.LIVE
    else:
        app.revoked_at = timezone.now()
    app.save()
    with pytest.raises(ApplicationError):
        api_app_go_live_submit(actor=app.account.owner, api_app=app, stated_use=STATED_USE)
    assert not ActivationRequest.objects.filter(api_app=app).exists()


def test_only_the_apps_owner_can_ask(app, other_owner):
    with pytest.raises(ApplicationError) as error:
        api_app_go_live_submit(actor=other_owner, api_app=app, stated_use=STATED_USE)
    assert error.value.status_code == 403


def test_a_short_stated_use_is_refused_naming_the_field(app):
    with pytest.raises(ApplicationError) as error:
        api_app_go_live_submit(actor=app.account.owner, api_app=app, stated_use="Because")
    assert "stated_use" in error.value.fields


def test_revoking_zapier_access_does_not_touch_an_approved_go_live(account, moderator):
    app = ApiAppFactory(account=account)
    request = api_app_go_live_submit(actor=account.owner, api_app=app, stated_use=STATED_USE)
    request_decide(
        actor=moderator, activation_request=request_claim_next(actor=moderator), outcome="approved", reason="use_clear"
    )
    account_revoke(actor=moderator, account=account, reason="owner_asked")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_the_queue_and_the_request_page_show_the_kind_and_the_app(go_live, app, moderator):
    client = Client()
    client.force_login(moderator)
    queue = client.get("/moderation/queue/").content.decode()
    assert "API app go-live" in queue
    assert app.app_id in queue
    detail = client.get(f"/moderation/requests/{go_live.pk}/").content.decode()
    assert 'id="request-kind">API app go-live' in detail
    assert app.name in detail


def test_a_rejected_go_live_does_not_spoil_the_zapier_activation_policy(app, moderator):
    from approvals.selectors import activation_policy_evaluate
    from approvals.services import activation_policy_update

    activation_policy_update(actor=moderator, enabled=True, min_account_age_days=0, require_clean_history=True)
    api_app_go_live_submit(actor=app.account.owner, api_app=app, stated_use=STATED_USE)
    request_decide(
        actor=moderator,
        activation_request=request_claim_next(actor=moderator),
        outcome="rejected",
        reason="use_unclear",
    )
    assert activation_policy_evaluate(account=app.account).holds
