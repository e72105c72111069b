"""The fitted model's private on-disk copy: reused when data, rules and code match; ignored otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.pipeline import model, model_cache

EXAMPLES = [
    ("We received your request and will respond within ten days.", "acknowledgment"),
    ("Your request has been logged and assigned to staff.", "acknowledgment"),
    ("We have no records responsive to your request.", "no_records"),
    ("A search found no responsive documents.", "no_records"),
] * 3


def _no_hints(text: str) -> list[str]:
    """No rule fired but one (the hint vocabulary must not be empty)."""
    return ["rule.none"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "models"
    monkeypatch.setenv(model_cache.ENV_DIR, str(directory))
    monkeypatch.setattr(model, "_CACHE", {})
    return directory


def test_a_second_process_reads_the_fitted_copy_instead_of_fitting(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = model.train(EXAMPLES, _no_hints, "rules-a")
    assert first is not None
    (stored,) = list(cache.glob("*.pickle"))
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    monkeypatch.setattr(model, "_CACHE", {})  # a new process
    fitted: list[int] = []
    original = model.LinearModel.__init__

    def counting(self: model.LinearModel, *args: object, **kwargs: object) -> None:
        fitted.append(1)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(model.LinearModel, "__init__", counting)
    again = model.train(EXAMPLES, _no_hints, "rules-a")
    assert again is not None and fitted == []
    text = "No responsive records were found."
    assert again.probabilities(text) == first.probabilities(text)
    # Other rules: another key, a fresh fit.
    model.train(EXAMPLES, _no_hints, "rules-b")
    assert fitted == [1] and len(list(cache.glob("*.pickle"))) == 2
    assert stored.exists()


def test_a_damaged_copy_is_refitted(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model.train(EXAMPLES, _no_hints, "rules-a")
    (stored,) = list(cache.glob("*.pickle"))
    stored.write_bytes(b"not a pickle")
    monkeypatch.setattr(model, "_CACHE", {})
    refitted = model.train(EXAMPLES, _no_hints, "rules-a")
    assert refitted is not None and refitted.predict("We have no records responsive.")[0] == "no_records"


def test_a_directory_others_can_write_is_never_read(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model.train(EXAMPLES, _no_hints, "rules-a")
    os.chmod(cache, 0o777)
    (stored,) = list(cache.glob("*.pickle"))
    key = stored.stem
    assert model_cache.load(key) is None
    os.chmod(cache, 0o700)
    assert model_cache.load(key) is not None


def test_off_disables_the_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(model_cache.ENV_DIR, "off")
    monkeypatch.setattr(model, "_CACHE", {})
    assert model_cache.cache_dir() is None
    assert model.train(EXAMPLES, _no_hints, "rules-a") is not None
