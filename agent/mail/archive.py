"""The raw-mail archive: every message's exact bytes in a Maildir, fsynced before we say it is safe."""

from __future__ import annotations

import hashlib
import itertools
import mailbox
import os
import socket
import time
from collections.abc import Sequence
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
    """Raw mail in the Maildir layout: our own writer (fsync, one directory sync per batch), the standard
    library's Maildir for listing. Keys are unique and never change, so a DB row can point at them forever.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        ensure_layout(self.root)
        # factory=None keeps messages as plain bytes access.
        self._maildir = mailbox.Maildir(self.root, factory=None, create=False)

    def add(self, raw: bytes) -> Archived:
        """Store raw bytes and return only after the file and its directory are on disk."""
        return self.add_many([raw])[0]

    def add_many(self, raws: Sequence[bytes]) -> list[Archived]:
        """Store a fetched batch: every file is written and synced in tmp/, renamed into new/, then new/ is
        synced once. A crash before the directory sync leaves at most files no DB row points at."""
        stored = []
        for raw in raws:
            key = self._write(raw)
            stored.append(Archived(key=key, sha256=sha256_hex(raw), size=len(raw)))
        if stored:
            _fsync_dir(self.root / "new")
        return stored

    def _write(self, raw: bytes) -> str:
        """tmp/ then rename into new/, as the Maildir protocol asks; O_EXCL makes a clash an error, not an overwrite."""
        # A running daemon outlives its folders: an emptied tmp/ removed by a cleanup job is made again.
        if not all((self.root / part).is_dir() for part in MAILDIR_PARTS):
            ensure_layout(self.root)
        while True:
            key = _unique_name()
            tmp = self.root / "tmp" / key
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            except OSError as exc:
                raise ArchiveError(f"cannot write to archive {self.root}: {exc}") from exc
            break
        try:
            try:
                view = memoryview(raw)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, self.root / "new" / key)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ArchiveError(f"cannot write to archive {self.root}: {exc}") from exc
        return key

    def get(self, key: str) -> bytes:
        # Straight to the file: the Maildir table of contents lists whole directories on each refresh.
        path = self._path_of(key)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"cannot read {key!r} from archive {self.root}: {exc}") from None

    def remove(self, key: str) -> bool:
        """Delete one stored message (only for copies proven redundant); False when it is not there."""
        try:
            path = self._path_of(key)
        except ArchiveError:
            return False
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)
        return True

    def __contains__(self, key: str) -> bool:
        try:
            self._path_of(key)
        except ArchiveError:
            return False
        return True

    def keys(self) -> list[str]:
        return list(self._maildir.keys())

    def _path_of(self, key: str) -> Path:
        if not key or "/" in key or key.startswith(".") or "\x00" in key:
            raise ArchiveError(f"not an archive key: {key!r}")
        new = self.root / "new" / key
        if new.exists():
            return new
        for candidate in (self.root / "cur").glob(f"{key}*"):
            if candidate.name.split(mailbox.Maildir.colon, 1)[0] == key:
                return candidate
        raise ArchiveError(f"no message with key {key!r} in archive {self.root}")


MAILDIR_PARTS = ("tmp", "new", "cur")


def ensure_layout(root: Path) -> None:
    """Create whichever of root, tmp/, new/ and cur/ is missing.

    The standard library creates them only when the root itself is absent; a clone ships mailbox/ with a
    README in it, and a writer that finds no tmp/ cannot archive anything.
    """
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for part in MAILDIR_PARTS:
            (root / part).mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create the archive layout in {root}: {exc.strerror or exc}") from None


_COUNTER = itertools.count()


def _unique_name() -> str:
    """The Maildir naming convention (time, microseconds, pid, a counter, host), unique across processes."""
    now = time.time()
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    return f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_COUNTER)}.{host}"


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _fsync_dir(path: Path) -> None:
    # The rename into new/ is durable only once the directory entry itself is synced.
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
