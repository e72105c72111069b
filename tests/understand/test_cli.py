"""`agent classify` and `agent eval`: the documented output contracts."""

from __future__ import annotations

import json
import re

from agent.pipeline.autoapply import CLOSING_LABELS as CLOSING
from pathlib import Path

from typer.testing import CliRunner

from agent.cli import app

MAIL = Path(__file__).parent / "fixtures" / "mail"
runner = CliRunner()
ROWS = [
    {"id": "t-1", "subject": None, "body": "We have received your request. Your request number is 2025-0117.",
     "label": "acknowledgment", "expected_date": None, "tracking_number": "2025-0117"},
    {"id": "t-2", "subject": "Records", "body": "The estimated cost is $40.00. Please send payment before we begin.",
     "from": "clerk@town.gov", "date": "2025-01-06", "label": "fee", "expected_date": None, "tracking_number": None},
    {"id": "t-3", "body": "We will need an additional 10 business days and will respond by January 31, 2025.",
     "date": "2025-01-06", "label": "extension", "expected_date": "2025-01-31", "tracking_number": None},
]


def invoke(*args: str):
    # A missing config file makes the CLI use the repository's rules and the default review threshold.
    return runner.invoke(app, ["--config", "/nonexistent/config.toml", *args], env={"COLUMNS": "160"})


def test_classify_eml_prints_one_json_object():
    result = invoke("classify", str(MAIL / "fee_deposit.eml"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"label", "confidence", "rules", "expected_date", "tracking_numbers", "fees", "links",
                         "cleaned_text", "folded"}
    assert data["label"] == "fee"
    assert {"amount": 250.0, "currency": "USD", "kind": "deposit"}.items() <= data["fees"][-1].items()


def test_classify_jsonl_one_line_per_row(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    result = invoke("classify", "--jsonl", str(path))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["t-1", "t-2", "t-3"]
    assert [line["label"] for line in lines] == ["acknowledgment", "fee", "extension"]
    assert lines[0]["tracking_numbers"] == ["2025-0117"]
    assert lines[2]["expected_date"] == "2025-01-31"
    keys = {"id", "label", "detail_label", "confidence", "expected_date", "tracking_numbers", "rules", "auto"}
    assert all(set(line) == keys for line in lines)
    assert all(isinstance(line["auto"], bool) for line in lines)
    # auto is the daemon's own decision: a progress label applies at the review threshold
    assert all(line["auto"] == (line["confidence"] >= 0.6) for line in lines if line["label"] not in CLOSING)


def test_corpus_output_folds_auto_replies_into_other(tmp_path):
    path = tmp_path / "ooo.jsonl"
    row = {"id": "o-1", "subject": "Automatic reply: records request",
           "body": "I am out of the office until Monday with limited access to email. "
                   "For urgent matters please contact the main office."}
    path.write_text(json.dumps(row) + "\n")
    line = json.loads(invoke("classify", "--jsonl", str(path)).stdout.splitlines()[0])
    assert line["detail_label"] == "auto_reply"
    assert line["label"] == "other"


def test_eval_last_line(tmp_path):
    path = tmp_path / "gold.jsonl"
    rows = ROWS + [dict(ROWS[0], id="t-4", label="denial")]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = invoke("eval", str(path))
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"accuracy=0\.\d{3} macro_f1=0\.\d{3} date_acc=\d\.\d{3} tracking_acc=\d\.\d{3} "
        r"auto_precision=\d\.\d{3} coverage=\d\.\d{3} wrong_closing=\d+ n=4", last
    ), last
    assert "accuracy=0.750" in last and "date_acc=1.000" in last and "tracking_acc=1.000" in last
    assert "precision" in result.stdout and "confusion" in result.stdout
    assert "reliability" in result.stdout and "expected calibration error" in result.stdout


def test_eval_counts_wrong_closing_labels_that_would_apply(tmp_path):
    path = tmp_path / "gold.jsonl"
    body = "After a diligent search, we did not locate any records responsive to your request. This closes your request."
    rows = [{"id": "c-1", "body": body, "label": "acknowledgment"}, {"id": "c-2", "body": body, "label": "no_records"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    last = invoke("eval", str(path)).stdout.strip().splitlines()[-1]
    assert "wrong_closing=1 " in last and "coverage=1.000" in last and "auto_precision=0.500" in last, last


def test_usage_errors(tmp_path):
    assert invoke("classify").exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    assert invoke("classify", "--jsonl", str(bad)).exit_code == 2
    assert invoke("eval", str(tmp_path / "missing.jsonl")).exit_code == 2
