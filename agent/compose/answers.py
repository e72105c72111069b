"""Our answers to an agency from review (a fee agreed or narrowed, a question answered, interest confirmed).

The template names live here, with sample values, so the start-up rules check renders every one of them:
a broken edit is found then, not when an operator answers a fee notice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.compose.render import render

FEE_APPROVAL = "fee_approval.txt.j2"
FEE_INVOICE = "fee_invoice.txt.j2"
FEE_NARROWING = "fee_narrowing.txt.j2"
CLARIFICATION_ANSWER = "clarification_answer.txt.j2"
CONFIRM_INTEREST = "confirm_interest.txt.j2"
ANSWER_TEMPLATES: tuple[str, ...] = (FEE_APPROVAL, FEE_INVOICE, FEE_NARROWING, CLARIFICATION_ANSWER, CONFIRM_INTEREST)

# What agent.filing.thread supplies for every thread letter (ThreadFacts.template_vars), with sample values:
# the start-up check renders answers, withdrawal notices and appeals with it.
SAMPLE_THREAD_VARS: dict[str, Any] = {
    "agency_name": "Sample Agency",
    "reference": "RA-2000-0001",
    "filed_date": "January 3, 2000",
    "tracking_number": "A-1",
    "tracking_numbers": ["A-1", "B-2"],
    "sender_name": "Records Desk",
    "signature": "",
}
# ... plus each answer's own variables.
_SAMPLE: dict[str, Any] = {
    **SAMPLE_THREAD_VARS,
    "quoted": "$37.50",
    "up_to": "$50.00",
    "narrowed": "Only the 2024 records.",
    "answer": "The records of 2024 only.",
}


def check_answer_templates(rules_dir: Path) -> None:
    """Render each answer template once with sample values; raises TemplateError naming the one at fault."""
    for name in ANSWER_TEMPLATES:
        render(Path(rules_dir), name, _SAMPLE)
