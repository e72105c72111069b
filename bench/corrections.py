"""What ten operator corrections of one agency's template do to that agency's next replies.

An invented agency answers 20 requests with one template (names, dates, matter numbers, days and clerk vary);
today's rules misread it. Run A processes all 20 with no corrections. Run B processes the first 10, an operator
relabels each in review, the rules reload (as on HUP, so the model trains on the corrections), and the next 10
arrive. Controls: the same agency's other template (an acknowledgment that shares its opening sentence) and
another agency sending the first template's words must keep their run-A labels. Real inbound path on SQLite
(Maildir in, poll, match, understand, apply, review). The last line holds the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import (
    ArchiveSettings,
    AttachmentSettings,
    CorrectionsSettings,
    DatabaseSettings,
    InboxSettings,
    RulesSettings,
    Settings,
)
from agent.daemon.ruleset import RuleSet
from agent.db import migrate
from agent.db.models import Agency, Message, Request, ReviewItem
from agent.db.session import make_engine, make_session_factory
from agent.inbound.poll import poll_once
from agent.mail.maildir_inbox import MaildirInbox
from agent.operators import review
from agent.operators.corrections import load_training_examples
from agent.pipeline.clean import clean, load_clean_rules
from agent.pipeline.correction_memory import jaccard, template_shingles
from agent.pipeline.stage_data import ThreadContext

ROOT = Path(__file__).resolve().parents[1]
UTC = dt.timezone.utc
NOW = dt.datetime(2025, 6, 2, 17, 0, tzinfo=UTC)
GOLD = "final_records"

READY = """{greeting} {name},

The Harrow Valley Water Authority has logged your correspondence of {date} as matter HV-{year}-{number}. Our \
custodian has pulled the files you described and placed them in the document exchange folder linked in this \
notice; please download them within {days} days. No further documents will follow on this matter.

{closing}
{clerk}
Clerk of the Board"""

RECEIVED = """{greeting} {name},

The Harrow Valley Water Authority has logged your correspondence of {date} as matter HV-{year}-{number}. Staff \
will search for the files you described and expect to respond within {days} business days.

{closing}
{clerk}
Clerk of the Board"""

NAMES = ["Ms. Alvarez", "Mr. Chen", "Dr. Okafor", "Ms. Lindqvist", "Mr. Haddad", "Ms. Nakamura", "Mr. Bianchi",
         "Ms. Osei", "Mr. Kowalski", "Ms. Duarte", "Requester", "Mr. Petrov", "Ms. Ferreira", "Mx. Quinn"]
CLERKS = ["Dana Whitlock", "Lee Park", "R. Santos", "Morgan Ellery"]
GREETINGS = ["Dear", "Hello", "Good morning"]
CLOSINGS = ["Regards,", "Sincerely,", "Thank you,"]


def fill(template: str, rng: random.Random) -> str:
    day = dt.date(2025, 1, 6) + dt.timedelta(days=rng.randrange(0, 140))
    style = rng.choice(["%B %d, %Y", "%m/%d/%Y", "%b. %d, %Y"])
    return template.format(
        greeting=rng.choice(GREETINGS), name=rng.choice(NAMES), date=day.strftime(style), year=day.year,
        number=rng.randrange(10, 9999), days=rng.choice([10, 14, 21, 30, 45, 60]), closing=rng.choice(CLOSINGS),
        clerk=rng.choice(CLERKS),
    )


@dataclass
class Run:
    settings: Settings
    sessions: sessionmaker[Session]
    inbox: MaildirInbox
    addresses: dict[str, list[str]]  # agency key -> reply addresses of its requests, in order
    rules: RuleSet
    n: int = 0

    def deliver(self, sender: str, to: str, body: str) -> None:
        self.n += 1
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to, "Your records request"
        msg["Date"] = format_datetime(NOW)
        msg["Message-ID"] = f"<bench-{self.n}@harrowvalley.example>"
        msg.set_content(body)
        (self.settings.inbox.maildir / "new" / f"{1700000000 + self.n}.M{self.n}P1.bench").write_bytes(msg.as_bytes())

    def poll(self) -> None:
        poll_once(self.settings, self.sessions, self.inbox, rules=self.rules.current, now=lambda: NOW)

    def labels(self, addresses: list[str]) -> list[str | None]:
        with self.sessions() as s:
            out = []
            for address in addresses:
                rid = s.scalar(select(Request.id).where(Request.reply_address == address))
                out.append(s.scalars(select(Message.label).where(Message.request_id == rid)).first())
            return out


def make_run(folder: Path, corrections: CorrectionsSettings) -> Run:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{folder / 'agent.db'}"),
        archive=ArchiveSettings(path=folder / "mailbox"),
        attachments=AttachmentSettings(path=folder / "attachments"),
        inbox=InboxSettings(backend="maildir", maildir=folder / "inbox"),
        rules=RulesSettings(path=ROOT / "rules"),
        corrections=corrections,
    )
    for sub in ("new", "cur", "tmp"):
        (folder / "inbox" / sub).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database.url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    addresses: dict[str, list[str]] = {"harrow": [], "marlow": []}
    with sessions.begin() as s:
        harrow = Agency(name="Harrow Valley Water Authority", jurisdiction="CA", domains=["harrowvalley.example"])
        marlow = Agency(name="Marlow County Assessor", jurisdiction="CA", domains=["marlow.example"])
        s.add_all([harrow, marlow])
        s.flush()
        for key, agency, count in (("harrow", harrow, 25), ("marlow", marlow, 5)):
            for i in range(count):
                ref = f"RA-2025-{agency.id}{i:03d}"
                address = f"records+{ref.lower()}-b{i}@example.org"
                addresses[key].append(address)
                s.add(Request(reference=ref, agency_id=agency.id, jurisdiction="CA", state="sent",
                              reply_address=address, subject="Water main break reports"))
    rules = RuleSet(settings.rules_path, examples=lambda: load_training_examples(sessions))
    rules.load_initial()
    return Run(settings, sessions, MaildirInbox(settings.inbox.maildir, account="bench"), addresses, rules)


def letters(seed: int) -> tuple[list[str], list[str], list[str]]:
    rng = random.Random(seed)
    ready = [fill(READY, rng) for _ in range(20)]
    received = [fill(RECEIVED, rng) for _ in range(5)]
    elsewhere = [fill(READY, rng).replace("Harrow Valley Water Authority", "Marlow County Assessor")
                 .replace("HV-", "MC-") for _ in range(5)]
    return ready, received, elsewhere


def relabel_all(run: Run, addresses: list[str], label: str) -> int:
    """The operator's pass over the review queue: each of these replies gets `label` (confirm when it has it)."""
    done = 0
    with run.sessions.begin() as s:
        for address in addresses:
            rid = s.scalar(select(Request.id).where(Request.reply_address == address))
            message = s.scalars(select(Message).where(Message.request_id == rid)).first()
            if message is None:
                continue
            item = s.scalars(select(ReviewItem).where(ReviewItem.message_row_id == message.id,
                                                      ReviewItem.state == "open")).first()
            if item is None:
                item = ReviewItem(kind="low_confidence", message_row_id=message.id, request_id=rid)
                s.add(item)
                s.flush()
            if message.label == label:
                review.confirm(s, item.id, operator="bench", now=NOW, rules_dir=run.settings.rules_path)
            else:
                review.relabel(s, item.id, label, operator="bench", now=NOW, rules_dir=run.settings.rules_path)
            done += 1
    return done


