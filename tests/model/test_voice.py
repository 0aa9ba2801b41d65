"""Voice rules: the idea path, text checks, search terms, the council's composition rule and quorum."""

from __future__ import annotations

from datetime import date

import pytest

from onward.errors import ConflictError, ValidationError
from onward.model.voice import (
    TRANSITIONS,
    Status,
    Window,
    clean_text,
    fts5_query,
    parse_progress,
    require_reason,
    require_transition,
    search_terms,
    tsquery,
)
from onward.model.voice_council import (
    CompositionRule,
    Group,
    Member,
    Seat,
    council_problems,
    decision_problems,
    quorum_size,
)

PATH = [
    Status.SUBMITTED,
    Status.UNDER_REVIEW,
    Status.ACCEPTED,
    Status.PLANNED,
    Status.IN_PROGRESS,
    Status.IMPLEMENTED,
    Status.EVALUATED,
]


def test_the_idea_path_is_walked_step_by_step_and_never_skipped() -> None:
    for here, there in zip(PATH, PATH[1:], strict=False):
        require_transition(here.value, there)
    require_transition(Status.UNDER_REVIEW.value, Status.DECLINED)
    require_transition(Status.IN_PROGRESS.value, Status.IN_PROGRESS)
    with pytest.raises(ConflictError, match="cannot become accepted; next: under_review"):
        require_transition(Status.SUBMITTED.value, Status.ACCEPTED)
    with pytest.raises(ConflictError, match="final state"):
        require_transition(Status.DECLINED.value, Status.PLANNED)
    assert not TRANSITIONS[Status.EVALUATED]


def test_text_reason_progress_and_window_checks() -> None:
    assert clean_text("  x  ", field="title", maximum=5) == "x"
    with pytest.raises(ValidationError, match="title is required"):
        clean_text(" ", field="title", maximum=5)
    with pytest.raises(ValidationError, match="6 characters"):
        clean_text("abcdef", field="title", maximum=5)
    with pytest.raises(ValidationError, match="reason"):
        require_reason("too short", what="a decision")
    assert parse_progress("40") == 40
    for bad in ("-1", "101", "half"):
        with pytest.raises(ValidationError):
            parse_progress(bad)
    window = Window(date(2026, 1, 1), date(2026, 1, 31))
    assert window.is_open(date(2026, 1, 31)) and not window.is_open(date(2026, 2, 1))
    with pytest.raises(ValidationError, match="closes"):
        Window(date(2026, 2, 1), date(2026, 1, 1))


def test_search_terms_drop_stop_words_and_symbols_and_make_safe_queries() -> None:
    terms = search_terms('The "waiting" list; is TOO long -- evening groups!! "OR" NEAR(')
    assert terms == ["waiting", "list", "long", "evening", "groups", "near"]
    assert fts5_query(["wait", "list"]) == '"wait"* OR "list"*'
    assert tsquery(["wait", "list"]) == "wait:* | list:*"
    assert search_terms("a an of") == []


def _council(lived: int, clinicians: int, other: int = 0, *, co_chair_lived: bool = True) -> list[Member]:
    members = [Member(f"L{i}", f"Lived {i}", Group.LIVED_EXPERIENCE, Seat.MEMBER) for i in range(lived)]
    members += [Member(f"C{i}", f"Clinician {i}", Group.CLINICIAN, Seat.MEMBER) for i in range(clinicians)]
    members += [Member(f"O{i}", f"Other {i}", Group.OTHER, Seat.MEMBER) for i in range(other)]
    chair = 0 if co_chair_lived else lived
    members[chair] = Member(
        members[chair].member_id, members[chair].name, members[chair].group, Seat.CO_CHAIR
    )
    return members


def test_the_default_rule_needs_a_third_of_each_group_and_a_lived_experience_co_chair() -> None:
    rule = CompositionRule()
    assert council_problems(_council(2, 2, 2), rule) == []  # exactly a third each
    problems = council_problems(_council(1, 3, 2), rule)
    assert problems == ["the council: 1 of 6 have lived experience; the rule asks for at least 1/3"]
    assert (
        "no co-chair with lived experience"
        in council_problems(_council(2, 2, 2, co_chair_lived=False), rule)[0]
    )
    assert "1/3 of members with lived experience" in rule.describe()


def test_a_site_can_set_the_medicaid_advisory_committee_share() -> None:
    mac = CompositionRule(
        lived_experience_min_share=0.25, clinician_min_share=0.25, co_chair_lived_experience=False
    )
    assert council_problems(_council(2, 2, 4), mac) == []  # 2 of 8 is 25 %
    assert council_problems(_council(1, 3, 4), mac) == [
        "the council: 1 of 8 have lived experience; the rule asks for at least 1/4"
    ]
    with pytest.raises(ValidationError):
        CompositionRule(lived_experience_min_share=0.7, clinician_min_share=0.4)


def test_a_decision_needs_a_quorum_with_both_groups_present_in_their_shares() -> None:
    rule = CompositionRule()
    council = _council(3, 3)
    assert quorum_size(6, rule) == 4 and quorum_size(5, rule) == 3  # a majority
    assert quorum_size(6, CompositionRule(quorum_share=1)) == 6
    assert decision_problems(council, ["L0", "L1", "C0", "C1"], rule) == []
    only_clinicians = decision_problems(council, ["C0", "C1", "C2"], rule)
    assert "no member with lived experience is present" in only_clinicians
    assert "those present: 0 of 3 have lived experience; the rule asks for at least 1/3" in only_clinicians
    assert decision_problems(council, ["L0", "L1", "C0"], rule) == [
        "no quorum: 3 present of 6 seated; 4 needed"
    ]
    assert "not seated on the council: X9" in decision_problems(council, ["L0", "L1", "C0", "C1", "X9"], rule)
    # an unbalanced council refuses every decision, whoever is present
    assert decision_problems(_council(1, 5), ["L0", "C0", "C1", "C2"], rule)[0].startswith(
        "the council: 1 of 6"
    )
