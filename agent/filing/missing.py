"""Which variables a letter needs but was not given: all of them in one message, not one per attempt."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2


class _Recorder(jinja2.Undefined):
    """An Undefined that notes its name instead of raising, so one message can list every missing variable."""

    seen: list[str] = []

    def _note(self) -> None:
        if self._undefined_name and self._undefined_obj is jinja2.utils.missing:
            self.seen.append(self._undefined_name)

    def __str__(self) -> str:
        self._note()
        return ""

    def __iter__(self) -> Iterator[Any]:
        self._note()
        return iter(())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        self._note()
        return self


def missing_variables(rules_dir: Path, template: str, context: Mapping[str, Any]) -> list[str]:
    """Render once more, leniently, and collect the top-level names that were used but not given."""
    recorder: type[_Recorder] = type("_Rec", (_Recorder,), {"seen": []})
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(rules_dir) / "templates")), undefined=recorder,
        trim_blocks=True, lstrip_blocks=True,
    )
    try:
        env.get_template(template).render(dict(context))
    except Exception:  # noqa: BLE001 - a diagnosis pass; the caller reports the original error otherwise
        pass
    return sorted(set(recorder.seen) - set(context))
