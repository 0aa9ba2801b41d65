"""Part 2 consent and exports: substance-use records leave only under a consent that covers the
recipient and purpose; the notice goes with them; every disclosure is logged; revocation is at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConflictError, ValidationError
from onward.interop.extracts import export_extract
from onward.model.consent import REDISCLOSURE_NOTICE, ConsentTerms, covers
from onward.security.access import operator
from onward.security.audit import verify_audit_chain
from onward.services import disclosure
from onward.services.audit_log import accounting_for
from onward.services.consents import ConsentForm, record_consent, revoke_consent
from onward.services.disclosure import export_records
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import AuditEntry, Episode, Measurement, Person, Program, Referral, Service
from onward.store.tables_security import Disclosure

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OP = operator("cli:test")


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Two people with substance-use episodes (sam, sue) and one without (ann)."""
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    made = session_factory(engine)
    with made() as s:
        s.add_all(
            [
                Program(
                    program_id="moud",
                    name="MOUD",
                    kind="medication_for_oud",
                    level_of_care=1,
                    capacity_slots=9,
                ),
                Program(
                    program_id="op", name="Outpatient", kind="outpatient", level_of_care=1, capacity_slots=9
                ),
                *(
                    Person(person_id=p, birth_year=1980, sex="unknown", postcode_prefix="1")
                    for p in ("sam", "sue", "ann")
                ),
            ]
        )
        s.flush()
        s.add_all(
            [
                Referral(
                    referral_id="r-sam",
                    person_id="sam",
                    program_id="moud",
                    referral_date=date(2026, 1, 1),
                    source="self",
                    priority="routine",
                ),
                Referral(
                    referral_id="r-ann",
                    person_id="ann",
                    program_id="op",
                    referral_date=date(2026, 1, 1),
                    source="self",
                    priority="routine",
                ),
            ]
        )
        s.flush()
        s.add_all(
            [
                Episode(
                    episode_id="e-sam",
                    person_id="sam",
                    program_id="moud",
                    referral_id="r-sam",
                    start_date=date(2026, 1, 5),
                    is_sud=True,
                ),
                Episode(
                    episode_id="e-sam-mh",
                    person_id="sam",
                    program_id="op",
                    start_date=date(2026, 2, 5),
                    is_sud=False,
                ),
                Episode(
                    episode_id="e-sue",
                    person_id="sue",
                    program_id="moud",
                    start_date=date(2026, 1, 9),
                    is_sud=True,
                ),
                Episode(
                    episode_id="e-ann",
                    person_id="ann",
                    program_id="op",
                    referral_id="r-ann",
                    start_date=date(2026, 1, 7),
                    is_sud=False,
                ),
            ]
        )
        s.flush()
        s.add_all(
            [
                Service(
                    service_id="s1",
                    person_id="sam",
                    episode_id="e-sam",
                    service_date=date(2026, 1, 6),
                    code="H0020",
                    minutes=15,
                    category="medication",
                ),
                Service(
                    service_id="s2",
                    person_id="sue",
                    episode_id="e-sue",
                    service_date=date(2026, 1, 10),
                    code="H0020",
                    minutes=15,
                    category="medication",
                ),
                Service(
                    service_id="s3",
                    person_id="ann",
                    episode_id="e-ann",
                    service_date=date(2026, 1, 8),
                    code="90834",
                    minutes=45,
                    category="treatment",
                ),
                Measurement(
                    measurement_id="m1",
                    person_id="sue",
                    episode_id="e-sue",
                    instrument="auditc",
                    measured_on=date(2026, 1, 10),
                    score=5,
                    items=None,
                ),
            ]
        )
        s.commit()
    yield made
    engine.dispose()


def _consent(made: sessionmaker[Session], person: str, recipient: str = "Riverside Primary Care") -> str:
    with made() as s:
        return record_consent(
            session=s,
            actor=OP,
            person_id=person,
            form=ConsentForm(
                discloser="North MOUD clinic",
                information="medications and attendance",
                recipient=recipient,
                purpose="treatment",
                signed_by="the patient",
                signed_on=date(2026, 5, 1),
                expires_on=date(2027, 5, 1),
            ),
            now=NOW,
        ).consent_id


def _ids(folder: Path, table: str, column: str) -> set[str]:
    return set(pq.read_table(folder / f"{table}.parquet")[column].to_pylist())


def _export(made: sessionmaker[Session], url: str, folder: Path, **kwargs: str) -> disclosure.ExportResult:
    return export_records(
        url=url, factory=made, actor=OP, folder=folder, fmt="parquet", now=NOW, progress=False, **kwargs
    )


