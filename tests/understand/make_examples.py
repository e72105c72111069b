"""Regenerate rules/examples.jsonl (the word model's training data) from the .eml fixtures and phrasing tables.

Run from the repository root: python tests/understand/make_examples.py
Fixtures are cleaned exactly as the daemon cleans them, so the model learns from what it will later see.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from agent.mail.parse import parse
from agent.pipeline.clean import clean
from agent.pipeline.stage_data import ThreadContext
from agent.pipeline.understand import load_understand_rules

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _table(module_path: Path, name: str) -> list[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, name))


def main() -> None:
    rules = load_understand_rules(ROOT / "rules")
    mail = HERE / "fixtures" / "mail"
    expected = json.loads((mail / "expected.json").read_text())
    rows = []
    for name in sorted(expected):
        parsed = parse((mail / f"{name}.eml").read_bytes())
        cleaned = clean(parsed.text, ThreadContext(), rules.clean)
        text = f"{parsed.subject}\n{cleaned.text or cleaned.unquoted}".strip()
        rows.append({"label": expected[name]["label"], "text": text, "source": f"tests/understand/fixtures/mail/{name}.eml"})
    for module, table in (("test_phrasings.py", "CASES"), ("test_mixed.py", "MIXED")):
        for label, text in _table(HERE / module, table):
            rows.append({"label": label, "text": text, "source": f"tests/understand/{module}"})
    with (ROOT / "rules" / "examples.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} examples")


if __name__ == "__main__":
    main()
