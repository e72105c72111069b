"""Signals against a real daemon process: TERM mid-job finishes the job and exits 0; USR1 polls now."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.db import migrate
from agent.db.session import make_engine

HERE = Path(__file__).resolve().parent


def _wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _marks(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.fixture
def daemon(tmp_path: Path, config_writer):
    procs: list[subprocess.Popen] = []
    url = f"sqlite:///{tmp_path / 'agent.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()

    def start(poll_seconds: float, *, interval: int = 3600) -> tuple[subprocess.Popen, Path, Path]:
        config = config_writer(tmp_path / "cfg", url, extra=f"[schedule]\npoll_seconds = {interval}\n")
        marks = tmp_path / "marks.txt"
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "slow_daemon.py"), str(config), str(marks), str(poll_seconds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc, marks, tmp_path / "cfg" / "status.json"

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_mid_job_finishes_the_job_and_exits_zero(daemon) -> None:
    proc, marks, status_file = daemon(poll_seconds=2.0)
    assert _wait_for(lambda: "start" in _marks(marks)), proc.stderr and proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    words = _marks(marks)
    assert words.count("start") == 1 and words.count("end") == 1, words
    end_time = float(words[words.index("end") + 1])
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    messages = [entry["msg"] for entry in logs]
    assert "stopping: finishing the work in hand" in messages
    assert messages[-1] == "daemon stopped"
    stopping = next(e for e in logs if e["msg"].startswith("stopping"))
    assert stopping["signal"] == "SIGTERM" and "poll" in stopping["busy"]
    assert json.loads(status_file.read_text())["daemon"]["state"] == "stopped"
    assert end_time > 0


def test_sigint_when_idle_exits_zero_at_once(daemon) -> None:
    proc, marks, _ = daemon(poll_seconds=0.0)
    assert _wait_for(lambda: "end" in _marks(marks))
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert time.monotonic() - started < 5


def test_sigusr1_polls_now(daemon) -> None:
    proc, marks, status_file = daemon(poll_seconds=0.0, interval=3600)
    assert _wait_for(lambda: _marks(marks).count("end") == 1)
    time.sleep(0.3)
    assert _marks(marks).count("start") == 1  # the next scheduled poll is an hour away
    proc.send_signal(signal.SIGUSR1)
    assert _wait_for(lambda: _marks(marks).count("end") == 2, 10)
    proc.send_signal(signal.SIGUSR1)
    assert _wait_for(lambda: _marks(marks).count("end") == 3, 10)
    assert _wait_for(lambda: json.loads(status_file.read_text()).get("poll", {}).get("ok") is True)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
