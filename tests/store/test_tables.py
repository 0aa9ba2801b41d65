from __future__ import annotations

from onward.model import eventlog
from onward.store.tables import EVENT_LOG_MODELS, Base


def test_every_event_log_table_has_a_model_in_contract_order() -> None:
    assert list(EVENT_LOG_MODELS) == [t.name for t in eventlog.EVENT_LOG]


def test_columns_match_the_contract_in_name_order_and_nullability() -> None:
    for name, spec in eventlog.TABLES.items():
        table = Base.metadata.tables[name]
        assert tuple(c.name for c in table.columns) == spec.column_names, name
        for column in spec.columns:
            assert table.c[column.name].nullable == column.nullable, f"{name}.{column.name}"
        assert [c.name for c in table.primary_key.columns] == [spec.key]


def test_references_of_the_contract_are_foreign_keys() -> None:
    for name, spec in eventlog.TABLES.items():
        table = Base.metadata.tables[name]
        for column in spec.columns:
            targets = {f"{fk.column.table.name}.{fk.column.name}" for fk in table.c[column.name].foreign_keys}
            assert targets == ({column.references} if column.references else set()), f"{name}.{column.name}"


def test_security_tables_exist_with_their_keys() -> None:
    tables = Base.metadata.tables
    assert [c.name for c in tables["users"].primary_key.columns] == ["user_id"]
    assert tables["users"].c.username.unique
    assert [c.name for c in tables["user_programs"].primary_key.columns] == ["user_id", "program_id"]
    assert {
        "entry_id",
        "at",
        "user_id",
        "action",
        "entity",
        "entity_id",
        "detail",
        "prev_hash",
        "hash",
        "role",
        "person_id",
        "outcome",
        "request_id",
        "scheme",
    } == set(tables["audit_log"].c.keys())
    for name in (
        "login_sessions",
        "login_failures",
        "invitations",
        "care_team_members",
        "break_glass_grants",
        "access_grants",
        "consents",
        "disclosures",
        "audit_seal",
    ):
        assert name in tables, name
    assert {"import_id", "started_at", "finished_at", "source", "tables", "content_hash", "synthetic"} == set(
        tables["imports"].c.keys()
    )
