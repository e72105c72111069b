"""Renderables that never crop: tables whose cells fold, label/value grids, panels with long titles.

What an operator reads is long and written by others (agency names, subjects, whole letters), and rich crops it
in three places unless told otherwise: a column's default overflow is "ellipsis", a panel's title is cut to the
panel's width, and a console that prints with soft_wrap (ours do, so messages with long paths stay on one line)
passes no_wrap down to every Text inside a panel. Everything here folds instead, at any width; only identifiers
and dates a list is read by ("keep" columns) stay on one line, and only while the terminal has room for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

# The narrowest a folded column may get while the kept ones stay whole: a short word per line, still legible.
FOLD_MIN = 4


def _wrapping(options: ConsoleOptions) -> ConsoleOptions:
    """Options that wrap and fold Text even when the console prints with soft_wrap (which asks for no_wrap)."""
    return options.update(no_wrap=False, overflow="fold")


class Wrapped:
    """Any renderable, wrapped to the width it is given rather than left as over-long lines or cropped."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.renderable, _wrapping(options))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


class FoldingTable:
    """A rich Table whose cells fold onto more lines; `keep` columns (references, states, dates) never break.

    Rich shrinks the columns it may wrap and, when that is not enough, every column evenly, even one marked
    no_wrap, which then loses its end or vanishes. So the kept columns are marked no_wrap only when they fit
    with room for the others; on a narrower terminal they fold like the rest, and nothing is ever lost."""

    def __init__(self, *columns: str, keep: Iterable[str] = (), **options: Any) -> None:
        self.columns = columns
        self.keep = frozenset(keep)
        unknown = self.keep - set(columns)
        if unknown:
            raise ValueError(f"keep names columns the table does not have: {sorted(unknown)}")
        self.options = options
        self.rows: list[tuple[RenderableType | None, ...]] = []

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def add_row(self, *cells: RenderableType | None) -> None:
        self.rows.append(cells)

    def table_for(self, console: Console, options: ConsoleOptions) -> Table:
        table = self._build(self.keep)
        return table if self._keep_fits(table, console, options) else self._build(frozenset())

    def _build(self, keep: frozenset[str]) -> Table:
        table = Table(**self.options)
        for name in self.columns:
            table.add_column(name, overflow="fold", no_wrap=name in keep)
        for row in self.rows:
            table.add_row(*row)
        return table

    def _keep_fits(self, table: Table, console: Console, options: ConsoleOptions) -> bool:
        """Whether the kept columns at their full width, and FOLD_MIN for each other one, fit with borders and padding."""
        # Borders and padding as rich itself counts them (they depend on box, pad_edge and collapse_padding).
        needed = table._extra_width + sum(table._get_padding_width(i) for i in range(len(self.columns)))
        for index, name in enumerate(self.columns):
            if name in self.keep:
                cells = [name, *(row[index] for row in self.rows if index < len(row) and row[index] is not None)]
                needed += max(Measurement.get(console, options, cell).maximum for cell in cells)  # type: ignore[arg-type]
            else:
                needed += FOLD_MIN
        return needed <= options.max_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wrapping = _wrapping(options)
        yield from console.render(self.table_for(console, wrapping), wrapping)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table_for(console, options))


def label_grid() -> Table:
    """Two columns, "label  value", without borders; the labels stay whole and the values fold."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


class FoldingPanel:
    """A Panel whose title is never cut: a title too long for the width becomes the body's first line."""

    def __init__(self, body: RenderableType, title: Text, **options: Any) -> None:
        self.body = body
        self.title = title
        self.options = options

    def panel_for(self, width: int) -> Panel:
        # The title sits between "╭─ " and " ─╮" (and a little rule): it fits when that frame does.
        if cell_len(self.title.plain) + 6 <= width and "\n" not in self.title.plain:
            return Panel(self.body, title=self.title, **self.options)
        heading = self.title.copy()
        heading.stylize("bold")
        return Panel(Group(heading, self.body), **self.options)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wrapping = _wrapping(options)
        yield from console.render(self.panel_for(options.max_width), wrapping)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.panel_for(options.max_width))
