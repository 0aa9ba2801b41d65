"""The writer gate: writers queue at a lock file and the next one goes as soon as the gate is free."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from onward.store.engine import begin_write, create_db_engine, session_factory
from onward.store.write_gate import gate_path, write_gate


def _factory(tmp_path: Path) -> tuple[Engine, sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    return engine, session_factory(engine)


def test_the_next_writer_goes_as_soon_as_the_gate_is_free(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    held = threading.Event()
    released_at: list[float] = []
    entered_at: list[float] = []

    def first() -> None:
        with factory() as session, write_gate(session) as taken:
            assert taken
            begin_write(session)
            session.execute(text("INSERT INTO t VALUES (1)"))
            held.set()
            time.sleep(0.3)
            session.commit()
            released_at.append(time.monotonic())

    def second() -> None:
        held.wait(5)
        with factory() as session, write_gate(session) as taken:
            entered_at.append(time.monotonic())
            assert taken
            begin_write(session)
            session.execute(text("INSERT INTO t VALUES (2)"))
            session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # The second writer waited for the first and started within a few milliseconds of its release
    # (SQLite's busy handler alone sleeps up to 100 ms between tries).
    assert entered_at[0] >= released_at[0] - 0.001
    assert entered_at[0] - released_at[0] < 0.05
    with factory() as session:
        assert sorted(session.scalars(text("SELECT x FROM t"))) == [1, 2]
    engine.dispose()


def test_a_writer_that_cannot_get_the_gate_in_time_goes_on_without_it(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    with factory() as holder, write_gate(holder) as taken:
        assert taken
        with factory() as other, write_gate(other, timeout=0.05) as other_taken:
            assert not other_taken
            begin_write(other)  # SQLite itself still decides: nothing else holds its write lock
            other.execute(text("INSERT INTO t VALUES (3)"))
            other.commit()
    with factory() as session:
        assert list(session.scalars(text("SELECT x FROM t"))) == [3]
    engine.dispose()


def test_only_sqlite_files_have_a_gate(tmp_path: Path) -> None:
    memory = create_db_engine("sqlite://")
    with Session(memory) as session:
        assert gate_path(session) is None
        with write_gate(session) as taken:
            assert not taken
    file_engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with Session(file_engine) as session:
        assert gate_path(session) == tmp_path / "x.db-writer.lock"
    memory.dispose()
    file_engine.dispose()
