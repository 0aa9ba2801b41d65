"""Exports of the event log: an internal copy, or a disclosure to a named recipient for a purpose.

A disclosure includes a person's 42 CFR Part 2 records (their substance-use episodes and everything
attached to them: the referral they started from, their services and measurements) only when one of
the person's consents covers that recipient and purpose today; the rest are withheld and counted. It
carries the §2.32 notice and the scope of each consent used, and each person whose records leave is
written to the disclosures table (their accounting) and the export to the audit log. A consent
revoked while the export runs makes it fail and removes what it wrote, so revocation takes effect at
once. An export without a recipient is an internal copy: audited, and marked not for disclosure.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConflictError, ValidationError
from onward.interop.extracts import export_extract
from onward.interop.files import ExtractFormat
from onward.model.consent import REDISCLOSURE_NOTICE, Purpose
from onward.security.access import Actor
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.consents import covering_consents
from onward.store.tables import Episode
from onward.store.tables_security import Consent, Disclosure

MANIFEST = "onward-export.json"
NOTICE = "NOTICE-42-CFR-PART-2.txt"
_ATTACHED_BY_EPISODE = ("services", "measurements")


@dataclass(frozen=True, slots=True)
class ExportResult:
    folder: Path
    internal: bool
    rows: dict[str, int]
    recipient: str | None = None
    purpose: str | None = None
    people_disclosed: int = 0
    part2_people_disclosed: int = 0
    withheld_people: int = 0
    withheld_rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Plan:
    withheld_episodes: pa.Array
    withheld_referrals: pa.Array
    withheld_people: int
    consents: dict[str, Consent]


def _plan(session: Session, recipient: str, purpose: str, now: datetime) -> _Plan:
    sud = session.execute(
        select(Episode.episode_id, Episode.person_id, Episode.referral_id).where(Episode.is_sud.is_(True))
    ).all()
    people = {person for _, person, _ in sud}
    consents = covering_consents(
        session, person_ids=people, recipient=recipient, purpose=purpose, on=now.date()
    )
    withheld = [(e, p, r) for e, p, r in sud if p not in consents]
    return _Plan(
        withheld_episodes=pa.array(sorted({e for e, _, _ in withheld}), pa.string()),
        withheld_referrals=pa.array(sorted({r for _, _, r in withheld if r is not None}), pa.string()),
        withheld_people=len({p for _, p, _ in withheld}),
        consents=consents,
    )


def _row_filter(plan: _Plan, withheld_rows: dict[str, int]) -> Callable[[str, pa.Table], pa.Table]:
    def keep(name: str, rows: pa.Table) -> pa.Table:
        if name == "episodes":
            mask = pc.invert(pc.is_in(rows["episode_id"], value_set=plan.withheld_episodes))
        elif name in _ATTACHED_BY_EPISODE:
            mask = pc.invert(
                pc.fill_null(pc.is_in(rows["episode_id"], value_set=plan.withheld_episodes), False)
            )
        elif name == "referrals":
            mask = pc.invert(pc.is_in(rows["referral_id"], value_set=plan.withheld_referrals))
        else:
            return rows
        kept = rows.filter(mask)
        withheld_rows[name] = rows.num_rows - kept.num_rows
        return kept

    return keep


def _people_with_records(folder: Path, fmt: ExtractFormat) -> set[str]:
    """People whose clinical rows (referrals, episodes, services, measurements) are in the export."""
    from onward.interop.files import table_path

    people: set[str] = set()
    for name in ("referrals", "episodes", "services", "measurements"):
        path = table_path(folder, name, fmt)
        if not path.exists():
            continue
        if fmt == "parquet":
            import pyarrow.parquet as pq

            column = pq.read_table(path, columns=["person_id"])["person_id"]
        else:
            import pyarrow.csv as pa_csv

            column = pa_csv.read_csv(
                path, convert_options=pa_csv.ConvertOptions(include_columns=["person_id"])
            )["person_id"]
        people.update(str(v) for v in pc.unique(column).to_pylist() if v is not None)
    return people


def _notice_text(recipient: str, purpose: str, consents: dict[str, Consent], now: datetime) -> str:
    lines = [
        REDISCLOSURE_NOTICE,
        "",
        f"Disclosed by Onward on {now:%Y-%m-%d %H:%M} UTC to {recipient} for {purpose.replace('_', ' ')}.",
        "Substance-use (42 CFR Part 2) records are included only for the people listed below, each under",
        "the written consent described (42 CFR §2.32(b): a copy or a clear explanation of the scope of",
        "the consent accompanies the disclosure). All other Part 2 records were withheld.",
        "",
    ]
    for person_id, consent in sorted(consents.items()):
        until = consent.expires_on.isoformat() if consent.expires_on else (consent.expiry_event or "")
        lines.append(
            f"- person {person_id}: consent {consent.consent_id} signed {consent.signed_on} by "
            f"{consent.signed_by}; {consent.discloser} may disclose {consent.information} to "
            f"{consent.recipient} for {consent.purpose.replace('_', ' ')} until {until}; "
            "revocable at any time."
        )
    if not consents:
        lines.append("- (none: no Part 2 records are included)")
    return "\n".join(lines) + "\n"


def _remove_written(folder: Path, fmt: ExtractFormat, rows: dict[str, int]) -> None:
    from onward.interop.files import table_path

    for name in rows:
        table_path(folder, name, fmt).unlink(missing_ok=True)
    for extra in (MANIFEST, NOTICE):
        (folder / extra).unlink(missing_ok=True)


def export_records(
    *,
    url: str,
    factory: sessionmaker[Session],
    actor: Actor,
    folder: Path,
    fmt: ExtractFormat,
    now: datetime,
    recipient: str | None = None,
    purpose: str | None = None,
    progress: bool = True,
) -> ExportResult:
    """Export the event log to `folder`: a disclosure to `recipient` for `purpose`, or an internal copy."""
    require_permission(actor, Permission.IDENTIFIED_RECORDS)
    if (recipient is None) != (purpose is None):
        raise ValidationError("a disclosure names both its recipient (--for) and its purpose (--purpose)")
    if purpose is not None:
        try:
            Purpose(purpose)
        except ValueError:
            raise ValidationError(
                f"unknown purpose {purpose!r}", column="purpose", expected=", ".join(p.value for p in Purpose)
            ) from None
    if recipient is not None and not recipient.strip():
        raise ValidationError("the recipient is empty", column="for")
    folder.mkdir(parents=True, exist_ok=True)
    withheld_rows: dict[str, int] = {}
    plan: _Plan | None = None
    if recipient is None or purpose is None:
        rows = export_extract(url, folder, fmt, progress=progress)
    else:
        with factory() as session:
            plan = _plan(session, recipient, purpose, now)
        rows = export_extract(url, folder, fmt, progress=progress, keep=_row_filter(plan, withheld_rows))
        with factory() as session:  # a consent revoked meanwhile: the export must not stand
            still = covering_consents(
                session, person_ids=set(plan.consents), recipient=recipient, purpose=purpose, on=now.date()
            )
        if set(still) != set(plan.consents):
            _remove_written(folder, fmt, rows)
            raise ConflictError(
                "a consent was revoked while the export ran; nothing was disclosed, run it again"
            )
        (folder / NOTICE).write_text(_notice_text(recipient, purpose, plan.consents, now), encoding="utf-8")
    internal = plan is None
    manifest = {
        "exported_at": now.isoformat(),
        "exported_by": actor.username,
        "internal": internal,
        "use": "INTERNAL COPY - not for disclosure" if internal else "disclosure",
        "recipient": recipient,
        "purpose": purpose,
        "rows": rows,
        "withheld_rows": withheld_rows,
        "withheld_people": plan.withheld_people if plan else 0,
        "part2_consents": sorted(c.consent_id for c in plan.consents.values()) if plan else [],
        "notice": None if internal else NOTICE,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    disclosed = set() if internal else _people_with_records(folder, fmt)
    part2 = {p for p in disclosed if plan and p in plan.consents}
    with factory() as session, write_transaction(session):
        for person_id in sorted(disclosed):
            consent = plan.consents.get(person_id) if plan else None
            session.add(
                Disclosure(
                    disclosure_id=uuid.uuid4().hex,
                    person_id=person_id,
                    consent_id=consent.consent_id if consent else None,
                    recipient=recipient or "",
                    purpose=purpose or "",
                    description="event-log export" + (" including Part 2 records" if consent else ""),
                    part2=consent is not None,
                    disclosed_at=now,
                    disclosed_by=actor.user_id,
                )
            )
        detail = (
            f"internal copy (not for disclosure) to {folder}"
            if internal
            else f"to {recipient} for {purpose}: {len(disclosed)} people ({len(part2)} with Part 2 records "
            f"under consent), {plan.withheld_people if plan else 0} people's Part 2 records withheld"
        )
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="export" if internal else "disclose",
            entity="extract",
            entity_id=str(folder)[:128],
            detail=f"{detail} (by {actor.username})" if actor.user_id is None else detail,
        )
    return ExportResult(
        folder=folder,
        internal=internal,
        rows=rows,
        recipient=recipient,
        purpose=purpose,
        people_disclosed=len(disclosed),
        part2_people_disclosed=len(part2),
        withheld_people=plan.withheld_people if plan else 0,
        withheld_rows=withheld_rows,
    )
