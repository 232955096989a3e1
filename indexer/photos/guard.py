"""The SSRF guard for photo downloads: which URLs may be fetched and which addresses may be connected to.

A merchant's catalog (or a listing form) names the URLs, so a URL must never make the service reach into
its own network: only http(s), and only hosts whose every address is public, unless the host name or the
address is in IMAGE_FETCH_ALLOWLIST. The fetcher connects to the address checked here (see fetch.py), so
a DNS answer that changes between the check and the connection (rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")


class PhotoRefused(ValueError):
    """A URL the guard will not fetch, with the reason in the message."""


@dataclass(frozen=True)
class Allowlist:
    """Host names (exact, case-insensitive) and networks that may be reached although not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> Allowlist:
        """'localhost, 10.0.0.0/8, 192.168.1.20' -> an Allowlist; a bad CIDR is a ValueError naming it."""
        hosts, networks = set(), []
        for item in (part.strip() for part in (text or "").split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                if "/" in item:
                    raise ValueError(f"IMAGE_FETCH_ALLOWLIST: {item!r} is not a valid CIDR") from None
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


def normalized(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def non_public_reason(address: IPAddress) -> str | None:
    """Why an address is not a public one (None when it is)."""
    address = normalized(address)
    for label, flag in (("loopback", address.is_loopback), ("unspecified", address.is_unspecified),
                        ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                        ("reserved", address.is_reserved), ("private", address.is_private)):
        if flag:
            return label
    # Shared (100.64/10), documentation and similar ranges are neither private nor global.
    return None if address.is_global else "non-global"


def check_scheme(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; PhotoRefused for any other scheme or a URL without a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise PhotoRefused(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise PhotoRefused(f"scheme {scheme or '(none)'}:// is not allowed; only http and https")
    if not parts.hostname:
        raise PhotoRefused("URL has no host")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def check_addresses(host: str, addresses: list[IPAddress], allowlist: Allowlist) -> list[IPAddress]:
    """The addresses a connection to `host` may use. Every address must pass, not just one: a name that
    resolves to a public and a private address would otherwise reach the private one on a retry."""
    if not addresses:
        raise PhotoRefused(f"{host} has no address")
    if allowlist.allows_host(host):
        return addresses
    for address in addresses:
        reason = non_public_reason(address)
        if reason and not allowlist.allows_address(normalized(address)):
            raise PhotoRefused(f"{host} resolves to {address}, a {reason} address "
                               "(not in IMAGE_FETCH_ALLOWLIST)")
    return addresses


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Addresses of `host` (IPv4 first, as most photo CDNs and test servers listen there), de-duplicated."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise PhotoRefused(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    found = dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos)
    return sorted(found, key=lambda a: a.version)


async def checked_addresses(url: str, allowlist: Allowlist) -> tuple[str, str, int, list[IPAddress]]:
    """(scheme, host, port, addresses to connect to) of a URL the guard lets through; PhotoRefused else."""
    scheme, host, port = check_scheme(url)
    return scheme, host, port, check_addresses(host, await resolve(host, port), allowlist)
