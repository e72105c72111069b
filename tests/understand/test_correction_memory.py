"""The per-agency template memory: same template with other names/dates/numbers recalls; other words or agencies do not."""

from __future__ import annotations

import pytest

from agent.pipeline.correction_memory import (
    CorrectedExample,
    build_memory,
    jaccard,
    template_shingles,
    template_text,
)

FEE = ("Dear {who}, your request {num} received on {date} will require {hours} hours of staff time. "
       "Before we begin, please remit a deposit of ${amount} by check payable to the Township of Elm Ridge. "
       "Work starts when payment arrives.")


def fee(who: str, num: str, date: str, hours: int, amount: str) -> str:
    return FEE.format(who=who, num=num, date=date, hours=hours, amount=amount)


TAUGHT = fee("Ms. Ruiz", "ER-2024-0091", "January 4, 2024", 3, "45.00")
MEMORY = build_memory([CorrectedExample(7, "fee", TAUGHT, agency_id=1, sender_domain="elmridge.example")])


@pytest.mark.parametrize(
    ("text", "agency_id", "domain", "expected"),
    [
        # Same agency, same template, every variable part changed.
        (fee("Mr. Boateng", "ER-2025-1187", "03/11/2025", 12, "180.50"), 1, "elmridge.example", "fee"),
        # The agency is known from the request; the sender domain may differ (a clerk's personal address).
        (fee("Dr. Iyer", "ER-2025-7", "Sept. 30, 2025", 1, "15"), 1, "gmail.example", "fee"),
        # Agency unknown (an orphan): the sender domain stands in for it.
        (fee("Mr. Boateng", "ER-2025-1187", "03/11/2025", 12, "180.50"), None, "elmridge.example", "fee"),
        # Another agency on the same domain (a shared portal) never borrows the correction.
        (fee("Mr. Boateng", "ER-2025-1187", "03/11/2025", 12, "180.50"), 2, "elmridge.example", None),
        # Another agency on another domain: nothing to recall.
        (fee("Mr. Boateng", "ER-2025-1187", "03/11/2025", 12, "180.50"), 3, "oakfield.example", None),
        # Same agency, another letter that shares some words.
        ("Dear Ms. Ruiz, your request ER-2024-0091 received on January 4, 2024 has been completed and the records "
         "are attached. No payment is due.", 1, "elmridge.example", None),
        # Too short to name a template.
        ("Please remit a deposit.", 1, "elmridge.example", None),
    ],
)
def test_recall(text: str, agency_id: int | None, domain: str, expected: str | None) -> None:
    recall = MEMORY.recall(text, agency_id=agency_id, sender_domain=domain)
    assert (recall.label if recall else None) == expected
    if recall is not None:
        assert recall.rule_id == "correction.template:7" and recall.similarity >= MEMORY.similarity


def test_masking_makes_variable_parts_equal() -> None:
    a = template_shingles("Received on March 3, 2025 as 26-5133; reply by friday to ana@x.example.")
    b = template_shingles("Received on Nov. 19, 2024 as 2023-PRR-423; reply by Monday to bo@y.example.")
    assert jaccard(a, b) > 0.6
    assert jaccard(a, template_shingles("Something else entirely, written in other words.")) == 0.0


def test_newest_and_closest_wins_and_threshold_holds() -> None:
    old = CorrectedExample(1, "acknowledgment", TAUGHT, 1, "elmridge.example")
    new = CorrectedExample(2, "fee", TAUGHT, 1, "elmridge.example")
    assert build_memory([old, new]).recall(TAUGHT, agency_id=1, sender_domain="") .label == "fee"  # type: ignore[union-attr]
    strict = build_memory([new], similarity=1.0)
    assert strict.recall(fee("Mr. B", "ER-1", "May 1, 2025", 2, "5"), agency_id=1, sender_domain="") is None
    assert strict.recall(TAUGHT, agency_id=1, sender_domain="") is not None


def test_template_text_keeps_learned_boilerplate() -> None:
    assert template_text("New part.", ["Shared notice."]) == "New part.\nShared notice."
    assert template_text(None, "") == ""
