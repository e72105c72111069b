"""A local Maildir as the inbox: for servers that deliver locally, and for the demo."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from agent.mail.inbox import Checkpoint, Fetched, Inbox

# A message is "recorded" once it sits in cur/ with this flag; the DB row is committed before it is set.
RECORDED_FLAG = "S"
COLON = ":"


class MaildirInbox(Inbox):
    """Reads every message without the recorded flag, then flags it once the DB row is committed.

    A crash between commit and flagging only means the message is read again and recognised as a
    duplicate. Plain directory listing rather than mailbox.Maildir: its table of contents is cached
    by directory mtime with one-second granularity, which can hide a file delivered a moment ago.
    """

    def __init__(self, path: Path, *, account: str = "default", batch_size: int = 500) -> None:
        self.path = Path(path)
        self.account = account
        self.folder = _folder_name(self.path)
        self.batch_size = batch_size
        for sub in ("new", "cur", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    def _pending(self) -> list[tuple[str, Path]]:
        pending: list[tuple[str, Path]] = []
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as entries:
                for entry in entries:
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    key, _, info = entry.name.partition(COLON)
                    if sub == "cur" and RECORDED_FLAG in _flags(info):
                        continue
                    pending.append((key, Path(entry.path)))
        # Maildir keys start with the delivery time: sorting keeps arrival order.
        return sorted(pending)

    def batches(self, checkpoint: Checkpoint) -> Iterator[list[Fetched]]:
        pending = self._pending()
        for start in range(0, len(pending), self.batch_size):
            batch = []
            for key, path in pending[start : start + self.batch_size]:
                try:
                    batch.append(Fetched(raw=path.read_bytes(), key=key))
                except FileNotFoundError:
                    continue  # moved by someone else meanwhile; it will be seen again where it went
            if batch:
                yield batch

    def acknowledge(self, items: list[Fetched]) -> None:
        # A rename, not a rewrite: the file keeps exactly the bytes that were delivered.
        wanted = {item.key for item in items if item.key}
        for key, path in self._pending():
            if key not in wanted:
                continue
            _, _, info = path.name.partition(COLON)
            flags = "".join(sorted(set(_flags(info)) | {RECORDED_FLAG}))
            try:
                os.rename(path, self.path / "cur" / f"{key}{COLON}2,{flags}")
            except FileNotFoundError:
                continue
        for sub in ("cur", "new"):
            _fsync_dir(self.path / sub)

    def wait_for_mail(self, timeout: float) -> bool:
        # No inotify dependency: a look at new/ twice a second is plenty for local delivery.
        deadline = time.monotonic() + timeout
        while True:
            if any(not n.startswith(".") for n in os.listdir(self.path / "new")):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(0.5, remaining))


def _folder_name(path: Path) -> str:
    """The checkpoint table's folder column holds 200 characters: long paths keep their tail and a hash."""
    name = f"maildir:{path}"
    if len(name) <= 200:
        return name
    digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"maildir:{digest}:{str(path)[-150:]}"


def _flags(info: str) -> str:
    return info[2:] if info.startswith("2,") else ""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
