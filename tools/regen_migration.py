"""Regenerate alembic/versions/0001_initial.py from the models (only while nothing has shipped).

Usage: python tools/regen_migration.py
Once a release exists, add new revisions with `alembic revision --autogenerate` instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from agent.db.migrate import alembic_config

ALEMBIC_DIR = Path(__file__).resolve().parents[1] / "alembic"  # the checkout's, not an installed copy

TARGET = ALEMBIC_DIR / "versions" / "0001_initial.py"


def main() -> None:
    later = sorted(p.name for p in (ALEMBIC_DIR / "versions").glob("*.py") if p != TARGET)
    if later:
        # Databases exist at later revisions: rewriting 0001 would leave them out of step with the models.
        raise SystemExit(f"revisions after 0001 exist ({', '.join(later)}): add a new one with "
                         "`alembic revision --autogenerate` instead of regenerating 0001")
    TARGET.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    produced = next((ALEMBIC_DIR / "versions").glob("0001_*.py"))
    if produced != TARGET:
        produced.rename(TARGET)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
