"""SSRF guard: a hook target must be https and reach only public addresses.

Checked twice: when a subscription is made (`target_url_problem`) and again for every new
connection (`GuardedConnector`, the aiohttp connector of every hook request), against the address
the name resolves to at that moment, so a DNS answer that changes after subscribing (DNS
rebinding) still cannot reach an internal host. The connection goes to the checked IP; TLS still
verifies and sends SNI for the URL's host name.
`HOOKS_ALLOW_PRIVATE_TARGETS` (development and tests) allows http and private or loopback targets.
"""

import ipaddress
import socket
import ssl
from functools import lru_cache
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import ResolveResult
from django.conf import settings

CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 10.0
# sock_connect, not connect: aiohttp's `connect` also counts the wait for a free pooled connection.
TIMEOUT = aiohttp.ClientTimeout(total=TOTAL_TIMEOUT, sock_connect=CONNECT_TIMEOUT)


class TargetRefused(aiohttp.ClientConnectionError):
    """Raised for a target we will not connect to (before any connection is made)."""


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


class GuardedConnector(aiohttp.TCPConnector):
    """An aiohttp connector whose every new connection goes only to checked addresses.

    aiohttp connects to exactly the addresses `_resolve_host` returns (after its resolver, its DNS
    cache, or straight from the URL for an IP literal, which never reaches a resolver: that is why
    the check sits here and not in an `AbstractResolver`). Each answer is checked on every new
    connection, cached or not, and a name with any non-public address is refused outright. TLS still
    verifies the certificate against the URL's host name and sends it as SNI.
    """

    def __init__(self, *, allow_private: bool | None = None, **kwargs):
        super().__init__(ssl=tls_context(), **kwargs)
        self._allow_private = allow_private_targets() if allow_private is None else allow_private

    async def _resolve_host(self, host: str, port: int, traces=None) -> list[ResolveResult]:
        answers = await super()._resolve_host(host, port, traces=traces)
        if not self._allow_private and not (answers and all(address_is_public(a["host"]) for a in answers)):
            raise TargetRefused(f"refused: {host} resolves to a non-public address")
        return answers


def guarded_session(*, allow_private: bool | None = None, **connector_options) -> aiohttp.ClientSession:
    """A client session for hook targets: the guarded connector, no redirects followed (each request
    passes allow_redirects=False as well), no cookies kept (a jar would carry one tenant's cookies to
    another's endpoint on the same host), no proxy from the environment, strict timeouts."""
    return aiohttp.ClientSession(
        connector=GuardedConnector(allow_private=allow_private, **connector_options),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=TIMEOUT,
        trust_env=False,
    )


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every connection: loading the CA bundle costs tens of milliseconds."""
    return ssl.create_default_context()
