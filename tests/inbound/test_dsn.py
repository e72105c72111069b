"""dsn.py is pure: what a delivery report says, and whether it proves that one of our letters failed."""

from __future__ import annotations

from inbound_helpers import EML

from agent.mail.dsn import SentLetter, bounce_proof
from agent.mail.parse import parse
from agent.pipeline.stage_data import DeliveryReport

LETTER = SentLetter("req-0001@example.org", 7, frozenset({"nobody@beverlyhills.org"}))
LETTERS = {LETTER.message_id: LETTER}


def _report(**kw: object) -> DeliveryReport:
    base: dict[str, object] = {
        "reporting_mta": "mx.evil.example", "final_recipients": ("nobody@beverlyhills.org",),
        "actions": ("failed",), "returned_message_ids": ("<req-0001@example.org>",),
    }
    base.update(kw)
    return DeliveryReport(**base)  # type: ignore[arg-type]


def test_the_fixture_dsn_is_read_field_by_field() -> None:
    report = parse((EML / "bounce_dsn.eml").read_bytes()).delivery_report
    assert report is not None
    assert report.reporting_mta == "mx.example.org"
    assert report.final_recipients == ("nobody@beverlyhills.org",)
    assert report.actions == ("failed",)
    assert report.returned_message_ids == ("<req-0001@example.org>",)


def test_a_text_bounce_is_no_delivery_report() -> None:
    assert parse((EML / "bounce_xfailed.eml").read_bytes()).delivery_report is None


def test_proof_needs_our_letter_and_its_recipient_or_our_server() -> None:
    hosts = ("smtp.ourmail.example",)
    kw = {"request_id": 7, "from_addr": "mailer-daemon@mx.evil.example", "our_hosts": hosts}
    assert "failing its recipient" in bounce_proof(_report(), LETTERS, **kw)  # type: ignore[arg-type]
    assert bounce_proof(_report(final_recipients=("x@elsewhere.example",)), LETTERS, **kw) == ""  # type: ignore[arg-type]
    ours = _report(reporting_mta="smtp.ourmail.example", final_recipients=("x@elsewhere.example",))
    assert "our mail server" in bounce_proof(ours, LETTERS, **kw)  # type: ignore[arg-type]
    assert bounce_proof(_report(returned_message_ids=("<other@x>",)), LETTERS, **kw) == ""  # type: ignore[arg-type]
    assert bounce_proof(_report(actions=("delayed",)), LETTERS, **kw) == ""  # type: ignore[arg-type]
    assert bounce_proof(None, LETTERS, **kw) == ""  # type: ignore[arg-type]
    # Our letter, but of another request: it proves nothing about this one.
    assert bounce_proof(_report(), LETTERS, request_id=8, from_addr="", our_hosts=hosts) == ""
    by_envid = _report(returned_message_ids=(), envelope_id="req-0001@example.org")
    assert bounce_proof(by_envid, LETTERS, **kw)  # type: ignore[arg-type]
