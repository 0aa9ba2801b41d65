"""CLI commands for 42 CFR Part 2 consents: record, list, revoke."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.cli._db import command_line_operator, open_database
from onward.errors import ValidationError
from onward.model.consent import Purpose

consent_app = typer.Typer(
    name="consent",
    help="42 CFR Part 2 consents: a person's written permission to disclose their substance-use records.",
    no_args_is_help=True,
)
app.add_typer(consent_app)

_PURPOSES = ", ".join(p.value for p in Purpose)


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"--{name} {value!r} is not a date", column=name, expected="YYYY-MM-DD"
        ) from None


@consent_app.command("add")
def consent_add(
    person_id: Annotated[str, typer.Argument(help="The patient's person id.", show_default=False)],
    recipient: Annotated[str, typer.Option("--to", help="Who may receive the records (name).")],
    purpose: Annotated[str, typer.Option(help=f"Why: {_PURPOSES}.")],
    information: Annotated[str, typer.Option(help="What may be disclosed, specifically.")],
    discloser: Annotated[str, typer.Option(help="Who may disclose (program or organisation).")],
    signed_by: Annotated[str, typer.Option(help="Who signed: the patient, or their legal representative.")],
    signed_on: Annotated[str, typer.Option(help="Date signed (YYYY-MM-DD).")],
    expires_on: Annotated[str | None, typer.Option(help="Expiry date (YYYY-MM-DD).")] = None,
    expiry_event: Annotated[str | None, typer.Option(help="Or: the event that ends it.")] = None,
    db: DbOption = None,
) -> None:
    """Record a written Part 2 consent with the elements of 42 CFR §2.31(a).

    \b
    Example:
      onward consent add person-000123 --to "Riverside Primary Care" --purpose treatment \\
        --information "SUD diagnoses, medications and attendance" --discloser "North MOUD clinic" \\
        --signed-by "the patient" --signed-on 2026-11-30 --expires-on 2027-11-30
    """
    from onward.services.consents import ConsentForm, record_consent

    signed = _day(signed_on, "signed-on")
    assert signed is not None
    form = ConsentForm(
        discloser=discloser,
        information=information,
        recipient=recipient,
        purpose=purpose,
        signed_by=signed_by,
        signed_on=signed,
        expires_on=_day(expires_on, "expires-on"),
        expiry_event=expiry_event,
    )
    with open_database(db) as database, database.factory() as session:
        consent = record_consent(
            session=session,
            actor=command_line_operator(),
            person_id=person_id,
            form=form,
            now=datetime.now(UTC),
        )
    Console(soft_wrap=True).print(f"recorded consent {consent.consent_id}", highlight=False)


@consent_app.command("list")
def consent_list(
    person_id: Annotated[str, typer.Argument(help="The patient's person id.", show_default=False)],
    db: DbOption = None,
) -> None:
    """List a person's consents, newest first, with their status.

    \b
    Example:
      onward consent list person-000123
    """
    from onward.services.consents import consents_of

    with open_database(db) as database, database.factory() as session:
        rows = consents_of(
            session=session, actor=command_line_operator(), person_id=person_id, now=datetime.now(UTC)
        )
    table = Table("consent", "to", "purpose", "signed", "until", "status")
    for c in rows:
        table.add_row(
            c.consent_id,
            c.recipient,
            c.purpose,
            str(c.signed_on),
            str(c.expires_on) if c.expires_on else (c.expiry_event or ""),
            "revoked" if c.revoked_at else "recorded",
        )
    Console().print(table)


@consent_app.command("revoke")
def consent_revoke(
    consent_id: Annotated[str, typer.Argument(help="The consent's id.", show_default=False)],
    note: Annotated[
        str, typer.Option(help="How the revocation was given (e.g. 'verbally, 2026-12-01').")
    ] = "",
    db: DbOption = None,
) -> None:
    """Revoke a consent; it takes effect at once (an export running now fails and writes nothing).

    \b
    Example:
      onward consent revoke 5d1c... --note "patient asked by phone"
    """
    from onward.services.consents import revoke_consent

    with open_database(db) as database, database.factory() as session:
        revoke_consent(
            session=session,
            actor=command_line_operator(),
            consent_id=consent_id,
            note=note,
            now=datetime.now(UTC),
        )
    Console(soft_wrap=True).print("consent revoked", highlight=False)
