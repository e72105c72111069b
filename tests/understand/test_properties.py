"""Property tests: cleaning, classifying, extracting and understanding never raise, whatever the text."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.pipeline import extract
from agent.pipeline.classify import Features, classify, prepare_text
from agent.pipeline.clean import clean
from agent.pipeline.tracking import find_tracking_numbers
from agent.pipeline.stage_data import LABELS, ThreadContext, parsed_from_text
from agent.pipeline.understand import understand
from support.fuzz import examples

# Text that looks like mail: fragments agencies really write, glued with arbitrary unicode and line noise.
FRAGMENTS = st.sampled_from(
    [
        "From: ", "Sent: ", "To: ", "Subject: ", "> ", "On Mon, Feb 3, 2025 Joe wrote:", "-----Original Message-----",
        "Thank you,", "Sincerely,", "$", "1,240.00", "7922.535", "03/07/2025", "by March 1, 2021", "within 10 business days",
        "Request #", "CRM-25-191", "(CRM-XNWk7HB5J)", "https://x.example/a?b=c", "\n", "\n\n", "\r\n", "___________",
        "denied", "no records", "attached", "deposit", "clarify", "portal", "extension", "Dear ", " ", ".", "\u200b", "\xa0",
    ]
)
MAILISH = st.lists(st.one_of(FRAGMENTS, st.text(max_size=40)), max_size=40).map("".join)
SETTINGS = settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(text=MAILISH, earlier=st.lists(MAILISH, max_size=3), ours=st.lists(MAILISH, max_size=2))
def test_clean_never_raises(understand_rules, text, earlier, ours):
    result = clean(text, ThreadContext(earlier_texts=tuple(earlier), our_texts=tuple(ours)), understand_rules.clean)
    assert isinstance(result.text, str)
    assert all(f.reason for f in result.folded)


@SETTINGS
@given(text=MAILISH, kind=st.sampled_from(["reply", "auto_reply", "bounce"]))
def test_classify_never_raises(understand_rules, text, kind):
    decision = classify(Features(prepare_text(text), kind=kind), understand_rules.classify)
    assert decision.label in LABELS
    assert 0.0 <= decision.confidence <= 1.0


@SETTINGS
@given(text=MAILISH, base=st.one_of(st.none(), st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1))))
def test_extract_never_raises(understand_rules, text, base):
    day = extract.expected_date(text, base)
    assert day is None or isinstance(day, dt.date)
    extract.fees(text)
    extract.links(text)
    extract.records_attached(text, ())
    numbers = find_tracking_numbers(text, understand_rules.tracking, ("(", r"\d+"))
    assert all(n and n[0].isalnum() or n for n in numbers)


@SETTINGS
@given(text=MAILISH, subject=st.text(max_size=30))
def test_understand_never_raises(understand_rules, text, subject):
    result = understand(parsed_from_text(text, subject=subject, date=dt.date(2025, 1, 2)), ThreadContext(), understand_rules)
    assert result.label in LABELS
    assert "error.understand" not in result.rules


def test_huge_and_pathological_bodies_stay_linear(understand_rules):
    import base64
    import random
    import time

    blob = base64.b64encode(random.Random(7).randbytes(60_000)).decode()
    bodies = [
        "x" * 100_000,
        "a." * 50_000,
        "a.b+" * 25_000,
        "On " + "a" * 50_000 + " wrote:",
        "The records are held by the county. " + blob + " records are attached",
    ]
    for body in bodies:
        started = time.thread_time()
        understand(parsed_from_text(body), ThreadContext(earlier_texts=(body[:10_000],)), understand_rules)
        assert time.thread_time() - started < 3.0, body[:20]
