"""Is a fetched message one of ours? Providers show submitted mail in folders we read (Gmail threads, CC to self)."""

from __future__ import annotations

from collections.abc import Container
from email.parser import BytesHeaderParser
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses

from agent.config import IdentitySettings
from agent.mail.limits import bound_headers, split_head
from agent.mail.parse import storable_message_id

_HEADERS = BytesHeaderParser(policy=compat32)


def _headers(raw: bytes) -> Message:
    """The header block alone, cut to the parsing caps: the standard parser is superlinear on huge headers."""
    return _HEADERS.parsebytes(bound_headers(split_head(raw)[0] + b"\n\n")[0])


def _is_identity_address(address: str, identity: IdentitySettings) -> bool:
    """Our address, or one of its per-request plus-address variants."""
    address = address.strip().lower()
    ours = identity.address.strip().lower()
    if address == ours:
        return True
    local, _, domain = address.rpartition("@")
    our_local, _, our_domain = ours.rpartition("@")
    if not identity.plus_addressing or domain != our_domain or not identity.plus_separator:
        return False
    return local.split(identity.plus_separator, 1)[0] == our_local


def own_mail_reason(raw: bytes, identity: IdentitySettings, sent_message_ids: Container[str]) -> str | None:
    """Why this message is our own sent mail (so it is kept in the archive but not read as a reply), or None."""
    try:
        headers = _headers(raw)
    except Exception:  # noqa: BLE001 - unreadable headers: certainly not something we wrote
        return None
    value = headers.get("Message-ID")
    message_id = storable_message_id(str(value)) if value else None
    if message_id and message_id in sent_message_ids:
        return f"our own sent mail (Message-ID {message_id})"
    senders = [addr for _, addr in getaddresses([str(v) for v in headers.get_all("From", [])]) if addr]
    if senders and all(_is_identity_address(addr, identity) for addr in senders):
        return f"our own sent mail (From {senders[0]})"
    return None


def message_ids(raws: list[bytes]) -> list[str]:
    """The normalised Message-IDs of these messages, for one lookup of which ones we sent."""
    found: list[str] = []
    for raw in raws:
        try:
            value = _headers(raw).get("Message-ID")
        except Exception:  # noqa: BLE001
            continue
        message_id = storable_message_id(str(value)) if value else None
        if message_id:
            found.append(message_id)
    return found
