"""The raw-mail archive: every message's exact bytes in a Maildir, fsynced before we say it is safe."""

from __future__ import annotations

import hashlib
import mailbox
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Archived:
    key: str
    sha256: str
    size: int


class ArchiveError(Exception):
    """The archive could not store or find a message."""


class Archive:
    """A thin layer over the standard library's Maildir that adds durability and hashing.

    Maildir keys are unique and never change, so the DB row can point at them forever.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # create=True makes cur/new/tmp; factory=None keeps messages as plain bytes access.
        self._maildir = mailbox.Maildir(self.root, factory=None, create=True)

    def add(self, raw: bytes) -> Archived:
        """Store raw bytes and return only after the file and its directory are on disk."""
        key = self._maildir.add(raw)
        path = self._path_of(key)
        _fsync_file(path)
        _fsync_dir(path.parent)
        return Archived(key=key, sha256=sha256_hex(raw), size=len(raw))

    def get(self, key: str) -> bytes:
        try:
            return self._maildir.get_bytes(key)
        except KeyError:
            raise ArchiveError(f"no message with key {key!r} in archive {self.root}") from None

    def __contains__(self, key: str) -> bool:
        try:
            self._path_of(key)
        except ArchiveError:
            return False
        return True

    def keys(self) -> list[str]:
        return list(self._maildir.keys())

    def _path_of(self, key: str) -> Path:
        new = self.root / "new" / key
        if new.exists():
            return new
        for candidate in (self.root / "cur").glob(f"{key}*"):
            if candidate.name.split(mailbox.Maildir.colon, 1)[0] == key:
                return candidate
        raise ArchiveError(f"no message with key {key!r} in archive {self.root}")


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # The rename into new/ is durable only once the directory entry itself is synced.
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
