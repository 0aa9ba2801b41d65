"""Hand-written DuckDB SQL for three metrics by program and month: the floor Ibis is measured against.

treatment_share (service month), graduation_rate (end month) and days_to_first_treatment_median (start
month, Kaplan-Meier), as defined in docs/metrics.md and grouped as `onward.metrics.registry` says: a
service without an episode counts for its staff member's program.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

_TREATMENT_SHARE = """
SELECT coalesce(e.program_id, st.program_id) AS program_id,
       date_trunc('month', s.service_date)::DATE AS month,
       sum(CASE WHEN s.category IN ('treatment', 'medication') THEN s.minutes ELSE 0 END)::DOUBLE
         / nullif(sum(CASE WHEN s.category IN ('treatment', 'medication', 'case_management')
                           THEN s.minutes ELSE 0 END), 0) AS treatment_share
FROM services s
LEFT JOIN episodes e ON e.episode_id = s.episode_id
LEFT JOIN staff st ON st.staff_id = s.staff_id
WHERE s.service_date BETWEEN $start AND $end
GROUP BY ALL
"""

_GRADUATION_RATE = """
SELECT program_id, date_trunc('month', end_date)::DATE AS month,
       avg(CASE WHEN end_reason = 'graduated' THEN 1.0 ELSE 0.0 END) AS graduation_rate
FROM episodes
WHERE end_date BETWEEN $start AND $end
GROUP BY ALL
"""

# Kaplan-Meier: S(t) = prod over event times u <= t of (1 - d_u / n_u); the median is the smallest event time
# with S <= 0.5. Ties at t: events and censorings at t are both at risk at t.
_DAYS_TO_FIRST_TREATMENT_MEDIAN = """
WITH first_tx AS (
  SELECT episode_id, min(service_date) AS first_date
  FROM services WHERE category IN ('treatment', 'medication') AND episode_id IS NOT NULL
  GROUP BY episode_id
), times AS (
  SELECT e.program_id, date_trunc('month', e.start_date)::DATE AS month,
         CASE WHEN f.first_date IS NOT NULL AND f.first_date <= $data_end
              THEN f.first_date - coalesce(r.referral_date, e.start_date)
              ELSE $data_end - coalesce(r.referral_date, e.start_date) END AS t,
         (f.first_date IS NOT NULL AND f.first_date <= $data_end) AS event
  FROM episodes e
  LEFT JOIN referrals r ON r.referral_id = e.referral_id
  LEFT JOIN first_tx f ON f.episode_id = e.episode_id
  WHERE e.start_date BETWEEN $start AND $end
), at_t AS (
  SELECT program_id, month, t, count(*) AS leaving, count(*) FILTER (WHERE event) AS events
  FROM times GROUP BY ALL
), risk AS (
  SELECT *, sum(leaving) OVER (PARTITION BY program_id, month ORDER BY t DESC
                               ROWS UNBOUNDED PRECEDING) AS at_risk
  FROM at_t
), survival AS (
  SELECT *, product(1.0 - events::DOUBLE / at_risk) OVER (PARTITION BY program_id, month ORDER BY t
                                                         ROWS UNBOUNDED PRECEDING) AS s
  FROM risk
)
SELECT g.program_id, g.month, min(s.t) FILTER (WHERE s.events > 0 AND s.s <= 0.5 + 1e-12)
       AS days_to_first_treatment_median
FROM (SELECT DISTINCT program_id, month FROM times) g
LEFT JOIN survival s USING (program_id, month)
GROUP BY ALL
"""

QUERIES: dict[str, str] = {
    "treatment_share": _TREATMENT_SHARE,
    "graduation_rate": _GRADUATION_RATE,
    "days_to_first_treatment_median": _DAYS_TO_FIRST_TREATMENT_MEDIAN,
}


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """Views over the extract's Parquet files, the way the Onward DuckDB backend reads them."""
    con = duckdb.connect()
    for name in ("staff", "referrals", "episodes", "services", "measurements"):
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{(folder / f'{name}.parquet').as_posix()}')"
        )
    return con


def data_end(con: duckdb.DuckDBPyConnection) -> date:
    """The latest recorded event date (planned dates do not count), as docs/metrics.md defines it."""
    row = con.execute(
        """SELECT greatest((SELECT max(referral_date) FROM referrals), (SELECT max(start_date) FROM episodes),
                           (SELECT max(end_date) FROM episodes), (SELECT max(service_date) FROM services),
                           (SELECT max(measured_on) FROM measurements))"""
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def compute(
    folder: Path, *, start: date, end: date, data_end: date, con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """Run the three queries; rows are (program_id, month, value)."""
    con = con or connect(folder)
    params: dict[str, Any] = {"start": start, "end": end, "data_end": data_end}
    out: dict[str, list[tuple[Any, ...]]] = {}
    for key, sql in QUERIES.items():
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        out[key] = con.execute(sql, used).fetchall()
    return out
