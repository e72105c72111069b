"""Untrusted text made safe to print: every command shows mail, agency and operator text through here.

Mail and agency directories are written by strangers. An ESC in a subject can clear the operator's
screen, retitle the window or plant an OSC 8 link whose target differs from its text; a bidi override
makes `fdp.exe` read as `exe.pdf`; `[bold red]` in an agency name is rich markup. Each such character
is shown as a visible escape (`\\x1b[2J`), so the operator sees that it was there and what it said,
and the result is wrapped in a rich Text, which is never parsed as markup.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls but TAB and LF, DEL, C1 controls, and the marks that reorder text or break lines invisibly.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """The text with every terminal control shown as an escape; line breaks (CRLF or LF) and tabs kept."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def plain(value: object, style: str = "") -> Text:
    """Printable text as a rich Text: shown as written, `[...]` included, never interpreted as markup."""
    return Text(printable(value), style=style)
