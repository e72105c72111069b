"""The commented examples in the shipped configs are valid: uncommenting one gives a config the agent accepts.

A newcomer copies these lines as they are; a key renamed in agent/config.py without its example fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.config import load_settings

REPO = Path(__file__).resolve().parents[2]
FILES = ("config.toml", "deploy/config.example.toml")
# "# key = value   # remark": a commented setting, not prose.
_EXAMPLE = re.compile(r"^# ?([a-z_0-9]+) = (.+?)(?:\s{2,}#.*)?$")
_SECTION = re.compile(r"^\[([a-z.]+)\]\s*$")


def _examples(name: str) -> list[tuple[int, str, str]]:
    """(line number, section, key) of every commented example in the file."""
    found: list[tuple[int, str, str]] = []
    section = ""
    for n, line in enumerate((REPO / name).read_text(encoding="utf-8").splitlines()):
        if (head := _SECTION.match(line)) is not None:
            section = head.group(1)
        elif (example := _EXAMPLE.match(line)) is not None and section:
            found.append((n, section, example.group(1)))
    return found


def _uncomment(line: str) -> str:
    example = _EXAMPLE.match(line)
    assert example is not None
    return f"{example.group(1)} = {example.group(2)}"


def _sets(lines: list[str], index: int, section: str, key: str) -> bool:
    """Whether line `index` sets `key` (uncommented) in `section`."""
    if not re.match(rf"^{key}\s*=", lines[index]):
        return False
    heads = [m.group(1) for line in lines[:index] if (m := _SECTION.match(line)) is not None]
    return bool(heads) and heads[-1] == section


CASES = [(name, n, section, key) for name in FILES for n, section, key in _examples(name)]


def test_the_new_keys_have_examples() -> None:
    keys = {(section, key) for _, _, section, key in CASES}
    for section in ("smtp", "inbox.imap"):
        assert {(section, "auth"), (section, "oauth2_token")} <= keys, section
    assert {("inbox.imap", k) for k in ("extra_folders", "provider", "daily_max_messages", "daily_max_bytes")} <= keys


@pytest.mark.parametrize(("name", "n", "section", "key"), CASES, ids=[f"{c[0]}:{c[1] + 1}:{c[3]}" for c in CASES])
def test_each_commented_example_is_accepted(tmp_path: Path, name: str, n: int, section: str, key: str) -> None:
    lines = (REPO / name).read_text(encoding="utf-8").splitlines()
    chosen = {n}
    if key in ("auth", "oauth2_token"):
        # The two go together: xoauth2 needs a token source, a token source is used with xoauth2.
        same = [i for i, s, k in _examples(name) if s == section and k in ("auth", "oauth2_token")]
        token = next(i for i in same if lines[i].startswith("# oauth2_token") and (key == "auth" or i == n))
        chosen = {token, *(i for i in same if lines[i].startswith("# auth"))}
        lines = [f"# {line}" if re.match(r"^(auth|oauth2_token) = ", line) else line for line in lines]
    else:
        # An alternative to a value set in the file (another database url) replaces it.
        lines = [f"# {line}" if _sets(lines, i, section, key) else line for i, line in enumerate(lines)]
    text = "\n".join(_uncomment(line) if i in chosen else line for i, line in enumerate(lines))
    if key in ("auth", "oauth2_token"):
        text = text.replace('auth = "password"', 'auth = "xoauth2"').replace('username = ""', 'username = "desk@example.org"')
    path = tmp_path / "deploy" / "config.toml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    table = settings.smtp if section == "smtp" else settings.inbox.imap if section == "inbox.imap" else None
    if table is not None and key in ("auth", "oauth2_token"):
        assert table.auth == "xoauth2" and table.oauth2_token is not None
