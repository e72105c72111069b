"""read_sender/read_mailbox are pure: which From headers name one trustworthy mailbox, and which address it is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spoof_mail import LEGIT_SENDERS, SPOOF_SENDERS

from agent.mail.parse import parse
from agent.mail.sender import read_mailbox, read_sender


@pytest.mark.parametrize(
    ("value", "address", "trusted"),
    [
        ("clerk@agency.example", "clerk@agency.example", True),
        ("Jane Clerk <Clerk@Agency.Example>", "clerk@agency.example", True),
        ('"Clerk, City" <clerk@agency.example>', "clerk@agency.example", True),
        ("=?utf-8?q?Jos=C3=A9?= <clerk@agency.example>", "clerk@agency.example", True),
        ("clerk@agency.example (City Clerk)", "clerk@agency.example", True),
        # An encoded word is display text: the address is the one in angle brackets.
        ("=?utf-8?q?clerk=40agency.example?= <attacker@evil.example>", "attacker@evil.example", True),
        ('"clerk@agency.example" <attacker@evil.example>', "attacker@evil.example", True),
        ("=?utf-8?q?clerk=40agency.example?=", "", False),
        ("=?utf-8?q?clerk?=@agency.example", None, False),
        ("<clerk@agency.example>@evil.example", None, False),
        ("clerk@agency.example@evil.example", None, False),
        ("clerk@agency.example, attacker@evil.example", None, False),
        ("Team: clerk@agency.example;", None, False),
        ("<@agency.example:attacker@evil.example>", None, False),
        ("clerk@agency.example <attacker@evil.example>", None, False),
        ("cler\u212a@agency.example", None, False),  # KELVIN SIGN lower-cases to "k"
        ('"quoted"@agency.example', None, False),
        ("clerk@[192.0.2.1]", None, False),
        ("clerk@agency.example.", None, False),
        ("Clerk <clerk@agency.example", None, False),
        ('"unbalanced <clerk@agency.example>', None, False),
        ("<>", "", False),
        ("", "", False),
    ],
)
def test_read_mailbox(value: str, address: str | None, trusted: bool) -> None:
    found = read_mailbox(value)
    assert found.trusted is trusted, found
    if address is not None:
        assert found.address == address
    assert bool(found.doubt) is not trusted


def test_header_count_and_sender_rules() -> None:
    assert read_sender([("From", "a@agency.example")]).trusted
    two = read_sender([("From", "a@agency.example"), ("From", "b@evil.example")])
    assert not two.trusted and "2 From headers" in two.doubt
    lone_sender = read_sender([("Sender", "a@agency.example")])
    assert (lone_sender.address, lone_sender.trusted) == ("a@agency.example", False)
    assert "Sender" in lone_sender.doubt
    with_sender = read_sender([("Sender", "bounces@portal.example"), ("From", "Clerk <a@agency.example>")])
    assert (with_sender.address, with_sender.trusted) == ("a@agency.example", True)
    assert read_sender([]).doubt == "no From header"


def test_parse_records_the_address_and_the_doubt() -> None:
    raw = b"From: a@agency.example\r\nFrom: b@evil.example\r\nSubject: x\r\n\r\nbody\r\n"
    msg = parse(raw)
    assert msg.from_addr == "a@agency.example" and not msg.sender_trusted and msg.sender_doubt
    assert msg.sender_domain == ""  # a doubtful sender teaches no domain its boilerplate
    ok = parse(b"From: =?utf-8?q?Jos=C3=A9?= <Clerk@Agency.example>\r\nSubject: x\r\n\r\nbody\r\n")
    assert (ok.from_addr, ok.from_name, ok.sender_trusted, ok.sender_domain) == (
        "clerk@agency.example", "Jos\u00e9", True, "agency.example"
    )


@pytest.mark.parametrize("form", sorted(SPOOF_SENDERS))
def test_no_spoof_form_reads_as_the_agencys_trusted_address(form: str) -> None:
    found = read_sender(SPOOF_SENDERS[form])
    assert not (found.trusted and found.address.endswith("@beverlyhills.org")), found


@pytest.mark.parametrize("form", sorted(LEGIT_SENDERS))
def test_honest_forms_are_trusted(form: str) -> None:
    assert read_sender(LEGIT_SENDERS[form]).trusted


@given(st.text(max_size=200))
def test_any_text_gives_a_sender_or_a_doubt_never_an_error(value: str) -> None:
    found = read_mailbox(value)
    assert found.trusted or found.doubt
    if found.trusted:
        assert found.address.isascii() and found.address.count("@") == 1 and found.address in value.lower()
