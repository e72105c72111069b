"""Copy what requests received out of the attachment store: one folder per agency, each file once, an index CSV.

Safe to run again: a non-empty folder is refused unless forced, and a forced run never deletes or overwrites a
file — a name already holding the same bytes is reused, a different file gets the next free name. A file the
store has lost is a row marked "missing" in the index, never a crash.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent.mail.attachments import AttachmentStore, sanitize_filename
from agent.operators.records import RecordFile, RequestRecords, source_line

INDEX = "index.csv"
COLUMNS = ("agency", "request", "filename", "role", "type", "size", "pages", "sha256", "source", "received_at",
           "path", "status", "url")
# Spreadsheet programs run a cell that starts with one of these as a formula; agency text must not.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STRANGERS_TEXT = frozenset({"agency", "filename", "type", "source", "url"})
COPY_CHUNK = 1 << 20


class ExportRefused(Exception):
    """The target cannot be written as asked (not a folder, or not empty without --force)."""


@dataclass
class ExportReport:
    rows: list[dict[str, str]] = field(default_factory=list)
    copied: int = 0  # files written now
    reused: int = 0  # already there from an earlier export, same bytes
    duplicates: int = 0  # index rows pointing at a file another row already brought
    problems: int = 0  # missing, not stored, damaged
    agencies: int = 0


def export_records(
    groups: list[RequestRecords], store: AttachmentStore, target: Path, *, force: bool = False
) -> ExportReport:
    """Write the files of `groups` under target/<agency>/ and target/index.csv; returns what happened."""
    _prepare(target, force=force)
    report = ExportReport()
    folders = _agency_folders(sorted({g.agency for g in groups}))
    report.agencies = len(folders)
    placed: dict[str, _Folder] = {}
    for g in groups:
        folder = placed.setdefault(g.agency, _Folder(target / folders[g.agency]))
        for f in g.files:
            path, status = _place(f, store, folder, report)
            report.rows.append(_row(g, f, folders[g.agency], path, status))
    _write_index(target / INDEX, report.rows)
    return report


def _prepare(target: Path, *, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise ExportRefused(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ExportRefused(f"{target} is not empty; choose an empty folder or pass --force to add to it")
    target.mkdir(parents=True, exist_ok=True)


def _agency_folders(agencies: list[str]) -> dict[str, str]:
    """A folder name per agency: readable, one path component, distinct even where two names sanitize alike."""
    taken = {INDEX.lower()}
    out: dict[str, str] = {}
    for agency in agencies:
        # A slash in "Police / Sheriff" is part of the name, not a folder.
        base = disk_name(agency.replace("/", "-").replace("\\", "-"))
        out[agency] = _free(base, taken)
        taken.add(out[agency].lower())
    return out


def disk_name(name: str) -> str:
    """A safe file name that also never starts like a formula or a command-line option ("-rf.pdf")."""
    safe = sanitize_filename(name)
    return "_" + safe if safe.startswith(FORMULA_START) else safe


def _free(name: str, taken: set[str]) -> str:
    """`name`, or "name (2).ext", "name (3).ext"... whichever is not taken (compared without case, as many
    file systems do)."""
    if name.lower() not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    n = 2
    while True:
        candidate = f"{stem} ({n}){'.' + ext if ext else ''}"
        if candidate.lower() not in taken:
            return candidate
        n += 1


@dataclass
class _Folder:
    path: Path
    by_hash: dict[str, str] = field(default_factory=dict)  # sha256 -> file name in this folder
    names: set[str] = field(default_factory=set)  # lower-cased names given out in this run


def _place(f: RecordFile, store: AttachmentStore, folder: _Folder, report: ExportReport) -> tuple[str, str]:
    """Copy one file into its agency's folder once; (its name there, or "", and the index status)."""
    if f.stored_path is None or not f.sha256:
        report.problems += 1
        return "", "not_stored"
    if f.sha256 in folder.by_hash:
        report.duplicates += 1
        return folder.by_hash[f.sha256], "duplicate"
    source = store.locate(f.stored_path)
    if source is None or not source.is_file():
        report.problems += 1
        return "", "missing"
    folder.path.mkdir(exist_ok=True)
    base = disk_name(f.name)
    taken = set(folder.names)
    while True:
        name = _free(base, taken)
        existing = folder.path / name
        if not existing.exists():
            break
        if existing.is_file() and _sha256(existing) == f.sha256:
            folder.by_hash[f.sha256] = name
            folder.names.add(name.lower())
            report.reused += 1
            return name, "present"
        taken.add(name.lower())
    if not _copy_verified(source, folder.path / name, f.sha256):
        report.problems += 1
        return "", "damaged"
    folder.by_hash[f.sha256] = name
    folder.names.add(name.lower())
    report.copied += 1
    return name, "copied"


def _copy_verified(source: Path, dest: Path, sha256: str) -> bool:
    """Copy through a temporary name, checking the bytes against the store's hash; False (nothing left) if they
    differ, so a damaged store file never passes for the record."""
    tmp = dest.with_name(f".{dest.name}.part")
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(tmp, "wb") as out:
        while chunk := src.read(COPY_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        tmp.unlink()
        return False
    os.replace(tmp, dest)
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _row(g: RequestRecords, f: RecordFile, folder: str, name: str, status: str) -> dict[str, str]:
    return {
        "agency": g.agency,
        "request": g.reference,
        "filename": f.name,
        "role": f.role,
        "type": f.type,
        "size": str(f.size),
        "pages": "" if f.pages is None else str(f.pages),
        "sha256": f.sha256 or "",
        "source": source_line(replace(f, url=None)),  # the URL has its own column, empty unless asked for
        "received_at": f.received_at.isoformat(),
        "path": f"{folder}/{name}" if name else "",
        "status": status,
        "url": f.url or "",
    }


def _write_index(path: Path, rows: list[dict[str, str]]) -> None:
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) if k in STRANGERS_TEXT else v for k, v in row.items()})
    os.replace(tmp, path)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value
