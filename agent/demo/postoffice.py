"""The demo's outside world: an in-process SMTP server receiving our mail, and local delivery of the agencies' replies."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import mailbox
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession

from agent.demo.agencies import Filed, Reply, SimAgency


@dataclass(frozen=True)
class Received:
    """One message our outbox delivered to the SMTP server."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


class _Handler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        with self.lock:
            # original_content: the bytes as received (content is the same unless decode_data is on).
            self.received.append(Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 and a free port, in its own thread, recording every message."""

    def __init__(self) -> None:
        self._handler = _Handler()
        # hostname given explicitly: aiosmtpd's default is ::1 whenever IPv6 works.
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=free_port())
        self._seen = 0

    def start(self) -> int:
        self._controller.start()
        return int(self._controller.port)

    def stop(self) -> None:
        self._controller.stop()

    def take_new(self) -> list[Received]:
        with self._handler.lock:
            new = self._handler.received[self._seen :]
            self._seen = len(self._handler.received)
        return new

    @property
    def all(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)


def free_port() -> int:
    # aiosmtpd checks readiness by connecting to the port it was given, so it needs a real number, not 0.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def filed_from(msg: EmailMessage, received: dt.date) -> Filed:
    subject = str(msg.get("Subject", "")).strip()
    reference = subject[1 : subject.index("]")] if subject.startswith("[") and "]" in subject else ""
    reply_to = getaddresses([str(msg.get("Reply-To") or msg.get("From") or "")])[0][1]
    return Filed(
        reference=reference,
        subject=subject,
        message_id=str(msg.get("Message-ID", "")).strip(),
        reply_to=reply_to,
        received=received,
    )


def compose_reply(agency: SimAgency, filed: Filed, reply: Reply, when: dt.datetime) -> bytes:
    """The agency's mail as it would arrive at our server, with the Delivered-To a local delivery adds."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Delivered-To"] = filed.reply_to
    msg["From"] = f"{agency.name} <{agency.email}>"
    msg["To"] = filed.reply_to
    msg["Subject"] = reply.subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=agency.domain)
    if reply.threaded and filed.message_id:
        msg["In-Reply-To"] = filed.message_id
        msg["References"] = filed.message_id
    for name, value in reply.headers:
        msg[name] = value
    msg.set_content(reply.body)
    for att in reply.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.payload, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg.as_bytes()


def deliver(maildir: Path, raw: bytes) -> str:
    """Local delivery into new/, as an MTA would do it."""
    return mailbox.Maildir(maildir, factory=None, create=True).add(raw)
