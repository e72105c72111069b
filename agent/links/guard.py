"""SSRF guard: a link in a stranger's email must not make us talk to our own network.

The check sits where the socket is opened (a network backend for httpcore): the host is resolved once, every
address is checked, and the connection goes to a checked address. A second DNS answer (rebinding) never gets
a say, and each redirect hop passes through the same door."""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Callable
from dataclasses import dataclass, field

import httpcore
import httpx

Resolver = Callable[[str, int], list[str]]


class AddressRefused(httpcore.ConnectError):
    """The host resolves to an address we never connect to (private, loopback, link-local, ...)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve host: {exc.strerror}") from None
    out: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in out:
            out.append(address)
    return out


def public_address(address: str) -> bool:
    """Globally routable unicast: not private, loopback, link-local, multicast, reserved or unspecified."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False  # tests only ([links] allow_private_addresses)
    exempt: frozenset[str] = field(default_factory=frozenset)  # tests only: exact addresses let through
    resolver: Resolver = system_resolver

    def allowed(self, address: str) -> bool:
        return self.allow_private or address in self.exempt or public_address(address)

    def checked_addresses(self, host: str, port: int) -> list[str]:
        addresses = self.resolver(host, port)
        if not addresses:
            raise httpcore.ConnectError("host has no address")
        refused = [a for a in addresses if not self.allowed(a)]
        if refused:
            # One bad answer refuses the host: a mix of public and private answers is how rebinding starts.
            raise AddressRefused(f"host resolves to a non-public address ({refused[0]})")
        return addresses


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses the policy allowed, trying them in the resolver's order."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.peers: list[str] = []  # every address connected to, for tests and logs

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.policy.checked_addresses(host, port):
            try:
                stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if peer is not None and not _same_address(str(peer[0]), address):
                stream.close()
                raise AddressRefused("connected peer is not a checked address")
            self.peers.append(address)
            return stream
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: typing.Any, **kwargs: typing.Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never used for links")


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.split("%", 1)[0]) == ipaddress.ip_address(b.split("%", 1)[0])
    except ValueError:
        return False


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the connection pool swapped for one on the guarded backend.

    No proxies (a proxy would connect on our behalf, past the guard) and no environment settings."""

    def __init__(self, policy: AddressPolicy, *, verify: typing.Any = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self.backend = GuardedBackend(policy)
        context = verify if not isinstance(verify, bool) else httpx.create_ssl_context(verify=verify, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, max_connections=4, max_keepalive_connections=2, network_backend=self.backend
        )


def refused_reason(exc: BaseException) -> str | None:
    """The guard's refusal inside whatever httpx wrapped it in, or None for any other failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AddressRefused):
            return str(current)
        current = current.__cause__ or current.__context__
    text = str(exc)
    return text if "non-public address" in text or "not a checked address" in text else None


