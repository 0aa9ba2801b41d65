"""A site's own licensed item text for an instrument (the EPDS, or a translation), read from its folder.

The folder (setting `instrument_texts_dir`) holds one `<instrument id>.toml` per instrument:

    licence = "Reproduced with permission of the Royal College of Psychiatrists, granted to ... on ..."
    stem = "..."                      # optional
    [[items]]
    text = "..."                      # item 1
    options = ["...", "...", ...]     # one text per answer value, in value order

The text is checked against the shipped definition (same number of items, one text per answer option),
so a site file changes what people read, never how a form scores.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from onward.errors import NotFoundError, ValidationError
from onward.model.eventlog import Instrument
from onward.model.instruments import INSTRUMENTS, Definition, DefinitionError


def load_site_texts(folder: Path) -> dict[Instrument, Definition]:
    """The definitions that the folder gives text for, each carrying that text; others are left out."""
    if not folder.is_dir():
        raise NotFoundError(f"instrument text folder {folder} does not exist")
    out: dict[Instrument, Definition] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            instrument = Instrument(path.stem)
        except ValueError:
            raise ValidationError(
                "not an instrument id",
                file=str(path),
                expected="a file named <instrument id>.toml: " + ", ".join(i.value for i in Instrument),
            ) from None
        out[instrument] = _read(path, INSTRUMENTS[instrument])
    return out


def _read(path: Path, definition: Definition) -> Definition:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValidationError(f"cannot read the file: {error}", file=str(path)) from None
    licence = raw.get("licence")
    if not isinstance(licence, str):
        raise ValidationError(
            "missing licence", file=str(path), column="licence", expected="the licence text"
        )
    items = raw.get("items")
    if not isinstance(items, list):
        raise ValidationError("missing [[items]]", file=str(path), column="items", expected="one per item")
    pairs: list[tuple[str, list[str]]] = []
    for number, item in enumerate(items, start=1):
        text, options = item.get("text") if isinstance(item, dict) else None, None
        if isinstance(item, dict):
            options = item.get("options")
        if (
            not isinstance(text, str)
            or not isinstance(options, list)
            or not all(isinstance(o, str) for o in options)
        ):
            raise ValidationError(
                f"item {number} needs text and options",
                file=str(path),
                row=number,
                column="items",
                expected='text = "..." and options = ["...", ...]',
            )
        pairs.append((text, options))
    stem = raw.get("stem")
    try:
        return definition.with_texts(
            licence=licence, stem=stem if isinstance(stem, str) else None, items=pairs
        )
    except DefinitionError as error:
        raise ValidationError(str(error), file=str(path), column="items") from None


def definitions(texts_dir: Path | None) -> dict[Instrument, Definition]:
    """Every instrument, with a site's licensed text where its folder gives one."""
    merged = dict(INSTRUMENTS)
    if texts_dir is not None:
        merged.update(load_site_texts(texts_dir))
    return merged
