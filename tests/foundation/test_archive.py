"""The archive returns exactly the bytes it was given, under keys that do not change."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.mail.archive import Archive, ArchiveError

SAMPLE = (
    b"From: Records <records@city.example.gov>\r\n"
    b"Subject: =?utf-8?q?Re=3A_Request_CRM-25-191?=\r\n"
    b"Message-ID: <abc@city.example.gov>\r\n\r\n"
    b"Line one\r\nFrom the desk\r\n\xff\xfe binary tail\n\nlast line without CR\n"
)


def test_round_trip_exact_bytes(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "mailbox")
    stored = archive.add(SAMPLE)
    assert stored.sha256 == hashlib.sha256(SAMPLE).hexdigest()
    assert stored.size == len(SAMPLE)
    assert archive.get(stored.key) == SAMPLE


def test_keys_are_stable_across_instances(tmp_path: Path) -> None:
    first = Archive(tmp_path / "mailbox")
    keys = [first.add(SAMPLE + str(i).encode()).key for i in range(5)]
    assert len(set(keys)) == 5
    second = Archive(tmp_path / "mailbox")
    assert sorted(second.keys()) == sorted(keys)
    for i, key in enumerate(keys):
        assert second.get(key) == SAMPLE + str(i).encode()
        assert key in second


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "mailbox")
    with pytest.raises(ArchiveError, match="no message with key"):
        archive.get("nope")
    assert "nope" not in archive


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=4096))
def test_any_bytes_round_trip(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    archive = Archive(tmp_path_factory.mktemp("a") / "mailbox")
    assert archive.get(archive.add(raw).key) == raw


@pytest.mark.parametrize("present", [(), ("cur",), ("new", "cur"), ("tmp",), ("tmp", "new")])
def test_a_partial_layout_is_completed(tmp_path: Path, present: tuple[str, ...]) -> None:
    # A clone ships mailbox/ with a README only; a backup restore may bring back new/ and cur/ but no tmp/.
    root = tmp_path / "mailbox"
    root.mkdir()
    (root / "README.md").write_text("raw mail lives here\n", encoding="utf-8")
    for part in present:
        (root / part).mkdir()
    archive = Archive(root)
    key = archive.add(SAMPLE).key
    assert archive.get(key) == SAMPLE
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "cur", "new", "tmp"]


def test_folders_removed_while_running_are_made_again(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "mailbox")
    (tmp_path / "mailbox" / "tmp").rmdir()  # e.g. a cleanup job that prunes empty folders
    (tmp_path / "mailbox" / "new").rmdir()
    key = archive.add(SAMPLE).key
    assert archive.get(key) == SAMPLE


def test_an_archive_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "mailbox")
    (tmp_path / "mailbox" / "tmp").rmdir()
    (tmp_path / "mailbox" / "tmp").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ArchiveError, match="archive"):
        archive.add(SAMPLE)
