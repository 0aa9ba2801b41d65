"""One instrument's definition, read from its data file: items, answers, scoring, bands, flags, sources.

The files (`<id>.toml` beside this module) are the single place where an instrument's content and cut-offs
live; this module only turns them into frozen records and refuses a file that contradicts itself (bands
that leave a gap, a flag on an item that does not exist), so a bad edit fails at import, not in a clinic.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal

from onward.model.eventlog import Instrument

ItemText = Literal["included", "site"]
FlagKind = Literal["item_above", "total_at_least", "subscale_items_at_least"]


class DefinitionError(ValueError):
    """An instrument data file that breaks its own rules (raised when the package loads it)."""


@dataclass(frozen=True, slots=True)
class Option:
    """One answer a person can give: `value` is what is recorded as the answer (for the EPDS: the box
    ticked, counted from the top); the item's score follows from it and the item's direction."""

    value: int
    text: str | None = None
    loinc: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    number: int  # 1-based, as printed
    options: tuple[Option, ...]
    reverse: bool = False
    text: str | None = None
    loinc: str | None = None

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    def score(self, value: int) -> int:
        """The points an answer earns: its value, or for a reverse-scored item the highest value minus it."""
        return max(self.values) - value if self.reverse else value

    @property
    def scores(self) -> tuple[int, ...]:
        """Every score this item can take, ascending."""
        return tuple(sorted(self.score(v) for v in self.values))


@dataclass(frozen=True, slots=True)
class Band:
    low: int
    high: int
    label: str
    meaning: str | None = None


@dataclass(frozen=True, slots=True)
class Subscale:
    name: str
    title: str
    items: tuple[int, ...]
    source: str
    minimum_items: int | None = None  # items scoring >= a flag's item_at_least needed (PCL-5 clusters)


@dataclass(frozen=True, slots=True)
class FlagRule:
    """A yes/no reading of a scored form: a risk item answered, a total at a cut-off, the DSM-5 rule."""

    name: str
    kind: FlagKind
    source: str
    item: int | None = None
    above: int | None = None
    at_least: int | None = None
    at_least_female: int | None = None
    item_at_least: int | None = None


@dataclass(frozen=True, slots=True)
class Definition:
    """Everything Onward knows about one instrument; the scorer and the FHIR export read only this."""

    id: Instrument
    name: str
    short_name: str
    item_text: ItemText
    licence: str
    copyright: str
    reference: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    bands_source: str
    caseness: int
    caseness_source: str
    subscales: tuple[Subscale, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    stem: str | None = None
    caseness_female: int | None = None
    reliable_change: int | None = None
    reliable_change_source: str | None = None
    loinc_panel: str | None = None
    loinc_total: str | None = None
    texts_licence: str | None = None  # set when a site loaded its own licensed item text

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def max_total(self) -> int:
        return sum(max(item.scores) for item in self.items)

    @property
    def reversed_items(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items if item.reverse)

    @property
    def item_values(self) -> tuple[tuple[int, ...], ...]:
        """The scores each item can take (what a measurement's `items` list holds)."""
        return tuple(item.scores for item in self.items)

    @property
    def risk_item(self) -> int | None:
        """The 1-based item whose answer above its threshold needs a same-day risk review, if any."""
        for rule in self.flags:
            if rule.name == "risk" and rule.kind == "item_above":
                return rule.item
        return None

    @property
    def has_text(self) -> bool:
        return all(item.text for item in self.items)

    def with_texts(
        self, *, licence: str, stem: str | None, items: Sequence[tuple[str, Sequence[str]]]
    ) -> Definition:
        """A copy carrying a site's licensed wording: (item text, option texts in value order) per item.

        The wording must fit the definition exactly (same items, one text per answer option), so a site
        file can change what people read but never how a form scores.
        """
        if not licence.strip():
            raise DefinitionError(f"{self.id}: a site text file must state the licence it holds")
        if len(items) != self.n_items:
            raise DefinitionError(
                f"{self.id}: the site text has {len(items)} items; the instrument has {self.n_items}"
            )
        new_items: list[Item] = []
        for item, (text, option_texts) in zip(self.items, items, strict=True):
            if not text.strip():
                raise DefinitionError(f"{self.id}: item {item.number} has no text")
            if len(option_texts) != len(item.options):
                raise DefinitionError(
                    f"{self.id}: item {item.number} has {len(option_texts)} answer texts; "
                    f"it needs {len(item.options)} (values {', '.join(map(str, item.values))})"
                )
            if any(not o.strip() for o in option_texts):
                raise DefinitionError(f"{self.id}: item {item.number} has an empty answer text")
            options = tuple(replace(o, text=t) for o, t in zip(item.options, option_texts, strict=True))
            new_items.append(replace(item, text=text, options=options))
        return replace(self, items=tuple(new_items), stem=stem or self.stem, texts_licence=licence)


def _need(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise DefinitionError(f"{where}: missing {key!r}")
    return raw[key]


def parse(raw: Mapping[str, Any], where: str) -> Definition:
    """A Definition from one parsed data file, checked for internal consistency."""
    ident = Instrument(_need(raw, "id", where))
    answer_sets = {
        name: tuple(Option(int(o["value"]), o.get("text"), o.get("loinc")) for o in spec["options"])
        for name, spec in _need(raw, "answers", where).items()
    }
    reverse = set(raw.get("reverse", ()))
    items: list[Item] = []
    for number, spec in enumerate(_need(raw, "items", where), start=1):
        options = answer_sets.get(spec["answers"])
        if options is None:
            raise DefinitionError(f"{where}: item {number} uses unknown answer set {spec['answers']!r}")
        items.append(Item(number, options, number in reverse, spec.get("text"), spec.get("loinc")))
    if reverse - {i.number for i in items}:
        raise DefinitionError(f"{where}: reverse-scored item(s) {sorted(reverse)} outside 1..{len(items)}")
    definition = Definition(
        id=ident,
        name=_need(raw, "name", where),
        short_name=_need(raw, "short_name", where),
        item_text=_need(raw, "item_text", where),
        licence=_need(raw, "licence", where),
        copyright=_need(raw, "copyright", where),
        reference=_need(raw, "reference", where),
        items=tuple(items),
        bands=tuple(
            Band(b["low"], b["high"], b["label"], b.get("meaning")) for b in _need(raw, "bands", where)
        ),
        bands_source=_need(raw, "bands_source", where),
        caseness=_need(raw, "caseness", where),
        caseness_source=_need(raw, "caseness_source", where),
        subscales=tuple(
            Subscale(s["name"], s["title"], tuple(s["items"]), s["source"], s.get("minimum_items"))
            for s in raw.get("subscales", ())
        ),
        flags=tuple(
            FlagRule(
                f["name"],
                f["kind"],
                f["source"],
                f.get("item"),
                f.get("above"),
                f.get("at_least"),
                f.get("at_least_female"),
                f.get("item_at_least"),
            )
            for f in raw.get("flags", ())
        ),
        stem=raw.get("stem"),
        caseness_female=raw.get("caseness_female"),
        reliable_change=raw.get("reliable_change"),
        reliable_change_source=raw.get("reliable_change_source"),
        loinc_panel=raw.get("loinc_panel"),
        loinc_total=raw.get("loinc_total"),
    )
    _check(definition, where)
    return definition


def _check(d: Definition, where: str) -> None:
    if d.item_text not in ("included", "site"):
        raise DefinitionError(f"{where}: item_text must be 'included' or 'site'")
    if d.item_text == "included" and not d.has_text:
        raise DefinitionError(f"{where}: item_text is 'included' but an item or option has no text")
    if d.item_text == "site" and any(i.text for i in d.items):
        raise DefinitionError(f"{where}: item_text is 'site' but the file carries item text")
    if d.item_text == "included" and any(o.text is None for i in d.items for o in i.options):
        raise DefinitionError(f"{where}: an answer option has no text")
    expected_low = 0
    for band in d.bands:
        if band.low != expected_low or band.high < band.low:
            raise DefinitionError(f"{where}: band {band.label!r} should start at {expected_low}")
        expected_low = band.high + 1
    if expected_low - 1 != d.max_total:
        raise DefinitionError(f"{where}: bands end at {expected_low - 1}; the maximum total is {d.max_total}")
    if not 0 < d.caseness <= d.max_total:
        raise DefinitionError(f"{where}: caseness {d.caseness} outside 1..{d.max_total}")
    numbers = {i.number for i in d.items}
    for sub in d.subscales:
        if not set(sub.items) <= numbers:
            raise DefinitionError(f"{where}: subscale {sub.name} names items outside 1..{d.n_items}")
    for rule in d.flags:
        if rule.kind == "item_above" and (rule.item not in numbers or rule.above is None):
            raise DefinitionError(f"{where}: flag {rule.name} needs an existing item and 'above'")
        if rule.kind == "total_at_least" and rule.at_least is None:
            raise DefinitionError(f"{where}: flag {rule.name} needs 'at_least'")
        if rule.kind == "subscale_items_at_least" and (
            rule.item_at_least is None or any(s.minimum_items is None for s in d.subscales)
        ):
            raise DefinitionError(
                f"{where}: flag {rule.name} needs item_at_least and minimum_items per subscale"
            )


def load_all() -> dict[Instrument, Definition]:
    """Every instrument of the data contract, from the package's own data files."""
    folder = resources.files("onward.model.instruments")
    out: dict[Instrument, Definition] = {}
    for instrument in Instrument:
        name = f"{instrument.value}.toml"
        raw = tomllib.loads(folder.joinpath(name).read_text(encoding="utf-8"))
        definition = parse(raw, name)
        if definition.id != instrument:
            raise DefinitionError(f"{name}: id {definition.id!r} does not match its file name")
        out[instrument] = definition
    return out
