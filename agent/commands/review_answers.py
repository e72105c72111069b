"""`agent review approve-fee|narrow|decline-fee|reply|confirm-interest|portal`: answer the agency from review.

The letter is drafted and shown (or edited in $EDITOR) first, outside any transaction; only when the
operator says yes does one transaction queue it and close the item (agent.operators.replies)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

import typer
from rich.prompt import Prompt
from sqlalchemy.orm import Session

from agent.commands._context import AppContext, app_context, fail, out, row_id
from agent.compose import answers
from agent.compose.render import TemplateError
from agent.config import Settings
from agent.filing.requests import FilingError, parse_vars
from agent.operators import replies, review
from agent.operators.clock import UTC
from agent.operators.editor import PLACEHOLDER, EditorError, edit_letter
from agent.operators.queries import NotFound
from agent.operators.terminal import plain, printable

OperatorOpt = typer.Option(None, "--operator", help="Your name on the events (default: $USER).", show_default=False)
JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")
YesOpt = typer.Option(False, "--yes", "-y", help="Send without showing the letter and asking.")
EditOpt = typer.Option(False, "--edit", help="Open the letter in $EDITOR before sending.")
VarOpt = typer.Option(None, "--var", help="Template variable NAME=VALUE (repeatable; VALUE may be @FILE).")

# What each answer does once the operator has the text: (session, item, text, operator, settings, now).
Act = Callable[[Session, int, str, str, Settings, dt.datetime], review.ActionResult]
_ERRORS = (NotFound, review.ReviewError, TemplateError, EditorError, FilingError)


class NothingSent(Exception):
    """The operator left the letter empty or unchanged, or said no: nothing was queued."""


def _who(ctx: typer.Context, operator: Optional[str]) -> str:
    parent = ctx.parent.params.get("operator") if ctx.parent else None
    return operator or parent or review.default_operator()


def send_answer(
    context: AppContext, item_id: int, action: str, template: str, variables: Mapping[str, Any], who: str, act: Act,
    *, edit: bool, yes: bool,
) -> review.ActionResult:
    """Draft, maybe edit, show and ask, then queue in one transaction. Raises NothingSent or one of _ERRORS."""
    settings = context.settings()
    now = dt.datetime.now(UTC)
    with context.sessions()() as session:
        letter = replies.draft(session, item_id, action, template, variables, settings=settings, now=now)
    text: str | None = letter.text
    if edit:
        text = edit_letter(letter.text, header=f"Letter to {letter.agency_name} for {letter.reference}. "
                           f"Replace {PLACEHOLDER}; lines starting #| are dropped. Save empty to send nothing.")
        if text is None:
            raise NothingSent("nothing sent: the letter was left empty or unchanged")
    assert text is not None
    if PLACEHOLDER in text:
        raise NothingSent(f"nothing sent: the letter still holds {PLACEHOLDER}")
    if not yes:
        out.print(plain(text), highlight=False)
        if not typer.confirm(printable(f"Send this letter to {letter.agency_name} ({', '.join(letter.to)})?"),
                             default=False):
            raise NothingSent("nothing sent")
    with context.sessions().begin() as session:
        return act(session, item_id, text, who, settings, dt.datetime.now(UTC))


def result_line(r: review.ActionResult) -> str:
    where = f" — {r.request} is now {r.request_state}" if r.request else ""
    outbox = r.detail.get("outbox_id")
    sent = f"; letter queued (outbox {outbox})" if outbox else ""
    return f"item {r.item_id}: {r.action} → {r.item_state}{where}{sent}"


def _run(ctx: typer.Context, item: str, action: str, template: str, variables: Mapping[str, Any], operator: Optional[str],
         act: Act, *, edit: bool, yes: bool, as_json: bool) -> None:
    item_id = row_id(item, "review item")
    try:
        result = send_answer(app_context(ctx), item_id, action, template, variables, _who(ctx, operator), act,
                             edit=edit, yes=yes)
    except NothingSent as exc:
        out.print(str(exc))
        raise typer.Exit(1) from None
    except _ERRORS as exc:
        fail(str(exc), 1)
    _print(result, as_json)


def _print(result: review.ActionResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.as_json(), indent=2, default=str))
    else:
        out.print(plain(result_line(result)), highlight=False)


def dollars(text: str) -> Decimal:
    """`50`, `50.00` or `$1,250`: a positive amount in dollars, or ReviewError saying what is wrong."""
    try:
        amount = Decimal(text.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise review.ReviewError(f"{text!r}: expected an amount in dollars, like 50 or 37.50") from None
    if not amount.is_finite() or amount <= 0 or amount > 10**9:
        raise review.ReviewError(f"{text!r}: the amount must be more than zero (and less than a billion)")
    return amount


def _vars(pairs: list[str] | None) -> dict[str, str]:
    try:
        return parse_vars(pairs)
    except FilingError as exc:
        fail(str(exc))


def _approve(up_to: Decimal | None) -> Act:
    def act(s: Session, i: int, text: str, who: str, settings: Settings, now: dt.datetime) -> review.ActionResult:
        return replies.approve_fee(s, i, text=text, up_to=up_to, operator=who, settings=settings, now=now)
    return act


def _narrow(s: Session, i: int, text: str, who: str, settings: Settings, now: dt.datetime) -> review.ActionResult:
    return replies.narrow(s, i, text=text, operator=who, settings=settings, now=now)


def _reply(template: str) -> Act:
    def act(s: Session, i: int, text: str, who: str, settings: Settings, now: dt.datetime) -> review.ActionResult:
        return replies.reply(s, i, text=text, operator=who, settings=settings, now=now, template=template)
    return act


def _interest(s: Session, i: int, text: str, who: str, settings: Settings, now: dt.datetime) -> review.ActionResult:
    return replies.confirm_interest(s, i, text=text, operator=who, settings=settings, now=now)


def approve_fee_cmd(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Review item id (a fee item)."),
    up_to: Optional[str] = typer.Option(None, "--up-to", metavar="DOLLARS",
                                        help="Agree to pay up to this amount; without it, ask for the invoice."),
    edit: bool = EditOpt, yes: bool = YesOpt, operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt,
) -> None:
    """Agree to the fee: a letter in the request's thread, then the request waits for its records."""
    try:
        amount = dollars(up_to) if up_to is not None else None
    except review.ReviewError as exc:
        fail(f"--up-to {exc}")
    template = answers.FEE_APPROVAL if amount is not None else answers.FEE_INVOICE
    variables = {"up_to": replies.money(amount)} if amount is not None else {}
    _run(ctx, item, "approve-fee", template, variables, operator, _approve(amount), edit=edit, yes=yes, as_json=as_json)


