"""Fixtures for the understanding tests: rules loaded once, seed threads split into messages."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from agent.pipeline.understand import UnderstandRules, load_understand_rules

HERE = Path(__file__).resolve().parent
RULES_DIR = HERE.parents[1] / "rules"
FIXTURES = HERE / "fixtures"


@lru_cache(maxsize=1)
def _rules() -> UnderstandRules:
    return load_understand_rules(RULES_DIR)


@pytest.fixture(scope="session")
def understand_rules() -> UnderstandRules:
    return _rules()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@dataclass(frozen=True)
class SeedMessage:
    sender: str
    body: str
    ours: bool


def split_seed_impl(path: Path, our_name: str) -> list[SeedMessage]:
    """A MuckRock page dump lists the thread as "From: <name>" blocks; the requester's blocks are ours."""
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"^From: (.+)$", text, flags=re.M)
    messages = []
    for index in range(1, len(parts), 2):
        sender = parts[index].strip()
        messages.append(SeedMessage(sender, parts[index + 1].strip("\n"), sender == our_name))
    return messages


def day(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)


@pytest.fixture
def split_seed():
    return split_seed_impl
