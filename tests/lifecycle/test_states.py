"""The state machine table and the follow-up policy, without a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agent.db.models import Request
from agent.deadlines.business_days import BusinessCalendar
from agent.followups.policy import FollowupPolicy, PolicyError, checkpoint, load_policy, next_action_date
from agent.requests import states
from agent.requests.states import IllegalTransition

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.mark.parametrize(
    ("label", "state"),
    [
        ("acknowledgment", "acknowledged"),
        ("extension", "extended"),
        ("batch", "partial"),
        ("final_records", "completed"),
        ("no_records", "no_records"),
        ("denial", "rejected"),
        ("fee", "fee_required"),
        ("clarification", "clarification_needed"),
        ("portal_redirect", "portal"),
    ],
)
def test_each_label_leads_to_its_state(label: str, state: str) -> None:
    assert states.target("sent", states.LABEL_TRIGGER[label]) == state


def test_illegal_moves_are_refused() -> None:
    with pytest.raises(IllegalTransition):
        states.target("completed", "batch")
    with pytest.raises(IllegalTransition):
        states.target("withdrawn", "followup")
    with pytest.raises(IllegalTransition):
        states.target("draft", "acknowledgment")
    assert not states.is_direct_move_allowed("withdrawn", "sent")


def test_nothing_moves_backwards_on_a_late_acknowledgment() -> None:
    assert states.target("extended", "acknowledgment") == "extended"
    assert states.target("partial", "extension") == "partial"


def test_operator_actions_and_timers() -> None:
    assert states.target("partial", "withdraw") == "withdrawn"
    assert states.target("rejected", "reopen") == "acknowledged"
    assert states.target("fee_required", "resume") == "acknowledged"
    assert states.target("extended", "escalate") == "needs_review"
    assert states.target("partial", "bounce") == "undeliverable"
    assert states.target("undeliverable", "resume") == "acknowledged"
    assert states.target("partial", "followup") == "partial"


def test_only_states_awaiting_the_agency_are_followed_up() -> None:
    assert set(states.AWAITING_AGENCY) == {"sent", "acknowledged", "extended", "partial"}
    for s in ("fee_required", "clarification_needed", "withdrawn", "completed", "needs_review", "portal", "undeliverable"):
        assert not states.follows_up(s)
        assert not states.can(s, "followup")


def _req(**kw: object) -> Request:
    values: dict[str, object] = {"state": "acknowledged", "jurisdiction": "CA", "flags": {}}
    values.update(kw)
    return Request(**values)


def test_checkpoint_is_the_later_of_deadline_and_promise() -> None:
    assert checkpoint(_req(due_date=dt.date(2021, 2, 18), promised_date=dt.date(2021, 3, 1))) == dt.date(2021, 3, 1)
    assert checkpoint(_req(due_date=dt.date(2025, 2, 21), extended_due=dt.date(2025, 3, 7))) == dt.date(2025, 3, 7)
    # An earlier promise does not pull the legal deadline forward.
    assert checkpoint(_req(due_date=dt.date(2025, 2, 21), promised_date=dt.date(2025, 2, 14))) == dt.date(2025, 2, 21)


def test_policy_schedule() -> None:
    policy, cal = FollowupPolicy(), BusinessCalendar()
    req = _req(due_date=dt.date(2025, 2, 21), extended_due=dt.date(2025, 3, 7))
    assert next_action_date(req, policy, cal) == dt.date(2025, 3, 10)
    req.flags = {"followup_streak": 1}
    req.last_followup_at = dt.datetime(2025, 3, 10, 17, tzinfo=dt.timezone.utc)
    assert next_action_date(req, policy, cal) == dt.date(2025, 3, 24)
    req.state = "fee_required"
    assert next_action_date(req, policy, cal) is None


def test_shipped_policy_loads_and_bad_policy_is_refused(tmp_path: Path) -> None:
    assert load_policy(RULES).max_followups >= 1
    (tmp_path / "followups.toml").write_text("max_followups = 0\n")
    with pytest.raises(PolicyError, match="max_followups"):
        load_policy(tmp_path)
    other = tmp_path / "b"
    other.mkdir()
    (other / "followups.toml").write_text("max_folowups = 3\n")
    with pytest.raises(PolicyError, match="unknown key 'max_folowups'"):
        load_policy(other)


def test_every_trigger_names_who_may_pull_it() -> None:
    assert set(states.TRIGGER_CAUSES) == states.TRIGGERS
    assert not states.cause_may_fire("timer", "final_records")
    assert not states.cause_may_fire("message", "withdraw")
    assert states.cause_may_fire("operator", "withdraw")
    assert not states.is_direct_move_allowed("sent", "completed", "timer")
    assert states.is_direct_move_allowed("sent", "completed", "message")


def test_rules_check_passes_on_the_shipped_rules_and_names_a_broken_template(tmp_path: Path) -> None:
    import shutil

    from agent.compose.render import TemplateError
    from agent.followups.check import check_rules

    check_rules(RULES)
    broken = tmp_path / "rules"
    shutil.copytree(RULES, broken)
    (broken / "templates" / "followup.txt.j2").write_text("Dear {{ agency_nmae }},\n")
    with pytest.raises(TemplateError, match="followup.txt.j2"):
        check_rules(broken)


def test_spacing_counts_from_the_agencys_own_day_not_utcs() -> None:
    """6:30 pm in California is already tomorrow in UTC: a reply or a reminder then belongs to the local day."""
    policy, cal = FollowupPolicy(), BusinessCalendar()
    evening = dt.datetime(2025, 3, 11, 1, 30, tzinfo=dt.timezone.utc)  # Mon Mar 10, 18:30 PDT
    late_reply = _req(due_date=dt.date(2025, 2, 21), extended_due=dt.date(2025, 3, 7), last_reply_at=evening)
    assert next_action_date(late_reply, policy, cal) == cal.add_business_days(
        dt.date(2025, 3, 10), policy.after_reply_business_days, "CA")
    reminded = _req(due_date=dt.date(2025, 2, 21), flags={"followup_streak": 1}, last_followup_at=evening)
    assert next_action_date(reminded, policy, cal) == dt.date(2025, 3, 24)  # ten business days after Mon Mar 10
    # SQLite hands back naive datetimes: they are UTC, so the same local day comes out.
    reminded.last_followup_at = evening.replace(tzinfo=None)
    assert next_action_date(reminded, policy, cal) == dt.date(2025, 3, 24)
    # In New York 1:30 UTC is 9:30 pm the same evening; in Honolulu it is still the afternoon.
    assert next_action_date(_req(jurisdiction="NY", due_date=dt.date(2025, 2, 21), flags={"followup_streak": 1},
                                 last_followup_at=evening), policy, cal) == dt.date(2025, 3, 24)


@pytest.mark.parametrize(("state", "trigger"), [
    ("fee_required", "fee_approved"), ("fee_required", "narrowed"), ("clarification_needed", "clarified"),
    ("clarification_needed", "interest_confirmed"), ("portal", "portal_filed"), ("needs_review", "clarified"),
])
def test_answers_from_review_put_the_request_back_to_waiting_on_the_agency(state: str, trigger: str) -> None:
    assert states.target(state, trigger) == "acknowledged"
    assert states.follows_up("acknowledged")
    # Only a person answers an agency: no message, timer or system job may pull these.
    assert states.cause_may_fire("operator", trigger)
    assert not any(states.cause_may_fire(cause, trigger) for cause in ("message", "timer", "system"))


def test_answers_do_not_fit_where_nothing_was_asked() -> None:
    for state in ("sent", "completed", "withdrawn"):
        for trigger in states.ANSWER_TRIGGERS:
            with pytest.raises(IllegalTransition):
                states.target(state, trigger)
    with pytest.raises(IllegalTransition):
        states.target("clarification_needed", "fee_approved")


@pytest.mark.parametrize("state", ["rejected", "no_records", "needs_review", "sent", "acknowledged", "extended", "partial"])
def test_a_denial_a_finding_or_silence_may_be_appealed_by_a_person(state: str) -> None:
    assert states.target(state, "appeal") == "appealed"
    assert states.cause_may_fire("operator", "appeal")
    assert not any(states.cause_may_fire(cause, "appeal") for cause in ("message", "timer", "system"))


def test_appealed_waits_for_the_body_and_its_decision_moves_the_request() -> None:
    for state in ("completed", "withdrawn", "draft", "queued", "fee_required"):
        with pytest.raises(IllegalTransition):
            states.target(state, "appeal")
    # Acknowledging or extending the appeal leaves it pending; the request's own timer never mails it.
    assert states.target("appealed", "acknowledgment") == "appealed"
    assert states.target("appealed", "extension") == "appealed"
    assert not states.follows_up("appealed")
    # The decision on appeal: records, a partial release, or the denial upheld.
    assert states.target("appealed", "final_records") == "completed"
    assert states.target("appealed", "batch") == "partial"
    assert states.target("appealed", "denial") == "rejected"
    assert states.target("appealed", "no_records") == "no_records"
    assert states.target("appealed", "withdraw") == "withdrawn"
    with pytest.raises(IllegalTransition):
        states.target("appealed", "appeal")  # one appeal at a time
