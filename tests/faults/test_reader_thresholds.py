"""The configured closing threshold reaches the reading, in the daemon and in its worker process alike.

Understanding marks a closing reading it would not apply by itself (`review.closing`); with the threshold
passed through, a stricter `[classify] closing_threshold` marks the same confident reading, a laxer one
does not, whichever reader the poller uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import LimitsSettings
from agent.daemon.ruleset import load_rules
from agent.inbound import worker
from agent.inbound.reader import InProcessReader
from agent.pipeline.stage_data import ThreadContext

REPO = Path(__file__).resolve().parents[2]
FINAL = (
    b"From: clerk@city.example\r\nTo: records@example.org\r\nSubject: Records request 25-101\r\n"
    b"Message-ID: <final-1@city.example>\r\n\r\n"
    b"After a thorough search of our files, the department has no records responsive to your request. "
    b"Your request is now closed.\r\n"
)


def _closing_marks(reader: worker.Reader, rules: object) -> list[bool]:
    parsed = reader.parse(FINAL, max_attachment_bytes=1 << 20)
    marks = []
    for closing in (1.0, 0.0):
        u = reader.understand(parsed, ThreadContext(), rules, review_threshold=0.0, closing_threshold=closing,
                              corrections=None)
        assert u.label == "no_records", u
        marks.append("review.closing" in u.rules)
    return marks


def test_in_process() -> None:
    assert _closing_marks(InProcessReader(), load_rules(REPO / "rules")) == [True, False]


@pytest.mark.reading_worker
def test_in_the_worker() -> None:
    rules = load_rules(REPO / "rules")
    reader = worker.reader_for(LimitsSettings(), rules)
    assert not isinstance(reader, InProcessReader), "the worker started"
    assert _closing_marks(reader, rules) == [True, False]
