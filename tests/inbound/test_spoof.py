"""No stranger moves or closes a request (issue 13 item 2), on SQLite and PostgreSQL, through the real poll path.

Every spoofed sender form, crossed with every kind of evidence an outsider can copy from our letter, leaves its
request as it was and opens a review item; the agency writing in the same shapes still moves its request.
Forged bounces mark nothing undeliverable; a real delivery report for our letter proposes it to a person.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from inbound_helpers import World, make_settings, seed_world
from spoof_mail import (
    AGENCY_DOMAIN,
    CLERK,
    EVIDENCE,
    LEGIT_SENDERS,
    OUR,
    PORTAL_DOMAINS,
    SPOOF_SENDERS,
    Target,
    fee_body,
    raw_mail,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.db.models import Agency, Event, Message, Outbox, Request, ReviewItem, TrackingNumber
from agent.inbound.poll import poll_once
from agent.mail.maildir_inbox import MaildirInbox
from agent.operators.review import confirm

NOW = dt.datetime(2025, 2, 20, 12, tzinfo=dt.timezone.utc)
OUR_MTA = "mx.ourmail.example"


class Mailroom:
    """A Maildir inbox, the seeded world, and as many fresh Beverly Hills requests as a test aims at."""

    def __init__(self, tmp_path: Path, sessions: sessionmaker[Session], db_url: str) -> None:
        settings = make_settings(tmp_path, db_url)
        self.settings: Settings = settings.model_copy(
            update={"smtp": settings.smtp.model_copy(update={"bounce_hosts": [OUR_MTA]})}
        )
        self.sessions = sessions
        self.world: World = seed_world(sessions)
        self.inbox = MaildirInbox(self.settings.inbox.maildir, account="test")
        self._n = 0
        self._requests = 100
        with sessions.begin() as s:
            bh = s.get(Agency, self.world.bh)
            assert bh is not None
            bh.domains = [AGENCY_DOMAIN, *PORTAL_DOMAINS]  # the directory lists the portals it answers through

    def target(self, *, sent_letter: bool = False) -> Target:
        self._requests += 1
        n = self._requests
        ref = f"RA-2025-{n:04d}"
        t = Target(0, ref, f"records+{ref.lower()}-zz{n}@example.org", f"<req-{n}@example.org>", f"CRM-25-{n}")
        with self.sessions.begin() as s:
            req = Request(reference=ref, agency_id=self.world.bh, jurisdiction="CA", state="sent",
                          reply_address=t.reply_address, message_id=t.message_id, subject=f"[{ref}] ALPR audits")
            s.add(req)
            s.flush()
            s.add(TrackingNumber(request_id=req.id, agency_id=self.world.bh, value=t.tracking_number))
            if sent_letter:
                s.add(Outbox(message_id=t.message_id, request_id=req.id, agency_id=self.world.bh, kind="request",
                             sender=t.reply_address, recipients=[CLERK], subject=req.subject, raw=b"letter",
                             state="sent", sent_at=NOW))
            rid = req.id
        return Target(rid, t.reference, t.reply_address, t.message_id, t.tracking_number)

    def deliver(self, raw: bytes) -> None:
        self._n += 1
        path = self.settings.inbox.maildir / "new" / f"{1700000000 + self._n}.M{self._n}P1.test"
        path.write_bytes(raw)

    def poll(self) -> None:
        poll_once(self.settings, self.sessions, self.inbox, now=lambda: NOW)

    def request(self, rid: int) -> Request:
        with self.sessions() as s:
            req = s.get(Request, rid)
            assert req is not None
            s.expunge(req)
            return req

    def items(self, **where: object) -> list[ReviewItem]:
        with self.sessions() as s:
            query = select(ReviewItem).order_by(ReviewItem.id)
            for name, value in where.items():
                query = query.where(getattr(ReviewItem, name) == value)
            return list(s.scalars(query))

    def message_row(self, subject_part: str) -> Message:
        with self.sessions() as s:
            rows = [m for m in s.scalars(select(Message)) if subject_part in (m.subject or "")]
            assert len(rows) == 1, subject_part
            return rows[0]


@pytest.fixture
def room(tmp_path: Path, sessions: sessionmaker[Session], db_url: str) -> Mailroom:
    return Mailroom(tmp_path, sessions, db_url)


def _cases(senders: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    return [(s, e) for s in senders for e in EVIDENCE]


def test_every_spoof_form_leaves_the_request_alone_and_opens_review(room: Mailroom) -> None:
    aimed: dict[tuple[str, str], Target] = {}
    for form, evidence in _cases(SPOOF_SENDERS):
        target = room.target()
        aimed[(form, evidence)] = target
        extra, subject = EVIDENCE[evidence](target)
        room.deliver(raw_mail(SPOOF_SENDERS[form], extra, f"{subject} [{form}/{evidence}]", fee_body(target)))
    room.poll()
    with room.sessions() as s:
        for (form, evidence), target in aimed.items():
            case = f"{form}/{evidence}"
            req = s.get(Request, target.request_id)
            assert req is not None
            assert (req.state, req.last_reply_at, req.flags.get("undeliverable")) == ("sent", None, None), case
            row = next(m for m in s.scalars(select(Message)) if f"[{case}]" in (m.subject or ""))
            items = list(s.scalars(select(ReviewItem).where(ReviewItem.message_row_id == row.id)))
            assert [i.kind for i in items] in (["unknown_sender"], ["spoof"], ["orphan"]), case
            assert row.request_id in (None, target.request_id), case
            moved = s.scalars(select(Event).where(Event.request_id == target.request_id, Event.to_state != "sent"))
            assert list(moved) == [], case
            # Nothing the stranger said was learned as the agency's.
            numbers = s.scalars(select(TrackingNumber.value).where(TrackingNumber.request_id == target.request_id))
            assert list(numbers) == [target.tracking_number], case


def test_the_attackers_fee_and_link_wait_in_review_with_the_reading(room: Mailroom) -> None:
    target = room.target()
    extra, subject = EVIDENCE["reply_address"](target)
    room.deliver(raw_mail(SPOOF_SENDERS["encoded_display_name"], extra, subject, fee_body(target)))
    room.poll()
    (item,) = room.items(kind="unknown_sender")
    assert item.request_id == target.request_id
    assert "attacker@evil.example" in item.reason and "fee" in item.reason
    assert item.suggestions[0]["fees"][0]["amount"] == 850.0
    assert item.suggestions[0]["links"] == [f"https://pay.example/cbh/{target.request_id}"]
    assert room.request(target.request_id).state == "sent"


@pytest.mark.parametrize("form", sorted(LEGIT_SENDERS))
def test_the_agency_in_each_honest_form_still_moves_its_request(room: Mailroom, form: str) -> None:
    aimed: dict[str, Target] = {}
    for evidence in EVIDENCE:
        target = room.target()
        aimed[evidence] = target
        extra, subject = EVIDENCE[evidence](target)
        room.deliver(raw_mail(LEGIT_SENDERS[form], extra, f"{subject} [{form}/{evidence}]", fee_body(target)))
    room.poll()
    for evidence, target in aimed.items():
        assert room.request(target.request_id).state == "fee_required", f"{form}/{evidence}"
        kinds = [i.kind for i in room.items(request_id=target.request_id)]
        assert kinds == ["fee"], f"{form}/{evidence}"


def test_confirming_an_unknown_sender_applies_it(room: Mailroom) -> None:
    """A clerk writing from a new address: a person vouches for it, and it acts as the agency's answer."""
    target = room.target()
    extra, subject = EVIDENCE["in_reply_to"](target)
    room.deliver(raw_mail([("From", "Temp Clerk <temp.clerk@gmail.com>")], extra, subject, fee_body(target)))
    room.poll()
    (item,) = room.items(kind="unknown_sender")
    with room.sessions.begin() as s:
        result = confirm(s, item.id, operator="tester", now=NOW, rules_dir=room.settings.rules_path)
    assert result.request_state == "fee_required"
    fee = room.items(kind="fee", request_id=target.request_id)
    assert len(fee) == 1 and fee[0].suggestions[0]["amount"] == 850.0


