"""Does a lesson's text fit its readers? One automated check per grade band (docs/skills.md, "Readability").

Grade formulas such as Flesch-Kincaid are unreliable for K-2 text and for anything under about
100 words (Kincaid et al. 1975 normed them on older readers and longer passages), so:

- K-2: the teacher reads the script aloud. It is checked with a word-list measure: the share of
  words a child may not know, using the Dale-Chall list of about 3,000 words familiar to fourth
  graders (Chall & Dale 1995; the copy shipped in `textstat`), plus a cap on sentence length.
- grades 3-12: the Flesch-Kincaid grade of the student's text is at or below the grade the lesson
  is written for, and never above the band's ceiling; texts of at least 100 words.
- parents: Flesch-Kincaid grade 6 or below, the plain-language level health-literacy guidance asks
  of patient materials.

`textstat` does the counting; the thresholds and their sources live in BANDS below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from onward.model.skills import Lesson, Track, grade_rank

MIN_WORDS = 100
"""Formulas are unreliable under about 100 words (docs/references.md, "Readability"); shorter texts fail."""


@dataclass(frozen=True, slots=True)
class ReadabilityBand:
    """The rule one group of lessons must meet, with the public source of each number."""

    name: str
    reader: str
    measure: str  # "word_list" (K-2) or "flesch_kincaid"
    max_grade: float | None  # Flesch-Kincaid ceiling per lesson (school lessons: also their own grade)
    max_unfamiliar_share: float | None  # K-2: share of words off the familiar list
    max_sentence_words: float | None  # K-2: mean words per sentence
    source: str


BANDS: dict[str, ReadabilityBand] = {
    band.name: band
    for band in (
        ReadabilityBand(
            "K-2",
            "teacher (script read aloud)",
            "word_list",
            max_grade=None,
            max_unfamiliar_share=0.05,
            max_sentence_words=10.0,
            source=(
                "Chall & Dale 1995, Readability Revisited: the New Dale-Chall formula treats text with more "
                "than 5 % words off its familiar list as beyond the primary grades (it adds 3.6365 to the "
                "score above 5 %); sentence cap of 10 words is the project's rule for speech to 5-8 year olds"
            ),
        ),
        ReadabilityBand(
            "3-5",
            "student",
            "flesch_kincaid",
            max_grade=5.0,
            max_unfamiliar_share=None,
            max_sentence_words=None,
            source="Kincaid et al. 1975 (Flesch-Kincaid grade); at or below the lesson's own grade",
        ),
        ReadabilityBand(
            "6-8",
            "student",
            "flesch_kincaid",
            max_grade=8.0,
            max_unfamiliar_share=None,
            max_sentence_words=None,
            source="Kincaid et al. 1975 (Flesch-Kincaid grade); at or below the lesson's own grade",
        ),
        ReadabilityBand(
            "9-12",
            "student",
            "flesch_kincaid",
            max_grade=10.0,
            max_unfamiliar_share=None,
            max_sentence_words=None,
            source=(
                "Kincaid et al. 1975 (Flesch-Kincaid grade); at or below the lesson's own grade and never "
                "above grade 10, so that a struggling reader in grades 9-12 can still read the page "
                "(the project's choice)"
            ),
        ),
        ReadabilityBand(
            "perinatal",
            "parent",
            "flesch_kincaid",
            max_grade=6.0,
            max_unfamiliar_share=None,
            max_sentence_words=None,
            source=(
                "AMA (Weiss 2007, Health literacy and patient safety): patient materials at or below the "
                "6th grade; NIH asks for below the 8th (docs/references.md, Readability)"
            ),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Readability:
    """What the check measured on one lesson, and whether it passed its band."""

    lesson_id: str
    band: str
    words: int
    sentences: int
    flesch_kincaid: float
    unfamiliar_share: float  # words off the familiar list (taught words excepted), all bands
    unfamiliar_words: tuple[str, ...]
    sentence_words: float
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def grade_ceiling(lesson: Lesson) -> float | None:
    """The highest Flesch-Kincaid grade the lesson's text may read at (None for K-2 scripts)."""
    band = band_of(lesson)
    if band.max_grade is None or lesson.grade is None:
        return band.max_grade
    return min(band.max_grade, float(grade_rank(lesson.grade)))


