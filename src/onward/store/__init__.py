"""SQLAlchemy tables, engine factory and Alembic migrations (SQLite default, PostgreSQL)."""
