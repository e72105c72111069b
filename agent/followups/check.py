"""Start-up check of everything the deadline side reads from rules/: refuse to run rather than fail at the first scan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from agent.compose.answers import check_answer_templates
from agent.compose.followup import FollowupFacts, compose_followup
from agent.compose.withdrawal import WithdrawalFacts, compose_withdrawal
from agent.config import IdentitySettings
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
    compose_withdrawal(
        WithdrawalFacts(
            agency_name=sample.agency_name, reference=sample.reference, subject=sample.subject, to=sample.to,
            reply_to=None, filed_date=sample.filed_date, tracking_numbers=sample.tracking_numbers,
            thread_ids=sample.thread_ids, reason="Sample reason.",
        ),
        identity=IdentitySettings(), now=dt.datetime(2000, 2, 1, 12, tzinfo=dt.timezone.utc), rules_dir=Path(rules_dir),
    )
    check_answer_templates(Path(rules_dir))


def forget_cached_rules() -> None:
    """After a reload validated the files: the next scan reads the new policy and statutes."""
    load_policy.cache_clear()
    deadline_tools.cache_clear()
