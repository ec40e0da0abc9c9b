"""The offline IP-to-country lookup and the GDPR area (EU 27 + IS, LI, NO + UK)."""

import pytest

from leads.services.geo import GDPR_COUNTRIES, country_for_ip, is_gdpr_country


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),  # Google public DNS
        ("9.9.9.9", "US"),  # Quad9
        ("88.198.0.1", "DE"),  # Hetzner
        ("80.67.169.12", "FR"),  # FDN resolver
        ("193.0.6.139", "NL"),  # RIPE NCC
        ("194.153.205.26", "IT"),
        ("195.130.131.1", "BE"),
        ("212.58.244.22", "GB"),  # BBC
        ("130.208.0.1", "IS"),  # University of Iceland
        ("129.240.0.1", "NO"),  # University of Oslo
        ("62.2.0.1", "CH"),
        ("2001:4860:4860::8888", "US"),
        ("2a00:1450:4001::1", "DE"),
        ("::ffff:8.8.8.8", "US"),
    ],
)
def test_country_for_ip_finds_well_known_networks_offline(ip, country):
    assert country_for_ip(ip) == country


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "::1", "fe80::1", "not-an-ip", ""])
def test_country_for_ip_is_none_for_private_or_malformed_addresses(ip):
    assert country_for_ip(ip) is None


def test_gdpr_area_is_eu_eea_and_uk():
    assert len(GDPR_COUNTRIES) == 27 + 3 + 1
    assert {"DE", "FR", "IE", "IS", "LI", "NO", "GB"} <= GDPR_COUNTRIES


@pytest.mark.parametrize(
    ("code", "expected"), [("de", True), ("GB", True), ("NO", True), ("CH", False), ("US", False), (None, False)]
)
def test_is_gdpr_country(code, expected):
    assert is_gdpr_country(code) is expected
