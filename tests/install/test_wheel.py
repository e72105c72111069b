"""The wheel, installed where the source tree is out of reach, upgrades a database and runs the demo.

It catches what an editable install hides: data files (rules/, alembic/) left out of the wheel, or a path
found by walking up from a source file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a build reads; copied so the build writes nothing into the checkout.
SOURCES = ("agent", "rules", "alembic", "pyproject.toml", "README.md")

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 240) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv holding only the wheel; the test venv's libraries reached through a .pth line."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, src / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", root / "dist", src,
         cwd=root)
    wheel = next((root / "dist").glob("records_agent-*.whl"))
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root)
    python = venv / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).strip())
    # A plain path line: the dependencies become importable, but the .pth files there (among them the
    # editable install's finder that maps `agent` to the checkout) are not run.
    (purelib / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel, cwd=root)
    shutil.rmtree(src)
    return venv / "bin"


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "AGENT_CONFIG", "VIRTUAL_ENV"}}
    env["HOME"] = str(home)
    return env


def test_the_agent_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    where = _run(installed / "python", "-c", "import agent; print(agent.__file__)", cwd=tmp_path, env=_clean_env(tmp_path))
    assert Path(where.strip()).is_relative_to(installed.parent), where
    assert not Path(where.strip()).is_relative_to(REPO)


def test_db_upgrade_demo_and_run_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///agent.db"\n'
        '[smtp]\nhost = "127.0.0.1"\nport = 2\nsecurity = "plain"\n'
        '[daemon]\nlog_format = "json"\n',
        encoding="utf-8",
    )
    agent = installed / "agent"
    upgraded = _run(agent, "--config", config, "db", "upgrade", cwd=tmp_path, env=env)
    assert "database at revision" in upgraded and (tmp_path / "agent.db").is_file()
    checked = _run(agent, "--config", config, "config", "check", cwd=tmp_path, env=env)
    assert checked.strip().endswith(": ok")
    _run(agent, "--config", config, "run", "--once", cwd=tmp_path, env=env)
    _run(agent, "rules", "init", tmp_path / "my-rules", cwd=tmp_path, env=env)
    assert (tmp_path / "my-rules" / "statutes" / "CA.toml").is_file()

    demo = _run(agent, "demo", "--workdir", tmp_path / "demo", cwd=tmp_path, env=env)
    last = demo.strip().splitlines()[-1]
    assert last.startswith("demo: requests=") and " replies=0 " not in last, demo


def test_a_configured_rules_folder_overrides_the_bundled_rules(installed: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    agent = installed / "agent"
    _run(agent, "rules", "init", tmp_path / "local-rules", cwd=tmp_path, env=env)
    letter = tmp_path / "local-rules" / "templates" / "letters" / "foia_general.txt.j2"
    letter.write_text(
        letter.read_text(encoding="utf-8").replace("To the FOIA officer of", "Dear records team at", 1),
        encoding="utf-8",
    )
    database = '[database]\nurl = "sqlite:///agent.db"\n'
    bundled = tmp_path / "bundled.toml"
    bundled.write_text(database, encoding="utf-8")
    local = tmp_path / "local.toml"
    local.write_text(database + '[rules]\npath = "local-rules"\n', encoding="utf-8")
    _run(agent, "--config", bundled, "db", "upgrade", cwd=tmp_path, env=env)
    _run(agent, "--config", bundled, "agency", "import", REPO / "examples" / "agencies-federal.csv", cwd=tmp_path, env=env)

    def draft(config: Path) -> str:
        return _run(agent, "--config", config, "request", "new", "--agency", "Federal Bureau of Investigation",
                    "--template", "foia_general", "--var", "topic=t", "--var", "records=r", cwd=tmp_path,
                    env={**env, "COLUMNS": "200"})

    assert "To the FOIA officer of" in draft(bundled)
    edited = draft(local)
    assert "Dear records team at" in edited and "To the FOIA officer of" not in edited
