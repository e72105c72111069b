"""Migrations and models agree, and the schema goes up and down, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from agent.db import migrate
from agent.db.models import Base
from agent.db.session import make_engine


def test_upgrade_head_matches_models_and_downgrade_works(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) is not None
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    migrate.downgrade(engine, "base")
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    migrate.upgrade(engine)  # and back up again from base
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
