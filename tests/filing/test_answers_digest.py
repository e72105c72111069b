"""The digest points at `agent campaign answers` for a campaign whose agencies answered its items that week."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.digest.build import build_digest
from agent.digest.render import render_html, render_text
from agent.filing.answers import archive_reader, set_answer
from agent.filing.campaigns import agencies_by_jurisdiction, campaign_requests, create_campaign
from agent.mail.archive import Archive
from agent.pipeline.answers import ANSWER_LABELS
from filing.answer_corpus import CORPUS
from filing.answer_support import FILED, add_reply, file_corpus

WEEK_START = dt.date(2025, 2, 17)  # the replies come ten to eleven days after filing (Feb 21-22)


def test_digest_mentions_new_answers(
    directory: sessionmaker[Session], settings: Settings, tmp_path: Path, rules_dir: Path,
) -> None:
    archive_root = tmp_path / "mailbox"
    with directory.begin() as session:
        alpr = file_corpus(session, settings, archive_root)
        # A campaign whose letter asks no numbered items gets no pointer, however final its replies.
        federal = create_campaign(session, template="foia_general", agencies=agencies_by_jurisdiction(session, "US"),
                                  variables={"topic": "ALPR", "records": "Contracts"}, settings=settings, now=FILED)
        first = campaign_requests(session, federal)[0]
        add_reply(session, Archive(archive_root), first.id, "foia@fbi.example.gov", "Records attached.",
                  label="final_records", when=FILED + dt.timedelta(days=10), key="federal")
        alpr_id, federal_id = alpr.id, federal.id
    with directory() as session:
        digest = build_digest(session, since=WEEK_START, until=WEEK_START + dt.timedelta(days=7), settings=settings)
    progress = {c.id: c for c in digest.campaigns}
    answering = sum(1 for a in CORPUS if any(letter.label in ANSWER_LABELS for letter in a.letters))
    assert progress[alpr_id].new_answers == answering
    assert progress[federal_id].new_answers == 0
    text = render_text(digest, rules_dir)
    assert f"new answers from {answering} agencies: agent campaign answers {alpr_id}" in text
    assert f"agent campaign answers {federal_id}" not in text
    assert f"<code>agent campaign answers {alpr_id}</code>" in render_html(digest, rules_dir)

    # The week after: no mail, one hand correction; the campaign moved, and its answers did.
    later = WEEK_START + dt.timedelta(days=7)
    with directory.begin() as session:
        campaign = session.get(type(alpr), alpr_id)
        assert campaign is not None
        set_answer(session, campaign, "Buena Park Police Department", "A1", "Orange County Sheriff's Department",
                   operator="alice", text_of=archive_reader(archive_root, rules_dir),
                   now=dt.datetime.combine(later + dt.timedelta(days=1), dt.time(12), tzinfo=dt.timezone.utc))
    with directory() as session:
        digest = build_digest(session, since=later, until=later + dt.timedelta(days=7), settings=settings)
    assert {c.id: c.new_answers for c in digest.campaigns} == {alpr_id: 1}
    assert "new answers from 1 agency: agent campaign answers" in render_text(digest, rules_dir)
