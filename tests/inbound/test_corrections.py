"""An operator's relabel teaches the agent that agency's template: the next reply in it takes the corrected label,
while another agency writing much the same words is left alone. Through the real inbound path, SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from inbound_helpers import make_settings, mail
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.daemon.ruleset import RuleSet
from agent.db.models import Agency, Correction, Message, Request, ReviewItem
from agent.inbound.poll import poll_once
from agent.mail.maildir_inbox import MaildirInbox
from agent.operators import review
from agent.operators.corrections import load_training_examples
from agent.operators.clock import UTC

import datetime as dt

NOW = dt.datetime(2025, 3, 20, 17, 0, tzinfo=UTC)

# One invented agency's "your files are ready" letter: today's rules read "no further documents will follow" badly.
TEMPLATE = """Dear {name},

The Harrow Valley Water Authority has logged your correspondence of {date} as matter {prefix}-{year}-{number}. Our \
custodian has pulled the files you described and placed them in the document exchange folder linked in this \
notice; please download them within {days} days. No further documents will follow on this matter.

Regards,
{clerk}
Clerk of the Board"""


def letter(name: str, date: str, number: int, days: int, clerk: str = "Dana Whitlock", prefix: str = "HV") -> str:
    return TEMPLATE.format(name=name, date=date, year=2025, number=number, days=days, clerk=clerk, prefix=prefix)


def _seed(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Two requests to the water authority, one to an unrelated agency; returns reference -> reply address."""
    addresses: dict[str, str] = {}
    with sessions.begin() as s:
        harrow = Agency(name="Harrow Valley Water Authority", jurisdiction="CA", domains=["harrowvalley.example"])
        other = Agency(name="Marlow County Assessor", jurisdiction="CA", domains=["marlow.example"])
        s.add_all([harrow, other])
        s.flush()
        for n, agency in ((1, harrow), (2, harrow), (3, other)):
            ref = f"RA-2025-01{n:02d}"
            addresses[ref] = f"records+{ref.lower()}-x{n}@example.org"
            s.add(Request(reference=ref, agency_id=agency.id, jurisdiction="CA", state="sent",
                          reply_address=addresses[ref], subject="Water main break reports"))
    return addresses


class Inbox:
    def __init__(self, tmp_path: Path, db_url: str, sessions: sessionmaker[Session]) -> None:
        self.settings = make_settings(tmp_path, db_url)
        self.sessions = sessions
        self.inbox = MaildirInbox(self.settings.inbox.maildir, account="test")
        self.n = 0

    def receive(self, sender: str, to: str, body: str) -> Message:
        self.n += 1
        path = self.settings.inbox.maildir / "new" / f"{1700000000 + self.n}.M{self.n}P1.test"
        path.write_bytes(mail(sender=sender, to=to, subject="Your records request", body=body))
        poll_once(self.settings, self.sessions, self.inbox, now=lambda: NOW)
        with self.sessions() as s:
            row = s.scalars(select(Message).order_by(Message.id.desc())).first()
            assert row is not None and row.request_id is not None, "the reply matched its request"
            s.expunge(row)
            return row


def _review_item(s: Session, message: Message) -> ReviewItem:
    """The message's review item; an operator can also open one on a message the daemon applied by itself."""
    item = s.scalars(select(ReviewItem).where(ReviewItem.message_row_id == message.id)).first()
    if item is None:
        item = ReviewItem(kind="low_confidence", message_row_id=message.id, request_id=message.request_id)
        s.add(item)
        s.flush()
    return item


def test_a_relabel_changes_the_next_reply_in_that_agencys_template_only(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    to = _seed(sessions)
    box = Inbox(tmp_path, db_url, sessions)
    first = box.receive("clerk@harrowvalley.example", to["RA-2025-0101"],
                        letter("Ms. Alvarez", "March 3, 2025", 118, 30))
    assert first.label != "final_records", "the template is misread today (else this test proves nothing)"

    with sessions.begin() as s:
        item = _review_item(s, first)
        review.relabel(s, item.id, "final_records", operator="ana", now=NOW, rules_dir=box.settings.rules_path)
    with sessions() as s:
        kept = s.scalars(select(Correction)).one()
        assert (kept.label, kept.previous_label, kept.action, kept.operator, kept.sender_domain) == (
            "final_records", first.label, "relabel", "ana", "harrowvalley.example")
        assert "document exchange folder" in kept.text and kept.agency_id is not None

    # Same template, other names, dates and numbers, on the authority's other request.
    second = box.receive("records@harrowvalley.example", to["RA-2025-0102"],
                         letter("Mr. Okafor", "April 14, 2025", 2231, 45, clerk="Lee Park"))
    assert second.label == "final_records"
    assert f"correction.template:{kept.id}" in second.rule_hits
    assert second.confidence is not None and second.confidence >= box.settings.classify.review_threshold
    with sessions() as s:
        assert s.get(Request, second.request_id).state == "completed"  # type: ignore[union-attr]

    # Another agency sending much the same words keeps today's reading.
    third = box.receive("desk@marlow.example", to["RA-2025-0103"],
                        letter("Mr. Okafor", "April 14, 2025", 77, 45, prefix="MC").replace("Harrow Valley Water", "Marlow County"))
    assert third.label == first.label
    assert not any(str(r).startswith("correction.") for r in third.rule_hits)


def test_a_confirm_is_kept_and_the_model_learns_corrections_at_the_next_load(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    to = _seed(sessions)
    box = Inbox(tmp_path, db_url, sessions)
    first = box.receive("clerk@harrowvalley.example", to["RA-2025-0101"],
                        letter("Ms. Alvarez", "March 3, 2025", 118, 30))
    with sessions.begin() as s:
        item = _review_item(s, first)
        review.confirm(s, item.id, operator="bo", now=NOW, rules_dir=box.settings.rules_path)
    with sessions() as s:
        kept = s.scalars(select(Correction)).one()
        assert (kept.action, kept.label, kept.previous_label, kept.operator) == ("confirm", first.label, first.label, "bo")

    # The daemon's rule set reads the corrections at every load: the model now knows the template's words.
    rules = RuleSet(box.settings.rules_path, examples=lambda: load_training_examples(sessions))
    rules.load_initial()
    model = rules.current.classify.model
    assert model is not None
    assert "exchange folder" in model.words.vocabulary_  # a word pair no repo example uses
    with sessions.begin() as s:
        s.get(Message, first.id).label = "final_records"  # type: ignore[union-attr]
        item2 = ReviewItem(kind="low_confidence", message_row_id=first.id, request_id=first.request_id)
        s.add(item2)
        s.flush()
        review.relabel(s, item2.id, "no_records", operator="bo", now=NOW, rules_dir=box.settings.rules_path)
    # Decided twice, the message counts once, as last decided.
    assert [label for _, label in load_training_examples(sessions)] == ["no_records"]
    swapped, _ = rules.reload()
    assert swapped
    relearned = rules.current.classify.model
    assert relearned is not None
    probabilities = relearned.probabilities(kept.text)
    assert probabilities["no_records"] > probabilities["final_records"]
