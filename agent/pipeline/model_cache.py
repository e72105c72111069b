"""A private on-disk copy of the fitted model, so each process does not refit the same examples.

Fitting costs seconds of CPU (the rule hits of every example, then the regression) and every command,
the daemon and its reading worker would pay it again. The copy is derived data, never committed: its
name is a hash of the examples, the rules and this code, and it is read only from a directory that
belongs to this user and that nobody else can write to (a pickle runs code when loaded). Any problem
with it means one thing: fit again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

ENV_DIR = "RECORDS_AGENT_CACHE_DIR"  # "off" disables the cache
KEEP = 4  # copies kept: older rules and examples are rarely loaded again
_CODE_FILES = ("model.py", "classify.py", "acts.py", "model_cache.py")


def cache_dir() -> Path | None:
    """$RECORDS_AGENT_CACHE_DIR, systemd's $CACHE_DIRECTORY, $XDG_CACHE_HOME or ~/.cache; None when off."""
    given = os.environ.get(ENV_DIR)
    if given is not None:
        return None if given.strip().lower() in ("", "off") else Path(given)
    systemd = os.environ.get("CACHE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0]) / "models"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "records-agent" / "models"


def code_version() -> str:
    """What the fitted model depends on besides its data: this code and the scikit-learn release."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _CODE_FILES:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    try:
        from importlib.metadata import version

        digest.update(version("scikit-learn").encode())
    except Exception:  # noqa: BLE001 - no version known: the hash still changes with the code
        pass
    return digest.hexdigest()[:16]


def _private(directory: Path) -> bool:
    """Ours, and not writable by group or others: nobody else can plant a file we would unpickle."""
    try:
        info = directory.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(key: str) -> object | None:
    """The model stored under `key`, or None (missing, unreadable, not private, or from other code)."""
    directory = cache_dir()
    if directory is None or not _private(directory):
        return None
    path = directory / f"{key}.pickle"
    try:
        if path.stat().st_uid != os.getuid():
            return None
        with path.open("rb") as handle:
            loaded: object = pickle.load(handle)  # noqa: S301 - our own file in a private directory, named by its content
            return loaded
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged copy is refitted, never fatal
        log.warning("ignoring the cached model %s: %s", path.name, exc)
        return None


def store(key: str, model: object) -> None:
    """Keep a copy for the next process; a failure to write only costs the next process a fit."""
    directory = cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(directory):
            return
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".model-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, directory / f"{key}.pickle")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(directory)
    except Exception as exc:  # noqa: BLE001
        log.debug("could not keep the fitted model in %s: %s", directory, exc)


def _prune(directory: Path) -> None:
    """Drop all but the newest KEEP copies: each is a few MB, and rules change over a deployment's life."""
    copies = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in copies[KEEP:]:
        old.unlink(missing_ok=True)
