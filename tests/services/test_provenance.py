from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.interop.test_extracts import write_extract

from onward.interop.extracts import import_extract
from onward.interop.files import SYNTH_MANIFEST, SYNTHETIC_MARKER, is_synthetic_extract
from onward.model.roles import Role
from onward.services.provenance import database_holds_synthetic_data, holds_synthetic_data
from onward.services.users import create_user, demo_username
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database


def test_an_extract_says_it_is_synthetic_by_manifest_or_marker(tmp_path: Path) -> None:
    assert not is_synthetic_extract(tmp_path)
    (tmp_path / SYNTH_MANIFEST).write_text(json.dumps({"synthetic": False}), encoding="utf-8")
    assert not is_synthetic_extract(tmp_path)
    (tmp_path / SYNTH_MANIFEST).write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    assert is_synthetic_extract(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / SYNTHETIC_MARKER).touch()
    assert is_synthetic_extract(other)


def test_a_real_import_is_not_labelled_synthetic(database_url: str, tmp_path: Path) -> None:
    import_extract(write_extract(tmp_path / "real", "csv"), database_url, progress=False)
    assert not database_holds_synthetic_data(database_url)


def test_a_synthetic_import_labels_the_database(database_url: str, tmp_path: Path) -> None:
    folder = write_extract(tmp_path / "synth", "parquet")
    (folder / SYNTH_MANIFEST).write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    import_extract(folder, database_url, progress=False)
    assert database_holds_synthetic_data(database_url)


def test_demo_accounts_label_the_database(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    try:
        with session_factory(engine)() as session:
            assert not holds_synthetic_data(session)
            create_user(
                session=session,
                username=demo_username(Role.ADMIN),
                role=Role.ADMIN,
                password="a long enough demo password",
                display_name="Demo admin",
                now=datetime.now(UTC),
            )
            assert holds_synthetic_data(session)
    finally:
        engine.dispose()


def test_a_database_without_onward_tables_says_nothing(tmp_path: Path) -> None:
    assert not database_holds_synthetic_data(f"sqlite:///{(tmp_path / 'bare.sqlite').as_posix()}")
