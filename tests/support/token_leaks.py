"""Every form a token could take on its way to a log line: as given, inside the XOAUTH2 string, base64-encoded."""

from __future__ import annotations

import base64
from collections.abc import Iterable


def token_forms(token: str, user: str) -> list[str]:
    sasl = f"user={user}\x01auth=Bearer {token}\x01\x01"
    return [token, sasl, base64.b64encode(sasl.encode()).decode(), base64.b64encode(token.encode()).decode()]


def leaks(texts: Iterable[str], token: str, user: str) -> list[str]:
    """The forms of `token` found in any of `texts` (empty when nothing leaked)."""
    joined = "\n".join(texts)
    return [form for form in token_forms(token, user) if form in joined]