def accuracy(labels: list[str | None], gold: str) -> float:
    return sum(1 for x in labels if x == gold) / len(labels)


def scenario(folder: Path, seed: int, corrections: CorrectionsSettings, teach: bool) -> dict[str, list[str | None]]:
    run = make_run(folder, corrections)
    ready, received, elsewhere = letters(seed)
    harrow, marlow = run.addresses["harrow"], run.addresses["marlow"]
    for body, to in zip(ready[:10], harrow[:10]):
        run.deliver("clerk@harrowvalley.example", to, body)
    run.poll()
    if teach:
        relabel_all(run, harrow[:10], GOLD)
        swapped, message = run.rules.reload()  # what SIGHUP does: the model trains on the corrections
        assert swapped, message
    for body, to in zip(ready[10:], harrow[10:20]):
        run.deliver("clerk@harrowvalley.example", to, body)
    for body, to in zip(received, harrow[20:25]):
        run.deliver("clerk@harrowvalley.example", to, body)
    for body, to in zip(elsewhere, marlow):
        run.deliver("desk@marlow.example", to, body)
    run.poll()
    return {
        "first": run.labels(harrow[:10]),
        "next": run.labels(harrow[10:20]),
        "received": run.labels(harrow[20:25]),
        "elsewhere": run.labels(marlow),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-corrections-") as tmp:
        base = Path(tmp)
        defaults = CorrectionsSettings()
        before = scenario(base / "before", args.seed, defaults, teach=False)
        after = scenario(base / "after", args.seed, defaults, teach=True)
        # The model alone: a similarity no two letters reach turns the template memory off.
        model_only = scenario(base / "model", args.seed, CorrectionsSettings(template_similarity=1.0), teach=True)
    ready, received, elsewhere = letters(args.seed)
    clean_rules = load_clean_rules(ROOT / "rules")

    def shingles(text: str) -> frozenset[str]:
        return template_shingles(clean(text, ThreadContext(), clean_rules).text)  # what the pipeline compares

    taught = [shingles(t) for t in ready[:10]]

    def span(texts: list[str]) -> str:
        near = [max(jaccard(shingles(t), x) for x in taught) for t in texts]
        return f"{min(near):.2f}-{max(near):.2f}"

    print(f"similarity to the nearest corrected letter: same template {span(ready[10:])}, same agency's other "
          f"template {span(received)}, other agency {span(elsewhere)} "
          f"(threshold {CorrectionsSettings().template_similarity})")
    for name, result in (("before", before), ("after", after), ("model only", model_only)):
        print(f"{name:>10}: next 10 {result['next']}")
    changed_received = sum(1 for a, b in zip(before["received"], after["received"]) if a != b)
    changed_elsewhere = sum(1 for a, b in zip(before["elsewhere"], after["elsewhere"]) if a != b)
    print(f"  controls: same agency's other template before={before['received']} after={after['received']}")
    print(f"            other agency, same words      before={before['elsewhere']} after={after['elsewhere']}")
    print(
        f"corrections=10 before={accuracy(before['next'], GOLD):.3f} after={accuracy(after['next'], GOLD):.3f} "
        f"model_only={accuracy(model_only['next'], GOLD):.3f} n=10 "
        f"other_template_changed={changed_received}/5 other_agency_changed={changed_elsewhere}/5"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