def narrow_cmd(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Review item id (a fee item)."),
    narrowed: Optional[str] = typer.Option(None, "--records", help="What you now ask for (else write it in $EDITOR)."),
    edit: bool = EditOpt, yes: bool = YesOpt, operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt,
) -> None:
    """Narrow the request so the fee falls: the letter says what you now ask for."""
    variables = _vars([f"narrowed={narrowed}"]) if narrowed is not None else {"narrowed": PLACEHOLDER}
    _run(ctx, item, "narrow", answers.FEE_NARROWING, variables, operator, _narrow,
         edit=edit or narrowed is None, yes=yes, as_json=as_json)


def decline_fee_cmd(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Review item id (a fee item)."),
    yes: bool = YesOpt, operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt,
) -> None:
    """Decline the fee and withdraw the request; the agency is told in the thread."""
    item_id = row_id(item, "review item")
    context = app_context(ctx)
    if not yes and not typer.confirm(f"Decline the fee and withdraw the request of item {item_id}?", default=False):
        out.print("nothing sent")
        raise typer.Exit(1)
    try:
        with context.sessions().begin() as session:
            result = replies.decline_fee(session, item_id, operator=_who(ctx, operator), settings=context.settings(),
                                         now=dt.datetime.now(UTC))
    except _ERRORS as exc:
        fail(str(exc), 1)
    _print(result, as_json)


def reply_cmd(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Review item id (a clarification or fee item)."),
    template: str = typer.Option(answers.CLARIFICATION_ANSWER.removesuffix(".txt.j2"), "--template",
                                 help="A template in rules/templates/ (e.g. clarification_answer, confirm_interest)."),
    var: Optional[list[str]] = VarOpt,
    edit: bool = EditOpt, yes: bool = YesOpt, operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt,
) -> None:
    """Answer the agency with a letter from a template; the clock then runs as the statute says."""
    _run(ctx, item, "reply", template, _vars(var), operator, _reply(template), edit=edit, yes=yes, as_json=as_json)


