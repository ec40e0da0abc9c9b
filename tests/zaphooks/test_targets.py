import asyncio
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
