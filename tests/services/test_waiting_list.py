"""The waiting list: triage order, targets, Little's law, and the outcome actions (offer, attempts,
book the first appointment, withdraw, decline, not reached, referred elsewhere), each audited."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from onward.model.access import NOT_REACHED_ATTEMPTS, business_days_between, past_target, target_for
from onward.security.access import Actor
from onward.security.audit import verify_audit_chain
from onward.security.policy import role_permissions
from onward.services import referral_outcomes as outcomes
from onward.services.waiting_list import offer_next_slot, waiting_list
from onward.store.tables import AuditEntry, Episode, Measurement, Person, Program, Referral

CARE_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the care_db fixture's "today"


def pathway_actor(role: str, **kw: object) -> Actor:
    values: dict[str, object] = {"user_id": f"u-{role}", "username": role, "role": role}
    values.update(kw)
    return Actor(permissions=role_permissions(role), **values)  # type: ignore[arg-type]


MANAGER = pathway_actor("manager", program_ids=("op",))
D = date.fromisoformat


def _county(s: Session) -> None:
    """Five more referrals to op: a routine one waiting longest, an urgent one, a routine one with a
    positive PHQ-9 item 9, a routine one with severe scores, and one to another program."""
    s.add_all([Person(person_id=p, birth_year=1990, sex="female", postcode_prefix="981") for p in "vwxyz"])
    s.add(Program(program_id="other", name="Other", kind="outpatient", level_of_care=1, capacity_slots=3))
    s.flush()
    for rid, person, day, priority, program in (
        ("r-v", "v", "2026-01-05", "routine", "op"),
        ("r-w", "w", "2026-05-29", "urgent", "op"),
        ("r-x", "x", "2026-05-25", "routine", "op"),
        ("r-y", "y", "2026-05-26", "routine", "op"),
        ("r-z", "z", "2026-05-01", "routine", "other"),
    ):
        s.add(
            Referral(
                referral_id=rid,
                person_id=person,
                program_id=program,
                referral_date=D(day),
                source="self",
                priority=priority,
            )
        )
    s.add_all(
        [
            Measurement(
                measurement_id="mx",
                person_id="x",
                instrument="phq9",
                measured_on=D("2026-05-25"),
                score=9,
                items="[1, 1, 1, 1, 1, 1, 1, 1, 1]",
            ),
            Measurement(
                measurement_id="my",
                person_id="y",
                instrument="phq9",
                measured_on=D("2026-05-26"),
                score=22,
                items="[3, 3, 3, 3, 3, 3, 2, 2, 0]",
            ),
        ]
    )
    s.commit()


def test_triage_orders_tier_then_risk_then_severity_then_days(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        listing = waiting_list(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)
        order = [r.referral.referral_id for r in listing.rows]
        assert order == ["r-w", "r-x", "r-y", "r-v", "r-ana"]
        by_id = {r.referral.referral_id: r for r in listing.rows}
        assert by_id["r-x"].risk and by_id["r-y"].severity is not None
        assert by_id["r-y"].severity.band == "severe"
        assert by_id["r-v"].days_waited == (D("2026-06-01") - D("2026-01-05")).days
        # urgent: 1 business day; the 29th of May 2026 is a Friday, the 1st of June a Monday
        assert by_id["r-w"].business_days_waited == 1 and not by_id["r-w"].past_target
        assert by_id["r-v"].past_target and by_id["r-ana"].past_target  # 31 days
        assert not by_id["r-y"].past_target
        assert listing.shares[6] == pytest.approx(4 / 5) and listing.shares[18] == pytest.approx(4 / 5)


def test_expected_wait_is_littles_law_over_90_days(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        listing = waiting_list(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)
        # the fixture's one op episode (e-ben) started on 5 January: outside the 90 days
        assert listing.estimate.admissions == 0 and listing.estimate.days is None
        assert "cannot be estimated" in listing.estimate.basis()
        for n, day in enumerate(("2026-03-04", "2026-04-10", "2026-06-01")):  # 3 March is 90 days back
            s.add(
                Episode(episode_id=f"e{n}", person_id="ben", program_id="op", start_date=D(day), is_sud=False)
            )
        s.add(
            Episode(
                episode_id="e-old", person_id="ben", program_id="op", start_date=D("2026-03-03"), is_sud=False
            )
        )
        s.commit()
        listing = waiting_list(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)
        assert listing.estimate.admissions == 3
        assert listing.estimate.days == pytest.approx(5 / (3 / 90))  # 150 days
        assert "5 waiting / 3 admissions in the last 90 days" in listing.estimate.basis()


def test_offer_next_slot_goes_to_the_top_of_the_list_and_is_audited(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        referral = offer_next_slot(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)
        assert referral.referral_id == "r-w"
        assert (referral.outcome, referral.outcome_date) == ("offered", D("2026-06-01"))
        again = offer_next_slot(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)
        assert again.referral_id == "r-x"  # the next one without an offer
        with pytest.raises(ConflictError, match="already offered"):
            outcomes.offer_slot(session=s, actor=MANAGER, referral_id="r-w", now=CARE_NOW)
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "referral")).all()
        assert actions.count("offer") == 2
        assert verify_audit_chain(session=s).intact


def test_no_offer_without_a_free_slot(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        program = s.get(Program, "op")
        assert program is not None
        capacity, census, offered, free = outcomes.open_slots(s, "op", D("2026-06-01"))
        program.capacity_slots = census + 1
        s.commit()
        offer_next_slot(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)
        with pytest.raises(ConflictError, match="no open slot"):
            offer_next_slot(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)


def test_booking_the_first_appointment_offers_and_replaces(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        first = outcomes.book_first_appointment(
            session=s,
            actor=MANAGER,
            referral_id="r-v",
            staff_id="st1",
            day=D("2026-06-03"),
            at_time="09:30",
            now=CARE_NOW,
        )
        assert s.get(Referral, "r-v").outcome == "offered"  # type: ignore[union-attr]
        second = outcomes.book_first_appointment(
            session=s, actor=MANAGER, referral_id="r-v", staff_id="st1", day=D("2026-06-04"), now=CARE_NOW
        )
        s.refresh(first)
        assert first.replaced_at is not None and outcomes.current_appointment(s, "r-v") == second
        with pytest.raises(ValidationError, match="not a clinician") as bad_staff:
            outcomes.book_first_appointment(
                session=s, actor=MANAGER, referral_id="r-v", staff_id="st2", day=D("2026-06-04"), now=CARE_NOW
            )
        assert bad_staff.value.column == "staff_id"
        with pytest.raises(ValidationError, match="in the past"):
            outcomes.book_first_appointment(
                session=s, actor=MANAGER, referral_id="r-v", staff_id="st1", day=D("2026-05-04"), now=CARE_NOW
            )
        with pytest.raises(ValidationError, match="not a time"):
            outcomes.book_first_appointment(
                session=s,
                actor=MANAGER,
                referral_id="r-v",
                staff_id="st1",
                day=D("2026-06-04"),
                at_time="25:00",
                now=CARE_NOW,
            )


def test_closing_outcomes_need_a_reason_and_their_conditions(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        with pytest.raises(ValidationError, match="reason"):
            outcomes.close_referral(
                session=s, actor=MANAGER, referral_id="r-v", outcome="withdrawn", reason="", now=CARE_NOW
            )
        with pytest.raises(ConflictError, match="no slot offered"):
            outcomes.close_referral(
                session=s,
                actor=MANAGER,
                referral_id="r-v",
                outcome="declined",
                reason="does not want it",
                now=CARE_NOW,
            )
        for n in range(NOT_REACHED_ATTEMPTS):
            with pytest.raises(ConflictError, match="unanswered"):
                outcomes.close_referral(
                    session=s,
                    actor=MANAGER,
                    referral_id="r-v",
                    outcome="not_reached",
                    reason="no answer at all",
                    now=CARE_NOW,
                )
            outcomes.record_contact(
                session=s,
                actor=MANAGER,
                referral_id="r-v",
                method="phone",
                reached=False,
                note=f"call {n}",
                now=CARE_NOW,
            )
        closed = outcomes.close_referral(
            session=s,
            actor=MANAGER,
            referral_id="r-v",
            outcome="not_reached",
            reason="3 calls, no answer",
            now=CARE_NOW,
        )
        assert (closed.outcome, closed.outcome_date, closed.outcome_reason) == (
            "not_reached",
            D("2026-06-01"),
            "3 calls, no answer",
        )
        with pytest.raises(ConflictError, match="no longer waiting"):
            outcomes.close_referral(
                session=s,
                actor=MANAGER,
                referral_id="r-v",
                outcome="withdrawn",
                reason="changed mind",
                now=CARE_NOW,
            )
        outcomes.offer_slot(session=s, actor=MANAGER, referral_id="r-y", now=CARE_NOW)
        declined = outcomes.close_referral(
            session=s,
            actor=MANAGER,
            referral_id="r-y",
            outcome="declined",
            reason="prefers another clinic",
            now=CARE_NOW,
        )
        assert declined.outcome == "declined"
        outcomes.close_referral(
            session=s,
            actor=MANAGER,
            referral_id="r-x",
            outcome="referred_elsewhere",
            reason="needs residential care",
            now=CARE_NOW,
        )
        listing = waiting_list(session=s, actor=MANAGER, program_id="op", now=CARE_NOW)
        assert [r.referral.referral_id for r in listing.rows] == ["r-w", "r-ana"]
        assert {r.referral_id for r in listing.closed_recently} == {"r-v", "r-y", "r-x"}
        assert verify_audit_chain(session=s).intact


def test_a_reached_contact_resets_the_count(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        for reached in (False, False, True, False):
            outcomes.record_contact(
                session=s, actor=MANAGER, referral_id="r-v", method="text", reached=reached, now=CARE_NOW
            )
        assert outcomes.unanswered_attempts(s, "r-v") == 1
        with pytest.raises(ValidationError, match="unknown contact method"):
            outcomes.record_contact(
                session=s, actor=MANAGER, referral_id="r-v", method="pigeon", reached=False, now=CARE_NOW
            )


def test_policy_and_scope(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        _county(s)
        with pytest.raises(NotFoundError):
            waiting_list(session=s, actor=MANAGER, program_id="other", now=CARE_NOW)
        with pytest.raises(NotFoundError):
            outcomes.offer_slot(session=s, actor=MANAGER, referral_id="r-z", now=CARE_NOW)
        leader = pathway_actor("leader", program_ids=("op",))
        with pytest.raises(PermissionDeniedError):
            waiting_list(session=s, actor=leader, program_id="op", now=CARE_NOW)
        clinician = pathway_actor("clinician", staff_id="st1", program_ids=("op",))
        assert waiting_list(session=s, actor=clinician, program_id="op", now=CARE_NOW).rows


def test_business_days_and_targets() -> None:
    friday, monday = D("2026-05-29"), D("2026-06-01")
    assert business_days_between(friday, monday) == 1
    assert business_days_between(friday, friday) == 0
    assert business_days_between(D("2026-05-04"), D("2026-05-18")) == 10
    routine = target_for("routine")
    assert (routine.calendar_days, routine.business_days) == (14, 10)
    assert not past_target(D("2026-05-04"), D("2026-05-18"), routine)
    assert past_target(D("2026-05-04"), D("2026-05-19"), routine)
    assert past_target(friday, D("2026-06-02"), target_for("urgent"))
    assert past_target(friday, monday, target_for("emergent"))
