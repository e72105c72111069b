"""match() is pure: each kind of evidence on its own, their order, conflicts, spoofs, and orphans."""

from __future__ import annotations

from pathlib import Path

import pytest
from inbound_helpers import EML, REPO_RULES, mail

from agent.mail.parse import parse
from agent.pipeline.match import AgencyInfo, MatchIndex, RequestInfo, match
from agent.pipeline.tracking import load_tracking_rules

RULES = load_tracking_rules(REPO_RULES)
BH, DHS, LA = 1, 2, 3
AGENCIES = {
    BH: AgencyInfo(BH, "Beverly Hills PD", domains=frozenset({"beverlyhills.org"}), tracking_patterns=(r"\b(CRM-\d{2}-\d+)\b",)),
    DHS: AgencyInfo(DHS, "Desert Hot Springs PD", emails=frozenset({"records@cityofdhs.org"})),
    LA: AgencyInfo(LA, "LAPD", domains=frozenset({"la.example.gov"})),
}
REQUESTS = {
    10: RequestInfo(10, BH, "RA-2025-0001", "sent"),
    20: RequestInfo(20, DHS, "RA-2025-0002", "acknowledged"),
    30: RequestInfo(30, LA, "RA-2025-0003", "sent"),
    31: RequestInfo(31, LA, "RA-2025-0004", "extended"),
    40: RequestInfo(40, BH, "RA-2024-0099", "completed"),
}


def index(**kw: object) -> MatchIndex:
    base: dict[str, object] = {
        "requests": REQUESTS,
        "agencies": AGENCIES,
        "reply_addresses": {"records+ra-2025-0001-ab12@example.org": 10, "records+ra-2025-0002-cd34@example.org": 20},
        "sent_message_ids": {"req-0001@example.org": 10, "req-0002@example.org": 20, "req-0099@example.org": 40},
        "tracking_numbers": {"CRM-25-191": (10,), "CRM-XNWK7HB5J": (10,)},
        "references": {"RA-2025-0001": 10, "RA-2025-0002": 20, "RA-2025-0003": 30},
        "tracking_rules": RULES,
    }
    base.update(kw)
    return MatchIndex(**base)  # type: ignore[arg-type]


def kinds(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.kind for e in result.evidence]


def test_reply_address_in_delivered_to() -> None:
    raw = mail(sender="someone@elsewhere.example", headers={"Delivered-To": "records+ra-2025-0002-cd34@example.org"})
    result = match(parse(raw), index())
    assert result.request_id == 20 and result.reason == "matched by reply_address"


def test_reply_address_in_cc_is_case_insensitive() -> None:
    raw = mail(sender="x@y.example", headers={"Cc": "Records <RECORDS+RA-2025-0002-CD34@example.org>"})
    assert match(parse(raw), index()).request_id == 20


def test_thread_headers_match_our_message_id() -> None:
    raw = mail(sender="x@y.example", headers={"In-Reply-To": "<req-0002@example.org>"})
    result = match(parse(raw), index())
    assert result.request_id == 20 and "thread" in kinds(result)


def test_references_reach_a_closed_request_too() -> None:
    raw = mail(sender="clerk@beverlyhills.org", headers={"References": "<other@x> <req-0099@example.org>"})
    assert match(parse(raw), index()).request_id == 40


def test_known_tracking_number_from_the_agency() -> None:
    raw = mail(sender="noreply@beverlyhills.org", subject="Status of CRM-25-191", body="Your request is in progress.")
    result = match(parse(raw), index(requests={**REQUESTS, 41: RequestInfo(41, BH, "RA-2025-0041", "sent")}))
    # Two open Beverly Hills requests: the sender alone could not decide, the tracking number does.
    assert result.request_id == 10 and result.reason == "matched by tracking_number"


def test_portal_reference_in_parentheses_matches() -> None:
    raw = mail(sender="noreply@beverlyhills.org", body="This email is in reference to issue (CRM-XNWk7HB5J).")
    assert match(parse(raw), index()).request_id == 10


def test_our_reference_in_the_subject() -> None:
    raw = mail(sender="someone@la.example.gov", subject="RE: [RA-2025-0003] Records request")
    result = match(parse(raw), index())
    assert result.request_id == 30 and result.reason == "matched by reference"


def test_sender_domain_with_one_open_request() -> None:
    raw = mail(sender="Clerk <Clerk@BeverlyHills.org>", subject="Hello", body="We are working on it.")
    result = match(parse(raw), index())
    assert result.request_id == 10 and result.reason == "matched by sender"


