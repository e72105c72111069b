"""`agent db backup FILE`: a consistent copy of a live SQLite database, taken while the daemon writes.

Copying the file with cp can catch a transaction half written (and misses a WAL); SQLite's online backup
API copies pages under its own locking, so the copy is a snapshot that opens as a database. PostgreSQL
has its own tool for this: `pg_dump`, which we name rather than imitate.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

PAGES_PER_STEP = 1024  # copy in steps so a writer waits milliseconds, not the whole copy


class BackupError(Exception):
    """The backup cannot be made; the message says why in one line."""


@dataclass(frozen=True)
class BackupResult:
    source: Path
    target: Path
    pages: int
    size: int


def pg_dump_hint(url: URL, target: Path) -> str:
    """The command that backs up this PostgreSQL database (password left out: pg_dump reads PGPASSWORD/.pgpass)."""
    # URL.set(password=None) keeps the password (None means "unchanged" there): build the URL afresh.
    safe = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database)
    return f"pg_dump --format=custom --file {target} '{safe.render_as_string(hide_password=False)}'"


def backup_sqlite(source: Path, target: Path) -> BackupResult:
    """Copy `source` into a new file `target` with the online backup API; never overwrites, never half-writes."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    try:
        # Read-only URI: a typo'd path must never create an empty database to back up.
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=PAGES_PER_STEP)
                ok = dst.execute("PRAGMA quick_check").fetchone()
                pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            finally:
                dst.close()
        finally:
            src.close()
        if not ok or ok[0] != "ok":
            raise BackupError(f"the copy failed its integrity check: {ok[0] if ok else 'no answer'}")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {source}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(source=source, target=target, pages=pages, size=target.stat().st_size)
