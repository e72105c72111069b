"""Start-up check of everything the deadline side reads from rules/: refuse to run rather than fail at the first scan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from agent.compose.answers import SAMPLE_THREAD_VARS, check_answer_templates
from agent.compose.followup import FollowupFacts, compose_followup
from agent.compose.render import render
from agent.compose.withdrawal import WITHDRAWAL_TEMPLATE
from agent.config import IdentitySettings
from agent.followups.appeal_policy import load_appeal_policy
from agent.followups.policy import load_policy
from agent.requests.clock import deadline_tools


def check_rules(rules_dir: Path, *, fresh: bool = False) -> None:
    """Load the follow-up policy, statutes and calendar, and render the follow-up and withdrawal templates once.

    Raises PolicyError, StatuteError or TemplateError naming the file (and key) at fault. fresh=True reads
    the files again, past the per-process caches (a reload validates what is on disk now).
    """
    policy = (load_policy.__wrapped__ if fresh else load_policy)(Path(rules_dir))
    statutes, _ = (deadline_tools.__wrapped__ if fresh else deadline_tools)(Path(rules_dir))
    sample = FollowupFacts(
        agency_name="Sample Agency",
        reference="RA-2000-0001",
        subject="[RA-2000-0001] Public records request",
        to=("records@agency.example",),
        reply_to=None,
        filed_date=dt.date(2000, 1, 3),
        due_date=dt.date(2000, 1, 13),
        promised_date=dt.date(2000, 1, 20),
        tracking_numbers=("A-1", "B-2"),
        thread_ids=("<a@example.org>",),
        followup_number=2,
        extended=True,
    )
    compose_followup(
        sample, statute=statutes["CA"], identity=IdentitySettings(), today=dt.date(2000, 2, 1),
        now=dt.datetime(2000, 2, 1, 12, tzinfo=dt.timezone.utc), rules_dir=Path(rules_dir), template=policy.template,
    )
    # Written by the CLI, not the daemon, but a rules file all the same: a broken edit is found here, not by
    # an operator withdrawing a campaign.
    render(Path(rules_dir), WITHDRAWAL_TEMPLATE, {**SAMPLE_THREAD_VARS, "reason": "Sample reason."})
    check_answer_templates(Path(rules_dir))
    _check_appeal_templates(Path(rules_dir), fresh=fresh)


def _check_appeal_templates(rules_dir: Path, *, fresh: bool) -> None:
    """rules/appeals.toml and both appeal letters, rendered once with sample values (AppealPolicyError, TemplateError)."""
    appeals = (load_appeal_policy.__wrapped__ if fresh else load_appeal_policy)(rules_dir)
    common = {
        **SAMPLE_THREAD_VARS,
        "to_whom": "the head of the agency", "statute_name": "Sample Act", "appeal_citation": "§ 1",
        "body_due": "February 1, 2000",
    }
    for kind in ("denial", "no_records", "silence"):
        render(rules_dir, appeals.template, {
            **common, "decision_kind": kind, "decision_date": "January 10, 2000", "due_date": "January 13, 2000",
            "grounds": "Sample grounds.",
        })
    render(rules_dir, appeals.followup_template, {**common, "appeal_filed": "January 11, 2000", "followup_number": 2})


def forget_cached_rules() -> None:
    """After a reload validated the files: the next scan reads the new policy and statutes."""
    load_policy.cache_clear()
    load_appeal_policy.cache_clear()
    deadline_tools.cache_clear()
