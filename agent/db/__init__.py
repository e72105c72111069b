"""Storage: SQLAlchemy models, engine and session setup, migrations."""
