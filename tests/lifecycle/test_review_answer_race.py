"""Two operators answer the same fee notice at once: one letter is queued, the other is told it was decided."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from agent.db.models import Outbox, Request, ReviewItem
from agent.operators import replies
from agent.operators.review import ReviewError
from agent.pipeline.stage_data import Fee
from agent.requests import lifecycle

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)
T1 = T0 + dt.timedelta(days=5)


def test_two_operators_answering_at_once_queue_one_letter(sessions, settings, new_request, reply) -> None:
    rid = new_request(now=T0)
    with sessions.begin() as s:
        lifecycle.mark_sent(s, s.get(Request, rid), T0, rules_dir=settings.rules_path, timezone="America/Los_Angeles")
    reply(rid, now=T1, label="fee", fees=(Fee(amount=20.0),))
    with sessions() as s:
        item_id = s.scalars(select(ReviewItem.id).where(ReviewItem.request_id == rid, ReviewItem.kind == "fee")).one()

    first_claimed = threading.Event()
    outcome: dict[str, object] = {}

    def answer(who: str, hold: bool) -> None:
        try:
            with sessions.begin() as s:
                result = replies.approve_fee(s, item_id, text=f"We pay, {who}.\n", up_to=Decimal(20), operator=who,
                                             settings=settings, now=T1)
                if hold:
                    first_claimed.set()
                    time.sleep(0.5)  # the other operator is now answering the same item
            outcome[who] = result
        except (ReviewError, OperationalError) as exc:
            outcome[who] = exc

    ana = threading.Thread(target=answer, args=("ana", True))
    ana.start()
    assert first_claimed.wait(10)
    ben = threading.Thread(target=answer, args=("ben", False))
    ben.start()
    ana.join(20)
    ben.join(20)

    assert isinstance(outcome["ana"], replies.ActionResult)
    assert isinstance(outcome["ben"], (ReviewError, OperationalError))
    with sessions() as s:
        rows = s.scalars(select(Outbox).where(Outbox.request_id == rid, Outbox.kind == "reply")).all()
        assert len(rows) == 1 and b"We pay, ana." in rows[0].raw
        item = s.get(ReviewItem, item_id)
        assert item.state == "done" and item.resolved_by == "ana"
        assert s.get(Request, rid).state == "acknowledged"
