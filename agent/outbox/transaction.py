"""One SMTP mail transaction (MAIL, RCPT, DATA) with RFC 5321 timeouts, and what its outcome means for the row.

The line that matters is the message's final ".": before it, any failure leaves the letter unsent and
safe to try again; after it, only a clear 4xx/5xx reply says the server did not take it. A timeout or
a dropped connection there is `uncertain`: the server may have queued the letter already.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from agent.config import SmtpSettings

Result = Literal["sent", "retry", "failed", "lost", "uncertain"]


@dataclass(frozen=True)
class Outcome:
    # lost: another daemon took the row over meanwhile; uncertain: no clear answer after the content was sent
    result: Result
    code: int | None
    error: str | None
    # The connection broke before the content was sent: on a reused connection, reconnect and try once more.
    disconnected: bool = False


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for each reply (RFC 5321 section 4.5.3.2 by default; see [smtp] in config.toml)."""

    mail: float
    rcpt: float
    data_start: float
    data_end: float

    @classmethod
    def of(cls, smtp: SmtpSettings) -> "Timeouts":
        return cls(
            mail=smtp.mail_timeout_seconds,
            rcpt=smtp.rcpt_timeout_seconds,
            data_start=smtp.data_start_timeout_seconds,
            data_end=smtp.data_end_timeout_seconds,
        )

    def longest(self, recipients: int) -> float:
        """The longest one transaction may take while the server is slow but alive."""
        return self.mail + self.rcpt * max(1, recipients) + self.data_start + self.data_end


_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


def wire_content(raw: bytes) -> bytes:
    """The DATA payload: CRLF line ends, leading dots doubled, the "." terminator (RFC 5321 4.5.2)."""
    content = _LINE_END.sub(b"\r\n", raw)
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    return _LEADING_DOT.sub(b"..", content) + b".\r\n"


async def transmit(
    client: aiosmtplib.SMTP, sender: str, recipients: tuple[str, ...], raw: bytes, timeouts: Timeouts
) -> Outcome:
    """Run one transaction on an open connection; never raises for what the server or network does."""
    content_sent = False
    try:
        await client.mail(sender, timeout=timeouts.mail)
        refused: dict[str, aiosmtplib.SMTPRecipientRefused] = {}
        for rcpt in recipients:
            try:
                await client.rcpt(rcpt, timeout=timeouts.rcpt)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused[rcpt] = exc
        if len(refused) == len(recipients):
            await _reset(client, timeouts)
            return _all_refused(refused)
        start = await client.execute_command(b"DATA", timeout=timeouts.data_start)
        if start.code != 354:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("connection lost before the message was sent")
        # From this write on the server may hold the whole letter; nothing after it is safe to repeat.
        content_sent = True
        protocol.write(wire_content(raw))
        final = await protocol.read_response(timeout=timeouts.data_end)
    except aiosmtplib.SMTPResponseException as exc:
        if content_sent and not 400 <= exc.code < 600:
            # A garbled or oversized answer to the final ".": not a reply we can read as "not taken".
            client.close()
            return Outcome("uncertain", None, f"unreadable answer after the message was sent: {_describe(exc)}")
        # A clear reply: 4xx means later, 5xx means never; the letter was not taken either way.
        await _reset(client, timeouts)
        return Outcome("failed" if exc.code >= 500 else "retry", exc.code, f"{exc.code} {exc.message}")
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
        client.close()
        if content_sent:
            return Outcome("uncertain", None, f"no clear answer after the message was sent: {_describe(exc)}")
        return Outcome("retry", None, _describe(exc), disconnected=True)
    if final.code == 421:
        client.close()  # the server is closing the channel; the next row reconnects
    if final.code != 250:
        if 400 <= final.code < 600:
            await _reset(client, timeouts)
            return Outcome("failed" if final.code >= 500 else "retry", final.code, f"{final.code} {final.message}")
        client.close()
        return Outcome("uncertain", final.code, f"unexpected answer after the message was sent: {final.code} {final.message}")
    note = None
    if refused:
        note = "some recipients refused: " + "; ".join(f"{a}: {r.code} {r.message}" for a, r in refused.items())
    return Outcome("sent", 250, note)


def _all_refused(refused: dict[str, aiosmtplib.SMTPRecipientRefused]) -> Outcome:
    codes = [r.code for r in refused.values()]
    final = all(code >= 500 for code in codes)
    detail = "; ".join(f"{a}: {r.code} {r.message}" for a, r in refused.items())
    return Outcome("failed" if final else "retry", max(codes) if codes else None, f"recipients refused: {detail}")


async def _reset(client: aiosmtplib.SMTP, timeouts: Timeouts) -> None:
    """RSET so the connection can carry the next row; a connection that cannot is dropped instead."""
    if not client.is_connected:
        return
    try:
        await client.rset(timeout=timeouts.mail)
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
        client.close()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
