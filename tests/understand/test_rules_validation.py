"""Rules are validated at load: bad regex, unknown label, duplicate id, unknown matcher -> RulesError naming file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.pipeline.classify import Features, classify, load_classify_rules
from agent.pipeline.rules import RulesError
from agent.pipeline.understand import load_understand_rules

RULES = Path(__file__).resolve().parents[2] / "rules"

GOOD_RULE = """
[[rule]]
id = "x.one"
label = "fee"
weight = 3
patterns = ['''\\bfee\\b''']
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "classify.toml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (GOOD_RULE.replace("\\bfee\\b", "(unclosed"), "rule[x.one].patterns[0]", "bad regex"),
        (GOOD_RULE.replace('"fee"', '"refund"'), "rule[x.one].label", "unknown value 'refund'"),
        (GOOD_RULE + GOOD_RULE, "rule[1].id", "duplicate id 'x.one'"),
        (GOOD_RULE.replace("patterns = ['''\\bfee\\b''']", 'matcher = "nope"'), "rule[x.one].matcher", "unknown value"),
        (GOOD_RULE.replace("weight = 3", 'weight = "3"'), "rule[x.one].weight", "expected int or float"),
        (GOOD_RULE.replace("weight = 3\n", "weight = 3\nmatcher = 'kind_bounce'\n"), "rule[x.one]", "exactly one"),
        ("[labels.nonsense]\nthreshold = 1\nbonus = 0\n", "labels.nonsense", "unknown value"),
        ("[[rule]\n", "(syntax)", ""),
    ],
)
def test_bad_classify_rules(tmp_path, text, key, problem):
    with pytest.raises(RulesError) as info:
        load_classify_rules(write(tmp_path, text))
    message = str(info.value)
    assert "classify.toml" in message and key in message and problem in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(RulesError, match="classify.toml"):
        load_classify_rules(tmp_path)


def test_understand_rules_validate_every_file(tmp_path):
    for name in ("classify.toml", "clean.toml", "tracking.toml"):
        shutil.copy(RULES / name, tmp_path / name)
    load_understand_rules(tmp_path)
    (tmp_path / "clean.toml").write_text(
        (RULES / "clean.toml").read_text().replace("'''\\bscanned\\s+for", "'''(\\bscanned\\s+for")
    )
    with pytest.raises(RulesError) as info:
        load_understand_rules(tmp_path)
    assert "clean.toml" in str(info.value) and "disclaimer[virus_scanned].pattern" in str(info.value)


def test_every_decision_records_rules_and_confidence(understand_rules):
    rules = understand_rules.classify
    decision = classify(Features("Attached please find the records. Additional records will follow."), rules)
    assert decision.label == "batch"
    assert "final.attached" in decision.rules and "batch.more_to_come" in decision.rules
    nothing = classify(Features("Hello."), rules)
    assert nothing.label == "other" and nothing.confidence < 0.6


def test_kind_from_parser_wins(understand_rules):
    text = "Your request has been received."
    assert classify(Features(text, kind="bounce"), understand_rules.classify).label == "bounce"
    assert classify(Features(text, kind="auto_reply"), understand_rules.classify).label == "auto_reply"