def test_sender_exact_address() -> None:
    raw = mail(sender="records@cityofdhs.org", subject="Update", body="Soon.")
    assert match(parse(raw), index()).request_id == 20


def test_sender_with_two_open_requests_is_an_orphan_with_both_suggested() -> None:
    raw = mail(sender="clerk@la.example.gov", subject="Update", body="Soon.")
    result = match(parse(raw), index())
    assert result.request_id is None
    assert "2 open requests" in result.reason
    assert {s.request_id for s in result.suggestions} == {30, 31}


def test_stronger_evidence_wins_over_sender() -> None:
    raw = mail(sender="clerk@la.example.gov", to="records+ra-2025-0002-cd34@example.org")
    assert match(parse(raw), index()).request_id == 20


def test_conflicting_strong_evidence_is_an_orphan() -> None:
    raw = mail(sender="clerk@beverlyhills.org", to="records+ra-2025-0002-cd34@example.org",
               headers={"In-Reply-To": "<req-0001@example.org>"})
    result = match(parse(raw), index())
    assert result.request_id is None and result.reason.startswith("conflicting evidence")
    assert [s.request_id for s in result.suggestions][:2] == [10, 20]


def test_spoofed_tracking_number_is_an_orphan() -> None:
    raw = mail(sender="records@evil.example", subject="Records for CRM-25-191", body="Click here for your records.")
    result = match(parse(raw), index())
    assert result.request_id is None and result.spoof_suspect
    assert "possible spoof" in result.reason and "evil.example" in result.reason
    assert result.suggestions[0].request_id == 10


def test_tracking_number_from_outside_but_on_our_thread_is_kept_with_a_note() -> None:
    # Outside counsel answering on the agency's behalf: our own thread headers vouch for the request.
    raw = mail(sender="lawyer@lawfirm.example", subject="CRM-25-191", headers={"In-Reply-To": "<req-0001@example.org>"})
    result = match(parse(raw), index())
    assert result.request_id == 10 and not result.spoof_suspect
    assert result.notes and "outside the agency" in result.notes[0]


def test_nothing_known_is_an_orphan() -> None:
    result = match(parse(mail(sender="who@nowhere.example", subject="hi", body="hello")), index())
    assert result.request_id is None and result.reason == "no evidence" and result.suggestions == ()


def test_our_own_reference_is_not_learned_as_a_tracking_number() -> None:
    raw = mail(sender="clerk@beverlyhills.org", subject="[RA-2025-0001] CRM-25-777")
    result = match(parse(raw), index())
    assert "CRM-25-777" in result.tracking_numbers
    assert not any(n.upper().startswith("RA-") for n in result.tracking_numbers)


@pytest.mark.parametrize("name", sorted(p.name for p in Path(EML).glob("*.eml")))
def test_every_fixture_matches_without_error(name: str) -> None:
    result = match(parse((EML / name).read_bytes()), index())
    assert result.request_id is None or result.request_id in REQUESTS


def test_seed_portal_ack_matches_beverly_hills() -> None:
    result = match(parse((EML / "portal_ack.eml").read_bytes()), index())
    assert result.request_id == 10
    assert {"reply_address", "thread", "tracking_number"} <= set(kinds(result))


def test_agency_book_finds_the_same_senders_as_a_full_scan() -> None:
    """The indexed sender lookup must agree with AgencyInfo.knows_sender on every agency (subdomains, emails)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from agent.inbound.match_index import AgencyBook

    label = st.sampled_from(["ci", "city", "example", "gov", "org", "pd", "records", "x"])
    domain = st.lists(label, min_size=1, max_size=4).map(".".join)
    address = st.tuples(st.sampled_from(["clerk", "noreply", "a"]), domain).map(lambda t: f"{t[0]}@{t[1]}")

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(st.lists(domain, max_size=2), st.lists(address, max_size=2)), min_size=1, max_size=6), address)
    def check(specs: list[tuple[list[str], list[str]]], sender: str) -> None:
        agencies = {
            i: AgencyInfo(id=i, name=f"A{i}", domains=frozenset(domains), emails=frozenset(emails))
            for i, (domains, emails) in enumerate(specs, start=1)
        }
        expected = tuple(sorted(a.id for a in agencies.values() if a.knows_sender(sender)))
        assert AgencyBook(agencies).senders(sender) == expected
        assert AgencyBook(agencies).senders(sender.upper()) == expected

    check()