def test_a_free_mail_domain_in_the_directory_vouches_for_its_exact_address_only(room: Mailroom) -> None:
    with room.sessions.begin() as s:
        bh = s.get(Agency, room.world.bh)
        assert bh is not None
        bh.emails = ["bh.clerk@gmail.com"]
        bh.domains = [AGENCY_DOMAIN, "gmail.com"]  # what the CSV import adds from the address
    ours, theirs = room.target(), room.target()
    for sender, target in (("bh.clerk@gmail.com", ours), ("someone.else@gmail.com", theirs)):
        extra, subject = EVIDENCE["reply_address"](target)
        room.deliver(raw_mail([("From", sender)], extra, subject, fee_body(target)))
    room.poll()
    assert room.request(ours.request_id).state == "fee_required"
    assert room.request(theirs.request_id).state == "sent"
    assert [i.kind for i in room.items(request_id=theirs.request_id)] == ["unknown_sender"]


def test_precedence_bulk_notice_from_the_agency_is_read_as_an_answer(room: Mailroom) -> None:
    target = room.target()
    extra, subject = EVIDENCE["reply_address"](target)
    body = (f"We received your public records request and assigned it number {target.tracking_number}. "
            "We will respond within ten days.")
    room.deliver(raw_mail([("From", f"City Clerk <{CLERK}>")], extra, subject, body, more=[("Precedence", "bulk")]))
    room.poll()
    row = room.message_row(subject)
    assert (row.kind, row.label) == ("reply", "acknowledgment")
    assert room.request(target.request_id).state == "acknowledged"