def test_without_consent_part2_records_are_withheld_and_counted(
    factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    _consent(factory, "sam")
    out = tmp_path / "out"
    result = _export(factory, database_url, out, recipient="riverside  PRIMARY care", purpose="treatment")
    assert _ids(out, "episodes", "episode_id") == {"e-sam", "e-sam-mh", "e-ann"}  # not sue's SUD episode
    assert _ids(out, "services", "service_id") == {"s1", "s3"}
    assert _ids(out, "measurements", "measurement_id") == set()
    assert _ids(out, "referrals", "referral_id") == {"r-sam", "r-ann"}
    assert result.withheld_people == 1 and result.withheld_rows["episodes"] == 1
    assert result.part2_people_disclosed == 1 and result.people_disclosed == 2  # sam and ann
    notice = (out / disclosure.NOTICE).read_text()
    assert notice.startswith(REDISCLOSURE_NOTICE) and "person sam" in notice and "sue" not in notice
    manifest = json.loads((out / disclosure.MANIFEST).read_text())
    assert manifest["internal"] is False and manifest["withheld_people"] == 1
    with factory() as s:
        logged = {(d.person_id, d.part2) for d in s.scalars(select(Disclosure))}
        assert logged == {("sam", True), ("ann", False)}
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "disclose")).one()
        assert "1 people's Part 2 records withheld" in (audit.detail or "")
        assert verify_audit_chain(session=s).intact
        lines = accounting_for(session=s, actor=OP, person_id="sam", now=NOW)
        assert any(
            "received records" in line.what and line.who == "riverside  PRIMARY care" for line in lines
        )


def test_a_consent_covers_only_its_recipient_and_purpose(
    factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    _consent(factory, "sue", recipient="County Health Plan")
    other = _export(
        factory, database_url, tmp_path / "a", recipient="Riverside Primary Care", purpose="treatment"
    )
    assert other.part2_people_disclosed == 0 and other.withheld_people == 2
    wrong_purpose = _export(
        factory, database_url, tmp_path / "b", recipient="County Health Plan", purpose="payment"
    )
    assert wrong_purpose.part2_people_disclosed == 0
    right = _export(
        factory, database_url, tmp_path / "c", recipient="County Health Plan", purpose="treatment"
    )
    assert right.part2_people_disclosed == 1 and "e-sue" in _ids(tmp_path / "c", "episodes", "episode_id")


def test_revoking_takes_effect_at_once(
    factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    consent = _consent(factory, "sam")
    with factory() as s:
        revoke_consent(session=s, actor=OP, consent_id=consent, note="by phone", now=NOW)
    result = _export(
        factory, database_url, tmp_path / "out", recipient="Riverside Primary Care", purpose="treatment"
    )
    assert result.part2_people_disclosed == 0 and "e-sam" not in _ids(
        tmp_path / "out", "episodes", "episode_id"
    )


def test_a_revocation_during_the_export_voids_it(
    factory: sessionmaker[Session], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    consent = _consent(factory, "sam")
    real = export_extract

    def export_then_revoke(*args: object, **kwargs: object) -> dict[str, int]:
        rows = real(*args, **kwargs)  # type: ignore[arg-type]
        with factory() as s:
            revoke_consent(session=s, actor=OP, consent_id=consent, note="mid-export", now=NOW)
        return rows

    monkeypatch.setattr("onward.services.disclosure.export_extract", export_then_revoke)
    out = tmp_path / "out"
    with pytest.raises(ConflictError, match="revoked while the export ran"):
        _export(factory, database_url, out, recipient="Riverside Primary Care", purpose="treatment")
    assert not list(out.glob("*.parquet")) and not (out / disclosure.NOTICE).exists()
    with factory() as s:
        assert s.scalars(select(Disclosure)).first() is None


def test_an_internal_copy_is_complete_audited_and_marked(
    factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    result = _export(factory, database_url, tmp_path / "copy")
    assert result.internal and _ids(tmp_path / "copy", "episodes", "episode_id") == {
        "e-sam",
        "e-sam-mh",
        "e-sue",
        "e-ann",
    }
    manifest = json.loads((tmp_path / "copy" / disclosure.MANIFEST).read_text())
    assert manifest["internal"] is True and "not for disclosure" in manifest["use"]
    with factory() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
        assert s.scalars(select(Disclosure)).first() is None


def test_a_disclosure_needs_both_recipient_and_a_known_purpose(
    factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="both"):
        _export(factory, database_url, tmp_path / "x", recipient="Someone")
    with pytest.raises(ValidationError, match="purpose"):
        _export(factory, database_url, tmp_path / "x", recipient="Someone", purpose="marketing")


def test_consent_records_need_the_2_31_elements(factory: sessionmaker[Session]) -> None:
    with factory() as s, pytest.raises(ValidationError, match="expiry"):
        record_consent(
            session=s,
            actor=OP,
            person_id="sam",
            form=ConsentForm(
                discloser="x",
                information="y",
                recipient="z",
                purpose="treatment",
                signed_by="p",
                signed_on=date(2026, 5, 1),
            ),
            now=NOW,
        )


def test_consent_coverage_boundaries() -> None:
    terms = ConsentTerms("c", "Riverside", "treatment", date(2026, 1, 1), date(2026, 12, 31), None)
    assert covers(terms, recipient=" riverside ", purpose="treatment", on=date(2026, 12, 31))
    assert not covers(terms, recipient="riverside", purpose="treatment", on=date(2027, 1, 1))
    assert not covers(terms, recipient="riverside", purpose="treatment", on=date(2025, 12, 31))
    assert not covers(terms, recipient="riverside", purpose="payment", on=date(2026, 6, 1))
    revoked = ConsentTerms("c", "Riverside", "treatment", date(2026, 1, 1), None, NOW)
    assert not covers(revoked, recipient="riverside", purpose="treatment", on=date(2026, 6, 1))
