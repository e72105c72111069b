"""Digest -> text and self-contained HTML through the templates in rules/templates (operators may restyle them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from agent.digest.sections import Digest
from agent.resources import bundled_rules

TEXT_TEMPLATE = "digest.txt.j2"
HTML_TEMPLATE = "digest.html.j2"

# One colour per campaign bucket, shared by the HTML bar and its legend.
BUCKET_COLOURS = {
    "done": "#2e7d32",
    "waiting": "#1565c0",
    "needs_us": "#f9a825",
    "overdue": "#c62828",
    "not_filed": "#9e9e9e",
}
BUCKET_NAMES = {
    "done": "done",
    "waiting": "waiting",
    "needs_us": "needs us",
    "overdue": "overdue",
    "not_filed": "not filed",
}


@lru_cache(maxsize=8)
def _env(rules_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(rules_dir / "templates")), jinja2.FileSystemLoader(str(bundled_rules() / "templates"))]
        ),
        undefined=jinja2.StrictUndefined,
        # Agency text lands in the HTML: escape everything in *.html.j2, nothing in the text template.
        autoescape=lambda name: bool(name and name.endswith((".html", ".html.j2"))),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["size"] = human_size
    env.filters["plural"] = lambda n, one, many=None: one if n == 1 else (many or one + "s")
    return env


def render_text(digest: Digest, rules_dir: Path) -> str:
    return _env(Path(rules_dir)).get_template(TEXT_TEMPLATE).render(d=digest)


def render_html(digest: Digest, rules_dir: Path) -> str:
    return _env(Path(rules_dir)).get_template(HTML_TEMPLATE).render(
        d=digest, colours=BUCKET_COLOURS, bucket_names=BUCKET_NAMES
    )


def subject(digest: Digest) -> str:
    summary = "a quiet week" if digest.empty else digest.headline()
    return f"Records digest {digest.since:%Y-%m-%d} to {digest.last_day:%Y-%m-%d}: {summary}"[:200]


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"
