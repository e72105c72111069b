"""Daemon test helpers: a config file in a temporary folder pointing at the test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def write_config(folder: Path, db_url: str, *, extra: str = "", rules: Path | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[inbox]
backend = "maildir"
maildir = "inbox"
[smtp]
host = "127.0.0.1"
port = 2
security = "plain"
[rules]
path = "{rules or (REPO / 'rules')}"
[daemon]
status_file = "status.json"
log_format = "json"
{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_writer():
    return write_config


@pytest.fixture
def make_settings(tmp_path: Path):
    def make(db_url: str, **kw) -> Settings:
        return load_settings(write_config(tmp_path / "cfg", db_url, **kw))

    return make
