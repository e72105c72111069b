"""The clock after we answer a clarification: restarted (TX), tolled (federal FOIA) or unchanged, as the statute says."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from agent.deadlines.clarified import clock_after_clarification
from agent.deadlines.compute import compute_deadline
from agent.deadlines.statutes import StatuteError, load_statutes, statute_dir

from tests.deadlines.conftest import RULES

# Mondays and Fridays in March 2025, away from any federal or Texas holiday.
FILED = dt.date(2025, 3, 3)
ASKED = dt.date(2025, 3, 7)
ANSWERED = dt.date(2025, 3, 14)


def test_shipped_rules_say_restart_for_texas_toll_for_foia_unchanged_elsewhere(statutes) -> None:
    assert statutes["TX"].clarification == "restart"
    assert statutes["US"].clarification == "toll"
    assert statutes["CA"].clarification == "unchanged"


def test_texas_counts_the_full_ten_business_days_again_from_our_answer(statutes, calendar) -> None:
    tx = statutes["TX"]
    old = compute_deadline(tx, FILED, calendar)
    after = clock_after_clarification(tx, calendar, clock_start=FILED, due=old.due, extended_due=dt.date(2025, 4, 1),
                                      asked_on=ASKED, answered_on=ANSWERED)
    assert after.clock_start == ANSWERED
    assert after.due == dt.date(2025, 3, 28) == compute_deadline(tx, ANSWERED, calendar).due
    assert after.extended_due is None  # an extension of the old period does not carry over
    assert "restarted on 2025-03-14" in after.basis


def test_foia_adds_the_business_days_the_question_waited(statutes, calendar) -> None:
    us = statutes["US"]
    due = compute_deadline(us, FILED, calendar).due
    after = clock_after_clarification(us, calendar, clock_start=FILED, due=due, extended_due=None,
                                      asked_on=ASKED, answered_on=ANSWERED)
    waited = calendar.business_days_between(ASKED, ANSWERED, "US")
    assert waited == 5
    assert after.clock_start == FILED and after.due == calendar.add_business_days(due, 5, "US") and after.due > due
    assert "tolled 5 business days" in after.basis


def test_a_statute_without_a_rule_leaves_the_dates(statutes, calendar) -> None:
    ca = statutes["CA"]
    due = compute_deadline(ca, FILED, calendar).due
    after = clock_after_clarification(ca, calendar, clock_start=FILED, due=due, extended_due=None,
                                      asked_on=ASKED, answered_on=ANSWERED)
    assert (after.clock_start, after.due, after.extended_due) == (FILED, due, None)


def test_an_unknown_rule_is_refused_at_load(tmp_path: Path) -> None:
    copy = tmp_path / "statutes"
    shutil.copytree(statute_dir(RULES), copy)
    path = copy / "TX.toml"
    path.write_text(path.read_text().replace('clarification = "restart"', 'clarification = "pause"'))
    with pytest.raises(StatuteError, match="`clarification` = 'pause'"):
        load_statutes(copy)
