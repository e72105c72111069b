"""The rules the daemon classifies with, swapped whole on SIGHUP only after the new set validates."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class RulesUnavailable(Exception):
    """The understanding stage is not installed, so there are no rules to load."""


ExampleSource = Callable[[], Sequence[tuple[str, str]]]


def load_rules(rules_dir: Path, *, fresh: bool = False, extra_examples: Sequence[tuple[str, str]] = ()) -> Any:
    """Validate everything in rules/ (raises agent.pipeline.rules.RulesError naming file and key).

    extra_examples: this deployment's operator corrections, (text, label) pairs the model trains on too."""
    try:
        module = importlib.import_module("agent.pipeline.understand")
    except ModuleNotFoundError as exc:
        if exc.name == "agent.pipeline.understand":
            raise RulesUnavailable("agent.pipeline.understand is not available") from None
        raise
    rules = module.load_understand_rules(Path(rules_dir), extra_examples=extra_examples)
    # The follow-up policy, statutes and follow-up template are rules too: a broken one must stop the
    # daemon at start, not surface at the first deadline scan.
    from agent.followups.check import check_rules

    check_rules(Path(rules_dir), fresh=fresh)
    return rules


class RuleSet:
    """Holds the current rules; readers take a reference, so a swap never changes rules under a running job."""

    def __init__(self, rules_dir: Path, examples: ExampleSource | None = None) -> None:
        self.rules_dir = Path(rules_dir)
        # Read again at every load (start, HUP): the corrections operators made since are learned then.
        self.examples: ExampleSource = examples or tuple
        self._lock = threading.Lock()
        self._current: Any = None
        self.generation = 0

    @property
    def current(self) -> Any:
        return self._current

    def load_initial(self) -> None:
        """At start a bad rule set is fatal: refuse to run rather than discover it on the first message."""
        try:
            rules = load_rules(self.rules_dir, extra_examples=self.examples())
        except RulesUnavailable as exc:
            log.warning("running without classification rules: %s", exc)
            return
        with self._lock:
            self._current = rules
            self.generation += 1

    def reload(self) -> tuple[bool, str]:
        """Load and validate a new set; swap only when it is whole. Returns (swapped, message)."""
        try:
            rules = load_rules(self.rules_dir, fresh=True, extra_examples=self.examples())
        except RulesUnavailable as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the old set; the message says why
            return False, f"{type(exc).__name__}: {exc}"
        from agent.followups.check import forget_cached_rules

        with self._lock:
            self._current = rules
            self.generation += 1
            forget_cached_rules()  # the follow-up policy and statutes are read afresh from now on
        return True, f"rules reloaded from {self.rules_dir} (generation {self.generation})"
