"""Hostile files end as a failed or capped reading within the limits, in a child that leaves nothing behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from agent.documents import sandbox, sniff
from agent.documents.reading import DocumentReading, ReadingLimits, read_document, read_here
from support import letters

# Quick limits: a test sees a cap hold in seconds, not in the production 20 s.
QUICK = ReadingLimits(seconds=3.0, memory_mb=200, ocr_pages=1, ocr_seconds=20.0)


def _read(payload: bytes, filename: str = "attachment", *, ocr: bool = False, limits: ReadingLimits = QUICK) -> DocumentReading:
    return read_document(payload, filename=filename, declared_type="application/octet-stream", ocr=ocr, limits=limits)


def test_child_reads_as_this_process_does() -> None:
    payload = letters.pdf_with_text(letters.SEED_LINK_LETTER)
    here = read_here(payload, filename="letter.pdf", declared_type="application/pdf", ocr=False)
    assert _read(payload) == here
    assert letters.SEED_LINK_URL in here.text


@pytest.mark.parametrize(
    ("payload", "kind", "error"),
    [
        (letters.zip_bomb(), sniff.DOCX, "zip bomb: inflates to"),
        (letters.malformed_pdf(), sniff.PDF, "malformed PDF"),
        (letters.encrypted_pdf("Denied."), sniff.PDF, "encrypted"),
    ],
    ids=["zip-bomb", "malformed-pdf", "encrypted-pdf"],
)
def test_hostile_files_fail_quickly(payload: bytes, kind: str, error: str) -> None:
    started = time.monotonic()
    reading = _read(payload)
    assert time.monotonic() - started < 5
    assert (reading.sniffed_type, reading.method, reading.text) == (kind, "failed", "")
    assert reading.error.startswith(error) and "\n" not in reading.error


def test_thousand_pages_are_capped() -> None:
    started = time.monotonic()
    text = _read(letters.many_pages_pdf(1000), limits=ReadingLimits(max_pages=300))
    scan = _read(letters.many_pages_scan(1000), ocr=True)
    assert time.monotonic() - started < 15
    assert (text.method, text.pages, text.error) == ("text", 1000, "capped: text of 300 of 1000 pages")
    assert (scan.method, scan.pages, scan.error) == ("ocr", 1000, "capped: OCR of 1 of 1000 pages")


@pytest.fixture
def hungry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox starts a child whose reader misbehaves as its file name says."""
    monkeypatch.setattr(sandbox, "CHILD_MODULE", "tests.support.hungry_child")


@pytest.mark.usefixtures("hungry")
def test_child_out_of_memory_reports_failed() -> None:
    started = time.monotonic()
    reading = _read(b"%PDF-1.7 big", "eat-memory", limits=ReadingLimits(seconds=20, memory_mb=100))
    assert time.monotonic() - started < 10
    assert (reading.sniffed_type, reading.method) == (sniff.PDF, "failed")
    assert reading.error == "memory: the file needs more than 100 MB"


@pytest.mark.usefixtures("hungry")
@pytest.mark.parametrize("behaviour", ["spin", "sleep"])
def test_child_over_time_is_killed(behaviour: str) -> None:
    started = time.monotonic()
    reading = _read(b"slow", behaviour, limits=ReadingLimits(seconds=1.0))
    took = time.monotonic() - started
    assert 1.0 <= took < 5
    assert reading.method == "failed" and reading.error.startswith("timeout:"), reading


@pytest.mark.usefixtures("hungry")
def test_child_crash_reports_failed() -> None:
    reading = _read(b"%PDF-1.7", "crash")
    assert (reading.method, reading.error) == ("failed", f"memory or crash: the reader died (signal 6) within {QUICK.memory_mb} MB")


@pytest.mark.usefixtures("hungry")
def test_killed_child_takes_its_own_children(tmp_path: Path) -> None:
    note = tmp_path / "grandchild.pid"
    reading = _read(str(note).encode(), "tesseract-like", limits=ReadingLimits(seconds=1.0))
    assert reading.error.startswith("timeout:")
    pid = int(note.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) is gone for our purposes
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _our_children() -> set[int]:
    """Live processes whose parent is this one (from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().split(") ", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.add(int(entry))
    return found


def test_spare_child_serves_one_file_and_nothing_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.close()
    before = _our_children()
    first = _read(b"Please see the attached letter.", "note.txt")
    spare = sandbox._spare
    assert first.text == "Please see the attached letter." and spare is not None
    second = _read(letters.malformed_pdf())
    assert second.method == "failed"
    assert spare.process.poll() is not None  # the spare read the second file and is gone
    assert sandbox._spare is not None and sandbox._spare is not spare
    sandbox.close()
    monkeypatch.setattr(sandbox, "KEEP_SPARE", False)
    _read(letters.zip_bomb())
    assert _our_children() == before
