"""The SSRF guard's pure parts: which addresses are public, the allowlist, every address of a name."""

from __future__ import annotations

import ipaddress

import pytest

from indexer.photos.guard import Allowlist, PhotoRefused, check_addresses, check_scheme, non_public_reason

ip = ipaddress.ip_address


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("10.1.2.3", "private"),
    ("192.168.0.10", "private"), ("172.16.5.4", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("240.0.0.1", "reserved"), ("100.64.0.1", "non-global"),
    ("8.8.8.8", None), ("2606:4700::1111", None), ("23.227.38.65", None),
])
def test_non_public_addresses_are_named(address, reason):
    assert non_public_reason(ip(address)) == reason


def test_allowlist_holds_hosts_and_networks():
    allow = Allowlist.parse(" localhost, Photos.Internal. ,10.0.0.0/8, 192.168.1.20, fd00::/8 ,")
    assert allow.hosts == {"localhost", "photos.internal"}
    assert allow.allows_host("LOCALHOST") and not allow.allows_host("example.com")
    assert allow.allows_address(ip("10.9.8.7")) and allow.allows_address(ip("192.168.1.20"))
    assert allow.allows_address(ip("fd12::1")) and not allow.allows_address(ip("192.168.1.21"))
    assert Allowlist.parse("") == Allowlist()


def test_a_bad_cidr_is_an_error_naming_it():
    with pytest.raises(ValueError, match="10.0.0.0/33"):
        Allowlist.parse("10.0.0.0/33")


def test_every_address_of_a_name_must_be_public():
    with pytest.raises(PhotoRefused, match="10.0.0.5, a private address"):
        check_addresses("cdn.example.com", [ip("93.184.216.34"), ip("10.0.0.5")], Allowlist())
    assert check_addresses("cdn.example.com", [ip("93.184.216.34")], Allowlist()) == [ip("93.184.216.34")]
    assert check_addresses("cdn.example.com", [ip("10.0.0.5")], Allowlist.parse("10.0.0.0/24")) == [ip("10.0.0.5")]
    assert check_addresses("cdn.internal", [ip("10.0.0.5")], Allowlist.parse("cdn.internal")) == [ip("10.0.0.5")]


@pytest.mark.parametrize(("url", "target"), [
    ("https://cdn.shopify.com/s/files/1/x.jpg?v=1", ("https", "cdn.shopify.com", 443)),
    ("HTTP://Example.com:8080/a.png", ("http", "example.com", 8080)),
    ("http://[::1]/a.png", ("http", "::1", 80)),
])
def test_http_urls_pass_the_scheme_check(url, target):
    assert check_scheme(url) == target


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.jpg", "example.com/a.jpg",
                                 "http:///a.jpg", "http://example.com:99999/a.jpg"])
def test_anything_else_is_refused(url):
    with pytest.raises(PhotoRefused):
        check_scheme(url)
