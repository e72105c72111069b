"""Request states and labels as operators see them: which states are closed, what each label means for a request."""

from __future__ import annotations

from agent.pipeline.types import LABELS

# The states DESIGN.md names; the state machine (agent.requests.states) is the authority when present.
KNOWN_STATES: tuple[str, ...] = (
    "draft",
    "queued",
    "sent",
    "acknowledged",
    "extended",
    "partial",
    "fee_required",
    "clarification_needed",
    "completed",
    "no_records",
    "rejected",
    "portal",
    "withdrawn",
    "needs_review",
    "undeliverable",
)
# Nothing more is owed on these, so they are never overdue and never "due this week".
CLOSED_STATES: frozenset[str] = frozenset({"completed", "no_records", "rejected", "withdrawn"})
# Not filed yet: no clock runs.
UNFILED_STATES: frozenset[str] = frozenset({"draft", "queued"})
# The agency waits for us (money, an answer), so its clock is not what we watch.
WAITING_ON_US: frozenset[str] = frozenset({"fee_required", "clarification_needed"})

# What a confirmed label does to a request when the deadlines engineer's apply_message is not installed.
LABEL_STATE: dict[str, str] = {
    "acknowledgment": "acknowledged",
    "extension": "extended",
    "batch": "partial",
    "final_records": "completed",
    "no_records": "no_records",
    "denial": "rejected",
    "fee": "fee_required",
    "clarification": "clarification_needed",
    "portal_redirect": "portal",
}


def all_states() -> tuple[str, ...]:
    """Every state an operator may set: the state machine's list when it exists, else ours."""
    try:
        from agent.requests import states as machine
    except ImportError:
        return KNOWN_STATES
    found = getattr(machine, "STATES", None) or getattr(machine, "ALL_STATES", None)
    if found:
        return tuple(str(s) for s in found) + tuple(s for s in KNOWN_STATES if s not in set(map(str, found)))
    return KNOWN_STATES


def is_label(value: str) -> bool:
    return value in LABELS


def waiting_on_agency(state: str) -> bool:
    """Filed, not closed, and not paused on our side: the agency still owes us something."""
    return state not in CLOSED_STATES and state not in UNFILED_STATES and state not in WAITING_ON_US
