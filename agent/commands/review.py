"""`agent review`: the queue of what needs a person, walked one item at a time or acted on by scripts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.prompt import Prompt
from sqlalchemy.orm import Session

from agent.commands import review_answers
from agent.commands._context import AppContext, app_context, fail, out, row_id
from agent.db.models import Message, Request, ReviewItem
from agent.operators import display, review
from agent.operators.clock import UTC
from agent.operators.terminal import plain
from agent.operators.queries import NotFound, review_queue, suggestions
from agent.operators.vocab import all_states, is_label
from agent.pipeline.stage_data import LABELS

review_app = typer.Typer(
    help="The review queue: what needs a person. Without a subcommand, walks the queue one item at a time.",
    invoke_without_command=True,
)

OperatorOpt = typer.Option(None, "--operator", help="Your name on the events (default: $USER).", show_default=False)
JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")

@review_app.callback()
def review_walk(ctx: typer.Context, operator: Optional[str] = OperatorOpt) -> None:
    """Walk the queue one item at a time: [c]onfirm, [d]ismiss, [r]elabel, [a]ttach, [s]et state, [n]ote, s[k]ip, [q]uit.

    Fee items also offer [p]ay, narro[w] and decline+withdraw [x]; questions, an answer in $EDITOR [e] or
    [y]es, still interested; portal redirects, [f]iled in the portal as a number."""
    if ctx.invoked_subcommand is not None:
        return
    context = app_context(ctx)
    who = operator or review.default_operator()
    shown: set[int] = set()
    try:
        while True:
            # Read the queue afresh each time: a decision can open a new item (a relabel to "fee"), and
            # another operator may be walking the same queue.
            with context.sessions()() as session:
                left = [i.id for i in review_queue(session) if i.id not in shown]
            if not left:
                out.print("End of the queue." if shown else "Nothing to review.")
                return
            shown.add(left[0])
            if not _walk_one(context, left[0], f"{len(shown)} of {len(shown) + len(left) - 1}", who):
                return
    except (EOFError, KeyboardInterrupt):
        # End of input (a pipe ran dry) or Ctrl-C: every action so far is already committed.
        out.print("\nStopped; decisions made so far are saved.")


def _walk_one(context: AppContext, item_id: int, position: str, who: str) -> bool:
    """Show one item and act on it; False when the operator quits."""
    with context.sessions()() as session:
        item = review.load_item(session, item_id)
        if item.state == "done":
            return True  # someone else decided it while we were walking
        request = session.get(Request, item.request_id) if item.request_id else None
        message = session.get(Message, item.message_row_id) if item.message_row_id else None
        ranked = suggestions(session, item)
        out.print(display.review_item_view(item, request, message, position, ranked, zone=context.settings().schedule.timezone))
        suggestion = ranked[0].reference if ranked else None
        kind = item.kind
    answers = review_answers.WALK_KEYS.get(kind, ())
    while True:
        choice = Prompt.ask(
            # Brackets escaped: to rich, "[c]" would be a style tag and vanish.
            escape(" ".join(words for _, words in answers) + (" " if answers else "")
                   + "[c]onfirm [d]ismiss [r]elabel [a]ttach [s]et state [n]ote s[k]ip [q]uit"),
            choices=[key for key, _ in answers] + ["c", "d", "r", "a", "s", "n", "k", "q"],
            default="k",
            console=out,
        )
        if choice == "q":
            return False
        if choice in dict(answers):
            done = review_answers.walk_answer(context, item_id, kind, choice, who)
        elif choice == "c":
            done = _act(context, "confirm", item_id, who)
        elif choice == "d":
            done = _act(context, "dismiss", item_id, who)
        elif choice == "r":
            label = Prompt.ask("label", choices=list(LABELS), console=out)
            done = _act(context, "relabel", item_id, who, label)
        elif choice == "a":
            ref = Prompt.ask("request reference", default=suggestion, console=out)
            done = _act(context, "attach", item_id, who, ref or "")
        elif choice == "s":
            state = Prompt.ask("state", choices=list(all_states()), console=out)
            done = _act(context, "set-state", item_id, who, state)
        elif choice == "n":
            text = Prompt.ask("note", console=out)
            _act(context, "note", item_id, who, text)
            done = False  # a note does not decide the item; stay on it
        else:
            done = _act(context, "skip", item_id, who)
        if done:
            return True


def _act(context: AppContext, action: str, item_id: int, who: str, arg: str = "") -> bool:
    """One action in its own transaction; errors are printed, the walk goes on."""
    try:
        result = _run_action(context, action, item_id, who, arg)
    except (NotFound, review.ReviewError) as exc:
        out.print(plain(str(exc), style="red"))
        return False
    out.print(plain(_result_line(result)))
    return True


def _run_action(context: AppContext, action: str, item_id: int, who: str, arg: str = "") -> review.ActionResult:
    now = dt.datetime.now(UTC)
    rules = context.rules_path()
    with context.sessions().begin() as session:
        if action == "confirm":
            return review.confirm(session, item_id, operator=who, now=now, rules_dir=rules)
        if action == "dismiss":
            return review.dismiss(session, item_id, operator=who, now=now, rules_dir=rules)
        if action == "relabel":
            return review.relabel(session, item_id, arg, operator=who, now=now, rules_dir=rules)
        if action == "attach":
            return review.attach(session, item_id, arg, operator=who, now=now, rules_dir=rules)
        if action == "set-state":
            return review.set_state(session, item_id, arg, operator=who, now=now, rules_dir=rules,
                                    settings=context.settings())
        if action == "note":
            return review.note(session, item_id, arg, operator=who, now=now)
        if action == "skip":
            return review.skip(session, item_id, operator=who, now=now)
    raise ValueError(action)


def _result_line(r: review.ActionResult) -> str:
    where = f" — {r.request} is now {r.request_state}" if r.request else ""
    return f"item {r.item_id}: {r.action} → {r.item_state}{where}"


def _script_action(ctx: typer.Context, action: str, item: str, operator: Optional[str], as_json: bool, arg: str = "") -> None:
    item_id = row_id(item, "review item")
    context = app_context(ctx)
    parent = ctx.parent.params.get("operator") if ctx.parent else None
    who = operator or parent or review.default_operator()
    try:
        result = _run_action(context, action, item_id, who, arg)
    except NotFound as exc:
        fail(str(exc), 1)
    except review.ReviewError as exc:
        fail(str(exc), 1)
    if as_json:
        print(json.dumps(result.as_json(), indent=2, default=str))
    else:
        out.print(plain(_result_line(result)))


@review_app.command("list")
def review_list(
    ctx: typer.Context,
    include_done: bool = typer.Option(False, "--all", help="Include decided items too."),
    as_json: bool = JsonOpt,
) -> None:
    """The queue in the order the walk takes it: most urgent kinds first, then oldest; skipped items last."""
    with app_context(ctx).sessions()() as session:
        items = review_queue(session, include_done=include_done)
        requests = {r.id: r for r in (session.get(Request, i.request_id) for i in items if i.request_id) if r}
        messages = {m.id: m for m in (session.get(Message, i.message_row_id) for i in items if i.message_row_id) if m}
        if as_json:
            print(json.dumps([_item_json(session, i, requests, messages) for i in items], indent=2, default=str))
            return
        out.print(display.review_table(items, requests, messages, zone=app_context(ctx).settings().schedule.timezone))


@review_app.command("confirm")
def review_confirm(ctx: typer.Context, item: str = typer.Argument(..., help="Review item id."),
                   operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt) -> None:
    """Accept the agent's proposal (its label; for an orphan, its best suggestion)."""
    _script_action(ctx, "confirm", item, operator, as_json)


