"""Daemon test helpers: a config file in a temporary folder pointing at the test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings, load_settings
from support import configs

REPO = Path(__file__).resolve().parents[2]


def write_config(folder: Path, db_url: str, *, extra: str = "", rules: Path | None = None) -> Path:
    return configs.write_config(folder, db_url, extra=extra, rules={"path": str(rules or (REPO / "rules"))})


@pytest.fixture
def config_writer():
    return write_config


@pytest.fixture
def make_settings(tmp_path: Path):
    def make(db_url: str, **kw) -> Settings:
        return load_settings(write_config(tmp_path / "cfg", db_url, **kw))

    return make
