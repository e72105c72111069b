"""Find archive files no message row points at: copies left by a crash between archiving and recording.

A crash after the archive write but before the DB commit leaves a file; the message is fetched and archived
again under a new key. Such a file is a *duplicate copy* when a recorded message has the same sha256 and its
own file holds the same bytes: only those may be removed. Anything else is *unrecorded* and is only reported,
never deleted (it may be the one copy of something). The other way round, an outbox row marked sent with no
outgoing message row is mail the agency has but the archive lacks (*unarchived_sent*).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.db.models import Message, Outbox
from agent.mail.archive import Archive, ArchiveError, sha256_hex


@dataclass
class ArchiveAudit:
    files: int = 0
    referenced: int = 0
    duplicate_copies: list[str] = field(default_factory=list)  # keys safe to remove
    unrecorded: list[str] = field(default_factory=list)  # keys kept and reported
    missing: list[int] = field(default_factory=list)  # message rows whose archive file is gone
    pruned: int = 0
    unarchived_sent: list[int] = field(default_factory=list)  # outbox rows sent with no archived copy

    @property
    def failed(self) -> bool:
        """Something the archive should hold is not there."""
        return bool(self.missing or self.unarchived_sent)

    def line(self) -> str:
        return (
            f"archive: files={self.files} referenced={self.referenced} duplicate_copies={len(self.duplicate_copies)} "
            f"unrecorded={len(self.unrecorded)} missing={len(self.missing)} pruned={self.pruned} "
            f"unarchived_sent={len(self.unarchived_sent)}"
        )


def audit_archive(session: Session, archive: Archive) -> ArchiveAudit:
    """Compare the archive's files with the message rows; reads every file that no row points at."""
    rows: dict[str, tuple[int, str]] = {
        key: (row_id, sha) for row_id, key, sha in session.execute(select(Message.id, Message.archive_key, Message.sha256))
    }
    keys = set(archive.keys())
    report = ArchiveAudit(files=len(keys), referenced=len(keys & rows.keys()))
    report.missing = sorted(row_id for key, (row_id, _) in rows.items() if key not in keys)
    by_sha: dict[str, list[str]] = {}
    for key, (_, sha) in rows.items():
        by_sha.setdefault(sha, []).append(key)
    for key in sorted(keys - rows.keys()):
        try:
            raw = archive.get(key)
        except ArchiveError:
            continue  # gone meanwhile
        twins = [k for k in by_sha.get(sha256_hex(raw), ()) if k in keys and _same_bytes(archive, k, raw)]
        (report.duplicate_copies if twins else report.unrecorded).append(key)
    report.unarchived_sent = unarchived_sent(session)
    return report


def unarchived_sent(session: Session) -> list[int]:
    """Outbox rows the server accepted that never got an outgoing message row (so no archived copy)."""
    archived = select(Message.id).where(Message.direction == "out", Message.message_id == Outbox.message_id)
    return list(session.scalars(select(Outbox.id).where(Outbox.state == "sent", ~archived.exists()).order_by(Outbox.id)))


def prune(archive: Archive, keys: Iterable[str]) -> int:
    """Remove the given duplicate copies; returns how many files went."""
    removed = 0
    for key in keys:
        if archive.remove(key):
            removed += 1
    return removed


def _same_bytes(archive: Archive, key: str, raw: bytes) -> bool:
    try:
        return archive.get(key) == raw
    except ArchiveError:
        return False
