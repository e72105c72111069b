"""Build outgoing EmailMessages with headers that cannot be injected into."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from zoneinfo import ZoneInfo

from agent.compose.variables import describe, header_unsafe


class HeaderInjectionError(ValueError):
    """A header value held CR or LF: refused, because it could smuggle extra headers or recipients."""


def _clean(name: str, value: str) -> str:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise HeaderInjectionError(f"{name} contains a line break or NUL; refusing to build the message: {value!r}")
    return value


def _clean_text(name: str, value: str) -> str:
    """Stricter, for the headers a person reads (names, subject): no control character or bidi mark either."""
    bad = header_unsafe(_clean(name, value))
    if bad is not None:
        raise HeaderInjectionError(f"{name} contains {describe(bad)}; refusing to build the message: {value!r}")
    return value


def new_message_id(domain: str) -> str:
    """A globally unique Message-ID, fixed when mail is queued so a retry is recognisably the same mail."""
    return make_msgid(domain=_clean("domain", domain))


def build_message(
    *,
    sender_name: str,
    sender_address: str,
    to: Sequence[str],
    subject: str,
    text: str,
    to_name: str = "",
    zone: str | None = None,
    html: str | None = None,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    message_id: str | None = None,
    date: dt.datetime | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> EmailMessage:
    """One place that sets From/To/Subject/threading headers, each checked for CR/LF first.

    `to_name` is the addressee's display name (the agency's, so a clerk's mail client shows whom we wrote to);
    `zone` the desk's IANA zone, so Date: reads as local time where the operators work (the instant is the same)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((_clean_text("sender name", sender_name), _clean("sender address", sender_address)))
    name = _clean_text("recipient name", to_name) if to_name else ""
    msg["To"] = ", ".join(formataddr((name, _clean("recipient", addr))) for addr in to)
    msg["Subject"] = _clean_text("subject", subject)
    when = date or dt.datetime.now(dt.timezone.utc)
    msg["Date"] = format_datetime(when.astimezone(ZoneInfo(zone)) if zone and when.tzinfo else when)
    domain = sender_address.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = _clean("Message-ID", message_id) if message_id else new_message_id(domain)
    if reply_to:
        msg["Reply-To"] = _clean("Reply-To", reply_to)
    if in_reply_to:
        msg["In-Reply-To"] = _clean("In-Reply-To", in_reply_to)
    if references:
        msg["References"] = " ".join(_clean("References", ref) for ref in references)
    for name, value in extra_headers:
        msg[_clean("header name", name)] = _clean(name, value)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
