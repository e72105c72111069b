"""Every secret value the process has read (passwords, OAuth tokens), so log redaction can hide it.

Tokens rotate while the daemon runs (a token command prints a fresh one; a provider refreshes), so the
set of values to hide cannot be fixed when logging is configured: whoever reads a secret records it
here, and the redactor picks up the change at its next record. A leaf module: anything may import it.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_values: set[str] = set()
_version = 0


def remember(value: str) -> None:
    """Record a secret just read; empty values are ignored."""
    global _version
    if not value:
        return
    with _lock:
        if value not in _values:
            _values.add(value)
            _version += 1


def snapshot() -> tuple[int, frozenset[str]]:
    """The current version and values; the version changes whenever a value is added."""
    with _lock:
        return _version, frozenset(_values)


def version() -> int:
    """Cheap check for the redactor: has anything been added since it last looked?"""
    return _version
