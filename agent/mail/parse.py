"""Raw bytes -> ParsedMessage: decoded headers, readable text, safe attachments, and the kind of mail."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterable
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

import mailparser
from mailparser.utils import decode_header_part

from agent.mail import limits
from agent.mail.attachments import sanitize_filename
from agent.mail.autoreply import detect_kind
from agent.mail.dsn import read_delivery_report
from agent.mail.html_text import html_to_text
from agent.mail.sender import raw_header_text, read_sender
from agent.pipeline.stage_data import AttachmentInfo, ParsedMessage

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
_MSGID = re.compile(r"<[^<>\s]+>")
# mail-parser logs a warning for every odd part; the defects we keep say the same once, per message.
logging.getLogger("mailparser").setLevel(logging.CRITICAL)
_DELIVERY_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to")


class ParseError(ValueError):
    """Nothing usable could be made of the bytes; the caller quarantines the message with this reason."""


def parse(raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES) -> ParsedMessage:
    """Parse one message; tolerate every defect that still leaves headers or text to work with."""
    if not raw or not raw.strip():
        raise ParseError("empty message")
    bounded, header_cut = limits.bound_headers(raw)
    try:
        mail = _parse_mail(bounded)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a quarantine reason, not a crash
        raise ParseError(limits.storable(f"mail parser failed: {type(exc).__name__}: {exc}")) from exc
    message = mail.message
    if message is None or not message.keys():
        raise ParseError("no headers: not an email message")

    headers = tuple((name.lower(), _header_text(value)) for name, value in message.raw_items())
    subject = limits.storable(_first(headers, "subject"))
    # Read from the raw header values, never the decoded ones: an encoded word is display text only.
    sender = read_sender(message.raw_items())
    from_addr = sender.address
    plain, htmls = _bodies(message)
    html = "\n".join(htmls) or None
    text = "\n\n".join(plain)
    if not text and html:
        text = html_to_text(html[: limits.MAX_HTML_BYTES])
    content_type = message.get_content_type()
    report_type = message.get_param("report-type", "") or ""
    kind = detect_kind(headers, from_addr=from_addr, subject=subject, content_type=content_type, report_type=str(report_type))
    references = _ids(_MSGID.findall(" ".join(_all(headers, "references"))))
    if kind == "bounce":
        # A bounce rarely threads, but it quotes our message: its Message-ID ties the bounce to the request.
        references = tuple(dict.fromkeys(references + _ids(_returned_message_ids(message))))
    references = limits.capped_list(references, limits.MAX_REFERENCES, keep_last=limits.MAX_REFERENCES // 2)
    defects = tuple(_defects(mail.defects)) + ((header_cut,) if header_cut else ())
    return ParsedMessage(
        message_id=storable_message_id(_first(headers, "message-id")),
        subject=subject,
        from_addr=from_addr,
        from_name=sender.name,
        sender_doubt=sender.doubt,
        delivery_report=read_delivery_report(message),
        to_addrs=_addresses(_all(headers, "to")),
        cc_addrs=_addresses(_all(headers, "cc")),
        delivered_to=_addresses(v for name in _DELIVERY_HEADERS for v in _all(headers, name)),
        date=_date(_first(headers, "date")),
        in_reply_to=storable_message_id(_first(headers, "in-reply-to")),
        references=references,
        headers=headers,
        text=text,
        html=html,
        attachments=tuple(_attachments(mail.attachments, max_attachment_bytes)),
        kind=kind,
        defects=defects,
    )


# A charset parameter with a NUL inside ("utf-8\x00"): the parser would fail on it with ValueError.
_NUL_CHARSET = re.compile(rb'(charset\s*=\s*"?)([^";\r\n]*\x00[^";\r\n]*)', re.IGNORECASE)


def _parse_mail(raw: bytes) -> mailparser.MailParser:
    """mail-parser's reading, with charset names it cannot use made harmless first (decoded by fallback later)."""
    if b"\x00" in raw:
        raw = _NUL_CHARSET.sub(lambda m: m.group(1) + m.group(2).replace(b"\x00", b""), raw)
    return mailparser.parse_from_bytes(raw)


def storable_message_id(value: str | None) -> str | None:
    """normalize_message_id, with control characters escaped; None for an id too long to be trusted or stored."""
    found = normalize_message_id(value)
    if found is None:
        return None
    found = limits.storable(found, limits.MAX_ID_CHARS + 1)
    return found if len(found) <= limits.MAX_ID_CHARS else None


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    """Storable Message-IDs, each once, in order of appearance."""
    out: dict[str, None] = {}
    for value in values:
        found = storable_message_id(value)
        if found:
            out.setdefault(found, None)
    return tuple(out)


def normalize_message_id(value: str | None) -> str | None:
    """'<a@b>' from any of 'a@b', ' <a@b> ', '<a@b> (comment)'; None when empty."""
    if not value:
        return None
    found = _MSGID.search(value)
    if found:
        return found.group(0)
    bare = value.strip().split()[0] if value.strip() else ""
    return f"<{bare.strip('<>')}>" if bare.strip("<>") else None


