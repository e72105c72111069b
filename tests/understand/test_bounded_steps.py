"""The rewritten linear steps keep their meaning, and the bounds hold (timings live in bench/hostile.py)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from agent.pipeline import extract
from agent.pipeline.clean import clean
from agent.pipeline.stage_data import ThreadContext, parsed_from_text
from agent.pipeline.tracking import MAX_NUMBERS, _first_of_overlaps, find_tracking_numbers, load_tracking_rules
from agent.pipeline.understand import MAX_TEXT_CHARS, understand

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
BASE = dt.date(2025, 1, 6)  # a Monday


def _brute_force(candidates: list[tuple[int, int, str]]) -> tuple[str, ...]:
    """The old overlap check, every kept span asked: the reference the one-pass version must equal."""
    taken: list[tuple[int, int]] = []
    out: list[str] = []
    for start, end, value in sorted(candidates, key=lambda c: (c[0], -(c[1] - c[0]))):
        if any(start < t_end and end > t_start for t_start, t_end in taken):
            continue
        taken.append((start, end))
        if value.upper() not in {v.upper() for v in out}:
            out.append(value)
    return tuple(out[:MAX_NUMBERS])


@pytest.mark.parametrize("seed", range(30))
def test_one_pass_overlap_equals_pairwise(seed):
    rng = random.Random(seed)
    candidates = []
    for _ in range(rng.randint(0, 40)):
        start = rng.randint(0, 200)
        end = start + rng.randint(1, 15)
        candidates.append((start, end, rng.choice(["a1", "B2", "b2", "c3", f"x{start}"])))
    assert _first_of_overlaps(list(candidates)) == _brute_force(candidates)


def test_numbers_are_capped():
    rules = load_tracking_rules(RULES_DIR)
    text = " ".join(f"Request # 24-{100 + i}" for i in range(MAX_NUMBERS + 15))
    found = find_tracking_numbers(text, rules)
    assert len(found) == MAX_NUMBERS and found[0] == "24-100"


def test_repeated_number_is_found_once():
    rules = load_tracking_rules(RULES_DIR)
    assert find_tracking_numbers("Request # 24-556 " * 2000, rules) == ("24-556",)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("We will respond within 5 days.", BASE + dt.timedelta(days=5)),
        ("We will respond within 5days.", BASE + dt.timedelta(days=5)),
        ("We will need 5 additional business days.", dt.date(2025, 1, 13)),
        ("We will respond within fourteen (14) days.", BASE + dt.timedelta(days=14)),
        ("We will respond within ten    working\n   days.", dt.date(2025, 1, 20)),
        ("We will respond within 2 more weeks.", BASE + dt.timedelta(weeks=2)),
        ("We will respond within 5" + " " * 300 + "x days.", None),
        ("We will respond within 5 additionaldays.", None),
    ],
)
def test_relative_counts_keep_their_meaning(sentence, expected):
    assert extract.expected_date(sentence, BASE) == expected


def test_date_candidates_are_bounded():
    # Past the per-message budget nothing more is read: a dump of dates cannot cost a parse each.
    text = "We will respond by January 10, 2025. " * (extract.MAX_CANDIDATES + 10) + "We will respond by May 1, 2025."
    assert extract.expected_date(text, BASE) == dt.date(2025, 1, 10)


@pytest.fixture(scope="module")
def clean_rules(understand_rules):
    return understand_rules.clean


def test_alternating_quoted_lines_fold_each_run(clean_rules):
    text = "Hello\n" + "".join(f"> quoted {i}\nown {i}\n" for i in range(50))
    result = clean(text, ThreadContext(), clean_rules)
    quoted = [f.text for f in result.folded if f.reason == "quoted"]
    assert quoted == [f"> quoted {i}" for i in range(50)]
    assert "quoted" not in result.unquoted and "own 49" in result.unquoted


def test_a_run_of_folded_units_is_one_block(clean_rules):
    notice = "This notice is repeated in every message we send to you about requests."
    text = f"Hello,\n\nWe received it.\n\n{notice}\n\n{notice}\n\n{notice}"
    result = clean(text, ThreadContext(earlier_texts=(f"Earlier we wrote to you about another request.\n\n{notice}",)), clean_rules)
    repeated = [f for f in result.folded if f.reason == "repeated_in_thread"]
    assert len(repeated) == 1 and repeated[0].text == "\n".join([notice] * 3)


def test_fingerprints_are_distinct_and_ordered(clean_rules):
    lines = [f"Line number {w} says something plain" for w in ("one", "two", "one", "three")]
    result = clean("\n\n".join(lines), ThreadContext(), clean_rules)
    assert len(result.fingerprints) == 3


@pytest.mark.parametrize(
    ("line", "is_signoff"),
    [("Thank you", True), ("Thanks  ,,  ", True), ("Regards, - Ana Diaz", True), ("Best" + " " * 200, True),
     ("Thanks" + " " * 200 + "for waiting", False), ("Sincerely,!x", False)],
)
def test_signoff_pattern(clean_rules, line, is_signoff):
    assert bool(clean_rules.signoff.match(line.strip() if is_signoff else line)) is is_signoff


def test_attribution_after_blank_lines_is_still_cut(clean_rules):
    text = "We will send them Friday.\n\n\n\n   On Mon, Feb 3, 2025 Joe Smith\n<joe@x.example> wrote:\n> please send"
    result = clean(text, ThreadContext(), clean_rules)
    assert result.text == "We will send them Friday."
    assert any(f.reason == "quoted" and f.text.startswith("On Mon") for f in result.folded)


def test_understanding_reads_a_bounded_text(understand_rules):
    body = "We received your request.\n" + ("x" * 70 + "\n") * 2000
    result = understand(parsed_from_text(body, date=BASE), ThreadContext(), understand_rules)
    assert len(result.cleaned_text) <= MAX_TEXT_CHARS
    assert "error.understand" not in result.rules
