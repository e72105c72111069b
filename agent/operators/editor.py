"""The operator's $EDITOR on a prefilled letter: their words back, or None when they wrote nothing new."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

# Put where the operator's own words go; a letter that still holds it is not ready to send.
PLACEHOLDER = "[write here]"
# Lines starting with this are instructions to the operator and never reach the agency.
COMMENT = "#|"


class EditorError(RuntimeError):
    """The editor could not be started or failed; nothing is sent."""


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, else vi: the Unix convention, with arguments allowed (`code --wait`)."""
    value = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise EditorError(f"$EDITOR {value!r} cannot be parsed: {exc}") from None


def strip_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(COMMENT))


def edit_letter(prefill: str, *, header: str = "") -> str | None:
    """Open the editor on `prefill` (after `header`, a comment); None when the result is empty or unchanged."""
    intro = "".join(f"{COMMENT} {line}\n" for line in header.splitlines()) if header else ""
    with tempfile.TemporaryDirectory(prefix="agent-letter-") as folder:
        path = Path(folder) / "letter.txt"
        path.write_text(intro + prefill, encoding="utf-8")
        try:
            done = subprocess.run([*editor_command(), str(path)], check=False)
        except OSError as exc:
            raise EditorError(f"cannot start the editor: {exc}") from None
        if done.returncode != 0:
            raise EditorError(f"the editor exited with status {done.returncode}; nothing sent")
        text = strip_comments(path.read_text(encoding="utf-8"))
    if not text.strip() or text.strip() == strip_comments(prefill).strip():
        return None
    return text if text.endswith("\n") else text + "\n"
