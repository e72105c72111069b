"""Where a campaign stands: how many requests sit in each state, which are overdue, which wait for a person."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.db.models import Campaign, Request, ReviewItem
from agent.requests.states import AWAITING_AGENCY, STATES

# Still waiting on the agency: these are the requests that can be overdue.
WAITING_STATES = frozenset(AWAITING_AGENCY)
# The order the rollup lists states in: the state machine's own.
ROLLUP_STATES: tuple[str, ...] = STATES


@dataclass(frozen=True)
class Rollup:
    """Where a campaign stands. `sent` counts every request that went out, whatever happened after."""

    campaign_id: int
    name: str
    template: str
    total: int
    sent: int
    acknowledged: int
    extended: int
    partial: int
    completed: int
    no_records: int
    rejected: int
    overdue: int
    needing_review: int
    by_state: Mapping[str, int] = field(default_factory=dict)
    overdue_ids: tuple[int, ...] = ()
    review_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["by_state"] = dict(self.by_state)
        data["overdue_ids"] = list(self.overdue_ids)
        data["review_ids"] = list(self.review_ids)
        return data


def is_overdue(request: Request, today: dt.date) -> bool:
    """Still waiting on the agency and past the next checkpoint (or, failing that, the due date)."""
    if request.state not in WAITING_STATES:
        return False
    checkpoint = request.next_action_date or request.extended_due or request.due_date
    return checkpoint is not None and checkpoint < today


def rollup(session: Session, campaign: Campaign, *, today: dt.date) -> Rollup:
    requests = list(session.scalars(select(Request).where(Request.campaign_id == campaign.id).order_by(Request.id)))
    ids = [r.id for r in requests]
    with_open_review: set[int] = set()
    for start in range(0, len(ids), 500):
        with_open_review.update(
            session.scalars(
                select(ReviewItem.request_id).where(
                    ReviewItem.request_id.in_(ids[start : start + 500]), ReviewItem.state == "open"
                )
            )
        )
    states = Counter(r.state for r in requests)
    overdue = tuple(r.id for r in requests if is_overdue(r, today))
    review = tuple(r.id for r in requests if r.state == "needs_review" or r.id in with_open_review)
    # Sent = went out at some point: filed_at is set by the sender; queued/draft never left.
    sent = sum(1 for r in requests if r.filed_at is not None or r.state not in {"draft", "queued", "withdrawn"})
    return Rollup(
        campaign_id=campaign.id,
        name=campaign.name,
        template=campaign.template,
        total=len(requests),
        sent=sent,
        acknowledged=states["acknowledged"],
        extended=states["extended"],
        partial=states["partial"],
        completed=states["completed"],
        no_records=states["no_records"],
        rejected=states["rejected"],
        overdue=len(overdue),
        needing_review=len(review),
        by_state={s: states[s] for s in (*ROLLUP_STATES, *sorted(set(states) - set(ROLLUP_STATES))) if states[s]},
        overdue_ids=overdue,
        review_ids=review,
    )
