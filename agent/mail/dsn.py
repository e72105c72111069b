"""Delivery status notifications (RFC 3464): read one, and tell whether it is about a letter we really sent.

Anyone can write "From: MAILER-DAEMON@..." or put our reference in a subject, so looking like a bounce
proves nothing. A bounce counts only when it is a real report (multipart/report; report-type=
delivery-status) that names one of our sent letters (Original-Envelope-Id or the returned message's
Message-ID) and either comes from the mail server we submit to or fails a recipient of that very letter.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from email.message import Message

from agent.pipeline.stage_data import DeliveryReport

_MSGID = re.compile(r"<[^<>\s]+>")
_RETURNED = frozenset({"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"})
_RETURNED_ID = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class SentLetter:
    """A letter that left through our outbox: its Message-ID (bare), its request and its envelope recipients."""

    message_id: str
    request_id: int | None
    recipients: frozenset[str]


def read_delivery_report(message: Message) -> DeliveryReport | None:
    """The report's fields, or None when the mail is not an RFC 3464 delivery report at all."""
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "") or "").lower() != "delivery-status":
        return None
    fields: list[tuple[str, str]] = []
    returned: list[str] = []
    found_status = False
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            found_status = True
            fields.extend(_status_fields(part))
        elif ctype in _RETURNED:
            returned.extend(_returned_ids(part))
    if not found_status:
        return None

    def values(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for k, v in fields if k == name and v))

    return DeliveryReport(
        envelope_id=_xtext(next(iter(values("original-envelope-id")), "")),
        reporting_mta=_typed_value(next(iter(values("reporting-mta")), "")).lower(),
        final_recipients=tuple(dict.fromkeys(_typed_value(v).lower() for v in values("final-recipient"))),
        original_recipients=tuple(dict.fromkeys(_typed_value(v).lower() for v in values("original-recipient"))),
        actions=tuple(dict.fromkeys(v.split()[0].lower() for v in values("action") if v.split())),
        returned_message_ids=tuple(dict.fromkeys(returned)),
    )


def bounce_proof(
    report: DeliveryReport | None,
    letters: Mapping[str, SentLetter],
    *,
    request_id: int,
    from_addr: str,
    our_hosts: Collection[str],
) -> str:
    """How the report is tied to a letter of this request that failed, in words; "" when it is not."""
    if report is None or "failed" not in report.actions:
        return ""
    wanted = [_bare(report.envelope_id)] + [_bare(m) for m in report.returned_message_ids]
    letter = next((letters[m] for m in wanted if m and m in letters and letters[m].request_id == request_id), None)
    if letter is None:
        return ""
    sender_host = from_addr.rpartition("@")[2]
    if _is_ours(report.reporting_mta, our_hosts) or _is_ours(sender_host, our_hosts):
        return f"a delivery report from our mail server for <{letter.message_id}>"
    failed = [r for r in report.final_recipients + report.original_recipients if r in letter.recipients]
    if failed:
        return f"a delivery report for <{letter.message_id}>, failing its recipient {failed[0]}"
    return ""


def _status_fields(part: Message) -> Iterable[tuple[str, str]]:
    payload = part.get_payload()
    if isinstance(payload, list):  # the stdlib parses each block of fields as a small message
        for block in payload:
            if isinstance(block, Message):
                for name, value in block.items():
                    yield name.strip().lower(), " ".join(str(value).split())
        return
    text = part.get_payload(decode=True)
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(payload)
    for line in re.sub(r"\r?\n[ \t]+", " ", body).splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            yield name.strip().lower(), " ".join(value.split())


def _returned_ids(part: Message) -> list[str]:
    payload = part.get_payload()
    if isinstance(payload, list):
        found = [str(m.get("Message-ID", "")) for m in payload if isinstance(m, Message)]
        return [x.group(0) for v in found if (x := _MSGID.search(v))]
    data = part.get_payload(decode=True)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(payload)
    return _RETURNED_ID.findall(text)


def _typed_value(value: str) -> str:
    """'rfc822; a@b' -> 'a@b' and 'dns; mx.example' -> 'mx.example' (the type is optional in practice)."""
    kind, sep, rest = value.partition(";")
    return (rest if sep else kind).strip().strip("<>").strip()


def _xtext(value: str) -> str:
    return _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), value.strip())


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>").strip().lower()


def _is_ours(host: str, our_hosts: Collection[str]) -> bool:
    host = host.strip().lower().rstrip(".")
    return bool(host) and any(host == h or host.endswith("." + h) for h in (o.strip().lower().rstrip(".") for o in our_hosts) if h)
