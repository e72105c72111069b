"""A workspace moved to another folder still opens its attachments: rows store paths under the store's root,
and rows written before that (absolute paths into the old place) are found under the new root too."""

from __future__ import annotations

import base64
import shutil
import sys
from pathlib import Path

from sqlalchemy import select, update

from agent.config import load_settings
from agent.db.models import Attachment
from agent.inbound.poll import poll_once
from agent.mail.attachments import AttachmentStore
from agent.mail.inbox import open_inbox

sys.path.insert(0, str(Path(__file__).parent))
from poison_mail import REPLY, SENDER  # noqa: E402

PAYLOADS = {"letter.pdf": b"%PDF-1.4 the letter " * 30, "log.csv": b"date,plate\n2025-01-02,ABC123\n" * 20}


def _reply_with_attachments() -> bytes:
    parts = "".join(
        f'--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{base64.encodebytes(data).decode()}\r\n"
        for name, data in PAYLOADS.items()
    )
    return (
        f"From: {SENDER}\r\nTo: {REPLY}\r\nSubject: [RA-2025-0001] records\r\nMessage-ID: <moved@city.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe records are attached.\r\n" + parts + "--B--\r\n"
    ).encode()


def test_attachments_open_after_the_workspace_moves(inbound, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inbound.deliver(_reply_with_attachments())
    inbox = open_inbox(inbound.settings)
    try:
        poll_once(inbound.settings, inbound.sessions, inbox, rules=inbound.rules)
    finally:
        inbox.close()
    old_root = inbound.settings.attachments.path
    with inbound.sessions.begin() as s:
        rows = list(s.scalars(select(Attachment).order_by(Attachment.id)))
        assert sorted(a.filename for a in rows) == sorted(PAYLOADS)
        assert all(a.stored_path and not Path(a.stored_path).is_absolute() for a in rows)
        # One row as the agent wrote them before: an absolute path into the old workspace.
        legacy = rows[0]
        s.execute(update(Attachment).where(Attachment.id == legacy.id).values(stored_path=str(old_root / legacy.stored_path)))

    moved = tmp_path / "moved-workspace"
    shutil.move(str(inbound.settings.source.parent), moved)
    assert not old_root.exists()
    settings = load_settings(moved / "config.toml")
    store = AttachmentStore(settings.attachments.path)
    with inbound.sessions() as s:
        for a in s.scalars(select(Attachment)):
            assert store.read(a.stored_path) == PAYLOADS[a.filename]


def test_a_stored_path_outside_the_store_is_not_opened(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    for stored in ("../../etc/passwd", "ab/../../x", "/etc/passwd", "zz/ab12"):
        assert store.locate(stored) is None, stored
