"""Our reference for a request and its own reply address (plus-addressing), so replies match themselves."""

from __future__ import annotations

import secrets

from agent.config import IdentitySettings


def make_reference(prefix: str, number: int, year: int) -> str:
    """Human-friendly and sortable: RA-2025-0007."""
    return f"{prefix}-{year}-{number:04d}"


def make_reply_address(identity: IdentitySettings, reference: str) -> str | None:
    """records+ra-2025-0007-k3f9@example.org: the random tail makes the address hard to guess.

    None when plus-addressing is off: then replies match by threading headers and tracking numbers.
    """
    if not identity.plus_addressing:
        return None
    local, _, domain = identity.address.partition("@")
    token = f"{reference.lower()}-{secrets.token_hex(2)}"
    return f"{local}{identity.plus_separator}{token}@{domain}".lower()
