"""Where the data that ships with the agent lives: rules/ and the Alembic migrations, inside the package.

In a checkout, agent/bundled/ holds links to the repository's rules/ and alembic/; a wheel carries copies
of them as package data. Either way they are found through importlib.resources, never by walking up from
a source file, so an installed agent works from any directory.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

BUNDLE = "bundled"


class ResourceError(Exception):
    """Bundled data is missing (a broken install) or cannot be copied."""


def _bundled(name: str) -> Path:
    root = resources.files("agent") / BUNDLE / name
    # A wheel installs as plain files; a zipped install would need extracting, which the agent never does.
    if not isinstance(root, Path) or not root.is_dir():
        raise ResourceError(f"the installed agent lacks its bundled {name}/ ({root}); reinstall the package")
    return root


def bundled_rules() -> Path:
    """The rules that ship with the agent (classification, statutes, templates, follow-up policy)."""
    return _bundled("rules")


def migrations_dir() -> Path:
    """The Alembic script folder (env.py and versions/)."""
    return _bundled("alembic")


def copy_rules(target: Path) -> Path:
    """Copy the bundled rules into `target` for local editing; refuses to overwrite an existing folder."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise ResourceError(f"{target} already exists and is not empty; choose a new folder")
    try:
        shutil.copytree(bundled_rules(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    except OSError as exc:
        raise ResourceError(f"cannot copy the rules to {target}: {exc.strerror or exc}") from None
    return target
