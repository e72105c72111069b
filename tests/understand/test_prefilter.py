"""The fast path for rule regexes (literal prefilters, lower-cased text, manual word boundary) means the same."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.pipeline.prefilter import fast_patterns, required_literals, split_alternatives
from support.shared import DEV_SET

MAIL = Path(__file__).parent / "fixtures" / "mail"


def texts() -> list[str]:
    out = [p.read_text(errors="replace") for p in sorted(MAIL.glob("*.eml"))]
    if DEV_SET.is_file():
        out += [json.loads(line)["body"] for line in DEV_SET.read_text().splitlines() if line.strip()]
    return out


def patterns(understand_rules) -> list[tuple[re.Pattern[str], list]]:
    """Each rule regex as written, with the fast pieces the classifier really runs."""
    found = []
    for rule in understand_rules.classify.rules:
        for piece in rule.patterns:
            found.append((piece.source, [piece]))
    return found


def agrees(source: re.Pattern[str], text: str, fast=None) -> bool:
    fast = fast if fast is not None else fast_patterns(source)
    lowered = text.lower()
    return (source.search(text) is not None) == any(p.search(lowered) for p in fast)


def test_fast_patterns_agree_on_real_mail(understand_rules):
    sample = [re.sub(r"\s+", " ", t) for t in texts()]
    for source, fast in patterns(understand_rules):
        for text in sample:
            assert agrees(source, text, fast), (source.pattern, text[:80])


WORDS = st.sampled_from(["request", "records", "denied", "is", "are", "attached", "fee", "$", "12", "the", "your",
                         "extension", "Exempt", "DENIED", "_", "re-", "no", "not", "'s", "’"])
TEXT = st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=30).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_fast_patterns_agree_on_arbitrary_text(understand_rules, text):
    for source, fast in patterns(understand_rules):
        assert agrees(source, text, fast), source.pattern


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"\bdeny\b", "we deny it", True),
        (r"\bdeny\b", "we undeny it", False),
        (r"\bfee\b|\bcost\b", "costly fees", False),
        (r"\bfee\b|\bcost\b", "the COST", True),
        (r"\b(?:is|are)\s+denied", "this denied", False),
    ],
)
def test_boundaries(pattern, text, expected):
    source = re.compile(pattern, re.I)
    assert (source.search(text) is not None) is expected
    assert agrees(source, text)


def test_literals_and_splitting():
    assert required_literals(re.compile(r"\bno\s+records?\s+(?:were\s+)?found", re.I)) is not None
    assert required_literals(re.compile(r"\d+", re.I)) is None
    assert split_alternatives(r"\ba\b|(b|c)|[|]x|\|y") == [r"\ba\b", "(b|c)", "[|]x", r"\|y"]
