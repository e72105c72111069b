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
