"""Structured logs for a process nobody watches: JSON lines off a terminal, text on one, secrets never shown."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from agent import secret_registry
from agent.config import ConfigError, Settings, read_secret

REDACTED = "[redacted]"
# A one- or two-character "secret" would blank out ordinary words everywhere; such values are not redacted.
_MIN_SECRET_LEN = 3

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a structured field.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)


class SecretRedactor(logging.Filter):
    """Replaces every configured secret value in a record's message, fields and traceback before it is written."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._given: frozenset[str] = frozenset()
        self._seen_version = -1
        self._secrets: tuple[str, ...] = ()
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        """Replace the fixed secrets; those in agent.secret_registry (read later, rotated) are always added."""
        self._given = frozenset(secrets)
        self._seen_version = -1
        self._refresh()

    def _refresh(self) -> None:
        if self._seen_version == secret_registry.version():
            return
        self._seen_version, remembered = secret_registry.snapshot()
        # Longest first, so a secret that contains another is removed whole.
        found = {s for s in self._given | remembered if s and len(s) >= _MIN_SECRET_LEN}
        self._secrets = tuple(sorted(found, key=len, reverse=True))

    def redact(self, text: str) -> str:
        self._refresh()
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        self._refresh()
        if not self._secrets:
            return True
        # Freeze the message now: args are formatted once, then scrubbed.
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, self._scrub(value))
        return True

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._scrub(v) for v in value)
        return value


def syslog_priority(levelno: int) -> int:
    """The syslog(3) priority journald files a record under: 2 crit, 3 err, 4 warning, 6 info, 7 debug."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def on_journal(stream: TextIO) -> bool:
    """Is this stream systemd's journal? systemd sets JOURNAL_STREAM to the device:inode of the socket it hands
    a service as stdout/stderr (systemd.exec(5)); a redirected stream does not match and gets no prefix."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    if not expected:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


class JournalPrefix(logging.Formatter):
    """Prefixes each line with `<N>` (sd-daemon(3)): journald strips it and stores N as the entry's PRIORITY,
    so `journalctl -p warning` finds our warnings; the message it keeps is the formatter's line unchanged."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        # Every line of a multi-line text record (a traceback) carries the prefix, or journald files it at 6.
        return "\n".join(prefix + line for line in self.inner.format(record).split("\n"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, syslog priority, logger, message, then any structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "priority": syslog_priority(record.levelno),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: the message, then the structured fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")]
        if fields:
            head, sep, tail = line.partition("\n")
            line = head + " " + " ".join(fields) + sep + tail
        return line


class _CurrentStderr(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at each record, as logging.lastResort does: a command run in-process
    (a test runner swapping stderr, then closing it) never leaves the root logger holding a dead stream."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current stderr


def secret_values(settings: Settings) -> list[str]:
    """Every secret the config points at, read now so the filter knows what to hide; unreadable ones are skipped."""
    values: list[str] = []
    for secret, what in ((settings.inbox.imap.password, "imap"), (settings.smtp.password, "smtp")):
        if secret is None:
            continue
        try:
            values.append(read_secret(secret, what))
        except ConfigError:
            continue
    try:
        password = make_url(settings.database.url).password
    except Exception:  # noqa: BLE001 - an odd URL simply has no password to hide
        password = None
    if password:
        values.append(str(password))
    return values


def setup_logging(
    settings: Settings, *, stream: TextIO | None = None, extra_secrets: Iterable[str] = ()
) -> SecretRedactor:
    """Configure the root logger once for the daemon; returns the redactor so new secrets can be added."""
    handler: logging.StreamHandler[TextIO] = logging.StreamHandler(stream) if stream else _CurrentStderr()
    stream = stream or sys.stderr
    fmt = settings.daemon.log_format
    if fmt == "auto":
        fmt = "text" if getattr(stream, "isatty", lambda: False)() else "json"
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    handler.setFormatter(JournalPrefix(formatter) if on_journal(stream) else formatter)
    redactor = SecretRedactor([*secret_values(settings), *extra_secrets])
    # On the handler, so records from every logger (ours, SQLAlchemy, aiosmtplib, imapclient) pass through it.
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_records_agent", False):
            root.removeHandler(old)
    handler._records_agent = True  # type: ignore[attr-defined]  # our marker; Handler declares no such attribute
    root.addHandler(handler)
    root.setLevel(settings.daemon.log_level)
    # Library chatter at INFO would drown our own lines.
    for noisy in ("imapclient", "mail-parser", "mailparser", "aiosmtpd", "mail.log", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # "skipped: maximum number of running instances reached" is coalescing doing its job, not a problem;
    # our jobs catch their own failures, so the scheduler has nothing else to say below ERROR.
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, root.level))
    return redactor


def redact_fallback_output() -> None:
    """One-shot commands configure no logging: their warnings go to logging.lastResort (stderr). Give that
    handler the redactor too, so a secret read during `agent poll --once` never reaches the terminal."""
    fallback = logging.lastResort
    if fallback is None or any(isinstance(f, SecretRedactor) for f in fallback.filters):
        return
    fallback.addFilter(SecretRedactor())
