"""Copies of what we sent in the IMAP Sent folder: appended after sending, searched when a send is in doubt."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import IMAPClient

from agent.config import ImapSettings, Settings
from agent.mail.imap_login import imap_login


def sent_folder(settings: Settings) -> str | None:
    return settings.inbox.imap.sent_folder


@contextmanager
def _connect(imap: ImapSettings, source: str) -> Iterator[IMAPClient]:
    context = None
    if imap.security != "plain":
        context = ssl.create_default_context(cafile=str(imap.ca_file) if imap.ca_file else None)
        if not imap.verify_certificates:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    client = IMAPClient(
        imap.host, port=imap.port, ssl=imap.security == "tls", ssl_context=context, timeout=imap.timeout_seconds
    )
    try:
        if imap.security == "starttls":
            client.starttls(context)
        imap_login(client, imap)
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail too
            pass


def append_sent(settings: Settings, raw: bytes, when: dt.datetime) -> None:
    """Store our copy in the Sent folder, marked read; a no-op when no Sent folder is configured
    or when the provider (Gmail, Microsoft 365) files submitted mail there itself: no doubled copies."""
    folder = sent_folder(settings)
    if not folder or settings.inbox.imap.provider_files_sent:
        return
    with _connect(settings.inbox.imap, str(settings.source)) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        client.append(folder, raw, flags=(b"\\Seen",), msg_time=when)


def sent_folder_has(settings: Settings, message_id: str) -> bool | None:
    """True/False when the Sent folder could be asked; None when none is configured or it cannot be reached."""
    folder = sent_folder(settings)
    if not folder:
        return None
    try:
        with _connect(settings.inbox.imap, str(settings.source)) as client:
            if not client.folder_exists(folder):
                return False
            client.select_folder(folder, readonly=True)
            return bool(client.search(["HEADER", "Message-ID", message_id]))
    except Exception:  # noqa: BLE001 - "could not tell" is a legitimate answer here
        return None
