"""Where a database's data came from: synthetic data must be labelled as such wherever it is shown."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, exists, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from onward.services.users import DEMO_USERNAME_PREFIX
from onward.store.engine import create_db_engine
from onward.store.tables import ImportRecord, User


def synthetic_data_clause() -> ColumnElement[bool]:
    """True when any import came from a synthetic extract (`onward synth`'s manifest) or the demo
    accounts of `onward demo` exist: one expression, to fold into a statement that reads more."""
    return or_(
        exists().where(ImportRecord.synthetic),
        exists().where(User.username.startswith(DEMO_USERNAME_PREFIX)),
    )


def holds_synthetic_data(db: Session | Connection) -> bool:
    """`synthetic_data_clause` on its own."""
    return bool(db.execute(select(synthetic_data_clause())).scalar())


def database_holds_synthetic_data(url: str) -> bool:
    """`holds_synthetic_data` for a database URL; a database without Onward's tables says nothing."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return holds_synthetic_data(connection)
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
