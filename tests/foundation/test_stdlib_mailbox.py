"""The repo's mailbox/ folder must never shadow the standard library's mailbox module."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def _mailbox_origin(cwd: Path, code: str = "import mailbox; print(mailbox.__file__)") -> Path:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True)
    return Path(result.stdout.strip()).resolve()


def test_mailbox_is_stdlib_from_repo_root() -> None:
    assert (REPO / "mailbox").is_dir()
    assert not (REPO / "mailbox" / "__init__.py").exists()
    assert _mailbox_origin(REPO).parent == STDLIB


def test_mailbox_is_stdlib_after_importing_the_installed_package(tmp_path: Path) -> None:
    origin = _mailbox_origin(tmp_path, "import agent.mail.archive, mailbox; print(mailbox.__file__)")
    assert origin.parent == STDLIB


def test_rules_and_alembic_are_not_packages() -> None:
    for folder in ("rules", "alembic", "mailbox"):
        assert not (REPO / folder / "__init__.py").exists(), folder
    assert not (REPO / "tests" / "__init__.py").exists()
