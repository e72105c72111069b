"""Campaigns: the same letter to many agencies, one request and one thread each, watched as a whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.config import Settings
from agent.db.models import Agency, Campaign, Outbox, Request
from agent.filing.letters import StatuteBook, load_statute_book
from agent.filing.rollup import Rollup, is_overdue, rollup  # noqa: F401  (part of the campaign API)
from agent.filing.requests import (  # noqa: F401  (CLOSED_STATES is part of the campaign API)
    CLOSED_STATES,
    FilingError,
    Withdrawal,
    create_request,
    send_request,
    withdraw,
)

Progress = Callable[[Request], None]

@dataclass(frozen=True)
class SendReport:
    queued: tuple[int, ...]  # request ids
    skipped: tuple[tuple[int, str], ...]  # (request id, why)


def create_campaign(
    session: Session,
    *,
    template: str,
    agencies: Sequence[Agency],
    variables: Mapping[str, Any],
    settings: Settings,
    now: dt.datetime,
    name: str | None = None,
    book: StatuteBook | None = None,
    on_request: Progress | None = None,
) -> Campaign:
    """Draft one request per agency in the caller's transaction; a template error aborts the whole campaign."""
    unique = list({agency.id: agency for agency in agencies}.values())
    if not unique:
        raise FilingError("a campaign needs at least one agency")
    book = book or load_statute_book(settings.rules_path)
    campaign = Campaign(
        name=name or f"{template} {now:%Y-%m-%d %H:%M}",
        template=template,
        variables=dict(variables),
    )
    session.add(campaign)
    session.flush()
    for agency in unique:
        request = create_request(
            session, agency=agency, template=template, variables=variables, settings=settings, now=now,
            campaign=campaign, book=book,
        )
        if on_request is not None:
            on_request(request)
    return campaign


def campaign_requests(session: Session, campaign: Campaign) -> list[Request]:
    return list(session.scalars(select(Request).where(Request.campaign_id == campaign.id).order_by(Request.id)))


def send_campaign(
    session: Session,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    *,
    book: StatuteBook | None = None,
    on_request: Progress | None = None,
) -> SendReport:
    """Queue every draft of the campaign; agencies with no email are skipped and reported, not failed."""
    book = book or load_statute_book(settings.rules_path)
    queued: list[int] = []
    skipped: list[tuple[int, str]] = []
    for request in campaign_requests(session, campaign):
        if request.state == "draft":
            try:
                send_request(session, request, settings, now, book=book)
                queued.append(request.id)
            except FilingError as exc:
                skipped.append((request.id, str(exc)))
        if on_request is not None:
            on_request(request)
    return SendReport(queued=tuple(queued), skipped=tuple(skipped))


def withdraw_campaign_requests(
    session: Session,
    campaign: Campaign,
    *,
    settings: Settings | None = None,
    notice: bool = True,
    actor: str = "operator",
    reason: str = "",
    now: dt.datetime | None = None,
    rules_dir: Path | None = None,
) -> list[Withdrawal]:
    """Withdraw every open request of the campaign; each one whose letter went out gets a withdrawal notice.

    `reason` is recorded in each request's history only: the notices to the agencies carry no reason line.
    """
    done: list[Withdrawal] = []
    for request in campaign_requests(session, campaign):
        result = withdraw(
            session, request, settings=settings, notice=notice, actor=actor,
            reason=reason or f"campaign {campaign.id} withdrawn", now=now, rules_dir=rules_dir,
        )
        if result is not None:
            done.append(result)
    return done


def agencies_by_jurisdiction(session: Session, jurisdiction: str) -> list[Agency]:
    return list(session.scalars(select(Agency).where(Agency.jurisdiction == jurisdiction.upper()).order_by(Agency.name)))


def agencies_by_name(session: Session, names: Iterable[str]) -> tuple[list[Agency], list[str]]:
    """Look agencies up by exact name; returns (found, missing) so a typo is reported, not dropped."""
    wanted = list(dict.fromkeys(names))
    found = {a.name: a for a in session.scalars(select(Agency).where(Agency.name.in_(wanted)))}
    return [found[n] for n in wanted if n in found], [n for n in wanted if n not in found]


def outbox_for(session: Session, campaign: Campaign) -> list[Outbox]:
    return list(
        session.scalars(
            select(Outbox).join(Request, Outbox.request_id == Request.id).where(Request.campaign_id == campaign.id)
        )
    )


@dataclass(frozen=True)
class FollowupReport:
    queued: tuple[int, ...]
    skipped: tuple[tuple[int, str], ...]


def followup_campaign(session: Session, campaign: Campaign, settings: Settings, now: dt.datetime, *, today: dt.date) -> FollowupReport:
    """Follow up now, for this campaign only, every request past its checkpoint, instead of waiting for the timer.

    The letter and its bookkeeping are the deadline scan's own, so a follow-up sent this way counts
    toward the same cap and spacing as one sent by the daemon.
    """
    # Imported here: the follow-up machinery belongs to the deadlines side and loads its policy lazily.
    from agent.followups import policy as followup_policy
    from agent.followups import scan as followup_scan
    from agent.requests.states import follows_up

    rules = followup_policy.load_policy(settings.rules_path)
    queued: list[int] = []
    skipped: list[tuple[int, str]] = []
    for request in campaign_requests(session, campaign):
        cp = followup_policy.checkpoint(request)
        if not follows_up(request.state):
            continue  # closed, withdrawn, waiting on us, or not sent yet: never mailed
        if cp is None or cp >= today:
            skipped.append((request.id, "not past its deadline yet" if cp else "no deadline known"))
        elif request.last_followup_at is not None and request.last_followup_at.date() == today:
            skipped.append((request.id, "already followed up today"))
        elif followup_policy.should_escalate(request, rules):
            skipped.append((request.id, f"{followup_policy.streak(request)} follow-ups already sent; needs an operator"))
        else:
            try:
                with session.begin_nested():
                    followup_scan._queue_followup(session, request, rules, today, now, settings)  # noqa: SLF001
                queued.append(request.id)
            except Exception as exc:  # noqa: BLE001 - one bad request must not stop the others
                skipped.append((request.id, f"{type(exc).__name__}: {exc}"))
    return FollowupReport(queued=tuple(queued), skipped=tuple(skipped))
