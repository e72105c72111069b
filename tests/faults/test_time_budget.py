"""One big message must not hold the inbox for minutes: parse + understand stay within a time budget.

Each case runs in a subprocess so a runaway (e.g. a regular expression that backtracks
quadratically on a long line) is stopped at the budget and reported, not left spinning. The budget
counts the child's CPU time after the rules are loaded (training the model is paid once per process,
not per message), so a busy machine does not fail it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUDGET_SECONDS = 10.0  # CPU seconds for parse + understand
WALL_SECONDS = 300.0  # the whole child, rules loading included, on a loaded machine

CASES = {
    # A long scanned-letter text: plain words, 1 MB.
    "text-1mb": '("The records you asked for are attached to this message. " * 30 + "\\n") * 600',
    # A single 100 KB line without spaces: base64 pasted inline, a long token in a URL.
    "one-line-100kb": '"A" * 100_000',
    "address-soup-100kb": '"x.y+z-" * 16_000 + "@example"',
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_big_body_is_understood_within_budget(case: str) -> None:
    script = textwrap.dedent(
        f"""
        from email.message import EmailMessage
        from pathlib import Path
        from agent.mail.parse import parse
        from agent.daemon.ruleset import load_rules
        from agent.pipeline.stage_data import ThreadContext
        from agent.pipeline.understand import understand
        import signal, sys
        rules = load_rules(Path({str(REPO / 'rules')!r}))
        def over_budget(*_):
            sys.exit(3)
        signal.signal(signal.SIGPROF, over_budget)
        signal.setitimer(signal.ITIMER_PROF, {BUDGET_SECONDS})
        msg = EmailMessage()
        msg["From"] = "clerk@city.example"
        msg["To"] = "records@example.org"
        msg["Subject"] = "Records"
        msg.set_content({CASES[case]})
        parsed = parse(msg.as_bytes())
        understand(parsed, ThreadContext(), rules)
        """
    )
    try:
        done = subprocess.run([sys.executable, "-c", script], timeout=WALL_SECONDS, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case}: still running after {WALL_SECONDS:.0f}s of wall time")
    if done.returncode == 3:
        pytest.fail(f"{case}: parse + understand took more than {BUDGET_SECONDS:.0f}s (one message would stall the inbox)")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
