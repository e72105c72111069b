"""The shipped deployment files agree: the example /etc config writes only inside the unit's state folder."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agent.config import load_settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
STATE = Path("/var/lib/records-agent")


def _directives(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_example_config_paths_are_absolute_and_in_the_state_folder() -> None:
    settings = load_settings(DEPLOY / "config.example.toml")
    written = [
        settings.archive.path,
        settings.attachments.path,
        settings.inbox.maildir,
        settings.daemon.status_file,
        Path(settings.database.url.removeprefix("sqlite:///")),
    ]
    for path in written:
        assert path.is_absolute() and path.is_relative_to(STATE), path
    # Relative paths resolve next to the config: the raw file must not rely on that.
    raw = (DEPLOY / "config.example.toml").read_text(encoding="utf-8")
    for value in re.findall(r'^(?:path|maildir|status_file)\s*=\s*"([^"]*)"', raw, re.MULTILINE):
        assert value.startswith(str(STATE)), value
    assert settings.rules.path is None  # the bundled rules


def test_unit_writes_only_its_state_directory() -> None:
    unit = _directives((DEPLOY / "records-agent.service").read_text(encoding="utf-8"))
    assert unit["StateDirectory"] == [STATE.name] and unit["WorkingDirectory"] == [str(STATE)]
    assert unit["ProtectSystem"] == ["strict"] and "ReadWritePaths" not in unit
    assert unit["Environment"][0] == "AGENT_CONFIG=/etc/records-agent/config.toml"
    assert unit["User"] != ["root"] and unit["CapabilityBoundingSet"] == [""]
    assert unit["SystemCallFilter"][0] == "@system-service"


def test_dockerfile_runs_unprivileged_with_state_in_a_volume() -> None:
    docker = (REPO / "Dockerfile").read_text(encoding="utf-8")
    user = re.findall(r"^USER\s+(\S+)", docker, re.MULTILINE)
    assert user and user[-1] not in {"root", "0"}
    assert f'VOLUME ["{STATE}"]' in docker
    assert "AGENT_CONFIG=/etc/records-agent/config.toml" in docker
    assert "COPY deploy/config.example.toml /etc/records-agent/config.toml" in docker


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_sandbox_scores_well() -> None:
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(DEPLOY / "records-agent.service")],
        capture_output=True, text=True, timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", proc.stdout + proc.stderr)
    if match is None:
        pytest.skip(f"this systemd-analyze cannot score a unit file offline: {proc.stderr.strip()[:200]}")
    assert float(match.group(1)) <= 2.0, proc.stdout
