"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it accepts and answers with scripted codes."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMsg
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from support.oauth_server import decode_xoauth2

from agent.config import SmtpSettings

_TEXT = {
    250: "2.0.0 OK",
    421: "4.3.2 Service not available, closing channel",
    450: "4.2.1 Mailbox busy, try later",
    451: "4.3.0 Temporary failure, try again later",
    452: "4.3.1 Insufficient storage",
    550: "5.1.1 Mailbox unavailable",
    552: "5.3.4 Message too big",
    554: "5.7.1 Rejected",
}


@dataclass(frozen=True)
class Received:
    """One message the server accepted (answered 250 to DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    peer: Any = None  # the client's (address, port): one value per SMTP connection

    @property
    def message(self) -> EmailMsg:
        return message_from_bytes(self.data)

    @property
    def message_id(self) -> str | None:
        return self.message["Message-ID"]


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    rcpt_script: list[int] = field(default_factory=list)
    data_script: list[int] = field(default_factory=list)
    data_attempts: int = 0
    # What to do after storing a message instead of answering 250 at once: ("stall", seconds) or ("drop", 0).
    after_store: list[tuple[str, float]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        code = self.rcpt_script.pop(0) if self.rcpt_script else 250
        if code != 250:
            return f"{code} {_TEXT.get(code, 'scripted reply')}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        code = self.data_script.pop(0) if self.data_script else 250
        if code != 250:
            return f"{code} {_TEXT.get(code, 'scripted reply')}"
        self.received.append(
            Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content), session.peer)
        )
        action, seconds = self.after_store.pop(0) if self.after_store else ("answer", 0.0)
        if action == "stall":
            # Stored, but the 250 comes later than the client is willing to wait.
            await asyncio.sleep(seconds)
        elif action == "drop":
            # Stored, then the connection is gone before any answer.
            server.transport.abort()
            return "250 2.0.0 Message accepted for delivery"
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """Handle given to tests: where the server listens, what it received, and how it should answer next."""

    def __init__(self, controller: Controller, handler: _Handler) -> None:
        self._controller = controller
        self._handler = handler
        self.host = "127.0.0.1"
        self.port = int(controller.port)

    @property
    def messages(self) -> list[Received]:
        return list(self._handler.received)

    @property
    def data_attempts(self) -> int:
        """DATA commands seen, accepted or not: proves whether a send was even tried."""
        return self._handler.data_attempts

    def script_rcpt(self, codes: list[int]) -> None:
        """Answer the next RCPT commands with these codes in order (then 250)."""
        self._handler.rcpt_script.extend(codes)

    def script_data(self, codes: list[int]) -> None:
        """Answer the next DATA commands with these codes in order (then 250), e.g. [451, 250] or [550]."""
        self._handler.data_script.extend(codes)

    def stall_after_store(self, seconds: float) -> None:
        """Store the next message, then wait this long before answering 250 (a late final reply)."""
        self._handler.after_store.append(("stall", seconds))

    def drop_after_store(self) -> None:
        """Store the next message, then drop the connection without answering."""
        self._handler.after_store.append(("drop", 0.0))

    @property
    def connections_used(self) -> int:
        """Distinct client connections that delivered accepted messages."""
        return len({m.peer for m in self._handler.received})

    def settings(self, **overrides: Any) -> SmtpSettings:
        """SmtpSettings pointing at this server (plain SMTP is allowed on loopback only)."""
        values: dict[str, Any] = {"host": self.host, "port": self.port, "security": "plain", "timeout_seconds": 5}
        values.update(overrides)
        return SmtpSettings(**values)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _OAuthHandler(_Handler):
    """Accepts AUTH XOAUTH2 with a granted (user, token); a refusal is the provider's dance:
    334 with a base64 JSON error, the client's empty line, then 535."""

    granted: set[tuple[str, str]] = field(default_factory=set)
    auths: list[tuple[str, str, bool]] = field(default_factory=list)  # (user, token, accepted)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:  # noqa: N802 - aiosmtpd's naming
        blob = args[1] if len(args) > 1 else (await server.challenge_auth("", encode_to_b64=False)).decode()
        user, token = decode_xoauth2(blob)
        ok = (user, token) in self.granted
        self.auths.append((user, token, ok))
        if ok:
            return AuthResult(success=True, auth_data=user)
        error = base64.b64encode(json.dumps({"status": "401", "schemes": "bearer"}).encode()).decode()
        await server.challenge_auth(error, encode_to_b64=False)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")


class OAuthSmtpServer(SmtpServer):
    """An aiosmtpd that offers only XOAUTH2 and refuses MAIL before a successful AUTH."""

    def __init__(self, controller: Controller, handler: _OAuthHandler) -> None:
        super().__init__(controller, handler)
        self._oauth = handler

    def grant(self, user: str, token: str) -> None:
        self._oauth.granted.add((user, token))

    def revoke(self, user: str, token: str) -> None:
        self._oauth.granted.discard((user, token))

    @property
    def auths(self) -> list[tuple[str, str, bool]]:
        return list(self._oauth.auths)


@pytest.fixture
def smtp_oauth_server() -> Iterator[OAuthSmtpServer]:
    handler = _OAuthHandler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=10,
        auth_require_tls=False, auth_required=True, auth_exclude_mechanism=["PLAIN", "LOGIN"],
    )
    with warnings.catch_warnings():
        # AUTH without TLS is what we want on loopback; aiosmtpd warns about it for every session.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        controller.start()
    try:
        yield OAuthSmtpServer(controller, handler)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = _Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=10)
    controller.start()
    try:
        yield SmtpServer(controller, handler)
    finally:
        controller.stop()
