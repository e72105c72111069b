"""Request states grouped the way operators ask about them; the state machine (agent.requests.states) owns the names."""

from __future__ import annotations

from agent.pipeline.stage_data import LABELS
from agent.requests import states

CLOSED_STATES: frozenset[str] = frozenset(states.CLOSED)
# Not filed yet: no clock runs.
UNFILED_STATES: frozenset[str] = frozenset({"draft", "queued"})
# The next move is ours (pay, clarify, use the portal): the agency's clock is paused, so nothing is overdue.
WAITING_ON_US: frozenset[str] = frozenset(states.AWAITING_REQUESTER)
# The agency owes us an answer (see waiting_on_agency); a set so SQL can filter on it too.
AGENCY_OWES: frozenset[str] = frozenset(states.AWAITING_AGENCY) | {"needs_review"}


def all_states() -> tuple[str, ...]:
    return states.STATES


def is_label(value: str) -> bool:
    return value in LABELS


def waiting_on_agency(state: str) -> bool:
    """The agency owes us an answer: only these can be overdue or due.

    needs_review counts: the daemon waits for a person, but the agency's legal clock does not stop for that
    (an escalated follow-up is exactly a request that is overdue).
    """
    return state in AGENCY_OWES