def band_of(lesson: Lesson) -> ReadabilityBand:
    if lesson.track is not Track.SCHOOL:
        return BANDS["perinatal"]
    assert lesson.grade is not None
    rank = grade_rank(lesson.grade)
    if rank <= 2:
        return BANDS["K-2"]
    if rank <= 5:
        return BANDS["3-5"]
    return BANDS["6-8"] if rank <= 8 else BANDS["9-12"]


def check(lesson: Lesson) -> Readability:
    """Measure the text the lesson's reader reads and compare it with the band's rule."""
    import textstat  # type: ignore[import-untyped]

    band = band_of(lesson)
    text = lesson.text
    words = textstat.lexicon_count(text)
    sentences = max(1, textstat.sentence_count(text))
    unfamiliar = unfamiliar_words(text, taught=lesson.words_taught)
    share = len(unfamiliar) / words if words else 1.0
    grade = float(textstat.flesch_kincaid_grade(text))
    sentence_words = words / sentences
    problems: list[str] = []
    if words < MIN_WORDS:
        problems.append(f"{words} words: too short to measure (at least {MIN_WORDS})")
    ceiling = grade_ceiling(lesson)
    if ceiling is not None and grade > ceiling:
        problems.append(f"Flesch-Kincaid grade {grade:.1f} above {ceiling:g}")
    if band.max_unfamiliar_share is not None and share > band.max_unfamiliar_share:
        listed = ", ".join(sorted(set(unfamiliar)))
        problems.append(f"{share:.1%} unfamiliar words above {band.max_unfamiliar_share:.0%}: {listed}")
    if band.max_sentence_words is not None and sentence_words > band.max_sentence_words:
        problems.append(f"{sentence_words:.1f} words per sentence above {band.max_sentence_words:g}")
    return Readability(
        lesson_id=lesson.id,
        band=band.name,
        words=words,
        sentences=sentences,
        flesch_kincaid=round(grade, 2),
        unfamiliar_share=round(share, 4),
        unfamiliar_words=tuple(unfamiliar),
        sentence_words=round(sentence_words, 2),
        problems=tuple(problems),
    )


_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def unfamiliar_words(text: str, *, taught: Iterable[str] = ()) -> list[str]:
    """Words of two or more syllables off the Dale-Chall familiar list, in text order.

    Following Chall & Dale's counting rules, a regular inflection of a familiar word counts as
    familiar (helped, friends, cried, making), which textstat's own list lookup does not do.
    Names of people count as familiar too (Chall & Dale), recognised as words written with a
    capital letter in the middle of a sentence. Words the lesson teaches on purpose are not counted.
    """
    taught_words = {w.lower() for phrase in taught for w in _WORD.findall(phrase)}
    names = _names(text)
    found = []
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if word.endswith("'s"):
            word = word[:-2]
        if word in names or word in taught_words or any(base in taught_words for base in _bases(word)):
            continue
        if _familiar(word):
            continue
        found.append(word)
    return found


def _names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence: Sam, Mei, Omar."""
    names = set()
    for match in re.finditer(r"(?<![.!?\"\n(])[ ,]([A-Z][a-z]+)", text):
        if match.group(1) != "I":
            names.add(match.group(1).lower())
    return names


@cache
def _familiar(word: str) -> bool:
    import textstat

    if not textstat.is_difficult_word(word):  # on the list, or a single syllable
        return True
    return any(not textstat.is_difficult_word(base, syllable_threshold=0) for base in _bases(word))


def _bases(word: str) -> list[str]:
    """Candidate stems of a regularly inflected word: helped → help, cried → cry, making → make."""
    bases = []
    for ending in ("ing", "ed", "es", "s", "er", "est", "ly", "ies", "ied", "d"):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            bases += [stem, stem + "e"]
            if ending in ("ies", "ied"):
                bases.append(stem + "y")
            if ending in ("ed", "es", "er", "est") and stem.endswith("i"):
                bases.append(stem[:-1] + "y")
            if len(stem) > 2 and stem[-1] == stem[-2]:
                bases.append(stem[:-1])  # stopped → stop
    return bases
