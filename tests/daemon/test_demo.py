"""`agent demo` end to end: the exact last line, a digest on disk, and a workspace the other commands can open."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

LAST = re.compile(
    r"^demo: requests=(\d+) replies=(\d+) classified=(\d+) folded=(\d+) followups=(\d+) digest=(\S+) config=(\S+)$"
)


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    found = LAST.match(last)
    assert found, last
    requests, replies, classified, folded, followups = (int(found.group(i)) for i in range(1, 6))
    digest, config = Path(found.group(6)), Path(found.group(7))
    assert requests == 7
    assert replies >= 9 and classified == replies
    assert folded >= 2  # the portal repeats its earlier notices and footer
    assert followups >= 1  # the silent agency was reminded
    assert digest.is_absolute() and digest.is_file() and digest.stat().st_size > 0
    assert config.is_absolute() and config == workdir / "config.toml"
    assert f"agent --config {config} thread RA-" in proc.stdout
    # The workspace is usable afterwards by the ordinary commands.
    status = subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(config), "status"], capture_output=True, text=True, timeout=60
    )
    # The demo ran on a simulated clock, so its last poll is not recent: `status` reports, and may call it stale.
    assert status.returncode in (0, 1) and status.stdout and "Traceback" not in status.stderr, status.stderr


def test_demo_refuses_a_non_empty_workdir(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "demo", "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "not empty" in proc.stderr
