"""Request states and the table of legal moves between them: the state machine is data, read by lifecycle.py."""

from __future__ import annotations

STATES: tuple[str, ...] = (
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
    "undeliverable",  # our mail bounced: nobody is reading it until a person fixes the address
    "appealed",  # we appealed a denial, a disputed no-records finding or silence; the appeal body owes an answer
)

# The agency owes us an answer: these are the states the follow-up timer may act on.
AWAITING_AGENCY: tuple[str, ...] = ("sent", "acknowledged", "extended", "partial")
# The next move is ours (pay, clarify, use the portal): mailing the agency would be wrong.
AWAITING_REQUESTER: tuple[str, ...] = ("fee_required", "clarification_needed", "portal", "undeliverable")
CLOSED: tuple[str, ...] = ("completed", "no_records", "rejected", "withdrawn")
# States in which an agency reply is expected and can move the request on.
_OPEN: tuple[str, ...] = AWAITING_AGENCY + AWAITING_REQUESTER + ("needs_review", "appealed")
# What an appeal may follow: a denial, a no-records finding, or silence (the timer gave up or escalated).
APPEALABLE: tuple[str, ...] = ("rejected", "no_records", "needs_review") + AWAITING_AGENCY

# What a confident message label does to a request (labels absent here change no state).
LABEL_TRIGGER: dict[str, str] = {
    "acknowledgment": "acknowledgment",
    "extension": "extension",
    "batch": "batch",
    "final_records": "final_records",
    "no_records": "no_records",
    "denial": "denial",
    "fee": "fee",
    "clarification": "clarification",
    "portal_redirect": "portal_redirect",
}

# Operator answers to an agency (agent.operators.replies): only a person pulls these.
ANSWER_TRIGGERS: tuple[str, ...] = ("fee_approved", "narrowed", "clarified", "interest_confirmed", "portal_filed")

# (from states, trigger, to state). A trigger not listed for a state is illegal there and is refused.
# A row whose target equals the source records the event without changing the state (an acknowledgment
# after an extension must not move the request backwards).
_RULES: tuple[tuple[tuple[str, ...], str, str | None], ...] = (
    # Filing.
    (("draft",), "queue", "queued"),
    (("draft", "queued"), "mail_sent", "sent"),
    # Agency replies. None as target means "stay where you are".
    (("sent", "portal", "needs_review"), "acknowledgment", "acknowledged"),
    (("acknowledged", "extended", "partial", "fee_required", "clarification_needed"), "acknowledgment", None),
    (("sent", "acknowledged", "extended", "portal", "needs_review", "fee_required", "clarification_needed"),
     "extension", "extended"),
    (("partial",), "extension", None),
    # The appeal body acknowledging or taking more time leaves the appeal pending; its decision moves on
    # through the label rows below (records → completed or partial, upheld → rejected or no_records).
    (("appealed",), "acknowledgment", None),
    (("appealed",), "extension", None),
    (_OPEN, "batch", "partial"),
    (_OPEN, "final_records", "completed"),
    (_OPEN, "no_records", "no_records"),
    (_OPEN, "denial", "rejected"),
    (_OPEN, "fee", "fee_required"),
    (_OPEN, "clarification", "clarification_needed"),
    (_OPEN, "portal_redirect", "portal"),
    # Something a person must look at (low confidence, a bounce, a failed send, an escalation).
    (("queued",) + _OPEN, "review", "needs_review"),
    # Our mail bounced.
    (("queued",) + _OPEN, "bounce", "undeliverable"),
    # Timers: a follow-up keeps the state; escalation hands the request to the operator.
    (AWAITING_AGENCY, "followup", None),
    (AWAITING_AGENCY, "escalate", "needs_review"),
    # Operator actions.
    (("draft", "queued") + _OPEN, "withdraw", "withdrawn"),
    (("queued",) + _OPEN, "close", "completed"),
    (CLOSED, "reopen", "acknowledged"),
    (APPEALABLE, "appeal", "appealed"),
    (("fee_required", "clarification_needed", "portal", "needs_review", "undeliverable"), "resume", "acknowledged"),
    # Our answers from review: the agency has what it asked of us, and the request waits on it again.
    (("fee_required", "needs_review"), "fee_approved", "acknowledged"),
    (("fee_required", "needs_review"), "narrowed", "acknowledged"),
    (("clarification_needed", "needs_review"), "clarified", "acknowledged"),
    (("clarification_needed", "needs_review"), "interest_confirmed", "acknowledged"),
    (("portal", "needs_review"), "portal_filed", "acknowledged"),
)


def _build() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for sources, trigger, target in _RULES:
        for source in sources:
            if source not in STATES or (target is not None and target not in STATES):
                raise AssertionError(f"unknown state in rule {sources!r} -> {target!r}")
            table[(source, trigger)] = target if target is not None else source
    return table


TRANSITIONS: dict[tuple[str, str], str] = _build()
TRIGGERS: frozenset[str] = frozenset(trigger for _, trigger in TRANSITIONS)


class IllegalTransition(ValueError):
    """A move the state machine does not allow; the request is left untouched."""


def target(state: str, trigger: str) -> str:
    """The state `trigger` leads to from `state`, or IllegalTransition."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalTransition(f"{trigger!r} is not allowed in state {state!r}") from None


def can(state: str, trigger: str) -> bool:
    return (state, trigger) in TRANSITIONS


# Who may pull each trigger. An operator may pull any of them (and set any state outright).
_LABEL_CAUSES = frozenset({"message", "operator"})
TRIGGER_CAUSES: dict[str, frozenset[str]] = {
    **{trigger: _LABEL_CAUSES for trigger in LABEL_TRIGGER.values()},
    "queue": frozenset({"system", "operator"}),
    "mail_sent": frozenset({"system"}),
    "bounce": frozenset({"message", "system"}),
    "review": frozenset({"message", "system", "timer"}),
    "followup": frozenset({"timer"}),
    "escalate": frozenset({"timer"}),
    "withdraw": frozenset(),
    "close": frozenset(),
    "reopen": frozenset(),
    "resume": frozenset(),
    "appeal": frozenset(),  # only a person decides to appeal
    **{trigger: frozenset() for trigger in ANSWER_TRIGGERS},
}


def cause_may_fire(cause: str, trigger: str) -> bool:
    return cause == "operator" or cause in TRIGGER_CAUSES.get(trigger, frozenset())


def is_direct_move_allowed(source: str, dest: str, cause: str = "operator") -> bool:
    """A move without a named trigger is legal when some trigger this cause may pull makes it."""
    return any(
        src == source and dst == dest and cause_may_fire(cause, trigger)
        for (src, trigger), dst in TRANSITIONS.items()
    )


def follows_up(state: str) -> bool:
    return state in AWAITING_AGENCY
