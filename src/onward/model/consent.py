"""42 CFR Part 2 consent rules, as pure functions: which consent covers a disclosure.

A written consent names (§2.31(a)) the patient, who may disclose, what information, to whom, for what
purpose, until when (a date or an event), and is signed and dated; the patient may revoke it at any
time (§2.31(a)(6)). A disclosure of a person's Part 2 records is allowed here only when one of their
consents covers its recipient and purpose on the day of disclosure and has not been revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Purpose(StrEnum):
    """Why records are disclosed (the purposes a Part 2 consent names, §2.31(a)(5))."""

    TREATMENT = "treatment"
    PAYMENT = "payment"
    HEALTH_CARE_OPERATIONS = "health_care_operations"
    CARE_COORDINATION = "care_coordination"
    RESEARCH = "research"
    AUDIT_EVALUATION = "audit_evaluation"
    PATIENT_REQUEST = "patient_request"


def normalise_recipient(name: str) -> str:
    """Recipients match by name, ignoring case and spaces ("Riverside  Clinic" is "riverside clinic")."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class ConsentTerms:
    """The parts of a consent that decide what it covers."""

    consent_id: str
    recipient: str
    purpose: str
    signed_on: date
    expires_on: date | None
    revoked_at: datetime | None


def covers(terms: ConsentTerms, *, recipient: str, purpose: str, on: date) -> bool:
    """True when the consent allows disclosing to `recipient` for `purpose` on day `on`."""
    if terms.revoked_at is not None:
        return False
    if on < terms.signed_on:
        return False
    if terms.expires_on is not None and on > terms.expires_on:
        return False
    return terms.purpose == purpose and normalise_recipient(terms.recipient) == normalise_recipient(recipient)


#: 42 CFR §2.32(a)(2) as amended by the 2024 final rule (89 FR 12472, 16 February 2024): the short
#: statement that must accompany each disclosure made with the patient's written consent.
REDISCLOSURE_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
