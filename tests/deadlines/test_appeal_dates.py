"""Appeal windows and appeal bodies' due dates from the shipped [appeal] data, on the business calendar."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from agent.deadlines.appeal_dates import appeal_window, body_due, reminder_day, window_closes
from agent.deadlines.statutes import StatuteError, load_statutes, statute_dir

D = dt.date
SHIPPED = statute_dir(Path(__file__).resolve().parents[2] / "rules")


def test_verified_rules(statutes):
    verified = {j for j, s in statutes.items() if s.appeal.verified}
    assert {"US", "NY", "CT", "WA", "TX", "CA"} <= verified
    us, ny = statutes["US"].appeal, statutes["NY"].appeal
    assert (us.days_to_appeal, us.day_type, us.body_days, us.body_day_type) == (90, "calendar", 20, "business")
    assert "552(a)(6)(A)" in us.citation
    assert (ny.days_to_appeal, ny.body_days, ny.body_day_type) == (30, 10, "business") and "89(4)(a)" in ny.citation
    assert not statutes["CA"].appeal.exists and not statutes["TX"].appeal.exists
    for s in statutes.values():
        # Whatever could not be confirmed says so; a missing appeal always says what to do instead.
        assert s.appeal.verified or "Not checked" in s.appeal.note, s.id
        assert s.appeal.exists or s.appeal.note, s.id


def test_federal_foia(statutes, calendar):
    # 90 calendar days from 2 June 2025 is Sunday 31 August; Monday 1 September is Labor Day.
    assert window_closes(statutes["US"], D(2025, 6, 2), calendar) == D(2025, 9, 2)
    # 20 business days from Thursday 20 November 2025, Thanksgiving (27 Nov) not counted.
    assert body_due(statutes["US"], D(2025, 11, 20), calendar) == D(2025, 12, 19)


def test_new_york_foil(statutes, calendar):
    # 30 days from 26 December 2025 is Sunday 25 January 2026: the next business day.
    assert window_closes(statutes["NY"], D(2025, 12, 26), calendar) == D(2026, 1, 26)
    # 10 business days from Thursday 6 November 2025, Veterans Day (11 Nov) not counted.
    assert body_due(statutes["NY"], D(2025, 11, 6), calendar) == D(2025, 11, 21)


def test_washington_pra(statutes, calendar):
    # No window in the act; the review is complete two business days on (4 July is a holiday).
    window = appeal_window(statutes["WA"], D(2025, 7, 3), calendar, filed=D(2025, 7, 3))
    assert window.closes is None and window.body_due == D(2025, 7, 8)


def test_connecticut_foic(statutes, calendar):
    # 30 days from 4 June 2025 is Friday 4 July, Independence Day: Monday 7 July. No period for the Commission.
    assert window_closes(statutes["CT"], D(2025, 6, 4), calendar) == D(2025, 7, 7)
    assert body_due(statutes["CT"], D(2025, 6, 4), calendar) is None
    assert statutes["CT"].appeal.in_thread is False


def test_no_appeal_no_dates(statutes, calendar):
    for jid in ("CA", "TX"):
        assert window_closes(statutes[jid], D(2025, 6, 4), calendar) is None
        assert body_due(statutes[jid], D(2025, 6, 4), calendar) is None


def test_reminder_day():
    assert reminder_day(D(2025, 9, 2), 7) == D(2025, 8, 26)


@pytest.mark.parametrize(
    "table, message",
    [
        ('[appeal]\nexists = true\nverified = true\ncitation = "x"\n', "appeal.to_whom"),
        ('[appeal]\nexists = false\nverified = false\n', "appeal.note"),
        ('[appeal]\nexists = true\nverified = true\nto_whom = "a"\ncitation = "x"\nbody_days = "ten"\n', "appeal.body_days"),
        ('[appeal]\nexists = true\nverified = true\nto_whom = "a"\ncitation = "x"\nday_type = "weekly"\n', "appeal.day_type"),
        ('[appeal]\nexists = true\nverified = true\nto_whom = "a"\ncitation = "x"\nwhom = "a"\n', "appeal.whom"),
    ],
)
def test_bad_appeal_table_is_refused(tmp_path, table, message):
    folder = tmp_path / "statutes"
    shutil.copytree(SHIPPED, folder)
    path = folder / "NY.toml"
    text = path.read_text()
    path.write_text(text[: text.index("[appeal]")] + table)
    with pytest.raises(StatuteError, match=message):
        load_statutes(folder)


def test_appeal_rules_are_checked_at_start(tmp_path):
    from agent.followups.check import check_rules
    from agent.followups.policy import PolicyError

    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parents[2] / "rules", rules)
    check_rules(rules, fresh=True)
    (rules / "appeals.toml").write_text("reminder_days_before_close = 7\nremind_me = true\n")
    with pytest.raises(PolicyError, match="appeals.toml: unknown key 'remind_me'"):
        check_rules(rules, fresh=True)
    (rules / "appeals.toml").write_text("")
    (rules / "templates" / "appeal.txt.j2").write_text("{{ no_such_name }}\n")
    with pytest.raises(Exception, match="no_such_name"):
        check_rules(rules, fresh=True)
