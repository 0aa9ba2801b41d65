"""Metrics benchmark: the whole suite by program and month on DuckDB, against pandas and hand-written SQL.

`python -m benchmarks metrics` generates (once, cached under benchmarks/output/) a synthetic extract with
1,000,000 people and over 10,000,000 service rows, then times each contender in its own child process
(wall time and peak RSS) and prints the three ratios of issue 3. Synthetic data only.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onward.interop.files import write_table

OUTPUT = Path(__file__).parent / "output"
GENERATOR_VERSION = "1"
FIRST_DAY = date(2020, 1, 1)
YEARS = 5

#: (code, category, minutes) drawn for services; codes and categories as in REFERENCES.md
#: "Service codes by category" (US Medicaid HCPCS/CPT), weights chosen for a community MH system.
SERVICE_CODES: tuple[tuple[str, str, int, float], ...] = (
    ("90834", "treatment", 45, 0.20),
    ("90837", "treatment", 60, 0.10),
    ("90853", "treatment", 60, 0.06),
    ("H0004", "treatment", 30, 0.06),
    ("99213", "medication", 20, 0.10),
    ("H0020", "medication", 15, 0.05),
    ("T1017", "case_management", 30, 0.18),
    ("T1016", "case_management", 45, 0.07),
    ("90791", "assessment", 60, 0.06),
    ("H0038", "peer_support", 30, 0.06),
    ("H2014", "skills", 45, 0.03),
    ("H2011", "crisis", 60, 0.03),
)
PROGRAM_KINDS = (
    ("outpatient", 1),
    ("intensive_outpatient", 2),
    ("act_team", 3),
    ("case_management", 1),
    ("medication_for_oud", 2),
    ("residential", 4),
    ("inpatient", 5),
    ("crisis", 4),
    ("school", 1),
    ("perinatal", 1),
)
END_REASONS = (
    "graduated",
    "stepped_down",
    "stepped_up",
    "transferred",
    "disengaged",
    "moved",
    "died",
    "other",
)
END_REASON_WEIGHTS = (0.35, 0.12, 0.05, 0.06, 0.30, 0.06, 0.01, 0.05)


def _ids(prefix: str, index: np.ndarray[Any, Any]) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(index), pa.string()), "")


def _dates(days: np.ndarray[Any, Any], mask: np.ndarray[Any, Any] | None = None) -> pa.Array:
    """Day offsets from FIRST_DAY as an Arrow date32 array; `mask` marks nulls."""
    epoch = (FIRST_DAY - date(1970, 1, 1)).days
    values = (days + epoch).astype(np.int32)
    return pa.array(values, type=pa.int32(), mask=mask).cast(pa.date32())


def generate_extract(out: Path, *, people: int, services_target: int, seed: int = 20261125) -> dict[str, int]:
    """Write a contract-conforming extract (Parquet) with numpy, fast: ~1 minute for 1M people / 10M services.

    Episodes get a referral (85 %), a planned end (70 %), an end unless still open at the data end, and
    services and PHQ-9/GAD-7 measurements spread over their observed days. Returns the row counts.
    """
    rng = np.random.default_rng(seed)
    horizon = (date(FIRST_DAY.year + YEARS, 1, 1) - FIRST_DAY).days  # days 0..horizon-1
    counts: dict[str, int] = {}

    n_programs = 30
    kinds = [PROGRAM_KINDS[i % len(PROGRAM_KINDS)] for i in range(n_programs)]
    programs = pa.table(
        {
            "program_id": _ids("p", np.arange(n_programs)),
            "name": pa.array([f"{k.replace('_', ' ').title()} {i}" for i, (k, _) in enumerate(kinds)]),
            "kind": pa.array([k for k, _ in kinds]),
            "level_of_care": pa.array([lvl for _, lvl in kinds], type=pa.int64()),
            "capacity_slots": pa.array(rng.integers(50, 2000, n_programs)),
        }
    )
    inpatient = np.array([k == "inpatient" for k, _ in kinds])
    oud = np.array([k == "medication_for_oud" for k, _ in kinds])

    n_staff = 3000
    staff_program = rng.integers(0, n_programs, n_staff)
    roles = np.array(["clinician", "prescriber", "case_manager", "peer_specialist"])
    staff = pa.table(
        {
            "staff_id": _ids("st", np.arange(n_staff)),
            "role": pa.array(roles[rng.integers(0, len(roles), n_staff)]),
            "program_id": _ids("p", staff_program),
            "hours_per_week": pa.array(rng.integers(16, 41, n_staff)),
        }
    )

    sexes = np.array(["female", "male", "other", "unknown"])
    people_table = pa.table(
        {
            "person_id": _ids("u", np.arange(people)),
            "birth_year": pa.array(rng.integers(1935, 2018, people)),
            "sex": pa.array(sexes[rng.choice(4, people, p=[0.52, 0.46, 0.01, 0.01])]),
            "postcode_prefix": _ids("Z", rng.integers(100, 999, people)),
            "school_grade": pa.nulls(people, pa.int64()),
            "pregnancy_due_date": pa.nulls(people, pa.date32()),
        }
    )

    n_episodes = int(people * 0.9)
    person = rng.integers(0, people, n_episodes)
    program = rng.integers(0, n_programs, n_episodes)
    start = rng.integers(0, horizon, n_episodes)
    length = np.minimum(rng.exponential(200.0, n_episodes).astype(np.int64) + 1, 3000)
    inpatient_ep = inpatient[program]
    length[inpatient_ep] = np.maximum(length[inpatient_ep] // 20, 1)
    end = start + length
    is_open = end >= horizon
    observed_end = np.where(is_open, horizon - 1, end)
    planned = start + rng.integers(90, 400, n_episodes)
    planned_null = rng.random(n_episodes) < 0.3
    reason = rng.choice(len(END_REASONS), n_episodes, p=END_REASON_WEIGHTS)
    has_referral = rng.random(n_episodes) < 0.85
    referral_index = np.cumsum(has_referral) - 1
    n_referrals = int(has_referral.sum())
    referral_date = start[has_referral] - rng.geometric(1 / 18.0, n_referrals) + 1
    referral_date = np.maximum(referral_date, 0)
    sources = np.array(["self", "family", "primary_care", "hospital", "crisis_line", "school", "other"])
    priorities = np.array(["emergent", "urgent", "routine"])
    referrals = pa.table(
        {
            "referral_id": _ids("r", np.arange(n_referrals)),
            "person_id": _ids("u", person[has_referral]),
            "program_id": _ids("p", program[has_referral]),
            "referral_date": _dates(referral_date),
            "source": pa.array(sources[rng.integers(0, len(sources), n_referrals)]),
            "priority": pa.array(priorities[rng.choice(3, n_referrals, p=[0.05, 0.2, 0.75])]),
        }
    )
    episodes = pa.table(
        {
            "episode_id": _ids("e", np.arange(n_episodes)),
            "person_id": _ids("u", person),
            "program_id": _ids("p", program),
            "referral_id": pa.array(
                _ids("r", np.maximum(referral_index, 0)).to_numpy(zero_copy_only=False),
                mask=~has_referral,
            ),
            "start_date": _dates(start),
            "planned_end_date": _dates(planned, planned_null),
            "end_date": _dates(end, is_open),
            "end_reason": pa.array(np.array(END_REASONS)[reason], mask=is_open),
            "is_sud": pa.array(oud[program] | (rng.random(n_episodes) < 0.2)),
        }
    )

    observed = observed_end - start + 1
    rate = services_target * 0.96 / observed.sum()
    per_episode = rng.poisson(rate * observed)
    service_episode = np.repeat(np.arange(n_episodes), per_episode)
    n_linked = len(service_episode)
    n_loose = max(services_target - n_linked, services_target // 25)
    service_date = start[service_episode] + (rng.random(n_linked) * observed[service_episode]).astype(
        np.int64
    )
    service_date = np.concatenate([service_date, rng.integers(0, horizon, n_loose)])
    service_person = np.concatenate([person[service_episode], rng.integers(0, people, n_loose)])
    n_services = n_linked + n_loose
    weights = np.array([w for *_, w in SERVICE_CODES])
    code = rng.choice(len(SERVICE_CODES), n_services, p=weights / weights.sum())
    minutes = np.array([m for _, _, m, _ in SERVICE_CODES])[code] * rng.integers(1, 3, n_services)
    services = pa.table(
        {
            "service_id": _ids("s", np.arange(n_services)),
            "person_id": _ids("u", service_person),
            "episode_id": pa.array(
                _ids("e", np.concatenate([service_episode, np.zeros(n_loose, dtype=np.int64)])).to_numpy(
                    zero_copy_only=False
                ),
                mask=np.arange(n_services) >= n_linked,
            ),
            "staff_id": _ids("st", rng.integers(0, n_staff, n_services)),
            "service_date": _dates(service_date),
            "code": pa.array(np.array([c for c, *_ in SERVICE_CODES])[code]),
            "minutes": pa.array(minutes.astype(np.int64)),
            "category": pa.array(np.array([c for _, c, *_ in SERVICE_CODES])[code]),
        }
    )
    del service_episode, service_date, service_person, code, minutes

    per_episode_m = rng.poisson(np.minimum(observed, 720) / 45.0)
    m_episode = np.repeat(np.arange(n_episodes), per_episode_m)
    n_measurements = len(m_episode)
    offset = (rng.random(n_measurements) * observed[m_episode]).astype(np.int64)
    is_phq = rng.random(n_measurements) < 0.6
    base = rng.integers(3, 25, n_episodes)[m_episode]
    slope = rng.normal(-0.02, 0.03, n_episodes)[m_episode]
    score = np.rint(base + slope * offset + rng.normal(0, 2.0, n_measurements)).astype(np.int64)
    score = np.clip(score, 0, np.where(is_phq, 27, 21))
    measurements = pa.table(
        {
            "measurement_id": _ids("m", np.arange(n_measurements)),
            "person_id": _ids("u", person[m_episode]),
            "episode_id": _ids("e", m_episode),
            "instrument": pa.array(np.where(is_phq, "phq9", "gad7")),
            "measured_on": _dates(start[m_episode] + offset),
            "score": pa.array(score),
            "items": pa.nulls(n_measurements, pa.string()),
        }
    )
    for name, table in (
        ("people", people_table),
        ("programs", programs),
        ("staff", staff),
        ("referrals", referrals),
        ("episodes", episodes),
        ("services", services),
        ("measurements", measurements),
    ):
        write_table(table, out, name, "parquet")
        counts[name] = table.num_rows
    return counts


def cached_extract(people: int, services_target: int) -> Path:
    """The extract for this size, generated on first use and kept under benchmarks/output/."""
    folder = OUTPUT / f"extract-{people}-{services_target}-v{GENERATOR_VERSION}"
    marker = folder / "rows.json"
    if not marker.exists():
        started = time.perf_counter()
        counts = generate_extract(folder, people=people, services_target=services_target)
        marker.write_text(json.dumps(counts))
        print(f"generated {folder.name} in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
    return folder


def main() -> None:
    folder = cached_extract(1_000_000, 10_500_000)
    print(json.loads((folder / "rows.json").read_text()))


if __name__ == "__main__":
    main()
