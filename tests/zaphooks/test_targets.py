import asyncio
import ipaddress
import socket

import httpcore
import pytest

from zaphooks import targets


def test_https_public_address_is_accepted():
    assert targets.target_url_problem("https://8.8.8.8/hooks/1", allow_private=False) is None


def test_http_is_refused_in_production():
    assert "https" in targets.target_url_problem("http://8.8.8.8/hook", allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
    ],
)
def test_private_loopback_and_metadata_targets_are_refused(url):
    assert "public" in targets.target_url_problem(url, allow_private=False)


# IPv6 forms that embed an IPv4 address, each around a private one (10.0.0.1, 192.168.1.1,
# 127.0.0.1 or the metadata address) and around a public one (8.8.8.8 or 65.54.227.120).
EMBEDDING_PRIVATE = {
    "ipv4-mapped": "::ffff:192.168.1.1",
    "ipv4-compatible": "::a00:1",
    "6to4 10.0.0.1": "2002:a00:1::1",
    "6to4 metadata": "2002:a9fe:a9fe::1",
    "teredo private server": "2001:0:a00:1:8000:63bf:f7f6:fefe",  # server 10.0.0.1, client 8.9.1.1
    "teredo private client": "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # client 10.0.0.1 (obfuscated)
    "teredo loopback client": "2001:0:4136:e378:8000:63bf:80ff:fffe",  # client 127.0.0.1
    "nat64 well-known": "64:ff9b::a00:1",
    "nat64 well-known loopback": "64:ff9b::7f00:1",
    "nat64 local-use /96 form": "64:ff9b:1::a00:1",
    "nat64 local-use /48 form": "64:ff9b:1:a00:1::",
}


@pytest.mark.parametrize("address", EMBEDDING_PRIVATE.values(), ids=EMBEDDING_PRIVATE.keys())
def test_ipv6_address_embedding_a_private_ipv4_is_not_public(address):
    assert targets.address_is_public(address) is False
    assert "public" in targets.target_url_problem(f"https://[{address}]/hook", allow_private=False)


EMBEDDING_PUBLIC = {
    "ipv4-mapped": "::ffff:8.8.8.8",
    "6to4": "2002:808:808::1",
    "teredo": "2001:0:4136:e378:8000:63bf:f7f6:f7f7",  # server 65.54.227.120, client 8.9.8.8
    "nat64 well-known": "64:ff9b::808:808",
}


@pytest.mark.parametrize("address", EMBEDDING_PUBLIC.values(), ids=EMBEDDING_PUBLIC.keys())
def test_ipv6_address_embedding_a_public_ipv4_is_judged_by_it(address):
    assert targets.address_is_public(address) is True


def test_embedded_ipv4_unwraps_teredo_server_and_deobfuscated_client():
    server, client = targets.embedded_ipv4(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:f5ff:fffe"))
    assert (str(server), str(client)) == ("65.54.227.120", "10.0.0.1")


def test_plain_public_ipv6_is_public_and_unique_local_is_not():
    assert targets.address_is_public("2606:4700:4700::1111") is True
    assert targets.address_is_public("fd00::1") is False


def test_connect_time_guard_refuses_a_name_that_resolves_to_6to4_around_a_private_address(monkeypatch):
    async def resolve(self, host, port, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2002:a00:1::1", port, 0, 0))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", resolve)
    backend = targets.GuardedNetworkBackend(httpcore.AnyIOBackend(), allow_private=False)
    with pytest.raises(targets.TargetRefused):
        asyncio.run(backend.connect_tcp("hooks.example.com", 443, timeout=2))


def test_credentials_in_the_url_are_refused():
    assert targets.target_url_problem("https://user:pw@8.8.8.8/", allow_private=False)


def test_unresolvable_host_is_refused():
    assert "resolve" in targets.target_url_problem("https://no-such-host.invalid/", allow_private=False)


def test_setting_allows_http_and_loopback():
    assert targets.target_url_problem("http://127.0.0.1:9000/hook", allow_private=True) is None


def test_other_schemes_are_refused_even_when_private_is_allowed():
    assert targets.target_url_problem("ftp://127.0.0.1/hook", allow_private=True)


def _listening_socket():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_connect_time_guard_refuses_a_name_that_resolves_to_loopback():
    server = _listening_socket()
    backend = targets.GuardedNetworkBackend(httpcore.AnyIOBackend(), allow_private=False)
    with pytest.raises(targets.TargetRefused):
        asyncio.run(backend.connect_tcp("localhost", server.getsockname()[1], timeout=3))
    server.close()


def test_connect_time_guard_connects_when_private_targets_are_allowed():
    server = _listening_socket()
    backend = targets.GuardedNetworkBackend(httpcore.AnyIOBackend(), allow_private=True)

    async def connect():
        stream = await backend.connect_tcp("127.0.0.1", server.getsockname()[1], timeout=3)
        await stream.aclose()
        return True

    assert asyncio.run(connect())
    server.close()
