"""Voice: the pure rules of ideas and campaigns (docs/voice.md).

An idea moves along one path, each step named, and never skips one:

    submitted -> under_review -> accepted | declined
    accepted -> planned -> in_progress -> implemented -> evaluated

A declined idea stays declined (with its public reason); an accepted one is carried to a measured
result. Who may take each step, and what it needs (a council decision with a quorum for accepting or
declining, a target metric for a plan), is checked by the services; this module says only which steps
exist and what text they need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from onward.errors import ConflictError, ValidationError


class AuthorRole(StrEnum):
    """Who an idea comes from, as its author says (shown publicly; the account is not)."""

    CLINICIAN = "clinician"  # of any discipline: therapist, prescriber, nurse, peer specialist ...
    PERSON_IN_SERVICES = "person_in_services"
    FAMILY_MEMBER = "family_member"
    OTHER_STAFF = "other_staff"
    OTHER = "other"


AUTHOR_ROLE_LABELS: dict[AuthorRole, str] = {
    AuthorRole.CLINICIAN: "Clinician (any discipline)",
    AuthorRole.PERSON_IN_SERVICES: "Person in services",
    AuthorRole.FAMILY_MEMBER: "Family member",
    AuthorRole.OTHER_STAFF: "Other staff",
    AuthorRole.OTHER: "Other",
}


class Audience(StrEnum):
    """Who a campaign asks."""

    CLINIC_STAFF = "clinic_staff"  # the staff of one program (clinic)
    PEOPLE_IN_SERVICES = "people_in_services"
    EVERYONE = "everyone"


class CampaignKind(StrEnum):
    CAMPAIGN = "campaign"  # the system's own question
    FORMAL_REQUEST = "formal_request"  # a regulator's or payer's request for comments (e.g. an RFI)


class Status(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    EVALUATED = "evaluated"


STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: "Submitted",
    Status.UNDER_REVIEW: "Under review",
    Status.ACCEPTED: "Accepted",
    Status.DECLINED: "Declined",
    Status.PLANNED: "Planned",
    Status.IN_PROGRESS: "In progress",
    Status.IMPLEMENTED: "Implemented",
    Status.EVALUATED: "Evaluated",
}

#: Every allowed step; an in-progress idea may report progress again (in_progress -> in_progress).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset({Status.UNDER_REVIEW}),
    Status.UNDER_REVIEW: frozenset({Status.ACCEPTED, Status.DECLINED}),
    Status.ACCEPTED: frozenset({Status.PLANNED}),
    Status.DECLINED: frozenset(),
    Status.PLANNED: frozenset({Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.IN_PROGRESS, Status.IMPLEMENTED}),
    Status.IMPLEMENTED: frozenset({Status.EVALUATED}),
    Status.EVALUATED: frozenset(),
}

#: Steps taken by a council decision (a quorum and the composition rule are checked).
DECISIONS: frozenset[Status] = frozenset({Status.ACCEPTED, Status.DECLINED})
#: Ideas that have been decided (accepted or declined, and everything after accepting).
DECIDED: frozenset[Status] = frozenset(Status) - {Status.SUBMITTED, Status.UNDER_REVIEW}


class Stance(StrEnum):
    FOR = "for"
    AGAINST = "against"
    NEUTRAL = "neutral"


#: Reports that hide an idea or a comment until a moderator reviews it (docs/voice.md, "Moderation").
HIDE_AFTER_REPORTS = 3

TITLE_MAX, TEXT_MAX, COMMENT_MAX, REASON_MAX = 140, 4000, 2000, 2000


def require_transition(current: str, target: Status) -> None:
    """Refuse (409) a step the path does not have, naming the steps that are possible."""
    here = Status(current)
    if target not in TRANSITIONS[here]:
        possible = ", ".join(s.value for s in sorted(TRANSITIONS[here])) or "none (this is a final state)"
        raise ConflictError(f"an idea that is {here.value} cannot become {target.value}; next: {possible}")


def clean_text(value: str | None, *, field: str, maximum: int, required: bool = True) -> str:
    """Trimmed text within its length; required text must not be empty."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"{field.replace('_', ' ')} is required", column=field)
    if len(text) > maximum:
        raise ValidationError(
            f"{field.replace('_', ' ')} is {len(text)} characters long",
            column=field,
            expected=f"<= {maximum}",
        )
    return text


E = TypeVar("E", bound=StrEnum)


def parse_choice(value: str, choices: type[E], field: str) -> E:
    try:
        return choices(value)
    except ValueError:
        raise ValidationError(
            f"unknown {field.replace('_', ' ')} {value!r}",
            column=field,
            expected=", ".join(c.value for c in choices),
        ) from None


def require_reason(reason: str | None, *, what: str) -> str:
    """A public reason: every decision says why, in words people can read."""
    text = (reason or "").strip()
    if len(text) < 10:
        raise ValidationError(f"{what} needs a reason of at least 10 characters", column="reason")
    return clean_text(text, field="reason", maximum=REASON_MAX)


def parse_progress(value: str | int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"progress {value!r} is not a whole number", column="progress") from None
    if not 0 <= number <= 100:
        raise ValidationError(f"progress {number} %", column="progress", expected="0-100")
    return number


@dataclass(frozen=True, slots=True)
class Window:
    """When a campaign takes ideas: from `opens_on` to `closes_on`, both days included."""

    opens_on: date
    closes_on: date

    def __post_init__(self) -> None:
        if self.closes_on < self.opens_on:
            raise ValidationError(
                f"the campaign closes ({self.closes_on}) before it opens ({self.opens_on})",
                column="closes_on",
            )

    def is_open(self, day: date) -> bool:
        return self.opens_on <= day <= self.closes_on


# --- similar ideas: the words a full-text search looks for --------------------------------------------

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: Words too common to say two ideas are alike (a short English list; the search engines stem the rest).
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "get",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "more",
        "most",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "out",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
MAX_SEARCH_TERMS = 12


def search_terms(text: str) -> list[str]:
    """The distinct words of `text` worth matching (letters and digits only, no stop words, at least 3
    characters), in order, at most MAX_SEARCH_TERMS: safe to put into an FTS5 or tsquery expression."""
    seen: list[str] = []
    for word in _WORD.findall(text.lower()):
        if len(word) >= 3 and word not in STOP_WORDS and word not in seen:
            seen.append(word)
        if len(seen) == MAX_SEARCH_TERMS:
            break
    return seen


def fts5_query(terms: list[str]) -> str:
    """An SQLite FTS5 MATCH expression: any of the terms, each as a quoted prefix ("word"*)."""
    return " OR ".join(f'"{t}"*' for t in terms)


def tsquery(terms: list[str]) -> str:
    """A PostgreSQL to_tsquery expression: any of the terms, each as a prefix (word:*)."""
    return " | ".join(f"{t}:*" for t in terms)
