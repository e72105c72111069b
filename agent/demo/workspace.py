"""The demo's workspace: a folder with its own config, SQLite database, Maildir inbox, archive and a copy of the rules."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agent.resources import bundled_rules

DEMO_ADDRESS = "records@demo-desk.example"
OPERATOR = "operator@demo-desk.example"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def log(self) -> Path:
        return self.root / "daemon.log"

    @property
    def outgoing(self) -> Path:
        """Copies of what the agencies' mail servers received from us, for reading."""
        return self.root / "delivered"


def create_workspace(workdir: Path | None, smtp_port: int) -> Workspace:
    """Make (or reuse, when empty) the folder and write a config that points only inside it."""
    if workdir is None:
        root = Path(tempfile.mkdtemp(prefix="records-agent-demo-"))
    else:
        root = Path(workdir).expanduser().resolve()
        if root.exists() and any(root.iterdir()):
            raise FileExistsError(f"{root} is not empty; give a new or empty folder to --workdir")
        root.mkdir(parents=True, exist_ok=True)
    ws = Workspace(root)
    # A copy of the rules, so the user can edit them and rerun `agent reprocess` without touching the repository.
    shutil.copytree(bundled_rules(), root / "rules", ignore=shutil.ignore_patterns("__pycache__"))
    ws.outgoing.mkdir()
    ws.config.write_text(_CONFIG.format(port=smtp_port, address=DEMO_ADDRESS, operator=OPERATOR), encoding="utf-8")
    return ws


_CONFIG = """\
# Written by `agent demo`: everything lives in this folder. Try: agent --config {{this file}} requests
[database]
url = "sqlite:///agent.db"

[archive]
path = "mailbox"

[attachments]
path = "attachments"

[inbox]
backend = "maildir"              # the simulated agencies deliver their replies here
maildir = "inbox"

[smtp]
host = "127.0.0.1"               # the demo's in-process SMTP server (gone when the demo ends)
port = {port}
security = "plain"
max_attempts = 3

[identity]
name = "Demo Records Desk"
address = "{address}"
plus_addressing = true
reference_prefix = "RA"
operators = ["{operator}"]
signature = "Demo Records Desk"

[schedule]
timezone = "America/Los_Angeles"

[daemon]
status_file = "status.json"
log_format = "json"

[rules]
path = "rules"
"""
