"""The calibrated model: trained at load from rules/examples*.jsonl, validated, honest about its confidence."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from agent.pipeline.classify import Features, classify, hints, load_classify_rules, prepare_text
from agent.pipeline.evaluation import expected_calibration_error, reliability
from agent.pipeline.model import LinearModel, read_examples
from agent.pipeline.rules import RulesError
from agent.pipeline.stage_data import LABELS

RULES = Path(__file__).resolve().parents[2] / "rules"


def test_examples_files_are_valid_and_cover_every_label_many_times():
    rows = read_examples(RULES)
    counts = {label: sum(r.label == label for r in rows) for label in LABELS}
    assert len(rows) >= 1000
    corpus_labels = set(LABELS) - {"auto_reply", "bounce"}
    assert all(counts[label] >= 40 for label in corpus_labels), counts


def test_bad_examples_are_refused(tmp_path):
    (tmp_path / "examples.jsonl").write_text('{"label": "acknowledgment", "text": "got it"}\n{"label": "maybe", "text": "x"}\n')
    with pytest.raises(RulesError, match=r"examples.jsonl: line 2.label: unknown label 'maybe'"):
        read_examples(tmp_path)
    (tmp_path / "examples.jsonl").write_text("not json\n")
    with pytest.raises(RulesError, match="line 1"):
        read_examples(tmp_path)
    (tmp_path / "examples.jsonl").write_text('{"label": "fee", "text": "  "}\n')
    with pytest.raises(RulesError, match="line 1.text"):
        read_examples(tmp_path)
    (tmp_path / "examples.jsonl").unlink()
    assert read_examples(tmp_path) == []


def test_calibration_on_a_held_back_split_of_our_own_examples(understand_rules):
    """Fit on 75 % of the examples, read the other 25 %: confidence must track accuracy (low ECE)."""
    rows = [(e.text, e.label) for e in read_examples(RULES)]
    random.Random(7).shuffle(rows)
    cut = len(rows) * 3 // 4
    rules = understand_rules.classify
    model = LinearModel([(t, label, tuple(hints(t, rules))) for t, label in rows[:cut]])
    confidences, correct = [], []
    for text, label in rows[cut:]:
        guess, p = model.predict(text, hints(text, rules))
        confidences.append(p)
        correct.append(guess == label)
    ece = expected_calibration_error(reliability(confidences, correct))
    accuracy = sum(correct) / len(correct)
    assert accuracy > 0.8
    assert ece < 0.08, f"expected calibration error {ece:.3f}"


def test_one_line_staff_notes_are_read_by_the_model(understand_rules):
    rules = understand_rules.classify
    for text, label in (
        ("Sent via Dropbox, let me know if the link does not open.", "final_records"),
        ("Nothing turned up on our end for that address.", "no_records"),
        ("Can you give me a date range?", "clarification"),
    ):
        decision = classify(Features(prepare_text(text)), rules)
        assert decision.label == label, (text, decision)


def test_extra_examples_are_trained_in(tmp_path):
    (tmp_path / "classify.toml").write_text((RULES / "classify.toml").read_text())
    base = [{"label": "acknowledgment", "text": f"we have your request number {i} and are working on it"} for i in range(20)]
    base += [{"label": "fee", "text": f"please pay the fee of {i} dollars before we release records"} for i in range(20)]
    (tmp_path / "examples.jsonl").write_text("\n".join(json.dumps(r) for r in base) + "\n")
    note = "zebra quartz template notice"
    before = load_classify_rules(tmp_path).model
    after = load_classify_rules(tmp_path, extra_examples=[(f"{note} {i}", "fee") for i in range(15)]).model
    assert before is not None and after is not None
    assert after.probabilities(note)["fee"] > before.probabilities(note)["fee"] + 0.2
    with pytest.raises(RulesError, match="extra_examples"):
        load_classify_rules(tmp_path, extra_examples=[("text", "nonsense")])


def test_model_is_not_consulted_for_automated_mail(understand_rules):
    rules = understand_rules.classify
    automated = classify(Features(prepare_text("I am out of the office until Monday."), kind="auto_reply"), rules)
    assert automated.label == "auto_reply" and not any(r.startswith("model.") for r in automated.rules)
    loud = classify(Features(prepare_text("Your request is denied under Exemption 7(A).")), rules)
    assert loud.label == "denial" and "model.agrees" in loud.rules
