"""The answer matrix on a terminal: one section per agency, a row per item, long answers wrapped, never cropped."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from agent.filing.answer_formats import NOT_ANSWERED, by_agency
from agent.filing.answers import Cell, Matrix
from agent.operators.terminal import plain


def answers_view(matrix: Matrix) -> RenderableType:
    share = f"{100 * matrix.answered / matrix.asked:.0f}%" if matrix.asked else "—"
    title = plain(f"campaign {matrix.campaign_id}: {matrix.name} — {matrix.answered} of {matrix.asked} answers ({share})")
    questions = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
    questions.add_column(no_wrap=True, style="bold")
    questions.add_column(overflow="fold")
    for item in matrix.items:
        questions.add_row(plain(item.id), plain(item.question))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)
    # The item id never wraps (it is typed back into --set); everything an agency wrote folds instead.
    table.add_column("agency", overflow="fold", min_width=12, ratio=2)
    table.add_column("item", no_wrap=True)
    table.add_column("answer", overflow="fold", min_width=12, ratio=4)
    table.add_column("value", overflow="fold", min_width=8, ratio=2)
    table.add_column("from", overflow="fold", min_width=8, ratio=2)
    for agency, cells in by_agency(matrix):
        for index, cell in enumerate(cells):
            table.add_row(plain(agency if index == 0 else ""), plain(cell.item), *_cells(cell),
                          end_section=index == len(cells) - 1)
    return Group(title, questions, table)


def _cells(cell: Cell) -> tuple[Text, Text, Text]:
    if not cell.asked:
        return plain("not asked", "dim"), plain(""), plain("")
    if cell.answer is None:
        return plain(NOT_ANSWERED, "dim"), plain(""), plain("")
    value = plain(cell.value.as_text() if cell.value else "")
    if cell.set_by:
        return plain(cell.answer), value, plain(f"set by hand by {cell.set_by}", "yellow")
    return plain(cell.answer), value, plain(f"#{cell.message_row} ({cell.how})" if cell.message_row else cell.how)
