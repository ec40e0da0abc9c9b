"""The visitor's IP: X-Forwarded-For believed only from settings.TRUSTED_PROXIES."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from kartra_integrations.client_ip import ClientIpError, client_ip


def _request(remote_addr="203.0.113.7", forwarded_for=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_peer_is_the_visitor(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.7", forwarded_for="88.198.0.1")) == "203.0.113.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored_even_when_malformed(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("203.0.113.7", forwarded_for="garbage")) == "203.0.113.7"


def test_forwarded_for_from_a_trusted_proxy_names_the_visitor(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(_request("10.0.0.1", forwarded_for="88.198.0.1")) == "88.198.0.1"


def test_trusted_network_and_chain_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    request = _request("10.0.0.1", forwarded_for="1.2.3.4, 88.198.0.1, 2001:db8::5, 10.2.3.4")
    # 1.2.3.4 was written by the visitor itself; the first untrusted hop from the right is real.
    assert client_ip(request) == "88.198.0.1"


def test_forwarded_for_with_ports_and_brackets(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_ip(_request("127.0.0.1", forwarded_for="88.198.0.1:5123")) == "88.198.0.1"
    assert client_ip(_request("127.0.0.1", forwarded_for="[2a00:1450:4001::1]:443")) == "2a00:1450:4001::1"


def test_trusted_proxy_without_header_is_the_visitor(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_ip(_request("127.0.0.1")) == "127.0.0.1"


@pytest.mark.parametrize("header", ["not-an-ip", "88.198.0.1,", "1.2.3.4; 5.6.7.8", "999.1.1.1", "x" * 5000])
def test_malformed_forwarded_for_from_a_trusted_proxy_is_refused(settings, header):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    with pytest.raises(ClientIpError):
        client_ip(_request("127.0.0.1", forwarded_for=header))


def test_a_malformed_trusted_proxies_setting_fails_loudly(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured):
        client_ip(_request())
