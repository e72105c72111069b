"""Poison messages generated at test time: each once stopped the inbox on some database.

Every entry is (name, raw bytes). They come from a real-looking agency sender on a known request's reply
address, so they reach matching, understanding and applying, not just the orphan path.
"""

from __future__ import annotations

from collections.abc import Callable

SENDER = "Clerk <clerk@city.example>"
REPLY = "records+ra-2025-0001-abcd@example.org"
NINES = "9" * 400


def _raw(name: str, extra: list[tuple[str, str]], body: str = "We received your request.\n", *, mid: str | None = None) -> bytes:
    headers = [("From", SENDER), ("To", REPLY), ("Subject", f"[RA-2025-0001] {name}")]
    headers += extra
    if mid is None and not any(k.lower() == "message-id" for k, _ in extra):
        headers.append(("Message-ID", f"<poison-{name}@city.example>"))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def nul_in_message_id() -> bytes:
    return _raw("nul-id", [("Message-ID", "<abc\x00def@city.example>")])


def long_message_id() -> bytes:
    return _raw("long-id", [("Message-ID", "<" + "x" * 700 + "@city.example>")])


def many_recipients() -> bytes:
    # 70,000 items: more than PostgreSQL's 65,535 bound parameters if each became one.
    return _raw("many-to", [("To", ", ".join(f"u{n}@lists.example" for n in range(70_000)) + ", " + REPLY)])


def many_references() -> bytes:
    return _raw("many-refs", [("References", " ".join(f"<r{n}@lists.example>" for n in range(70_000)))])


def huge_references() -> bytes:
    """A single References header of 5 MB (one id per continuation line)."""
    ids = []
    size = 0
    n = 0
    while size < 5 * 1024 * 1024:
        item = f"<ref-{n:08d}-padding-padding@city.example>"
        ids.append(item)
        size += len(item) + 3
        n += 1
    return _raw("huge-refs", [("References", "\r\n ".join(ids))])


def absurd_fee() -> bytes:
    body = f"The fee for your request is ${NINES}. Please pay before we process it.\n"
    return _raw("absurd-fee", [], body)


def absurd_fee_with_cents() -> bytes:
    body = f"An estimated deposit of ${NINES[:30]}.99 is due before we begin.\n"
    return _raw("absurd-fee-cents", [], body)


POISON: dict[str, Callable[[], bytes]] = {
    "nul-in-message-id": nul_in_message_id,
    "message-id-over-500": long_message_id,
    "to-over-65535": many_recipients,
    "references-over-65535": many_references,
    "references-5mb": huge_references,
    "fee-hundreds-of-nines": absurd_fee,
    "fee-thirty-nines-cents": absurd_fee_with_cents,
}


def good_mail(n: int) -> bytes:
    """An ordinary acknowledgment that must be processed whatever came before it."""
    return _raw(f"good-{n}", [], "We received your public records request and are working on it.\n")
