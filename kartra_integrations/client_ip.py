"""The visitor's IP address, believing X-Forwarded-For only from our own proxies.

REMOTE_ADDR is the peer that opened the connection. When that peer is one of the proxies listed
in settings.TRUSTED_PROXIES (addresses or networks, empty by default), the X-Forwarded-For chain
is walked from the right, skipping further trusted proxies; the first address that is not ours
is the visitor. From any other peer the header is ignored: a visitor cannot forge its country.

A malformed chain from a trusted proxy is refused with ClientIpError (a page shows it as a
clear error), never guessed around.
"""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_FORWARDED_FOR_LENGTH = 2048


class ClientIpError(ValueError):
    """The request's forwarding headers cannot be trusted to name the visitor."""


def trusted_networks(entries: Iterable[str] | None = None) -> list[Network]:
    entries = settings.TRUSTED_PROXIES if entries is None else entries
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {entry!r} is not an IP address or network") from exc
    return networks


def _parse(value: str) -> Address:
    value = value.strip()
    # "[2001:db8::1]:443" and "203.0.113.9:443" are forms some proxies write.
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, networks: list[Network]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(request) -> str:
    """The visitor's address as a string; raises ClientIpError for a bad chain from a trusted proxy."""
    networks = trusted_networks()
    try:
        peer = _parse(request.META.get("REMOTE_ADDR", ""))
    except ValueError as exc:
        raise ClientIpError("The connection has no valid peer address.") from exc
    if not _is_trusted(peer, networks):
        return str(peer)

    header = request.META.get("HTTP_X_FORWARDED_FOR")
    if header is None:
        return str(peer)
    if len(header) > MAX_FORWARDED_FOR_LENGTH:
        raise ClientIpError("The X-Forwarded-For header is too long.")
    try:
        chain = [_parse(part) for part in header.split(",")]
    except ValueError as exc:
        raise ClientIpError("The X-Forwarded-For header is malformed.") from exc
    for address in reversed(chain):
        if not _is_trusted(address, networks):
            return str(address)
    # Every hop is one of ours: the left-most is as close to the visitor as we can know.
    return str(chain[0])
