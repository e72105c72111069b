"""Bounds on what one message may bring in: header bytes, list lengths, text sizes, and storable strings.

The archive keeps every byte as it arrived; these caps apply to what is parsed, understood and stored, so a
hostile message costs bounded time and memory and every value it yields fits the database.
"""

from __future__ import annotations

import re

# The header block parsed (real mail, DKIM and a long Received chain included, stays far below this).
MAX_HEADER_BYTES = 128 * 1024
# One header field (a long References or To line); the rest of that field is dropped before parsing.
MAX_FIELD_BYTES = 32 * 1024
MAX_HEADER_FIELDS = 1000
# A header value as stored (subject, In-Reply-To, any value shown in review).
MAX_VALUE_CHARS = 2000
# Message-ID-like values: the columns hold 500 characters.
MAX_ID_CHARS = 500
MAX_ADDRESS_CHARS = 320
# List headers: the first and the most recent references carry the thread; To/Cc beyond this is a mailing.
MAX_REFERENCES = 100
MAX_ADDRESSES = 200
# Text handed to understanding (cleaning, classification, extraction); the full text stays in the archive.
MAX_UNDERSTAND_CHARS = 200_000
# HTML converted to text when a message has no plain part.
MAX_HTML_BYTES = 2 * 1024 * 1024
# What one message may add to its thread's memory (cleaned text and folds kept as context for later replies).
MAX_CLEANED_CHARS = 50_000

TRUNCATED = "…[truncated {n} characters]"
# NUL cannot be stored by PostgreSQL (text or JSON); other C0/C1 controls confuse terminals and logs.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group(0)):02x}"


def storable(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """The value with control characters escaped as \\xNN and cut to `limit` characters with a marker."""
    if _CONTROLS.search(value):
        value = _CONTROLS.sub(_escape, value)
    return truncate(value, limit)


def truncate(value: str, limit: int) -> str:
    """At most `limit` characters; a cut value ends with a marker saying how much was left out."""
    if len(value) <= limit:
        return value
    marker = TRUNCATED.format(n=len(value) - limit)
    return value[: max(0, limit - len(marker))] + marker


def without_nul(value: str) -> str:
    """Body text keeps its layout (tabs, newlines); only NUL, which no database column accepts, goes."""
    return value.replace("\x00", "") if "\x00" in value else value


def capped_list(values: tuple[str, ...], limit: int, *, keep_last: int = 0) -> tuple[str, ...]:
    """At most `limit` items: the first ones, plus the last `keep_last` (the newest references of a thread)."""
    if len(values) <= limit:
        return values
    head = limit - keep_last
    return values[:head] + (values[-keep_last:] if keep_last else ())


# Fields kept past the field-count cap (as long as the byte cap allows): what parsing and matching read.
_KEEP_ALWAYS = frozenset(
    b"from sender to cc subject message-id in-reply-to references date content-type content-transfer-encoding "
    b"mime-version reply-to delivered-to x-original-to envelope-to auto-submitted precedence return-path".split()
)


def split_head(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(header block, blank-line separator, body); a message without a blank line is all header."""
    found = [(i, sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    if not found:
        return raw, b"", b""
    index, sep = min(found)
    return raw[:index], sep, raw[index + len(sep) :]


def bound_headers(raw: bytes) -> tuple[bytes, str | None]:
    """The message with its header block cut to the caps (same body), and a defect saying what was cut.

    Linear in the header size: the standard parser's cost grows faster than that on megabyte headers."""
    head, sep, body = split_head(raw)
    if len(head) <= MAX_FIELD_BYTES and head.count(b"\n") < MAX_HEADER_FIELDS:
        return raw, None
    # Continuation lines join their field; parts beyond the field cap are never joined (no quadratic copying).
    parts: list[list[bytes]] = []
    sizes: list[int] = []
    for line in head.splitlines(keepends=True):
        if parts and line[:1] in (b" ", b"\t"):
            if sizes[-1] <= MAX_FIELD_BYTES:
                parts[-1].append(line)
            sizes[-1] += len(line)
        else:
            parts.append([line])
            sizes.append(len(line))
    fields = [b"".join(p) for p in parts]
    kept: list[bytes] = []
    total = 0
    cut = 0
    for field in fields:
        name = field.split(b":", 1)[0].strip().lower()
        if len(kept) >= MAX_HEADER_FIELDS and name not in _KEEP_ALWAYS:
            cut += 1
            continue
        if len(field) > MAX_FIELD_BYTES:
            field = _cut_field(field, name)
            cut += 1
        if total + len(field) > MAX_HEADER_BYTES:
            cut += 1
            continue
        kept.append(field)
        total += len(field)
    if not cut:
        return raw, None
    newline = b"\r\n" if sep.startswith(b"\r") else b"\n"
    bounded = b"".join(f if f.endswith(b"\n") else f + newline for f in kept)
    return bounded.rstrip(b"\r\n") + (sep or newline * 2) + body, f"headers over the caps: {cut} field(s) cut before parsing"


def _cut_field(field: bytes, name: bytes) -> bytes:
    """A field cut to the cap; References keeps its oldest and newest ids (the middle of a thread matters least)."""
    end = b"\r\n" if field.endswith(b"\r\n") else b"\n"
    if name == b"references":
        half = MAX_FIELD_BYTES // 2
        return field[:half] + b" " + field[-half:].rstrip(b"\r\n") + end
    return field[:MAX_FIELD_BYTES] + end
