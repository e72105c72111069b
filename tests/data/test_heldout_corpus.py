"""Guards the hand-written held-out reply set so it stays a trustworthy yardstick for the classifier."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from support.shared import DEV_SET

CORPUS = Path(__file__).with_name("replies_heldout.jsonl")

LABELS = frozenset({
    "acknowledgment", "extension", "batch", "final_records", "no_records",
    "denial", "fee", "clarification", "portal_redirect", "other",
})
# The labels real agencies send most often get a higher floor.
COMMON = frozenset({"acknowledgment", "final_records", "fee", "denial", "no_records"})
MIN_PER_LABEL = 18
MIN_PER_COMMON_LABEL = 20
MIN_ROWS = 180

REQUIRED = {
    "id": str, "source": str, "agency": str, "date": (str, type(None)), "subject": (str, type(None)),
    "body": str, "label": str, "label_confidence": str, "expected_date": (str, type(None)),
    "tracking_number": (str, type(None)), "notes": str,
}
OPTIONAL = {"from": str, "attachment_text": str}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rows() -> list[dict]:
    rows = []
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {number} is blank"
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number} is not a JSON object"
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return _rows()


def test_every_row_has_exactly_the_known_fields_with_the_right_types(rows):
    for row in rows:
        missing = REQUIRED.keys() - row.keys()
        unknown = row.keys() - REQUIRED.keys() - OPTIONAL.keys()
        assert not missing, f"{row.get('id')}: missing {sorted(missing)}"
        assert not unknown, f"{row.get('id')}: unknown {sorted(unknown)}"
        for key, kind in {**REQUIRED, **OPTIONAL}.items():
            if key in row:
                assert isinstance(row[key], kind), f"{row['id']}: {key} has type {type(row[key]).__name__}"


def test_ids_are_unique_and_well_formed(rows):
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"ho-\d{3}", i) for i in ids)


def test_labels_and_confidences_are_valid(rows):
    for row in rows:
        assert row["label"] in LABELS, row["id"]
        assert row["label_confidence"] in {"high", "medium", "low"}, row["id"]


def test_dates_are_iso_and_expected_dates_do_not_precede_the_message(rows):
    for row in rows:
        for key in ("date", "expected_date"):
            value = row[key]
            if value is not None:
                assert ISO_DATE.match(value), f"{row['id']}: {key}={value!r}"
                date.fromisoformat(value)
        if row["date"] and row["expected_date"]:
            assert row["expected_date"] >= row["date"], row["id"]


def test_label_counts_meet_the_minimums(rows):
    counts = Counter(row["label"] for row in rows)
    assert len(rows) >= MIN_ROWS
    for label in LABELS:
        floor = MIN_PER_COMMON_LABEL if label in COMMON else MIN_PER_LABEL
        assert counts[label] >= floor, f"{label}: {counts[label]} < {floor}"


def test_text_fields_are_non_empty_and_bodies_distinct(rows):
    bodies = Counter(row["body"] for row in rows)
    assert max(bodies.values()) == 1, "two rows share a body"
    for row in rows:
        assert row["body"].strip(), row["id"]
        assert row["agency"].strip() and row["notes"].strip(), row["id"]
        assert row["source"].startswith("written for records-agent, modelled on "), row["id"]
        if "attachment_text" in row:
            assert row["attachment_text"].strip(), row["id"]


def test_tracking_numbers_appear_in_the_message(rows):
    # A classifier can only be asked to find a number the message actually shows.
    for row in rows:
        number = row["tracking_number"]
        if number:
            text = " ".join(filter(None, (row["subject"], row["body"], row.get("attachment_text"))))
            assert number in text, f"{row['id']}: {number!r} not in subject/body/attachment"


def test_sender_addresses_use_reserved_example_domains(rows):
    for row in rows:
        if "from" in row:
            assert re.fullmatch(r"[^@\s]+@[^@\s]+", row["from"]), row["id"]
            assert ".example." in row["from"], f"{row['id']}: {row['from']} is not an example domain"


def _shingles(text: str, size: int = 12) -> set[str]:
    words = re.findall(r"[a-z0-9§().'-]+", text.lower())
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


# Fixed portal templates and statute wording that agencies quote word for word.
_SHARED_BOILERPLATE = (
    "to monitor the progress or update this request",
    "appropriately examine a voluminous amount",
    "not disclosing the records clearly outweighs",
    "clearly outweighs the public interest served by disclosure",
    "public interest served by not disclosing",
)


@pytest.mark.skipif(not DEV_SET.exists(), reason="shared dev set not mounted here")
def test_no_long_passage_is_copied_from_the_dev_set(rows):
    dev = set()
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        dev |= _shingles(item["body"]) | _shingles(item.get("attachment_text") or "")
    for row in rows:
        shared = _shingles(row["body"]) | _shingles(row.get("attachment_text") or "")
        copied = {s for s in shared & dev if not any(b in s for b in _SHARED_BOILERPLATE)}
        assert not copied, f"{row['id']} repeats dev text: {sorted(copied)[:1]}"