_RETURNED_ID = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _returned_message_ids(message: Message) -> tuple[str, ...]:
    found: list[str] = []
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype not in {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}:
            continue
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):  # the parser made a message of it
            value = normalize_message_id(str(payload[0].get("Message-ID", ""))) if payload and isinstance(payload[0], Message) else None
            if value:
                found.append(value)
        else:
            found.extend(_RETURNED_ID.findall(_decode_part(part)))
    return tuple(found)


def _bodies(message: Message) -> tuple[list[str], list[str]]:
    """Text and HTML parts a reader would see; parts inside attachments stay attachments."""
    plain: list[str] = []
    html: list[str] = []
    stack: list[Message] = [message]
    while stack:
        part = stack.pop(0)
        if part.get_content_disposition() == "attachment":
            continue
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack[:0] = [p for p in payload if isinstance(p, Message)]  # depth first, in document order
            continue
        ctype = part.get_content_type()
        if ctype not in {"text/plain", "text/html"} and not part.get_content_maintype() == "multipart":
            continue
        text = _decode_part(part)
        if text.strip():
            (html if ctype == "text/html" else plain).append(text)
    return plain, html


def _decode_part(part: Message) -> str:
    """Declared charset first; when it lies, UTF-8, then cp1252 (which maps every byte that matters)."""
    try:
        data = part.get_payload(decode=True)
    except (LookupError, UnicodeError, ValueError):
        data = None
    if not isinstance(data, bytes):
        data = _undecoded(part)
    for charset in (_declared_charset(part), "utf-8", "cp1252"):
        try:
            text = data.decode(charset)
            break
        except (LookupError, UnicodeError, ValueError):  # unknown, "undefined" (raises UnicodeError), NUL inside
            continue
    else:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _undecoded(part: Message) -> bytes:
    """The part's payload as bytes without the stdlib's charset step (it raises on charset "undefined")."""
    payload = getattr(part, "_payload", None)  # private (undeclared); the public getter decodes with the charset
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return payload if isinstance(payload, bytes) else b""


def _declared_charset(part: Message) -> str:
    """The part's charset name when it could name a codec; else UTF-8 (the fallbacks follow anyway)."""
    try:
        declared = part.get_content_charset() or "utf-8"
    except (LookupError, UnicodeError, ValueError, TypeError):
        return "utf-8"
    return declared if declared.isascii() and declared.isprintable() and len(declared) <= 40 else "utf-8"


def _header_text(value: object) -> str:
    """Decode a raw header value: 8-bit bytes as UTF-8 (else cp1252), then RFC 2047 words."""
    text = raw_header_text(value)
    # Unfold first: folded encoded words decode wrongly with line breaks inside.
    text = re.sub(r"\r?\n[ \t]+", " ", text)
    decoded = decode_header_part(text) if "=?" in text else text.strip()
    return decoded.replace("\x00", "").strip()


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((v for k, v in headers if k == name), "")


def _all(headers: tuple[tuple[str, str], ...], name: str) -> list[str]:
    return [v for k, v in headers if k == name]


def _addresses(values: Iterable[str]) -> tuple[str, ...]:
    """Distinct bare addresses, at most MAX_ADDRESSES of them, each storable."""
    seen: dict[str, None] = {}
    try:
        pairs = getaddresses(list(values))
    except RecursionError:  # thousands of nested comments: no address to be had
        return ()
    for _, addr in pairs:
        addr = limits.storable(addr.strip().lower(), limits.MAX_ADDRESS_CHARS)
        if "@" in addr:
            seen.setdefault(addr, None)
            if len(seen) >= limits.MAX_ADDRESSES:
                break
    return tuple(seen)


def _date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _attachments(items: list[dict[str, object]], cap: int) -> Iterable[AttachmentInfo]:
    for item in items:
        payload = _payload_bytes(item)
        content_type = str(item.get("mail_content_type") or "application/octet-stream").lower()
        name = sanitize_filename(str(item.get("filename") or ""))
        oversized = len(payload) > cap
        yield AttachmentInfo(
            filename=name,
            content_type=content_type,
            size=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
            payload=None if oversized else payload,
            oversized=oversized,
        )


def _payload_bytes(item: dict[str, object]) -> bytes:
    payload = item.get("payload") or ""
    if isinstance(payload, bytes):
        return payload
    text = str(payload)
    if item.get("binary"):
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            pass
    return text.encode("utf-8", "surrogateescape")


def _defects(defects: list[object]) -> Iterable[str]:
    for entry in defects:
        if isinstance(entry, dict):
            for where, items in entry.items():
                for item in items if isinstance(items, list) else [items]:
                    yield f"{where}: {str(item)[:200]}"
        else:
            yield str(entry)[:200]
