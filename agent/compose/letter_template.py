"""A letter template cut into preamble, header lines and body before anything is rendered.

The cut is made on the template's source, never on rendered text: a variable can then hold any
value without ending the header block, adding a header or pushing a header line into the letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jinja2
from jinja2 import nodes

# Comments and `{% set name = ... %}` statements may come before the headers (the alpr template parses
# its years there); they are repeated in front of every part so each part sees the same names.
_PREAMBLE_ITEM = re.compile(r"\s*(?:\{#.*?#\}|\{%-?\s*set\s+[A-Za-z_]\w*\s*=.*?-?%\})", re.DOTALL)
_HEADER_LINE = re.compile(r"([A-Za-z][A-Za-z-]*)[ \t]*:(.*)")
# Header lines whose value must be literal text: the jurisdiction guard is template data, never a variable.
LITERAL_HEADERS = frozenset({"jurisdictions"})
# Stands in for a header line in the body's source, so error line numbers stay those of the file.
_BLANK_LINE = "{##}\n"


class LetterTemplateError(ValueError):
    """The template's source does not have the shape preamble, header lines, blank line, letter."""


@dataclass(frozen=True)
class LetterTemplate:
    """One template's parts, as Jinja source; each is rendered on its own."""

    preamble: str
    headers: tuple[tuple[str, str], ...]  # (lower-case key, value source), in file order
    body: str  # the whole file with the header lines blanked out

    def header_source(self, key: str) -> str | None:
        return next((value for k, value in self.headers if k == key), None)


def split_letter_template(source: str, name: str, allowed: frozenset[str]) -> LetterTemplate:
    """Cut the source at its first blank line after the preamble; every line before it must be `Key: value`."""
    pos = 0
    while (m := _PREAMBLE_ITEM.match(source, pos)) is not None:
        pos = m.end()
    preamble = source[:pos]
    start = pos
    # The newline ending the preamble's last tag (trim_blocks drops it when rendering) and blank lines.
    while start < len(source) and source[start] in "\r\n":
        start += 1
    lines = source[start:].split("\n")
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(lines):
        if not line.strip():
            break
        m = _HEADER_LINE.fullmatch(line.rstrip("\r"))
        key = m.group(1).lower() if m else ""
        if m is None or key not in allowed:
            first = source[:start].count("\n") + number + 1
            raise LetterTemplateError(
                f"template {name!r}: line {first} should be a header ({', '.join(sorted(allowed))}) "
                "followed by a blank line before the letter"
            )
        value = m.group(2).strip()
        if key in LITERAL_HEADERS and ("{" in value or "}" in value):
            raise LetterTemplateError(f"template {name!r}: the {m.group(1)} header must be plain text, not a template expression")
        headers.append((key, value))
    else:
        raise LetterTemplateError(f"template {name!r}: no blank line after the header lines, so no letter")
    body = source[:start] + _BLANK_LINE * len(headers) + "\n".join(lines[len(headers):])
    return LetterTemplate(preamble=preamble, headers=tuple(headers), body=body)


def header_variables(env: jinja2.Environment, template: LetterTemplate, key: str) -> frozenset[str]:
    """The context names a header's value reads, directly or through a `set` in the preamble."""
    value = template.header_source(key)
    if value is None:
        return frozenset()
    assigned: dict[str, frozenset[str]] = {}
    for assign in env.parse(template.preamble).find_all(nodes.Assign):
        if isinstance(assign.target, nodes.Name):
            assigned[assign.target.name] = _loaded_names(assign.node)
    wanted = set(_loaded_names(env.parse(value)))
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        wanted |= assigned.get(name, frozenset())
    return frozenset(seen - set(assigned))


def _loaded_names(node: nodes.Node) -> frozenset[str]:
    return frozenset(n.name for n in node.find_all(nodes.Name) if n.ctx == "load")


@lru_cache(maxsize=256)
def compiled(env: jinja2.Environment, source: str) -> jinja2.Template:
    """Compile once per distinct source: a 60-letter campaign renders the same parts 60 times."""
    return env.from_string(source)