def confirm_interest_cmd(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Review item id (a clarification item: \"are you still interested?\")."),
    edit: bool = EditOpt, yes: bool = YesOpt, operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt,
) -> None:
    """Yes, we still want the records: a short letter, and the request waits on the agency again."""
    _run(ctx, item, "confirm-interest", answers.CONFIRM_INTEREST, {}, operator, _interest, edit=edit, yes=yes,
         as_json=as_json)


def portal_cmd(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Review item id (a portal item)."),
    number: str = typer.Option(..., "--number", help="The number the portal gave your request."),
    operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt,
) -> None:
    """Record that you filed through the agency's portal as NUMBER, so mail quoting it matches the request."""
    item_id = row_id(item, "review item")
    context = app_context(ctx)
    try:
        with context.sessions().begin() as session:
            result = replies.record_portal(session, item_id, number, operator=_who(ctx, operator),
                                           settings=context.settings(), now=dt.datetime.now(UTC))
    except _ERRORS as exc:
        fail(str(exc), 1)
    _print(result, as_json)


# The walk's extra keys, by item kind: (key, words shown).
WALK_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "fee": (("p", "[p]ay"), ("w", "narro[w]"), ("x", "decline+withdraw")),
    "clarification": (("e", "answer in [e]ditor"), ("y", "[y]es, still interested")),
    "portal": (("f", "[f]iled in portal"),),
}


def walk_answer(context: AppContext, item_id: int, kind: str, key: str, who: str) -> bool:
    """One answer chosen in the walk; True when the item is decided. Errors and "nothing sent" print one line."""
    try:
        result = _walk_answer(context, item_id, kind, key, who)
    except NothingSent as exc:
        out.print(str(exc))
        return False
    except _ERRORS as exc:
        out.print(plain(str(exc), style="red"))
        return False
    out.print(plain(result_line(result)), highlight=False)
    return True


def _walk_answer(context: AppContext, item_id: int, kind: str, key: str, who: str) -> review.ActionResult:
    if key == "p":
        text = Prompt.ask("pay up to (dollars; empty: ask for the invoice)", default="", console=out).strip()
        amount = dollars(text) if text else None
        template = answers.FEE_APPROVAL if amount is not None else answers.FEE_INVOICE
        variables = {"up_to": replies.money(amount)} if amount is not None else {}
        return send_answer(context, item_id, "approve-fee", template, variables, who, _approve(amount),
                           edit=False, yes=False)
    if key == "w":
        return send_answer(context, item_id, "narrow", answers.FEE_NARROWING, {"narrowed": PLACEHOLDER}, who, _narrow,
                           edit=True, yes=False)
    if key == "x":
        with context.sessions().begin() as session:
            return replies.decline_fee(session, item_id, operator=who, settings=context.settings(),
                                       now=dt.datetime.now(UTC))
    if key == "e":
        return send_answer(context, item_id, "reply", answers.CLARIFICATION_ANSWER, {"answer": PLACEHOLDER}, who,
                           _reply(answers.CLARIFICATION_ANSWER), edit=True, yes=False)
    if key == "y":
        return send_answer(context, item_id, "confirm-interest", answers.CONFIRM_INTEREST, {}, who, _interest,
                           edit=False, yes=True)
    if key == "f":
        number = Prompt.ask("the portal's number for the request", console=out)
        with context.sessions().begin() as session:
            return replies.record_portal(session, item_id, number, operator=who, settings=context.settings(),
                                         now=dt.datetime.now(UTC))
    raise ValueError(f"{key!r} is not an answer key for {kind} items")


def register(review_app: typer.Typer) -> None:
    review_app.command("approve-fee")(approve_fee_cmd)
    review_app.command("narrow")(narrow_cmd)
    review_app.command("decline-fee")(decline_fee_cmd)
    review_app.command("reply")(reply_cmd)
    review_app.command("confirm-interest")(confirm_interest_cmd)
    review_app.command("portal")(portal_cmd)
