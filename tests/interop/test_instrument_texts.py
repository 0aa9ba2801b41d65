from __future__ import annotations

from pathlib import Path

import pytest

from onward.errors import NotFoundError, ValidationError
from onward.interop.instrument_texts import definitions, load_site_texts
from onward.model.eventlog import Instrument


def _epds_file(folder: Path, items: int = 10, options: int = 4, licence: str | None = "granted") -> Path:
    folder.mkdir(exist_ok=True)
    lines = [] if licence is None else [f'licence = "{licence}"']
    lines.append('stem = "In the past 7 days:"')
    for n in range(1, items + 1):
        answers = ", ".join(f'"a{n}.{v}"' for v in range(options))
        lines += ["[[items]]", f'text = "q{n}"', f"options = [{answers}]"]
    (folder / "epds.toml").write_text("\n".join(lines) + "\n")
    return folder


def test_a_site_file_gives_the_epds_its_text(tmp_path: Path) -> None:
    loaded = load_site_texts(_epds_file(tmp_path / "t"))
    epds = loaded[Instrument.EPDS]
    assert epds.has_text and epds.stem == "In the past 7 days:" and epds.texts_licence == "granted"
    merged = definitions(tmp_path / "t")
    assert merged[Instrument.EPDS].has_text and merged[Instrument.PHQ9].texts_licence is None
    assert not definitions(None)[Instrument.EPDS].has_text


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"items": 9}, "9 items; the instrument has 10"),
        ({"options": 3}, "item 1 has 3 answer texts"),
        ({"licence": None}, "missing licence"),
    ],
)
def test_a_file_that_does_not_fit_is_refused_with_its_name(
    tmp_path: Path, kwargs: dict[str, object], words: str
) -> None:
    folder = _epds_file(tmp_path / "t", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=words) as caught:
        load_site_texts(folder)
    assert str(caught.value.file).endswith("epds.toml")


def test_unknown_files_and_folders_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bdi.toml").write_text('licence = "x"\n')
    with pytest.raises(ValidationError, match="not an instrument id"):
        load_site_texts(tmp_path)
    with pytest.raises(NotFoundError):
        load_site_texts(tmp_path / "missing")
