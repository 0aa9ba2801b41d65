from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from onward.store.engine import create_db_engine
from onward.store.migrate import current_revision, head_revision, upgrade_database
from onward.store.tables import Base
from onward.store.tables_voice import SEARCH_OBJECTS


def test_upgrade_creates_the_schema_matching_the_orm(database_url: str) -> None:
    assert current_revision(database_url) is None
    assert upgrade_database(database_url) == head_revision()
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert [d for d in compare_metadata(context, Base.metadata) if not _search_object(d)] == []
            assert set(inspect(connection).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def _search_object(diff: object) -> bool:
    """Full-text search objects the migration makes outside the ORM (onward.store.tables_voice)."""
    return any(name in repr(diff) for name in SEARCH_OBJECTS)


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    first = upgrade_database(database_url)
    assert upgrade_database(database_url) == first == current_revision(database_url)


def test_downgrade_to_base_removes_every_table(sqlite_url: str) -> None:
    from alembic import command

    from onward.store.migrate import alembic_config

    upgrade_database(sqlite_url)
    command.downgrade(alembic_config(sqlite_url), "base")
    engine = create_db_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_urls_are_a_configuration_error(url: str) -> None:
    from onward.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        create_db_engine(url)


def test_check_constraints_of_the_migration_are_those_of_the_orm(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            stored = {
                t: {c["name"] for c in inspector.get_check_constraints(t)} for t in Base.metadata.tables
            }
    finally:
        engine.dispose()
    declared = {
        name: {str(c.name) for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
        for name, table in Base.metadata.tables.items()
    }
    assert stored == declared
    assert declared["users"] == {"ck_users_role"}
