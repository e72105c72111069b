"""Shared TOML loading and validation for rules/: a bad rule stops start-up with its file and key named."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class RulesError(ValueError):
    """A rules file is missing, unreadable or invalid; the message names the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: {key}: {problem}")


def load_toml(path: Path) -> dict[str, Any]:
    """Read one TOML rules file, turning every I/O or syntax failure into a RulesError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise RulesError(path, "(file)", "not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(path, "(syntax)", str(exc)) from None
    except OSError as exc:
        raise RulesError(path, "(file)", str(exc)) from None


def compile_pattern(pattern: Any, path: Path, key: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a regex from a rules file; a typo is reported at load, never at the first message."""
    if not isinstance(pattern, str) or not pattern:
        raise RulesError(path, key, "pattern must be a non-empty string")
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise RulesError(path, key, f"bad regex: {exc}") from None


def require(table: Mapping[str, Any], name: str, kind: type | tuple[type, ...], path: Path, key: str) -> Any:
    """Fetch a required field of the expected type or raise a RulesError naming it."""
    if name not in table:
        raise RulesError(path, f"{key}.{name}", "missing")
    value = table[name]
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(k.__name__ for k in kinds)
        raise RulesError(path, f"{key}.{name}", f"expected {wanted}, got {type(value).__name__}")
    return value


def rule_tables(data: Mapping[str, Any], section: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The `[[section]]` array of tables, each with a unique `id`; returns (key-for-errors, table) pairs."""
    raw = data.get(section, [])
    if not isinstance(raw, list):
        raise RulesError(path, section, "must be an array of tables ([[...]])")
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for index, table in enumerate(raw):
        key = f"{section}[{index}]"
        if not isinstance(table, dict):
            raise RulesError(path, key, "must be a table")
        rule_id = require(table, "id", str, path, key)
        if rule_id in seen:
            raise RulesError(path, f"{key}.id", f"duplicate id {rule_id!r}")
        seen.add(rule_id)
        out.append((f"{section}[{rule_id}]", table))
    return out


def check_choice(value: str, allowed: Iterable[str], path: Path, key: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise RulesError(path, key, f"unknown value {value!r} (expected one of {', '.join(allowed)})")
    return value
