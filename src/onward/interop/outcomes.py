"""Referral outcomes on import: the values an older extract lacks, and the rules every outcome obeys.

Version 2 of the event-log contract gave referrals an outcome (docs/extracts.md). An extract may
leave `outcome` out, or leave a cell empty; such a referral is

1. `admitted` when an episode (in the extract or already stored) names it, with the earliest such
   episode's start_date as its outcome_date;
2. otherwise, when the referral is already stored, left as stored (an older extract does not undo a
   manager's "withdrawn");
3. otherwise `waiting`.

A stated outcome must be consistent: `waiting` has no outcome_date; every other outcome has one, on
or after the referral_date; an outcome_date or outcome_reason needs an outcome.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from onward.interop.validate import Problem, Source, first_true
from onward.model.eventlog import ReferralOutcome, Table, derived_outcome

StoredStarts = Callable[[pa.Array], pa.Table]
"""referral ids → (referral_id, start_date) of stored episodes naming them."""
StoredOutcomes = Callable[[pa.Array], pa.Table]
"""referral ids → (referral_id, outcome, outcome_date, outcome_reason) of stored referrals."""

_WAITING = ReferralOutcome.WAITING.value


def _problem(mask: pa.Array, column: str, message: str, expected: str) -> Problem | None:
    index = first_true(mask)
    return None if index < 0 else Problem(index, column, message, expected)


def check_outcomes(referrals: pa.Table, spec: Table, source: Source) -> None:
    """Refuse the first referral whose stated outcome, date and reason do not fit together."""
    outcome = referrals.column("outcome").combine_chunks()
    when = referrals.column("outcome_date").combine_chunks()
    reason = referrals.column("outcome_reason").combine_chunks()
    referred = referrals.column("referral_date").combine_chunks()
    stated = pc.is_valid(outcome)
    waiting = pc.fill_null(pc.equal(outcome, _WAITING), False)
    closed = pc.and_(stated, pc.invert(waiting))
    candidates = [
        _problem(
            pc.and_(pc.invert(stated), pc.or_(pc.is_valid(when), pc.is_valid(reason))),
            "outcome",
            "empty, but an outcome_date or outcome_reason is given",
            "an outcome for the date and reason",
        ),
        _problem(
            pc.and_(waiting, pc.is_valid(when)),
            "outcome_date",
            "a waiting referral has an outcome_date",
            "an empty outcome_date while the outcome is waiting",
        ),
        _problem(
            pc.and_(closed, pc.is_null(when)),
            "outcome_date",
            "empty value",
            "the date of the outcome (every outcome but waiting has one)",
        ),
        _problem(
            pc.fill_null(pc.less(when, referred), False),
            "outcome_date",
            "the outcome_date is before the referral_date",
            "an outcome_date on or after the referral_date",
        ),
    ]
    problems = [p for p in candidates if p is not None]
    if problems:
        order = {name: i for i, name in enumerate(spec.column_names)}
        first = min(problems, key=lambda p: (p.index, order[p.column]))
        raise source.error(first)


def fill_outcomes(
    referrals: pa.Table,
    episodes: pa.Table | None,
    *,
    stored_starts: StoredStarts,
    stored_outcomes: StoredOutcomes,
) -> pa.Table:
    """`referrals` with every empty outcome derived by the rule of the module docstring."""
    outcome = referrals.column("outcome").combine_chunks()
    missing = pc.is_null(outcome)
    if not pc.any(missing).as_py():
        return referrals
    ids = referrals.column("referral_id").combine_chunks()
    wanted = ids.filter(missing)
    starts = [stored_starts(wanted)]
    if episodes is not None and episodes.num_rows:
        named = episodes.select(["referral_id", "start_date"]).filter(
            pc.is_in(episodes.column("referral_id"), wanted)
        )
        starts.append(named)
    first_start = (
        pa.concat_tables([t.cast(_STARTS) for t in starts])
        .group_by("referral_id", use_threads=False)
        .aggregate([("start_date", "min")])
    )
    at = pc.index_in(ids, first_start.column("referral_id"))
    admitted_on = pc.take(first_start.column("start_date_min"), at)
    named = pc.and_(missing, pc.is_valid(at))

    stored = stored_outcomes(wanted).cast(_STORED)
    kept = pc.index_in(ids, stored.column("referral_id"))
    keep = pc.and_(pc.and_(missing, pc.invert(named)), pc.is_valid(kept))
    admitted = pa.scalar(derived_outcome(True).value)
    waiting = pa.scalar(derived_outcome(False).value)

    def pick(column: str, on_admitted: pa.Array | pa.Scalar, on_new: pa.Scalar) -> pa.Array:
        current = referrals.column(column).combine_chunks()
        previous = pc.take(stored.column(column), kept)
        return pc.if_else(
            named, on_admitted, pc.if_else(keep, previous, pc.if_else(missing, on_new, current))
        )

    columns = {
        "outcome": pick("outcome", admitted, waiting),
        "outcome_date": pick("outcome_date", admitted_on, pa.scalar(None, pa.date32())),
        "outcome_reason": pick("outcome_reason", pa.scalar(None, pa.string()), pa.scalar(None, pa.string())),
    }
    for name, values in columns.items():
        referrals = referrals.set_column(referrals.schema.get_field_index(name), name, values)
    return referrals


_STARTS = pa.schema([("referral_id", pa.string()), ("start_date", pa.date32())])
_STORED = pa.schema(
    [
        ("referral_id", pa.string()),
        ("outcome", pa.string()),
        ("outcome_date", pa.date32()),
        ("outcome_reason", pa.string()),
    ]
)
