"""Signals against a real daemon process: TERM mid-job finishes the job and exits 0; USR1 polls now."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.db import migrate
from agent.db.session import make_engine

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


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


BROKEN_RULE = """

[[rule]]
id = "broken.unclosed_group"
label = "fee"
weight = 1.0
patterns = ["(unclosed"]
"""


def test_sighup_with_a_broken_rule_keeps_the_old_set(tmp_path: Path, config_writer) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    url = f"sqlite:///{tmp_path / 'agent.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    config = config_writer(tmp_path / "cfg", url, rules=rules)
    marks = tmp_path / "marks.txt"
    status_file = tmp_path / "cfg" / "status.json"
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "slow_daemon.py"), str(config), str(marks), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: "end" in _marks(marks))

        def daemon_state() -> dict:
            return json.loads(status_file.read_text()).get("daemon", {})

        assert daemon_state()["rules_generation"] == 1
        classify = rules / "classify.toml"
        good = classify.read_text()
        classify.write_text(good + BROKEN_RULE)
        proc.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: "last_reload" in daemon_state())
        state = daemon_state()
        assert state["last_reload"]["ok"] is False and state["rules_generation"] == 1
        assert "classify.toml" in state["last_reload"]["message"]
        # Still running and still polling with the old set.
        proc.send_signal(signal.SIGUSR1)
        assert _wait_for(lambda: _marks(marks).count("end") == 2)
        classify.write_text(good)
        proc.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: daemon_state().get("rules_generation") == 2)
        assert daemon_state()["last_reload"]["ok"] is True
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert "rules not reloaded, keeping the previous set" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_refuses_to_start_with_broken_rules(tmp_path: Path, config_writer) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    (rules / "classify.toml").write_text((rules / "classify.toml").read_text() + BROKEN_RULE)
    config = config_writer(tmp_path / "cfg", f"sqlite:///{tmp_path / 'agent.db'}", rules=rules)
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(config), "run", "--once"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "classify.toml" in proc.stderr and "cannot start" in proc.stderr


def test_run_once_does_one_pass_and_writes_status(tmp_path: Path, config_writer) -> None:
    config = config_writer(tmp_path / "cfg", f"sqlite:///{tmp_path / 'agent.db'}")
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(config), "run", "--once"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "cfg" / "status.json").read_text())
    assert data["daemon"]["state"] == "stopped"
    assert data["poll"]["ok"] is True and data["send"]["ok"] is True and data["scan"]["ok"] is True
