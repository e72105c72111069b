"""One interface over the places mail arrives (IMAP server, local Maildir), chosen by config."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from agent.config import Settings


class InboxError(Exception):
    """The inbox could not be read (connection lost, login refused, folder missing)."""


class InboxConnectionError(InboxError, ConnectionError):
    """A dropped or refused connection: retry later, nothing has been lost."""


@dataclass(frozen=True)
class Checkpoint:
    """Where the previous pass stopped: (UIDVALIDITY, last UID) for IMAP; unused by Maildir."""

    uidvalidity: int | None = None
    last_uid: int = 0


@dataclass(frozen=True)
class Fetched:
    """One message as fetched, with where it came from so the checkpoint can move past it."""

    raw: bytes
    uid: int | None = None
    uidvalidity: int | None = None
    key: str | None = None  # Maildir file key


class Inbox(ABC):
    """Fetch new mail in bounded batches; wait cheaply for more."""

    account: str
    folder: str
    # The earliest date worth fetching after a first run or a UIDVALIDITY change (the first filing
    # date); the poller supplies it, the IMAP inbox asks it only when it resyncs. Maildir ignores it.
    since_floor: Callable[[], dt.date | None] | None = None

    @property
    def parts(self) -> list["Inbox"]:
        """The folders read, each with its own checkpoint; one for a simple inbox."""
        return [self]

    @abstractmethod
    def batches(self, checkpoint: Checkpoint) -> Iterator[list[Fetched]]:
        """Messages after the checkpoint, oldest first, in bounded batches."""

    def acknowledge(self, items: list[Fetched]) -> None:
        """Called once the messages are recorded (row + checkpoint committed). IMAP needs nothing here."""

    @abstractmethod
    def wait_for_mail(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for new mail; True when something may have arrived."""

    def close(self) -> None:
        """Release connections; safe to call twice."""

    def __enter__(self) -> "Inbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_inbox(settings: Settings) -> Inbox:
    """The backend named in config.toml; nothing connects until the first fetch."""
    backend = settings.inbox.backend
    if backend == "imap":
        from agent.mail.imap_folders import open_imap

        return open_imap(settings)
    if backend == "maildir":
        from agent.mail.maildir_inbox import MaildirInbox

        return MaildirInbox(settings.inbox.maildir, account=settings.inbox.account)
    raise InboxError(f"unknown inbox backend {backend!r}")
