"""One writer for the config files test workspaces use: what they all share, and each test's own sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

REPO = Path(__file__).resolve().parents[2]


def base_sections(db_url: str) -> dict[str, dict[str, Any]]:
    """A Maildir inbox beside the config, a closed SMTP port on loopback, the repository's rules, JSON logs."""
    return {
        "database": {"url": db_url},
        "inbox": {"backend": "maildir", "maildir": "inbox"},
        "smtp": {"host": "127.0.0.1", "port": 2, "security": "plain"},
        "rules": {"path": str(REPO / "rules")},
        "daemon": {"status_file": "status.json", "log_format": "json"},
    }


def write_config(folder: Path, db_url: str, *, extra: str = "", **sections: dict[str, Any]) -> Path:
    """folder/config.toml; a section given here replaces the base one whole, `extra` is raw TOML appended."""
    folder.mkdir(parents=True, exist_ok=True)
    merged = base_sections(db_url)
    merged.update(sections)
    path = folder / "config.toml"
    path.write_text(tomli_w.dumps(merged) + ("\n" + extra if extra else ""), encoding="utf-8")
    return path
