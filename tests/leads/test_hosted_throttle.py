"""Hosted pages are throttled per visitor IP: the Redis counter of accounts.throttling, a
friendly 429 page with Retry-After, and nothing written by a refused request."""

import pytest

from leads.hosted import views as hosted_views
from leads.models import Lead
from tests.leads.factories import FormFactory, PricePointFactory, ProductFactory

US = "8.8.8.8"
OTHER = "1.1.1.1"
BUDGET = 3


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    monkeypatch.setattr(hosted_views, "HOSTED_REQUESTS_PER_WINDOW", BUDGET)


@pytest.fixture
def form(account):
    return FormFactory(account=account)


def _spend(client, path, ip, times=BUDGET):
    for _ in range(times):
        assert client.get(path, REMOTE_ADDR=ip).status_code == 200


def test_past_the_budget_a_visitor_gets_a_friendly_429_with_retry_after(client, form):
    path = f"/f/{form.public_id}/"
    _spend(client, path, US)
    response = client.get(path, REMOTE_ADDR=US)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= hosted_views.HOSTED_WINDOW_SECONDS
    page = response.content.decode()
    assert "Too many requests" in page and "Please wait" in page


def test_a_throttled_submission_writes_nothing(client, form):
    _spend(client, f"/f/{form.public_id}/", US)
    response = client.post(f"/f/{form.public_id}/", {"email": "v@example.com"}, REMOTE_ADDR=US)
    assert response.status_code == 429
    assert not Lead.objects.exists()


def test_the_budget_is_per_visitor_ip(client, form):
    _spend(client, f"/f/{form.public_id}/", US)
    assert client.get(f"/f/{form.public_id}/", REMOTE_ADDR=OTHER).status_code == 200


def test_the_budget_is_shared_by_every_hosted_page(client, form, account):
    product = ProductFactory(account=account)
    PricePointFactory(product=product)
    _spend(client, f"/f/{form.public_id}/", US)
    assert client.get(f"/c/{product.public_id}/", REMOTE_ADDR=US).status_code == 429
    assert client.get("/f/confirm/anything/", REMOTE_ADDR=US).status_code == 429


def test_ipv6_visitors_share_the_budget_of_their_64(client, form):
    _spend(client, f"/f/{form.public_id}/", "2001:db8:1:2::1")
    assert client.get(f"/f/{form.public_id}/", REMOTE_ADDR="2001:db8:1:2::ffff").status_code == 429
    assert client.get(f"/f/{form.public_id}/", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_the_visitor_ip_is_the_one_a_trusted_proxy_reports(client, form, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for _ in range(BUDGET):
        client.get(f"/f/{form.public_id}/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=US)
    assert client.get(f"/f/{form.public_id}/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=US).status_code == 429
    assert client.get(f"/f/{form.public_id}/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OTHER).status_code == 200
