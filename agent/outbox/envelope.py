"""Envelope checks before SMTP: one bare address per recipient, nothing that could smuggle a command or header."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Deliberately narrow: a local part and a domain, no spaces, brackets, commas, quotes or control characters.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class EnvelopeError(ValueError):
    """An address the sender refuses to pass to the SMTP server."""


def check_address(address: str, what: str) -> str:
    if not _ADDRESS.match(address or ""):
        raise EnvelopeError(f"{what} {address!r} is not a plain email address; refusing to send")
    return address


def check_envelope(sender: str, recipients: Sequence[str]) -> None:
    check_address(sender, "sender")
    if not recipients:
        raise EnvelopeError("no recipients")
    for rcpt in recipients:
        check_address(rcpt, "recipient")
