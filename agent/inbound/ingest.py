"""Record fetched mail safely: dedupe, archive (fsync), then row + checkpoint in one transaction."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import MailboxState, Message
from agent.inbound.crash import crash_point
from agent.mail.archive import Archive, ArchiveError, sha256_hex
from agent.mail.inbox import Checkpoint, Fetched
from agent.mail.limits import bound_headers, split_head
from agent.mail.parse import storable_message_id

_HEADERS = BytesHeaderParser(policy=compat32)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    dedupe_key: str
    message_id: str | None
    sha256: str


@dataclass
class Recorded:
    """The outcome of recording one batch: new row ids (to process next) and duplicates seen."""

    new_rows: list[tuple[int, bytes]] = field(default_factory=list)
    duplicates: int = 0
    checkpoint: Checkpoint = Checkpoint()


def identify(raw: bytes) -> Identity:
    """Message-ID when there is one (a redelivery has new bytes but the same id), else the content hash."""
    digest = sha256_hex(raw)
    head, _ = bound_headers(split_head(raw)[0] + b"\n\n")  # the header caps of parsing: linear time
    try:
        value = _HEADERS.parsebytes(head).get("Message-ID")
    except Exception:  # noqa: BLE001 - unreadable headers: the hash still identifies the bytes
        value = None
    # Control characters (NUL) escaped; absurdly long ids cannot be trusted to be unique and are dropped.
    message_id = storable_message_id(str(value)) if value else None
    return Identity(dedupe_key=message_id or f"sha256:{digest}", message_id=message_id, sha256=digest)


def _by_hash(ident: Identity) -> Identity:
    return Identity(dedupe_key=f"sha256:{ident.sha256}", message_id=None, sha256=ident.sha256)


# One plain statement for the idle path: an empty poll must cost well under a millisecond of DB time,
# and the ORM's statement building alone costs more than that.
_POLL_STATE = text(
    "SELECT (SELECT count(*) FROM messages WHERE status = 'new' AND direction = 'in') AS pending, "
    "(SELECT uidvalidity FROM mailbox_state WHERE account = :account AND folder = :folder) AS uidvalidity, "
    "(SELECT last_uid FROM mailbox_state WHERE account = :account AND folder = :folder) AS last_uid"
)


def poll_state(session: Session, account: str, folder: str) -> tuple[Checkpoint, int]:
    """(checkpoint, number of recorded-but-unprocessed inbound rows) in one round trip."""
    pending, uidvalidity, last_uid = session.execute(_POLL_STATE, {"account": account, "folder": folder}).one()
    return Checkpoint(uidvalidity=uidvalidity, last_uid=last_uid or 0), int(pending or 0)


def read_checkpoint(session: Session, account: str, folder: str) -> Checkpoint:
    row = session.execute(
        select(MailboxState.uidvalidity, MailboxState.last_uid).where(
            MailboxState.account == account, MailboxState.folder == folder
        )
    ).first()
    return Checkpoint(uidvalidity=row[0], last_uid=row[1] or 0) if row else Checkpoint()


def record_batch(
    sessions: sessionmaker[Session], archive: Archive, *, account: str, folder: str, batch: list[Fetched]
) -> Recorded:
    """Archive what is new, then insert its rows and move the checkpoint past the whole batch, atomically.

    A crash after archiving leaves only an unreferenced archive file; the mail is fetched again next
    time. A crash after the commit leaves rows in status "new", which the next pass processes.
    """
    for attempt in range(2):
        try:
            return _record(sessions, archive, account=account, folder=folder, batch=batch)
        except IntegrityError:
            # Another poller recorded one of these between our check and our insert: look again.
            if attempt:
                raise
        except DataError as exc:
            # A value the database refuses (it should not get one: ids are made storable) must not stop the
            # inbox: record the batch by content hash alone, which any database stores.
            log.warning("recording by Message-ID failed (%s); recording by content hash", type(exc).__name__)
            return _record(sessions, archive, account=account, folder=folder, batch=batch, by_hash=True)
    raise AssertionError("unreachable")


def _record(
    sessions: sessionmaker[Session], archive: Archive, *, account: str, folder: str, batch: list[Fetched], by_hash: bool = False
) -> Recorded:
    identities = [_by_hash(identify(item.raw)) if by_hash else identify(item.raw) for item in batch]
    fresh, duplicates = _split_fresh(sessions, archive, batch, identities)

    added = archive.add_many([item.raw for item, _ in fresh])
    stored = [(item, ident, where) for (item, ident), where in zip(fresh, added)]
    if stored:
        crash_point("after_archive")

    result = Recorded(duplicates=duplicates)
    with sessions.begin() as session:
        rows = []
        for item, ident, archived in stored:
            row = Message(
                direction="in",
                dedupe_key=ident.dedupe_key,
                message_id=ident.message_id,
                sha256=ident.sha256,
                archive_key=archived.key,
                size=archived.size,
                account=account,
                folder=folder,
                uidvalidity=item.uidvalidity,
                uid=item.uid,
                status="new",
            )
            session.add(row)
            rows.append((row, item.raw))
        result.checkpoint = _advance(session, account, folder, batch)
        session.flush()
        result.new_rows = [(row.id, raw) for row, raw in rows]
    return result


def _split_fresh(
    sessions: sessionmaker[Session], archive: Archive, batch: list[Fetched], identities: list[Identity]
) -> tuple[list[tuple[Fetched, Identity]], int]:
    """New messages vs redeliveries. A Message-ID seen before with different content is NOT a redelivery:
    some mail systems reuse Message-IDs, and dropping a distinct agency letter would be a silent loss."""
    earlier: dict[str, tuple[str, str | None, bytes | None]] = {}  # key -> (sha256, archive key, raw)
    with sessions() as session:
        for key, sha, archive_key in session.execute(
            select(Message.dedupe_key, Message.sha256, Message.archive_key).where(
                Message.dedupe_key.in_({i.dedupe_key for i in identities})
            )
        ):
            earlier[key] = (sha, archive_key, None)
    fresh: list[tuple[Fetched, Identity]] = []
    duplicates = 0
    for item, ident in zip(batch, identities):
        seen = earlier.get(ident.dedupe_key)
        if seen is not None and seen[0] != ident.sha256 and ident.message_id is not None:
            if _content_fingerprint(_raw_of(seen, archive)) != _content_fingerprint(item.raw):
                ident = Identity(
                    dedupe_key=f"{ident.message_id}#{_content_fingerprint(item.raw)[:16]}",
                    message_id=ident.message_id,
                    sha256=ident.sha256,
                )
                seen = earlier.get(ident.dedupe_key) or _lookup(sessions, ident.dedupe_key)
        if seen is not None:
            duplicates += 1
            continue
        earlier[ident.dedupe_key] = (ident.sha256, None, item.raw)
        fresh.append((item, ident))
    return fresh, duplicates


def _lookup(sessions: sessionmaker[Session], key: str) -> tuple[str, str | None, bytes | None] | None:
    with sessions() as session:
        row = session.execute(select(Message.sha256, Message.archive_key).where(Message.dedupe_key == key)).first()
    return (row[0], row[1], None) if row else None


def _raw_of(seen: tuple[str, str | None, bytes | None], archive: Archive) -> bytes:
    if seen[2] is not None:
        return seen[2]
    try:
        return archive.get(seen[1] or "")
    except ArchiveError:
        return b""  # cannot compare: count it as different, which keeps the new message


def _content_fingerprint(raw: bytes) -> str:
    """What a relay never changes: From, Date, Subject and the body (line endings normalised)."""
    head, _, body = split_head(raw)
    try:
        headers = _HEADERS.parsebytes(bound_headers(head + b"\n\n")[0])
        fields = [str(headers.get(name, "")).strip() for name in ("from", "date", "subject")]
    except Exception:  # noqa: BLE001 - unreadable headers: the body alone decides
        fields = []
    digest = hashlib.sha256("\x00".join(fields).encode("utf-8", "surrogateescape"))
    digest.update(b"\x00" + body.replace(b"\r\n", b"\n").rstrip())
    return digest.hexdigest()


def _advance(session: Session, account: str, folder: str, batch: list[Fetched]) -> Checkpoint:
    """Move the checkpoint to the batch's highest UID (a new UIDVALIDITY starts the count again)."""
    state = session.scalar(
        select(MailboxState).where(MailboxState.account == account, MailboxState.folder == folder).with_for_update()
    )
    if state is None:
        state = MailboxState(account=account, folder=folder, uidvalidity=None, last_uid=0)
        session.add(state)
    uids = [item.uid for item in batch if item.uid is not None]
    uidvalidity = next((item.uidvalidity for item in batch if item.uidvalidity is not None), None)
    if uids:
        if uidvalidity != state.uidvalidity:
            state.uidvalidity, state.last_uid = uidvalidity, max(uids)
        else:
            state.last_uid = max(state.last_uid or 0, max(uids))
    return Checkpoint(uidvalidity=state.uidvalidity, last_uid=state.last_uid or 0)
