"""SSRF guard: a hook target must be https and reach only public addresses.

Checked twice: when a subscription is made (`target_url_check`) and again for every new
connection (`GuardedNetworkBackend`), against the address the name resolves to at that moment, so
a DNS answer that changes after subscribing (DNS rebinding) still cannot reach an internal host.
The connection goes to the checked IP; TLS still verifies and sends SNI for the URL's host name.
`HOOKS_ALLOW_PRIVATE_TARGETS` (development and tests) allows http and private or loopback targets.
"""

import asyncio
import ipaddress
import select
import socket
import ssl
from functools import lru_cache
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings


class TargetRefused(httpcore.ConnectError):
    """Raised for a target we will not connect to; httpx reports it as a ConnectError."""


def allow_private_targets() -> bool:
    return bool(getattr(settings, "HOOKS_ALLOW_PRIVATE_TARGETS", False))


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052, RFC 4291 2.5.5.1).
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# RFC 8215's local-use NAT64 prefix: not global, and where the IPv4 sits depends on the prefix
# length its operator chose (/48 to /96), so no address in it is taken as public.
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address reaches through: IPv4-mapped and -compatible, 6to4
    (2002::/16), Teredo (2001::/32: its server and its client, de-obfuscated) and NAT64
    (64:ff9b::/96). Empty for a plain IPv6 address."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if ip in NAT64_WELL_KNOWN or ip in IPV4_COMPATIBLE:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


def address_is_public(address: str) -> bool:
    """A public internet address. One that embeds IPv4 addresses is judged by those: 6to4, Teredo or
    NAT64 in front of 10.0.0.1 reaches 10.0.0.1 (through a relay or translator on the way)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL_USE:
            return False
        embedded = embedded_ipv4(ip)
        if embedded:
            return all(_is_public(ipv4) for ipv4 in embedded)
    return _is_public(ip)


def target_url_problem(url: str, *, allow_private: bool | None = None) -> str | None:
    """Why this URL may not be a hook target, or None. Resolves the host (blocking) unless private is allowed."""
    allow_private = allow_private_targets() if allow_private is None else allow_private
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    allowed_schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in allowed_schemes:
        return "The target URL must use https."
    if not parts.hostname:
        return "Enter a valid URL."
    if parts.username or parts.password:
        return "The target URL must not contain credentials."
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "The target URL's host name does not resolve."
    if not all(address_is_public(str(info[4][0])) for info in infos):
        return "The target URL must resolve only to public internet addresses."
    return None


def _socket_readable(sock: socket.socket | None) -> bool:
    """httpcore's test for a pooled connection the server has closed: readable while idle."""
    if sock is None or sock.fileno() == -1:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _KeptSocketStream(httpcore.AsyncNetworkStream):
    """A network stream that keeps its raw socket at hand.

    httpcore asks every pooled connection, before every request, whether its socket is readable;
    anyio answers each time by building a dict of every attribute of the stream (14 % of the
    dispatcher's CPU, measured with py-spy). Same answer, from the kept socket.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _KeptSocketStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        if info == "is_readable":
            return _socket_readable(self._socket)
        if info == "socket":
            return self._socket
        return self._inner.get_extra_info(info)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, refuses non-public addresses, and connects to the checked address."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, *, allow_private: bool):
        self._inner = inner
        self._allow_private = allow_private

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        host = host.decode() if isinstance(host, bytes) else host
        address = host
        if not self._allow_private:
            try:
                infos = await asyncio.wait_for(
                    asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
                )
            except (OSError, TimeoutError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
            addresses = [str(info[4][0]) for info in infos]
            if not addresses or not all(address_is_public(a) for a in addresses):
                raise TargetRefused(f"refused: {host} resolves to a non-public address")
            address = addresses[0]
        return _KeptSocketStream(
            await self._inner.connect_tcp(
                address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )
        )

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise TargetRefused("refused: unix sockets are not hook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: loading the CA bundle costs tens of milliseconds."""
    return httpx.create_ssl_context()


def guarded_transport(*, allow_private: bool | None = None, **kwargs) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every new connection passes the guard."""
    allow_private = allow_private_targets() if allow_private is None else allow_private
    transport = httpx.AsyncHTTPTransport(verify=tls_context(), **kwargs)
    # httpx does not take a network backend as an argument; its pool (httpcore) does.
    transport._pool._network_backend = GuardedNetworkBackend(
        transport._pool._network_backend, allow_private=allow_private
    )
    return transport