# ---- bounces ------------------------------------------------------------------------------------------------


def _dsn(*, sender: str, to: str, subject: str, reporting_mta: str, final: str, returned_id: str,
         action: str = "failed") -> bytes:
    head = (
        f"From: Mail Delivery System <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <dsn-{abs(hash((subject, final, returned_id)))}@{reporting_mta}>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
    )
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        f"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; {reporting_mta}\r\n\r\n"
        f"Final-Recipient: rfc822; {final}\r\nAction: {action}\r\nStatus: 5.1.1\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {OUR}\r\nTo: {final}\r\n"
        f"Subject: Public records request\r\nMessage-ID: {returned_id}\r\n--b--\r\n"
    )
    return (head + body).encode()


def test_forged_bounces_mark_nothing_undeliverable(room: Mailroom) -> None:
    sent = room.target(sent_letter=True)
    unsent = room.target()  # our Message-ID is on the request, but no letter left through the outbox
    forged = {
        "daemon_any_domain": raw_mail([("From", "MAILER-DAEMON@evil.example")], [("To", sent.reply_address)],
                                      "Undelivered Mail Returned to Sender", "Your mail could not be delivered."),
        "postmaster_any_domain": raw_mail([("From", "postmaster@beverlyhills.org")], [("To", sent.reply_address)],
                                          "Delivery failure", "Mailbox unavailable.",
                                          more=[("X-Failed-Recipients", CLERK)]),
        "reference_only": raw_mail([], [("To", OUR)], f"Undeliverable: [{sent.reference}] Public records request",
                                   "Delivery has failed to these recipients."),
        "dsn_from_stranger_for_someone_else": _dsn(
            sender="MAILER-DAEMON@evil.example", to=sent.reply_address, subject="Undelivered Mail (stranger)",
            reporting_mta="mx.evil.example", final="nobody@elsewhere.example", returned_id=sent.message_id),
        "dsn_for_a_letter_never_sent": _dsn(
            sender=f"MAILER-DAEMON@{OUR_MTA}", to=unsent.reply_address, subject="Undelivered Mail (unsent)",
            reporting_mta=OUR_MTA, final=CLERK, returned_id=unsent.message_id),
        "postmaster_stranger_domain": raw_mail([("From", "postmaster@evil.example")], [("To", sent.reply_address)],
                                               "Returned mail: see transcript for details", "User unknown."),
        "daemon_agency_domain": raw_mail([("From", f"MAILER-DAEMON@{AGENCY_DOMAIN}")], [("To", OUR)],
                                         f"Undeliverable: [{sent.reference}] records", "Recipient address rejected."),
        "daemon_free_mail": raw_mail([("From", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>")],
                                     [("To", sent.reply_address), ("In-Reply-To", sent.message_id)],
                                     "Delivery Status Notification (Failure)", "Address not found."),
        "postmaster_reference_only": raw_mail([("From", "postmaster@mail.example.net")], [("To", OUR)],
                                              f"Delivery failure [{sent.reference}]", "The mailbox is full."),
        "dsn_delayed_only": _dsn(
            sender=f"MAILER-DAEMON@{OUR_MTA}", to=sent.reply_address, subject="Delayed Mail (still trying)",
            reporting_mta=OUR_MTA, final=CLERK, returned_id=sent.message_id, action="delayed"),
    }
    for raw in forged.values():
        room.deliver(raw)
    room.poll()
    for target in (sent, unsent):
        req = room.request(target.request_id)
        assert req.state == "sent" and "undeliverable" not in req.flags
    kinds = [i.kind for i in room.items()]
    assert "bounce" not in kinds
    assert kinds.count("suspect_bounce") + kinds.count("orphan") + kinds.count("unknown_sender") == len(forged)
    with room.sessions() as s:
        assert list(s.scalars(select(Event).where(Event.kind == "state_change", Event.to_state != "sent"))) == []


@pytest.mark.parametrize("claims", ["our_reporting_mta", "our_mta_sender", "agency_recipient"])
def test_a_well_made_forged_report_only_proposes(room: Mailroom, claims: str) -> None:
    """Anyone who saw our letter's Message-ID can write a perfect report: it may propose, never move the request."""
    target = room.target(sent_letter=True)
    sender, mta = {
        "our_reporting_mta": ("MAILER-DAEMON@evil.example", OUR_MTA),
        "our_mta_sender": (f"MAILER-DAEMON@{OUR_MTA}", "mx.evil.example"),
        "agency_recipient": ("postmaster@evil.example", "mx.evil.example"),
    }[claims]
    room.deliver(_dsn(sender=sender, to=target.reply_address, subject="Undelivered Mail", reporting_mta=mta,
                      final=CLERK, returned_id=target.message_id))
    room.poll()
    req = room.request(target.request_id)
    assert (req.state, req.last_reply_at, req.flags.get("undeliverable")) == ("sent", None, None)
    assert [i.kind for i in room.items(request_id=target.request_id)] in (["bounce"], ["suspect_bounce"])
    with room.sessions() as s:
        assert list(s.scalars(select(Event).where(Event.request_id == target.request_id,
                                                   Event.kind == "state_change"))) == []


@pytest.mark.parametrize("proof", ["our_mta", "failed_recipient"])
def test_a_real_report_for_our_letter_proposes_undeliverable_to_a_person(room: Mailroom, proof: str) -> None:
    target = room.target(sent_letter=True)
    mta, final = (OUR_MTA, "relay-refused@elsewhere.example") if proof == "our_mta" else ("mx.beverlyhills.org", CLERK)
    room.deliver(_dsn(sender=f"MAILER-DAEMON@{mta}", to=target.reply_address, subject="Undelivered Mail",
                      reporting_mta=mta, final=final, returned_id=target.message_id))
    room.poll()
    req = room.request(target.request_id)
    assert req.state == "sent" and "undeliverable" not in req.flags  # proposed, not acted on
    (item,) = room.items(kind="bounce")
    assert item.request_id == target.request_id and item.suggestions == ["undeliverable"]
    with room.sessions.begin() as s:
        result = confirm(s, item.id, operator="tester", now=NOW, rules_dir=room.settings.rules_path)
    assert result.request_state == "undeliverable"
    assert room.request(target.request_id).flags["undeliverable"] is True


def test_a_strangers_words_stay_out_of_the_thread_until_confirmed(room: Mailroom) -> None:
    """Earlier replies fold repeated paragraphs out of later ones: a stranger must not be able to pre-fold them."""
    from agent.pipeline.thread_context import build_thread_context

    target = room.target()
    extra, subject = EVIDENCE["reply_address"](target)
    room.deliver(raw_mail([("From", "clerk@beverlyhi11s.org")], extra, subject, fee_body(target)))
    room.poll()
    with room.sessions() as s:
        assert build_thread_context(s, target.request_id, AGENCY_DOMAIN).earlier_texts == ()
    (item,) = room.items(kind="unknown_sender")
    with room.sessions.begin() as s:
        confirm(s, item.id, operator="tester", now=NOW, rules_dir=room.settings.rules_path)
    with room.sessions() as s:
        (text,) = build_thread_context(s, target.request_id, AGENCY_DOMAIN).earlier_texts
        assert "$850.00" in text
