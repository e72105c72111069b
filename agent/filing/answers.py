"""A campaign's answer matrix: each agency's answer to each item of the letter, from its final letters and their
attachments, with the operators' corrections (kept as `answer_set` events) laid over what was read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from agent.db.models import Campaign, Event, Message, Request
from agent.filing.campaigns import campaign_requests
from agent.pipeline.answer_values import Value, normalise
from agent.pipeline.answers import ANSWER_LABELS, Found, find_answers
from agent.pipeline.items import Item, letter_items

SET_EVENT = "answer_set"
OPERATOR = "operator"

TextOf = Callable[[Message], str]


class AnswerError(ValueError):
    """A bad agency or item named on the command line: the message says which, in one line."""


@dataclass(frozen=True)
class Cell:
    agency: str
    reference: str
    item: str
    question: str
    answer: str | None  # as written; None when not answered
    value: Value | None
    message_id: str | None  # the Message-ID of the letter it came from
    message_row: int | None
    how: str = ""  # numbered | table | prose | position | operator; "" when not answered
    set_by: str | None = None  # the operator who set it by hand
    asked: bool = True  # False: this agency's letter did not ask the item (another jurisdiction's letter)


@dataclass(frozen=True)
class Matrix:
    campaign_id: int
    name: str
    items: tuple[Item, ...]
    cells: tuple[Cell, ...]  # agency by agency, items in the letter's order

    @property
    def asked(self) -> int:
        return sum(1 for c in self.cells if c.asked)

    @property
    def answered(self) -> int:
        return sum(1 for c in self.cells if c.asked and c.answer is not None)


def build_matrix(session: Session, campaign: Campaign, text_of: TextOf) -> Matrix:
    """Every request of the campaign against the union of its letters' items; `text_of` reads a message's text."""
    requests = campaign_requests(session, campaign)
    per_request = {r.id: letter_items(r.body or "") for r in requests}
    items = _union(per_request.values())
    cells: list[Cell] = []
    for request in requests:
        cells.extend(_row(session, request, per_request[request.id], items, text_of))
    return Matrix(campaign.id, campaign.name, items, tuple(cells))


def set_answer(
    session: Session, campaign: Campaign, agency: str, item: str, answer: str, *, operator: str, text_of: TextOf,
    now: dt.datetime | None = None,
) -> tuple[Cell, Cell]:
    """Record an operator's answer for one cell as an event; returns (the cell before, the cell after)."""
    request = find_campaign_request(session, campaign, agency)
    items = letter_items(request.body or "")
    wanted = item.strip().upper()
    if wanted not in {i.id for i in items}:
        known = ", ".join(i.id for i in items) or "none"
        raise AnswerError(f"no item {item!r} in the letter to {request.agency.name} (items: {known})")
    if not answer.strip():
        raise AnswerError("the answer to set is empty")
    old = next(c for c in _row(session, request, items, items, text_of) if c.item == wanted)
    event = Event(
        request_id=request.id, kind=SET_EVENT, cause=OPERATOR, actor=operator,
        detail={"campaign_id": campaign.id, "item": wanted, "answer": answer.strip(),
                "old": {"answer": old.answer, "value": old.value.as_json() if old.value else None,
                        "message_id": old.message_id, "set_by": old.set_by}},
    )
    if now is not None:
        event.created_at = now
    session.add(event)
    session.flush()
    new = next(c for c in _row(session, request, items, items, text_of) if c.item == wanted)
    return old, new


def find_campaign_request(session: Session, campaign: Campaign, agency: str) -> Request:
    """The campaign's request to an agency named by its name (any case), our reference, or the request id."""
    key = agency.strip()
    for request in campaign_requests(session, campaign):
        if key.casefold() in (request.agency.name.casefold(), request.reference.casefold(), str(request.id)):
            return request
    raise AnswerError(f"no agency {agency!r} in campaign {campaign.id} (give its name, our reference or the request id)")


def _union(lists: Iterable[tuple[Item, ...]]) -> tuple[Item, ...]:
    seen: dict[str, Item] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item.id, item)
    return tuple(seen.values())


def _row(session: Session, request: Request, asked: tuple[Item, ...], items: tuple[Item, ...], text_of: TextOf) -> list[Cell]:
    read: dict[str, tuple[Found, Message]] = {}
    for message in _answer_messages(session, request):
        texts = [text_of(message), *(a.text for a in sorted(message.attachments, key=lambda a: a.id) if a.text)]
        found: dict[str, Found] = {}
        for text in texts:
            for item_id, answer in find_answers(asked, text).items():
                found.setdefault(item_id, answer)
        # A later letter answers again (a correction, the rest of a partial answer): it wins.
        read.update((item_id, (answer, message)) for item_id, answer in found.items())
    by_hand = _corrections(session, request)
    asked_ids = {i.id for i in asked}
    cells = []
    for item in items:
        base = Cell(request.agency.name, request.reference, item.id, item.question, None, None, None, None,
                    asked=item.id in asked_ids)
        if item.id in by_hand:
            written, who = by_hand[item.id]
            cells.append(_with(base, written, None, OPERATOR, who))
        elif item.id in read:
            found_answer, message = read[item.id]
            cells.append(_with(base, found_answer.answer, message, found_answer.how, None))
        else:
            cells.append(base)
    return cells


def _with(base: Cell, answer: str, message: Message | None, how: str, who: str | None) -> Cell:
    return Cell(
        base.agency, base.reference, base.item, base.question, answer, normalise(answer, base.question),
        (message.message_id or message.dedupe_key) if message is not None else None,
        message.id if message is not None else None, how, who, base.asked,
    )


def _answer_messages(session: Session, request: Request) -> list[Message]:
    return list(session.scalars(
        select(Message).where(Message.request_id == request.id, Message.direction == "in",
                              Message.label.in_(ANSWER_LABELS))
        .options(selectinload(Message.attachments))
        .order_by(func.coalesce(Message.sent_date, Message.received_at), Message.id)
    ))


def _corrections(session: Session, request: Request) -> dict[str, tuple[str, str | None]]:
    """Item -> (answer, operator) of the latest hand-set answer per item."""
    out: dict[str, tuple[str, str | None]] = {}
    events = session.scalars(select(Event).where(Event.request_id == request.id, Event.kind == SET_EVENT).order_by(Event.id))
    for event in events:
        detail = event.detail or {}
        if isinstance(detail.get("item"), str) and isinstance(detail.get("answer"), str):
            out[detail["item"]] = (detail["answer"], event.actor)
    return out


def archive_reader(archive_root: Path | None, rules_dir: Path) -> TextOf:
    """A message's own text (the archived mail above any quote, echoes of our letter kept), else its cleaned text.

    The cleaned text folds the questions an agency repeats from our letter; the questions tell which item an
    answer is for, so the matrix reads the mail as the agency wrote it."""
    from agent.operators.timeline import raw_body
    from agent.pipeline.clean import clean, load_clean_rules
    from agent.pipeline.stage_data import ThreadContext

    rules = load_clean_rules(rules_dir)

    def text_of(message: Message) -> str:
        body = raw_body(message, archive_root)
        if body is None:
            return message.cleaned_text or ""
        return clean(body, ThreadContext(), rules).unquoted

    return text_of
