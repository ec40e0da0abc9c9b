"""IP address to country, offline, and whether that country is in the GDPR area.

The lookup uses geoip2fast: pure Python, no network, and it ships its own data file (MaxMind
GeoLite2 Country, IPv4 and IPv6) inside the wheel, so a hosted page never waits on a remote
service and tests are deterministic. We load the IPv4+IPv6 file once per process (about 0.1 s).
"""

import functools
import ipaddress

from geoip2fast import GeoIP2Fast

# The GDPR applies in the 27 EU member states, the three EEA members outside the EU, and (as
# the UK GDPR) in the United Kingdom. ISO 3166-1 alpha-2 codes, as the IP database returns them.
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
EEA_NON_EU_COUNTRIES = frozenset({"IS", "LI", "NO"})
UK = frozenset({"GB"})
GDPR_COUNTRIES = EU_COUNTRIES | EEA_NON_EU_COUNTRIES | UK

IPV4_AND_IPV6_DATA_FILE = "geoip2fast-ipv6.dat.gz"


@functools.cache
def _database() -> GeoIP2Fast:
    return GeoIP2Fast(verbose=False, geoip2fast_data_file=IPV4_AND_IPV6_DATA_FILE)


def country_for_ip(ip: str) -> str | None:
    """The ISO country code of a public IP address, or None (private, reserved, unknown, malformed)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global:
        return None
    result = _database().lookup(str(address))
    code = (result.country_code or "").upper()
    if result.is_private or len(code) != 2 or not code.isalpha():
        return None
    return code


def is_gdpr_country(country_code: str | None) -> bool:
    return country_code is not None and country_code.upper() in GDPR_COUNTRIES
