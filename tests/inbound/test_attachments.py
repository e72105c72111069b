"""Attachment names are safe whatever the sender wrote; the store keeps each content once."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.mail.attachments import AttachmentStore, sanitize_filename


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a\x00b.pdf", "ab.pdf"),
        ("report\r\n.pdf", "report.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override hides the real extension
        ("", "attachment"),
        ("..", "attachment"),
        (None, "attachment"),
        ("Response Letter.pdf", "Response Letter.pdf"),
        ('what?:*"<>|.txt', "what_______.txt"),
    ],
)
def test_sanitize(raw: str | None, safe: str) -> None:
    assert sanitize_filename(raw) == safe


def test_long_names_keep_their_extension() -> None:
    name = sanitize_filename("x" * 400 + ".pdf")
    assert len(name) == 150 and name.endswith(".pdf")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_name_is_one_safe_path_component(raw: str) -> None:
    name = sanitize_filename(raw)
    assert name and len(name) <= 150
    assert "/" not in name and "\\" not in name and name not in {".", ".."}
    assert not any(ord(c) < 32 or ord(c) == 127 for c in name)
    assert Path(name).name == name


def test_store_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "att")
    digest, path = store.put(b"%PDF-1.4 letter")
    again, same = store.put(b"%PDF-1.4 letter")
    assert digest == again and path == same
    assert path.read_bytes() == b"%PDF-1.4 letter"
    assert path.name == digest and path.parent.name == digest[:2]
    assert len(list((tmp_path / "att").rglob("*"))) == 2  # one folder, one file
