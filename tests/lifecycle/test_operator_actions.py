"""Operator actions and refused moves through lifecycle.py, each leaving an Event with its cause and actor."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from agent.db.models import Event, Request, ReviewItem
from agent.requests import lifecycle
from agent.requests.states import IllegalTransition

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)


def _events(sessions, rid: int) -> list[tuple[str, str | None, str | None, str, str | None]]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        rows = s.scalars(select(Event).where(Event.request_id == rid).order_by(Event.id))
        return [(e.kind, e.from_state, e.to_state, e.cause, e.actor) for e in rows]


def test_operator_actions_and_refusals(sessions, settings, new_request, reply, load) -> None:
    rid = new_request(now=T0)
    with sessions.begin() as s:
        req = s.get(Request, rid)
        lifecycle.mark_sent(s, req, T0, rules_dir=settings.rules_path, timezone="America/Los_Angeles")
    assert load(rid).next_action_date == dt.date(2025, 2, 24)

    with sessions.begin() as s:
        req = s.get(Request, rid)
        with pytest.raises(IllegalTransition):
            lifecycle.set_state(s, req, "completed", cause="timer", actor="scheduler")
        with pytest.raises(IllegalTransition):
            lifecycle.fire(s, req, "reopen", cause="operator", actor="ana")
        with pytest.raises(IllegalTransition):
            lifecycle.set_state(s, req, "archived", cause="operator", actor="ana")
    assert load(rid).state == "sent"

    with sessions.begin() as s:
        lifecycle.fire(s, s.get(Request, rid), "withdraw", cause="operator", actor="ana", detail={"why": "duplicate"})
    req = load(rid)
    assert req.state == "withdrawn" and req.next_action_date is None
    with sessions.begin() as s:
        lifecycle.fire(s, s.get(Request, rid), "reopen", cause="operator", actor="ana")
    req = load(rid)
    assert req.state == "acknowledged" and req.next_action_date == dt.date(2025, 2, 24)
    # An operator may set any state; the event says who and why.
    with sessions.begin() as s:
        lifecycle.set_state(s, s.get(Request, rid), "partial", cause="operator", actor="ana", detail={"note": "call"})
    assert _events(sessions, rid)[-3:] == [
        ("state_change", "sent", "withdrawn", "operator", "ana"),
        ("state_change", "withdrawn", "acknowledged", "operator", "ana"),
        ("state_change", "acknowledged", "partial", "operator", "ana"),
    ]


def test_portal_redirect_waits_for_the_operator(sessions, settings, new_request, reply, load) -> None:
    rid = new_request(now=T0)
    with sessions.begin() as s:
        lifecycle.mark_sent(s, s.get(Request, rid), T0, rules_dir=settings.rules_path)
    reply(rid, now=T0 + dt.timedelta(days=1), label="portal_redirect")
    req = load(rid)
    assert req.state == "portal" and req.next_action_date is None
    with sessions() as s:
        assert list(s.scalars(select(ReviewItem.kind).where(ReviewItem.request_id == rid))) == ["portal"]


def test_misread_extension_never_pulls_a_reminder_forward(sessions, settings, new_request, reply, load) -> None:
    rid = new_request(now=T0)
    with sessions.begin() as s:
        lifecycle.mark_sent(s, s.get(Request, rid), T0, rules_dir=settings.rules_path)
    reply(rid, now=T0 + dt.timedelta(days=2), label="extension", expected=dt.date(2025, 2, 14))
    assert load(rid).next_action_date == dt.date(2025, 2, 24)


def test_a_followup_that_cannot_be_written_goes_to_review_once(sessions, settings, new_request, load) -> None:
    from agent.db.models import Agency, Message
    from agent.followups.scan import scan_once

    rid = new_request(now=T0)
    with sessions.begin() as s:
        req = s.get(Request, rid)
        lifecycle.mark_sent(s, req, T0, rules_dir=settings.rules_path)
        s.get(Agency, req.agency_id).emails = []  # and no outbound Message row to copy recipients from
        assert s.scalars(select(Message).where(Message.request_id == rid)).first() is None
    first = scan_once(sessions, settings, today=dt.date(2025, 2, 24), now=dt.datetime(2025, 2, 24, 17, tzinfo=UTC))
    assert first.queued == 0 and len(first.errors) == 1
    assert load(rid).state == "needs_review"
    again = scan_once(sessions, settings, today=dt.date(2025, 2, 25), now=dt.datetime(2025, 2, 25, 17, tzinfo=UTC))
    assert again.due == 0
    with sessions() as s:
        assert list(s.scalars(select(ReviewItem.kind).where(ReviewItem.request_id == rid))) == ["followup_failed"]
