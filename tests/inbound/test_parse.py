"""parse() on real-world and malformed .eml files: decoded headers, readable text, safe attachments, kinds."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inbound_helpers import EML, mail

from agent.mail.parse import ParseError, normalize_message_id, parse


def load(name: str, **kw: int):  # type: ignore[no-untyped-def]
    return parse((EML / name).read_bytes(), **kw)


def test_portal_ack_headers_and_text() -> None:
    msg = load("portal_ack.eml")
    assert msg.message_id == "<govqa.191.ack@beverlyhills.org>"
    assert msg.from_addr == "bhpd@beverlyhills.org"
    assert msg.from_name == "Beverly Hills Police Department"
    assert msg.to_addrs == ("records+ra-2025-0001-ab12@example.org",)
    assert msg.delivered_to == ("records+ra-2025-0001-ab12@example.org",)
    assert msg.in_reply_to == "<req-0001@example.org>"
    assert msg.references == ("<req-0001@example.org>",)
    assert msg.date is not None and msg.date.utcoffset() is not None
    assert "CRM-25-191 (CRM-XNWk7HB5J)" in msg.text
    assert "\r" not in msg.text
    assert msg.kind == "reply"
    assert msg.header("Subject") == "Public Records Request :: CRM-25-191"


def test_html_only_becomes_readable_text() -> None:
    msg = load("html_only.eml")
    assert msg.html and "<b>" in msg.html
    assert "by March 1, 2021" in msg.text
    assert "Café & co" in msg.text  # windows-1252 quoted-printable, entity decoded
    assert "<p>" not in msg.text and "evil()" not in msg.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lying_ascii.eml", "The café records are attached — naïve estimate"),  # says us-ascii, is UTF-8
        ("lying_utf8.eml", "La réponse est prête."),  # says UTF-8, is Latin-1
        ("bogus_charset.eml", "Plain words still readable."),  # a charset nobody knows
    ],
)
def test_lying_charsets_still_give_the_words(name: str, expected: str) -> None:
    msg = load(name)
    assert expected in msg.text
    assert "\ufffd" not in msg.text


@pytest.mark.parametrize(
    ("name", "subject", "from_name"),
    [
        ("header_8bit.eml", "Solicitud de registros — respuesta", "José Muñoz"),
        ("header_8bit_latin1.eml", "Réponse", "Renée"),
        ("encoded_headers.eml", "Re: [RA-2025-0003] Solicitud — respuesta", "Ciudad de México"),
    ],
)
def test_raw_8bit_and_encoded_word_headers_decode(name: str, subject: str, from_name: str) -> None:
    msg = load(name)
    assert msg.subject == subject
    assert msg.from_name == from_name


def test_missing_close_boundary_keeps_text_and_attachment() -> None:
    msg = load("missing_boundary.eml")
    assert "closing boundary never comes" in msg.text
    assert [a.filename for a in msg.attachments] == ["letter.pdf"]
    assert any("CloseBoundaryNotFound" in d for d in msg.defects)


def test_multipart_without_boundary_parameter_keeps_the_body() -> None:
    msg = load("no_boundary_param.eml")
    assert "really the whole body" in msg.text
    assert any("NoBoundaryInMultipart" in d for d in msg.defects)


def test_attachment_names_cannot_traverse_or_hide_control_bytes() -> None:
    msg = load("evil_names.eml")
    names = [a.filename for a in msg.attachments]
    assert names[0] == "passwd"
    assert names[1] == "evilname.pdf"
    assert names[2] == "x.exe"
    assert names[3].endswith(".pdf") and len(names[3]) <= 150
    for name in names:
        assert "/" not in name and "\\" not in name and ".." not in name
        assert not any(ord(c) < 32 for c in name)
    payload = msg.attachments[0].payload
    assert payload is not None and payload.startswith(b"%PDF-1.4")
    assert msg.attachments[0].sha256 == hashlib.sha256(payload).hexdigest()


def test_size_cap_flags_instead_of_extracting() -> None:
    msg = load("with_pdf.eml", max_attachment_bytes=10)
    (att,) = msg.attachments
    assert att.filename == "Response Letter.pdf"
    assert att.oversized and att.payload is None and att.size > 10
    assert not load("with_pdf.eml").attachments[0].oversized


def test_nested_rfc822_text_is_readable() -> None:
    msg = load("nested_rfc822.eml")
    assert "Forwarding the records officer" in msg.text
    assert "by March 1, 2025" in msg.text


def test_winmail_dat_is_kept_as_a_file() -> None:
    (att,) = load("winmail.eml").attachments
    assert att.filename == "winmail.dat"
    assert att.content_type == "application/ms-tnef"
    assert att.payload and att.payload.startswith(b"\x78\x9f\x3e\x22")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bounce_dsn.eml", "bounce"),
        ("bounce_xfailed.eml", "bounce"),
        ("ooo.eml", "auto_reply"),
        ("ooo_subject_only.eml", "auto_reply"),
        ("precedence_bulk.eml", "reply"),  # bulk alone is not an auto-reply: portals send notices so
        ("portal_ack.eml", "reply"),
        ("with_pdf.eml", "reply"),
    ],
)
def test_kind(name: str, kind: str) -> None:
    assert load(name).kind == kind


def test_bounce_carries_the_returned_message_id() -> None:
    assert "<req-0001@example.org>" in load("bounce_dsn.eml").references


def test_auto_submitted_no_is_a_person() -> None:
    assert parse(mail(headers={"Auto-Submitted": "no"})).kind == "reply"


def test_portal_notices_marked_auto_generated_are_still_answers() -> None:
    # GovQA-style acknowledgments are machine-made but are the agency's answer (RFC 3834 "auto-generated").
    assert parse(mail(subject="Request CRM-25-191 received", headers={"Auto-Submitted": "auto-generated"})).kind == "reply"
    assert parse(mail(headers={"Auto-Submitted": "auto-replied; owner-email=x@y"})).kind == "auto_reply"
    vacation = mail(subject="Out of Office", headers={"Auto-Submitted": "auto-generated"})
    assert parse(vacation).kind == "auto_reply"


def test_no_message_id() -> None:
    msg = load("no_message_id.eml")
    assert msg.message_id is None
    assert "no Message-ID" in msg.text


@pytest.mark.parametrize("raw", [b"", b"   \r\n", (EML / "garbage.bin").read_bytes()])
def test_unusable_bytes_raise_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("<a@b>", "<a@b>"), (" a@b ", "<a@b>"), ("<a@b> (comment)", "<a@b>"), ("", None), (None, None)],
)
def test_normalize_message_id(value: str | None, expected: str | None) -> None:
    assert normalize_message_id(value) == expected


_SAMPLES = [p.read_bytes() for p in sorted(EML.glob("*.eml"))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(_SAMPLES),
    cuts=st.lists(st.tuples(st.integers(0, 4000), st.binary(max_size=8)), max_size=6),
)
def test_damaged_mail_parses_or_raises_parse_error_only(sample: bytes, cuts: list[tuple[int, bytes]]) -> None:
    raw = bytearray(sample)
    for position, junk in cuts:  # splice junk bytes into real mail: truncation, NULs, stray boundaries
        position %= max(len(raw), 1)
        raw[position : position + len(junk)] = junk
    try:
        msg = parse(bytes(raw))
    except ParseError:
        return
    assert isinstance(msg.text, str) and "\x00" not in msg.subject
    for att in msg.attachments:
        assert "/" not in att.filename and "\x00" not in att.filename


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_parser(raw: bytes) -> None:
    try:
        parse(raw)
    except ParseError:
        pass
