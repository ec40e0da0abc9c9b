import asyncio
import ipaddress
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver

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


def test_credentials_in_the_url_are_refused():
    assert targets.target_url_problem("https://user:pw@8.8.8.8/", allow_private=False)


def test_unresolvable_host_is_refused():
    assert "resolve" in targets.target_url_problem("https://no-such-host.invalid/", allow_private=False)


def test_setting_allows_http_and_loopback():
    assert targets.target_url_problem("http://127.0.0.1:9000/hook", allow_private=True) is None


def test_other_schemes_are_refused_even_when_private_is_allowed():
    assert targets.target_url_problem("ftp://127.0.0.1/hook", allow_private=True)


class StubResolver(AbstractResolver):
    """DNS that answers every name with `addresses` (real DNS cannot be controlled here)."""

    def __init__(self, *addresses: str):
        self.addresses = addresses

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [
            {"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET}
            | {"proto": 0, "flags": 0}
            for a in self.addresses
        ]

    async def close(self):
        pass


async def _post_to_local_server(url_host: str, *, allow_private: bool, resolver=None) -> tuple[int, str]:
    """POST through a guarded session to a server on 127.0.0.1, addressed as `url_host`; returns the
    status and the Host header the server saw. The server is real; only DNS may be stubbed."""

    async def answer(request):
        return web.Response(text=request.host)

    app = web.Application()
    app.router.add_post("/hook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        options = {"resolver": resolver} if resolver else {}
        async with (
            targets.guarded_session(allow_private=allow_private, **options) as session,
            session.post(f"http://{url_host}:{port}/hook", data=b"{}") as response,
        ):
            return response.status, (await response.text()).rsplit(":", 1)[0]
    finally:
        await runner.cleanup()


def _refused(url_host: str, resolver=None) -> bool:
    try:
        asyncio.run(_post_to_local_server(url_host, allow_private=False, resolver=resolver))
    except targets.TargetRefused:
        return True
    return False


def test_connect_time_guard_refuses_a_name_that_resolves_to_loopback():
    assert _refused("localhost")


def test_connect_time_guard_refuses_a_loopback_ip_literal():
    # aiohttp skips the resolver for IP literals: the guard sits where both meet.
    assert _refused("127.0.0.1")


def test_connect_time_guard_refuses_an_ipv4_mapped_loopback_ip_literal():
    assert _refused("[::ffff:127.0.0.1]")


def test_connect_time_guard_refuses_a_name_that_resolves_to_6to4_around_a_private_address():
    assert _refused("hooks.example.com", StubResolver("2002:a00:1::1"))


def test_connect_time_guard_refuses_a_name_with_any_private_answer():
    assert _refused("hooks.example.com", StubResolver("8.8.8.8", "10.0.0.1"))


def test_connect_time_guard_connects_to_the_address_it_checked_with_the_url_host_kept():
    # Private targets allowed so that the checked answer may be the local server.
    status, host = asyncio.run(
        _post_to_local_server("hooks.example.com", allow_private=True, resolver=StubResolver("127.0.0.1"))
    )
    assert (status, host) == (200, "hooks.example.com")


def test_the_guarded_session_keeps_no_cookies_and_follows_no_proxy_from_the_environment():
    async def make():
        async with targets.guarded_session() as session:
            return session.cookie_jar, session.trust_env

    jar, trust_env = asyncio.run(make())
    assert isinstance(jar, aiohttp.DummyCookieJar)
    assert trust_env is False
