"""Fixtures for request lifecycle tests: settings aimed at the test SMTP server, agencies, requests, replies."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agent.compose.message import build_message
from agent.config import ArchiveSettings, IdentitySettings, RulesSettings, Settings
from agent.db.models import Agency, Message, Request, TrackingNumber
from agent.outbox.queue import enqueue
from support.smtp import smtp_server  # noqa: F401  (also imported by tests/conftest.py; harmless twice)

RULES = Path(__file__).resolve().parents[2] / "rules"
UTC = dt.timezone.utc
_serial = itertools.count(1)


def at(day: str, hour: int = 10) -> dt.datetime:
    """An aware UTC datetime on a given ISO day (mid-morning Pacific is still the same day in UTC)."""
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, smtp_server: Any) -> Settings:
    return Settings(
        archive=ArchiveSettings(path=tmp_path / "mailbox"),
        smtp=smtp_server.settings(),
        identity=IdentitySettings(name="Records Desk", address="records@example.org"),
        rules=RulesSettings(path=RULES),
    )


@pytest.fixture
def new_request(sessions: sessionmaker[Session], settings: Settings) -> Callable[..., int]:
    """Create an agency and a queued request letter in the outbox; returns the request id."""

    def make(
        *,
        agency: str = "Beverly Hills Police Department",
        jurisdiction: str = "CA",
        email: str = "cityclerk@beverlyhills.example",
        tracking: tuple[str, ...] = (),
        now: dt.datetime,
    ) -> int:
        n = next(_serial)
        with sessions.begin() as session:
            ag = Agency(name=f"{agency} #{n}", jurisdiction=jurisdiction, emails=[email], domains=[email.split("@")[1]])
            session.add(ag)
            session.flush()
            ref = f"RA-{now.year}-{n:04d}"
            req = Request(
                reference=ref,
                agency_id=ag.id,
                state="queued",
                jurisdiction=jurisdiction,
                subject=f"[{ref}] California Public Records Act request: ALPR audits",
                body="Pursuant to the California Public Records Act, I request ...",
                reply_address=f"records+{ref.lower()}-ab12@example.org",
            )
            session.add(req)
            session.flush()
            msg = build_message(
                sender_name=settings.identity.name,
                sender_address=settings.identity.address,
                to=[email],
                subject=req.subject,
                text=req.body,
                reply_to=req.reply_address,
                date=now,
            )
            req.message_id = msg["Message-ID"]
            enqueue(session, msg, kind="request", request_id=req.id, agency_id=ag.id, not_before=now)
            for value in tracking:
                session.add(TrackingNumber(request_id=req.id, agency_id=ag.id, value=value))
            return req.id

    return make


@pytest.fixture
def inbound(sessions: sessionmaker[Session]) -> Callable[..., Any]:
    """Record an inbound Message row for a request and return its id (the inbound engineer's job in real runs)."""

    def make(request_id: int, *, now: dt.datetime, kind: str = "reply", subject: str = "Re: your request") -> int:
        n = next(_serial)
        with sessions.begin() as session:
            row = Message(
                direction="in",
                dedupe_key=f"<in-{n}@agency.example>",
                message_id=f"<in-{n}@agency.example>",
                sha256=f"{n:064x}",
                archive_key=f"key-{n}",
                request_id=request_id,
                status="processed",
                subject=subject,
                from_addr="cityclerk@beverlyhills.example",
                kind=kind,
                received_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

    return make


@pytest.fixture
def load(sessions: sessionmaker[Session]) -> Callable[[int], Request]:
    """A detached copy of a request as the database has it now."""

    def get(request_id: int) -> Request:
        with sessions() as session:
            req = session.get(Request, request_id)
            assert req is not None
            session.expunge(req)
            return req

    return get


@pytest.fixture
def reply(sessions: sessionmaker[Session], inbound: Callable[..., int]) -> Callable[..., list[Any]]:
    """An agency message arrives and is applied: what process_message does after understanding it."""

    def apply(
        request_id: int,
        *,
        now: dt.datetime,
        label: str | None = None,
        confidence: float = 0.95,
        expected: dt.date | None = None,
        kind: str = "reply",
        fees: tuple[Any, ...] = (),
        bounce_proof: str = "",
    ) -> list[tuple[str, str | None, str | None]]:
        from agent.pipeline.apply import apply_message
        from agent.pipeline.stage_data import Understanding

        message_id = inbound(request_id, now=now, kind=kind)
        understanding = None
        if label is not None:
            understanding = Understanding(
                label=label, confidence=confidence, rules=(f"test.{label}",), cleaned_text="...",
                expected_date=expected, fees=fees,
            )
        with sessions.begin() as session:
            req = session.get(Request, request_id)
            msg = session.get(Message, message_id)
            events = apply_message(
                session, request=req, message=msg, understanding=understanding, kind=kind, now=now, rules_dir=RULES,
                bounce_proof=bounce_proof,
            )
            return [(e.kind, e.from_state, e.to_state) for e in events]

    return apply
