"""Letter variables are values, never template structure: checked names, and values without control characters.

A value that reaches a header must be one line of plain text. A value that reaches only the body may
hold line breaks (the list of records is often several lines; `\\n` on the command line makes one),
but no other control character: ESC, NUL, bidi overrides and the like have no place in a letter.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Set
from typing import Any

# Names Jinja gives a meaning of its own in a template (a --var self=... would be ignored or crash the
# renderer), and its literals and operators, which a template cannot use as variable names.
JINJA_NAMES = frozenset(
    {"self", "loop", "super", "caller", "varargs", "kwargs", "context", "environment",
     "true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else"}
)
# C0 controls except TAB and LF, DEL, C1 controls, and the invisible marks that reorder or hide text.
_BODY_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_HEADER_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


class VariableError(ValueError):
    """A variable's name or value cannot go into a letter; the message names it and says why."""


def check_name(name: str, reserved: Set[str]) -> None:
    """A name a template can read and the agent does not fill in itself."""
    if not name.isidentifier() or keyword.iskeyword(name) or name in JINJA_NAMES or name.startswith("_"):
        raise VariableError(f"variable name {name!r} cannot be used in a template; choose a plain name such as topic")
    if name in reserved:
        raise VariableError(f"variable {name!r} is filled in by the agent; choose another name")


def describe(char: str) -> str:
    """How an error message names a refused character."""
    return {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(char, f"the control character U+{ord(char):04X}")


def clean_value(name: str, value: Any, *, in_header: bool) -> Any:
    """The value as the letter uses it (CRLF as LF), or a VariableError saying which character is refused."""
    if not isinstance(value, str):
        return value
    text = value.replace("\r\n", "\n")
    bad = (_HEADER_UNSAFE if in_header else _BODY_UNSAFE).search(text)
    if bad is not None and in_header:
        raise VariableError(
            f"variable {name!r} goes into the subject and contains {describe(bad.group())}; "
            "a value used in a header must be one line of plain text"
        )
    if bad is not None:
        raise VariableError(
            f"variable {name!r} contains {describe(bad.group())}; a letter may hold line breaks and tabs, "
            "no other control characters"
        )
    return text


def check_variables(
    variables: Mapping[str, Any], *, reserved: Set[str], header_names: Set[str]
) -> dict[str, Any]:
    """Every name checked, every value cleaned; values read by a header must be a single line."""
    checked: dict[str, Any] = {}
    for name, value in variables.items():
        check_name(name, reserved)
        checked[name] = clean_value(name, value, in_header=name in header_names)
    return checked


def header_unsafe(text: str) -> str | None:
    """The first character that has no place in a header value (line breaks, controls, bidi marks), if any."""
    bad = _HEADER_UNSAFE.search(text)
    return bad.group() if bad is not None else None


def header_text(key: str, rendered: str) -> str:
    """A rendered header value as one line; a control character here means the template itself put it there."""
    bad = _HEADER_UNSAFE.search(rendered.strip())
    if bad is not None:
        raise VariableError(f"the {key} header would contain {describe(bad.group())}; a header must be one line")
    return " ".join(rendered.split())