@review_app.command("dismiss")
def review_dismiss(ctx: typer.Context, item: str = typer.Argument(..., help="Review item id."),
                   operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt) -> None:
    """Close the item without doing what it proposes (a stranger's mail, a forged bounce): the request stays as it is."""
    _script_action(ctx, "dismiss", item, operator, as_json)


@review_app.command("relabel")
def review_relabel(ctx: typer.Context, item: str = typer.Argument(..., help="Review item id."),
                   label: str = typer.Argument(..., help=f"One of: {', '.join(LABELS)}."),
                   operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt) -> None:
    """Correct the message's label; the request follows the corrected label."""
    if not is_label(label):
        fail(f"unknown label {label!r} (one of: {', '.join(LABELS)})")
    _script_action(ctx, "relabel", item, operator, as_json, label)


@review_app.command("attach")
def review_attach(ctx: typer.Context, item: str = typer.Argument(..., help="Review item id."),
                  ref: str = typer.Argument(..., help="Our reference, request id or tracking number."),
                  operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt) -> None:
    """File the item's message under a request (for orphans and mis-matches)."""
    _script_action(ctx, "attach", item, operator, as_json, ref)


@review_app.command("set-state")
def review_set_state(ctx: typer.Context, item: str = typer.Argument(..., help="Review item id."),
                     state: str = typer.Argument(..., help="The request's new state."),
                     operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt) -> None:
    """Set the state of the item's request yourself."""
    if state not in all_states():
        fail(f"unknown state {state!r} (one of: {', '.join(all_states())})")
    _script_action(ctx, "set-state", item, operator, as_json, state)


@review_app.command("note")
def review_note(ctx: typer.Context, item: str = typer.Argument(..., help="Review item id."),
                text: str = typer.Argument(..., help="The note."),
                operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt) -> None:
    """Leave a note on the item (it stays in the queue)."""
    if not text.strip():
        fail("a note needs some text")
    _script_action(ctx, "note", item, operator, as_json, text)


@review_app.command("skip")
def review_skip(ctx: typer.Context, item: str = typer.Argument(..., help="Review item id."),
                operator: Optional[str] = OperatorOpt, as_json: bool = JsonOpt) -> None:
    """Not now: move the item behind every open one."""
    _script_action(ctx, "skip", item, operator, as_json)


def _item_json(
    session: Session, i: ReviewItem, requests: dict[int, Request], messages: dict[int, Message]
) -> dict[str, Any]:
    req = requests.get(i.request_id or -1)
    msg = messages.get(i.message_row_id or -1)
    return {
        "id": i.id,
        "kind": i.kind,
        "state": i.state,
        "reason": i.reason,
        "request": req.reference if req else None,
        "request_state": req.state if req else None,
        "message": msg.id if msg else None,
        "label": msg.label if msg else None,
        "confidence": msg.confidence if msg else None,
        "suggestions": [s.__dict__ for s in suggestions(session, i)] if i.kind in ("orphan", "spoof") else i.suggestions,
        "created_at": i.created_at,
        "resolved_by": i.resolved_by,
    }
