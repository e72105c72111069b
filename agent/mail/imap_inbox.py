"""The IMAP inbox: verified TLS, UID checkpoints, BODY.PEEK[] batches, IDLE, reconnect with backoff."""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientAbortError, LoginError
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception, stop_before_delay, wait_exponential

from agent.config import ImapSettings
from agent.mail.budget import DailyBudget
from agent.mail.imap_login import imap_login, is_temporary_login_failure
from agent.mail.inbox import Checkpoint, Fetched, Inbox, InboxConnectionError, InboxError

log = logging.getLogger(__name__)
FETCH_ITEM = b"BODY[]"
# Memory bound per FETCH: batch_size counts messages, this caps their bytes (25 MB letters exist).
MAX_BATCH_BYTES = 64 * 1024 * 1024


def make_ssl_context(cfg: ImapSettings) -> ssl.SSLContext:
    """Certificates verified by default; an extra CA file for private servers; never silently lax."""
    context = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
    if not cfg.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the server went away or is restarting. A bad certificate or password is not."""
    if isinstance(exc, LoginError):
        return is_temporary_login_failure(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, (OSError, socket.timeout, imaplib.IMAP4.abort, IMAPClientAbortError, EOFError))


def is_session_failure(exc: BaseException) -> bool:
    """On a connection that was working, any IMAP-level error (e.g. "* BYE Server shutting down")
    means the session is unusable: drop it and reconnect. Real configuration errors resurface at connect."""
    return is_transient(exc) or (isinstance(exc, imaplib.IMAP4.error) and not isinstance(exc, LoginError))


class ImapInbox(Inbox):
    """One selected folder on one connection, reopened on demand after any transient failure."""

    def __init__(
        self,
        cfg: ImapSettings,
        *,
        account: str = "default",
        poll_seconds: float = 60.0,
        reconnect_seconds: float | None = None,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        client_factory: Callable[..., IMAPClient] = IMAPClient,
        budget: DailyBudget | None = None,
    ) -> None:
        self.cfg = cfg
        self.account = account
        self.folder = cfg.folder
        self.poll_seconds = poll_seconds
        # Retrying a refused or dropped connection never takes longer than the configured timeout.
        self.reconnect_seconds = cfg.timeout_seconds if reconnect_seconds is None else reconnect_seconds
        self.max_batch_bytes = max_batch_bytes
        self._factory = client_factory
        self._client: IMAPClient | None = None
        self.uidvalidity: int | None = None
        self.has_idle = False
        self.connects = 0  # how many times a connection was opened; tests and status read it
        # Shared by every folder of the account: the provider's quota is per mailbox, not per folder.
        self.budget = budget or DailyBudget(cfg.daily_max_messages, cfg.daily_max_bytes)
        self._told_spent: dt.date | None = None

    # -- connection -------------------------------------------------------------------------
    def _open(self, connect_timeout: float) -> IMAPClient:
        cfg = self.cfg
        context = make_ssl_context(cfg)
        client = self._factory(
            cfg.host,
            port=cfg.port,
            ssl=cfg.security == "tls",
            ssl_context=context,
            timeout=SocketTimeout(connect=connect_timeout, read=cfg.timeout_seconds),
        )
        try:
            if cfg.security == "starttls":
                client.starttls(context)
            imap_login(client, cfg)
            info = client.select_folder(cfg.folder, readonly=True)
            self.uidvalidity = int(info[b"UIDVALIDITY"])
            self.has_idle = bool(client.has_capability("IDLE"))
        except BaseException:
            _quietly_close(client)
            raise
        self.connects += 1
        log.info("imap connected", extra={"host": cfg.host, "folder": cfg.folder, "uidvalidity": self.uidvalidity})
        return client

    def connect(self) -> IMAPClient:
        """The open connection, or a new one after retrying transient failures with exponential backoff.

        All attempts together stay within `reconnect_seconds` (the configured timeout_seconds): an
        unreachable server is reported after that, naming host and port, instead of being retried silently.
        """
        if self._client is not None:
            return self._client
        budget = self.reconnect_seconds
        started = time.monotonic()
        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.25, max=15),
            stop=stop_before_delay(budget),
            before_sleep=self._log_retry,
            reraise=False,
        )
        try:
            self._client = retrying(lambda: self._open(max(budget - (time.monotonic() - started), 0.5)))
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            elapsed = time.monotonic() - started
            raise InboxConnectionError(
                f"cannot connect to IMAP server {self.cfg.host}:{self.cfg.port}: {_why(cause)} "
                f"(gave up after {elapsed:.1f}s; inbox.imap.timeout_seconds = {self.cfg.timeout_seconds:g})"
            ) from cause
        except ssl.SSLCertVerificationError as exc:
            raise InboxError(f"{self.cfg.host}:{self.cfg.port}: certificate not trusted: {exc.verify_message}") from exc
        except LoginError as exc:
            how = " (XOAUTH2 token refused, also after a refresh)" if self.cfg.auth == "xoauth2" else ""
            raise InboxError(f"{self.cfg.host}:{self.cfg.port}: login refused for {self.cfg.username!r}{how}") from exc
        except imaplib.IMAP4.error as exc:
            raise InboxError(f"{self.cfg.host}:{self.cfg.port}: {exc}") from exc
        return self._client

    def _log_retry(self, state: RetryCallState) -> None:
        cause = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        # INFO: the daemon shows each retry; `agent poll --once` prints only the final one-line error.
        log.info("imap %s:%s: %s; retrying in %.1fs", self.cfg.host, self.cfg.port, _why(cause), wait)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _quietly_close(client)

    def _drop(self, exc: BaseException) -> InboxConnectionError:
        self.close()
        return InboxConnectionError(f"{self.cfg.host}:{self.cfg.port}: connection lost: {exc}")

    # -- fetching ---------------------------------------------------------------------------
    def new_uids(self, checkpoint: Checkpoint) -> list[int]:
        """UIDs above the checkpoint. On a first run or after a UIDVALIDITY change, every UID again
        (dedupe makes that safe), but only from the SINCE floor on when there is one."""
        client = self.connect()
        try:
            # NOOP lets the server sync the selected mailbox: without it, mail appended by another
            # connection since SELECT can stay invisible to SEARCH on a long-lived connection.
            client.noop()
            resync = checkpoint.uidvalidity != self.uidvalidity
            last = 0 if resync else checkpoint.last_uid
            criteria: list[Any] = ["UID", f"{last + 1}:*"]
            floor = self._floor() if resync else None
            if floor is not None:
                log.info("imap %s: %s; fetching mail since %s", self.folder,
                         "first run" if checkpoint.uidvalidity is None else "UIDVALIDITY changed", floor.isoformat())
                criteria = ["SINCE", floor, *criteria]
            # "UID n:*" also answers the highest existing UID when nothing is newer: filter it out.
            return sorted(uid for uid in client.search(criteria) if uid > last)
        except Exception as exc:
            if is_session_failure(exc):
                raise self._drop(exc) from exc
            raise

    def _floor(self) -> dt.date | None:
        """The configured `since`, else the first filing date the poller supplies; None: everything."""
        if self.cfg.since is not None:
            return self.cfg.since
        return self.since_floor() if self.since_floor is not None else None

    def batches(self, checkpoint: Checkpoint) -> Iterator[list[Fetched]]:
        if self._budget_spent():
            return
        uids = self.new_uids(checkpoint)
        uidvalidity = self.uidvalidity
        for start in range(0, len(uids), self.cfg.batch_size):
            for sized in self._by_size(uids[start : start + self.cfg.batch_size]):
                allowed = self.budget.take([size for _, size in sized]) if self.budget.limited else len(sized)
                chunk = [uid for uid, _ in sized[:allowed]]
                if not chunk:
                    self._budget_spent()
                    return
                # BODY.PEEK[]: reading must never mark the agency's mail as seen for the people who share the box.
                response = self._fetch_bodies(chunk)
                batch = [
                    Fetched(raw=bytes(response[uid][FETCH_ITEM]), uid=uid, uidvalidity=uidvalidity)
                    for uid in chunk
                    if uid in response and FETCH_ITEM in response[uid]
                ]
                if len(batch) < len(chunk):
                    # Expunged between SEARCH and FETCH (another client deleted it): nothing left to fetch.
                    missing = sorted(set(chunk) - {item.uid for item in batch})
                    log.warning("imap: %d UID(s) vanished before FETCH: %s", len(missing), missing[:20])
                if batch:
                    yield batch
                if allowed < len(sized):
                    self._budget_spent()  # the rest waits for tomorrow; the checkpoint stops before it
                    return

    def _budget_spent(self) -> bool:
        """True when today's budget is used up; said once a day in the log, with when polling resumes."""
        if not self.budget.limited or not self.budget.spent():
            return False
        today = dt.datetime.now(dt.timezone.utc).date()
        if self._told_spent != today:
            self._told_spent = today
            log.warning(
                "imap %s: daily download budget spent (%d messages, %d bytes today; limits %s messages, %s bytes); "
                "polling waits until 00:00 UTC, in %.0f minutes",
                self.cfg.host, self.budget.messages, self.budget.bytes, self.cfg.daily_max_messages or "no",
                self.cfg.daily_max_bytes or "no", self.budget.seconds_to_reset() / 60,
            )
        return True

    def _fetch_bodies(self, uids: list[int]) -> Any:
        return self._call(lambda: self.connect().fetch(uids, ["BODY.PEEK[]"]))

    def _by_size(self, uids: list[int]) -> Iterator[list[tuple[int, int]]]:
        """Split a batch so one FETCH never holds more than max_batch_bytes (a few huge PDFs, not 500).

        Yields (uid, size) pairs: the sizes also count against the daily budget."""
        sizes = self._call(lambda: self.connect().fetch(uids, ["RFC822.SIZE"]))
        chunk: list[tuple[int, int]] = []
        total = 0
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if chunk and total + size > self.max_batch_bytes:
                yield chunk
                chunk, total = [], 0
            chunk.append((uid, size))
            total += size
        if chunk:
            yield chunk

    def _call(self, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except Exception as exc:
            if is_session_failure(exc):
                raise self._drop(exc) from exc
            raise

    # -- waiting ----------------------------------------------------------------------------
    def wait_for_mail(self, timeout: float) -> bool:
        """IDLE until the server reports new mail, renewed before the 29-minute limit; else sleep and poll.

        With the daily budget spent there is nothing to fetch until tomorrow: just sleep."""
        if self._budget_spent():
            wait = min(timeout, self.budget.seconds_to_reset())
            time.sleep(wait)
            return not self.budget.spent()
        try:
            client = self.connect()
        except InboxConnectionError:
            time.sleep(min(timeout, 1.0))
            return True
        if not self.has_idle or not self.cfg.idle:
            time.sleep(min(timeout, self.poll_seconds))
            return True
        timeout = min(timeout, float(self.cfg.idle_renew_seconds))
        try:
            client.idle()
            try:
                responses: list[Any] = client.idle_check(timeout=timeout)
            finally:
                client.idle_done()
        except Exception as exc:
            if not is_session_failure(exc):
                raise
            # The server went away (restart, network): reconnecting is the poll's job; report "look now".
            self.close()
            return True
        if any(isinstance(r, tuple) and len(r) > 1 and r[1] == b"BYE" for r in responses):
            self.close()
            return True
        return any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def _why(exc: BaseException | None) -> str:
    """A short reason for one line of output: "connection refused", not "[Errno 111] Connection refused"."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _quietly_close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection is being thrown away either way
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass
