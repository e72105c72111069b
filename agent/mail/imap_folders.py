"""Several folders of one IMAP account (INBOX plus e.g. Gmail's Spam): one connection and checkpoint each."""

from __future__ import annotations

from collections.abc import Iterator

from agent.config import Settings
from agent.mail.budget import DailyBudget
from agent.mail.imap_inbox import ImapInbox
from agent.mail.inbox import Checkpoint, Fetched, Inbox


class ImapFolders(Inbox):
    """Reads every configured folder; waits with IDLE on the main one, capped at the poll interval so the
    other folders are looked at regularly too (IDLE watches one selected folder only)."""

    def __init__(self, folders: list[ImapInbox], *, poll_seconds: float) -> None:
        self.folders = folders
        self.account = folders[0].account
        self.folder = folders[0].folder
        self.poll_seconds = poll_seconds

    @property
    def parts(self) -> list[Inbox]:
        return list(self.folders)

    def batches(self, checkpoint: Checkpoint) -> Iterator[list[Fetched]]:
        """The main folder only: a checkpoint belongs to one folder. The poller walks `parts`."""
        return self.folders[0].batches(checkpoint)

    def wait_for_mail(self, timeout: float) -> bool:
        return self.folders[0].wait_for_mail(min(timeout, self.poll_seconds))

    def close(self) -> None:
        for folder in self.folders:
            folder.close()


def open_imap(settings: Settings) -> Inbox:
    """One ImapInbox for a single folder, or an ImapFolders sharing one daily budget."""
    cfg = settings.inbox.imap
    poll_seconds = settings.schedule.poll_seconds
    if not cfg.extra_folders:
        return ImapInbox(cfg, account=settings.inbox.account, poll_seconds=poll_seconds)
    budget = DailyBudget(cfg.daily_max_messages, cfg.daily_max_bytes)
    folders = [
        ImapInbox(cfg.model_copy(update={"folder": name}), account=settings.inbox.account,
                  poll_seconds=poll_seconds, budget=budget)
        for name in cfg.folders
    ]
    return ImapFolders(folders, poll_seconds=poll_seconds)
