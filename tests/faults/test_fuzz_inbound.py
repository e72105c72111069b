"""Hypothesis drives arbitrary mail through the whole inbound pipeline (Maildir → archive → row → parse →
match → understand → apply): it never raises, keeps the exact bytes, and settles every message."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from agent.db.models import Message
from agent.inbound.poll import poll_once
from agent.mail.archive import Archive
from agent.mail.inbox import open_inbox
from support.fuzz import examples

# "own": our own sent mail seen again (a copy to self, a provider's thread view): archived, marked, not read.
SETTLED = {"processed", "orphan", "review", "quarantined", "own"}
PLUS = "records+ra-2025-0001-abcd@example.org"

HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date", "Content-Type",
     "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version", "Auto-Submitted", "Delivered-To",
     "X-Failed-Recipients", "Precedence", "Reply-To", "X-Weird\x00", "Subject "]
)
ADDRESSES = st.sampled_from(["clerk@city.example", PLUS, "records@example.org", "MAILER-DAEMON@x.example", "<>", "", "a@@b"])
TEXT = st.text(max_size=300)
CHARSETS = st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16", "shift_jis"])


@st.composite
def header_value(draw) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(ADDRESSES).encode()
    if kind == 1:
        return draw(TEXT).encode(draw(CHARSETS), "replace")
    if kind == 2:
        return draw(st.binary(max_size=120))
    return ("=?" + draw(st.sampled_from(["utf-8", "x-bad", "iso-8859-1"])) + "?" + draw(st.sampled_from(["Q", "B"])) + "?"
            + draw(st.text(alphabet="abcXYZ=_?0123456789+/", max_size=40)) + "?=").encode()


@st.composite
def part(draw, depth: int = 0) -> bytes:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, header_value()), max_size=6))
    if depth < 3 and draw(st.booleans()):
        boundary = draw(st.text(alphabet="abcXYZ0123-_", min_size=0, max_size=12))
        children = draw(st.lists(part(depth + 1), max_size=3))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + c + b"\r\n" for c in children)
        if draw(st.booleans()):
            body += b"--" + boundary.encode() + b"--\r\n"
        headers.append(("Content-Type", f'multipart/{draw(st.sampled_from(["mixed", "alternative", "report"]))}; boundary="{boundary}"'.encode()))
    else:
        body = draw(st.one_of(TEXT.map(lambda t: t.encode("utf-8", "replace")), st.binary(max_size=400)))
    head = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
    return head + b"\r\n" + body


@st.composite
def message(draw) -> bytes:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.binary(max_size=600))
    raw = draw(part())
    base = b"From: " + draw(ADDRESSES).encode() + b"\r\nTo: " + draw(ADDRESSES).encode() + b"\r\n"
    raw = base + raw
    if kind == 4 and raw:
        # Mutate: cut, or overwrite a few bytes at random places.
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.binary(max_size=20)) + raw[cut:][draw(st.integers(0, 10)):]
    return raw


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=message())
def test_any_mail_is_archived_and_settled(fuzz_inbound, raw: bytes) -> None:
    inbound = fuzz_inbound
    inbound.deliver(raw)
    inbox = open_inbox(inbound.settings)
    try:
        report = poll_once(inbound.settings, inbound.sessions, inbox, rules=inbound.rules)
    finally:
        inbox.close()
    with inbound.sessions() as s:
        row = s.scalar(select(Message).where(Message.sha256 == hashlib.sha256(raw).hexdigest()))
        pending = s.scalar(select(Message.id).where(Message.status == "new").limit(1))
    assert report.new + report.duplicates == 1, report
    assert pending is None
    if report.duplicates:
        # A redelivery (same bytes, or same Message-ID and content with other envelope headers): the first copy is kept.
        return
    assert row is not None, "every new message becomes a row"
    assert Archive(inbound.settings.archive_path).get(row.archive_key) == raw
    assert row.status in SETTLED
    assert row.status != "quarantined" or (row.error or "").strip()
