"""The word model: trained at load from rules/examples.jsonl, validated, and only a last resort at review level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.pipeline.classify import Features, classify, prepare_text
from agent.pipeline.model import load_model, tokens
from agent.pipeline.rules import RulesError
from agent.pipeline.stage_data import LABELS

RULES = Path(__file__).resolve().parents[2] / "rules"


def test_examples_file_is_valid_and_covers_the_labels():
    rows = [json.loads(line) for line in (RULES / "examples.jsonl").read_text().splitlines() if line.strip()]
    assert {r["label"] for r in rows} <= set(LABELS)
    assert len({r["label"] for r in rows}) >= 10
    assert load_model(RULES) is not None


def test_bad_examples_are_refused(tmp_path):
    (tmp_path / "examples.jsonl").write_text('{"label": "acknowledgment", "text": "got it"}\n{"label": "maybe", "text": "x"}\n')
    with pytest.raises(RulesError, match=r"examples.jsonl: line 2.label: unknown label 'maybe'"):
        load_model(tmp_path)
    (tmp_path / "examples.jsonl").write_text("not json\n")
    with pytest.raises(RulesError, match="line 1"):
        load_model(tmp_path)
    (tmp_path / "examples.jsonl").unlink()
    assert load_model(tmp_path) is None


def test_tokens_drop_stop_words_and_add_pairs():
    assert tokens("The records are attached today") == {"attached", "today", "attached_today"}


def test_model_only_speaks_when_rules_are_silent(understand_rules):
    rules = understand_rules.classify
    silent = classify(Features(prepare_text("The statutory deadline is hereby extended by seven working days.")), rules)
    if "model.naive_bayes" in silent.rules:
        assert silent.confidence < 0.6  # a guess always goes to a person
    loud = classify(Features(prepare_text("Your request is denied under Exemption 7(A).")), rules)
    assert loud.label == "denial" and "model.naive_bayes" not in loud.rules
    automated = classify(Features(prepare_text("Your one-time passcode is 123456."), kind="reply"), rules)
    assert automated.label == "other"
