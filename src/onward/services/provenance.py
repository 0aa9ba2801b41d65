"""Where a database's data came from: synthetic data must be labelled as such wherever it is shown."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from onward.services.users import DEMO_USERNAME_PREFIX
from onward.store.engine import create_db_engine
from onward.store.tables import ImportRecord, User


def holds_synthetic_data(db: Session | Connection) -> bool:
    """True when any import came from a synthetic extract (`onward synth`'s manifest) or the demo
    accounts of `onward demo` exist."""
    synthetic_import = select(ImportRecord.import_id).where(ImportRecord.synthetic).limit(1)
    demo_account = select(User.user_id).where(User.username.startswith(DEMO_USERNAME_PREFIX)).limit(1)
    return db.execute(synthetic_import).first() is not None or db.execute(demo_account).first() is not None


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
