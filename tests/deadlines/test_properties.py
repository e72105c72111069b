"""Invariants over every statute and any start date: deadlines never run backwards."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.deadlines.compute import compute_deadline
from agent.deadlines.statutes import JURISDICTIONS

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@settings(max_examples=400, deadline=None)
@given(jurisdiction=st.sampled_from(JURISDICTIONS), start=starts)
def test_due_after_start_and_extension_after_due(statutes, calendar, jurisdiction, start):
    statute = statutes[jurisdiction]
    d = compute_deadline(statute, start, calendar)
    assert d.due > start
    if statute.roll == "next_business_day":
        assert calendar.is_business_day(d.due, jurisdiction)
    if d.extended_due is not None:
        assert d.extended_due >= d.due
    else:
        assert statute.extension.days == 0
