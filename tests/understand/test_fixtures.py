"""Table-driven: every .eml fixture (all labels, many agencies and phrasings) through parse -> understand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.mail.parse import parse
from agent.pipeline.stage_data import LABELS, ThreadContext
from agent.pipeline.understand import understand

MAIL = Path(__file__).parent / "fixtures" / "mail"
EXPECTED = json.loads((MAIL / "expected.json").read_text())


def test_fixtures_cover_every_label_several_times():
    counts = {label: 0 for label in LABELS}
    for row in EXPECTED.values():
        counts[row["label"]] += 1
    assert all(counts[label] >= 2 for label in LABELS), counts
    assert sum(1 for n in counts.values() if n >= 3) >= 10


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name, understand_rules):
    expected = EXPECTED[name]
    parsed = parse((MAIL / f"{name}.eml").read_bytes())
    result = understand(parsed, ThreadContext(), understand_rules)
    assert result.label == expected["label"], (result.label, result.rules)
    assert 0.0 < result.confidence <= 1.0
    assert result.rules, "every decision records the rules that fired"
    got_date = result.expected_date.isoformat() if result.expected_date else None
    assert got_date == expected["expected_date"]
    if expected["tracking_number"]:
        assert result.tracking_numbers[:1] == (expected["tracking_number"],)
    else:
        assert result.tracking_numbers == ()


def test_our_reference_is_not_an_agency_number(understand_rules):
    from agent.pipeline.stage_data import parsed_from_text

    msg = parsed_from_text(
        "We received your request RA-2025-0007 and assigned it Request No. 2025-FOIA-0117.",
        subject="Re: [RA-2025-0007] Public records request",
    )
    result = understand(msg, ThreadContext(request_reference="RA-2025-0007"), understand_rules)
    assert result.tracking_numbers == ("2025-FOIA-0117",)
