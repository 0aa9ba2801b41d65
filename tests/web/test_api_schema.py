"""Schemathesis against the app's own OpenAPI document, signed in as each role and as nobody.

Every operation the document lists gets a bounded number of generated requests per role (examples,
valid and invalid bodies, queries and headers, methods the path does not have); no answer may be a
5xx, every answer must match its documented schema, and every status code must be documented. The
operations are read from the document when the tests are collected, so an endpoint added later is
tested without touching this file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.exceptions import StarletteDeprecationWarning

from onward.model.roles import Role
from onward.security import passwords
from onward.security.access import operator
from onward.services.accounts import accept_invitation, invite_person
from onward.services.users import create_user
from onward.settings import PLACEHOLDER_SECRET, Settings
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import Episode, Person, Program
from onward.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

MAX_EXAMPLES = int(os.environ.get("ONWARD_SCHEMATHESIS_EXAMPLES", "10"))
"""Generated requests per operation, role and phase (raise it locally: ONWARD_SCHEMATHESIS_EXAMPLES=200)."""

PASSWORD = "a long test password 1"
ROLES = [*(role.value for role in Role), "anonymous"]
ACCOUNT = {
    "clinician": {"program_ids": ["p1"]},
    "manager": {"program_ids": ["p2"]},
}

# The schema is read from the app when the module is collected; the database behind it is filled by
# the module fixture below before the first request.
_FOLDER = Path(tempfile.mkdtemp(prefix="onward-schemathesis-"))
_URL = f"sqlite:///{(_FOLDER / 'api.sqlite').as_posix()}"
APP = create_app(Settings(database_url=_URL, environment="development"))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


LENIENT: list[schemathesis.CheckFunction] = [positive_data_acceptance]
"""Not required here: a schema-valid request may still be refused with a documented 4xx. The period
parameters of /api/v1/metrics are documented as free text but must be ISO dates (reported to their owner)."""


def _username(role: str) -> str:
    return f"st-{role.replace('_', '-')}"


@pytest.fixture(scope="module")
def cookies() -> Iterator[dict[str, dict[str, str]]]:
    """A small county, one account per role, and each account's session cookies after signing in."""
    with pytest.MonkeyPatch.context() as patch:  # cheap Argon2 parameters, as in tests/web/conftest.py
        patch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        upgrade_database(_URL)
        engine = create_db_engine(_URL)
        with session_factory(engine)() as session:
            session.add_all(
                [
                    Program(
                        program_id="p1",
                        name="Riverside",
                        kind="outpatient",
                        level_of_care=1,
                        capacity_slots=5,
                    ),
                    Program(
                        program_id="p2", name="Harbor", kind="residential", level_of_care=4, capacity_slots=9
                    ),
                    Person(person_id="ana", birth_year=1985, sex="female", postcode_prefix="981"),
                ]
            )
            session.flush()
            session.add(
                Episode(
                    episode_id="e1",
                    person_id="ana",
                    program_id="p1",
                    start_date=date(2024, 1, 10),
                    is_sud=False,
                )
            )
            session.commit()
            for role in ROLES[:-1]:
                if role == "person":  # a person's account comes only from an invitation they accept
                    link = invite_person(
                        session=session,
                        actor=operator("test"),
                        secret_key=PLACEHOLDER_SECRET,
                        person_id="ana",
                        now=datetime.now(UTC),
                    )
                    accept_invitation(
                        session=session,
                        secret_key=PLACEHOLDER_SECRET,
                        token=link.token,
                        username=_username(role),
                        password=PASSWORD,
                        now=datetime.now(UTC),
                    )
                    continue
                create_user(
                    session=session,
                    username=_username(role),
                    role=role,
                    password=PASSWORD,
                    display_name=role,
                    **ACCOUNT.get(role, {}),  # type: ignore[arg-type]
                )
        engine.dispose()
        jars: dict[str, dict[str, str]] = {"anonymous": {}}
        for role in ROLES[:-1]:
            with TestClient(APP) as client:
                response = client.post(
                    "/api/v1/session", json={"username": _username(role), "password": PASSWORD}
                )
                assert response.status_code == 200, response.text
                jars[role] = dict(client.cookies)
        yield jars
    shutil.rmtree(_FOLDER, ignore_errors=True)


@schema.parametrize()
@pytest.mark.parametrize("role", ROLES)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_answers_as_documented(
    case: schemathesis.Case[Any], role: str, cookies: dict[str, dict[str, str]]
) -> None:
    # A metrics answer for a new period computes the suite (seconds on a busy machine): no 10 s cut-off.
    case.call_and_validate(cookies=cookies[role], timeout=120, excluded_checks=LENIENT)
