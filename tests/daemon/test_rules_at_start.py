"""The daemon refuses to start on any broken rule file, not only the classifier's."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = "from pathlib import Path; import sys; from agent.daemon.ruleset import load_rules; load_rules(Path(sys.argv[1]))"


def _rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO / "rules", target)
    return target


def test_a_broken_followup_policy_is_refused_at_start(tmp_path: Path) -> None:
    # A fresh process: the policy cache is cold, as it is when the daemon starts.
    rules = _rules_copy(tmp_path)
    assert subprocess.run([sys.executable, "-c", CHECK, str(rules)], capture_output=True).returncode == 0
    policy = rules / "followups.toml"
    policy.write_text(policy.read_text() + "\nspacing_busines_days = 3\n")
    result = subprocess.run([sys.executable, "-c", CHECK, str(rules)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "followups.toml" in result.stderr and "spacing_busines_days" in result.stderr


def test_a_broken_statute_is_refused_at_start(tmp_path: Path) -> None:
    rules = _rules_copy(tmp_path)
    statute = rules / "statutes" / "CA.toml"
    statute.write_text(statute.read_text().replace('day_type = "calendar"', 'day_type = "lunar"', 1))
    result = subprocess.run([sys.executable, "-c", CHECK, str(rules)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "CA.toml" in result.stderr


def test_a_reload_reads_the_followup_policy_and_statutes_afresh(tmp_path: Path) -> None:
    """HUP: an edited policy or statute is used from then on; a broken edit keeps what was in use."""
    from agent.daemon.ruleset import RuleSet
    from agent.followups.policy import load_policy
    from agent.requests.clock import deadline_tools

    rules = _rules_copy(tmp_path)
    ruleset = RuleSet(rules)
    ruleset.load_initial()
    assert load_policy(rules).max_followups == 3
    policy = rules / "followups.toml"
    policy.write_text(policy.read_text().replace("max_followups = 3", "max_followups = 5"))
    statute = rules / "statutes" / "CA.toml"
    days = deadline_tools(rules)[0]["CA"]
    assert load_policy(rules).max_followups == 3  # cached until a reload says otherwise

    swapped, message = ruleset.reload()
    assert swapped, message
    assert load_policy(rules).max_followups == 5
    assert deadline_tools(rules)[0]["CA"] == days

    policy.write_text(policy.read_text() + "\nspacing_busines_days = 3\n")
    statute.write_text(statute.read_text().replace('day_type = "calendar"', 'day_type = "lunar"', 1))
    swapped, message = ruleset.reload()
    assert not swapped and ("spacing_busines_days" in message or "CA.toml" in message)
    assert load_policy(rules).max_followups == 5  # the last good policy stays in use
    assert deadline_tools(rules)[0]["CA"] == days
