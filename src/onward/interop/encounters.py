"""`onward import --encounters FILE.csv --mapping MAP.toml`: a site's EHR or billing export of encounters
or claims, loaded as it is, without reshaping (docs/extracts.md, "Encounter and claims CSV").

The mapping names the columns (`encounter_mapping.py`). Every row becomes a service: its date read in
the mapping's format, its code recoded from a local code system and looked up in the service-code
catalogue (category and minutes per unit when the file gives none; unknown codes and disagreeing
categories counted and listed, never dropped). People, programs, staff and episodes the file names are
matched by id, or created from its columns when new (an episode starts on its first service). The rows
then go through the same checks and the same one-transaction upsert as an extract import, so an
import is all or nothing and importing the same file again changes nothing. Every error names the
CSV file, its row (1 = first data row, with the CSV line) and the CSV column.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from onward.errors import ValidationError
from onward.interop.bulk import existing_ids
from onward.interop.encounter_mapping import Mapping, read_mapping
from onward.interop.extracts import ImportResult, import_tables, progress_bars
from onward.interop.service_catalogue import catalogue_arrays
from onward.interop.validate import Problem, Source, first_true
from onward.model.eventlog import ProgramKind, ServiceCategory
from onward.model.service_codes import ServiceCatalog, default_catalog
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database

_ROW = "_row"
POSTCODE_PREFIX_CHARS = 3


@dataclass(frozen=True, slots=True)
class EncounterSource(Source):
    """Where each row of a table built from the CSV came from: its first CSV row, and CSV headers."""

    table: str = ""
    rows: tuple[int, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)

    def error(self, problem: Problem) -> ValidationError:
        row = self.rows[problem.index] + 1 if problem.index < len(self.rows) else problem.index + 1
        return ValidationError(
            f"{problem.message} (event-log column {self.table}.{problem.column}; CSV line {row + 1})",
            file=self.file,
            row=row,
            column=self.headers.get(problem.column, f"{problem.column} (mapping [new])"),
            expected=problem.expected,
        )


def _header_row(path: Path, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter), [])


def read_rows(path: Path, mapping: Mapping) -> pa.Table:
    """The mapped columns of the CSV as text (empty cells null), named by Onward field, plus `_row`."""
    if not path.is_file():
        raise ValidationError(f"no file {path}")
    headers = _header_row(path, mapping.delimiter)
    for onward_field, header in mapping.columns.items():
        if header not in headers:
            raise ValidationError(
                f"missing column (the mapping names it for {onward_field})",
                file=str(path),
                column=header,
                expected=f"a column {header!r} in the header row",
            )
    wanted = sorted(set(mapping.columns.values()))
    try:
        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(delimiter=mapping.delimiter),
            convert_options=pa_csv.ConvertOptions(
                column_types={h: pa.string() for h in wanted},
                include_columns=wanted,
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise ValidationError(f"cannot read the CSV: {error}", file=str(path)) from None
    columns = {f: table.column(h).combine_chunks() for f, h in mapping.columns.items()}
    columns[_ROW] = pa.array(range(table.num_rows), pa.int64())
    return pa.table(columns)


class _Builder:
    def __init__(self, path: Path, mapping: Mapping, rows: pa.Table, catalogue: ServiceCatalog) -> None:
        self.path, self.mapping, self.rows, self.catalogue = path, mapping, rows, catalogue

    def fail(self, index: int, onward_field: str, message: str, expected: str) -> ValidationError:
        return ValidationError(
            f"{message} (CSV line {index + 2})",
            file=str(self.path),
            row=index + 1,
            column=self.mapping.header(onward_field),
            expected=expected,
        )

    def has(self, name: str) -> bool:
        return name in self.mapping.columns

    def col(self, name: str) -> pa.Array:
        return self.rows.column(name).combine_chunks()

    def required(self, name: str) -> pa.Array:
        values = self.col(name)
        index = first_true(pc.is_null(values))
        if index >= 0:
            raise self.fail(index, name, "empty value", "a value: the mapping names this column as required")
        return values

    def dates(self, name: str) -> pa.Array:
        text = self.col(name)
        parsed = pc.strptime(
            pc.utf8_trim_whitespace(text), format=self.mapping.date_format, unit="s", error_is_null=True
        )
        index = first_true(pc.and_(pc.is_null(parsed), pc.is_valid(text)))
        if index >= 0:
            raise self.fail(
                index, name, f"{text[index].as_py()!r} is not a date", f"dates as {self.mapping.date_format}"
            )
        return parsed.cast(pa.date32())

    def recoded(self, name: str) -> pa.Array:
        values = pc.utf8_trim_whitespace(self.col(name))
        table = self.mapping.values.get(name)
        if not table:
            return values
        keys, targets = pa.array(list(table), pa.string()), pa.array(list(table.values()), pa.string())
        return pc.coalesce(pc.take(targets, pc.index_in(values, keys)), values)

    def codes(self) -> pa.Array:
        codes = pc.utf8_upper(pc.utf8_trim_whitespace(self.required("code")))
        if self.mapping.codes:
            keys = pa.array(list(self.mapping.codes), pa.string())
            targets = pa.array(list(self.mapping.codes.values()), pa.string())
            codes = pc.coalesce(pc.take(targets, pc.index_in(codes, keys)), codes)
        return codes

    def services(self) -> pa.Table:
        codes = self.codes()
        known, categories = catalogue_arrays(self.catalogue)
        where = pc.index_in(codes, known)
        unit_minutes = pa.array([self.catalogue[c].minutes for c in known.to_pylist()], pa.int64())
        per_unit = pc.take(unit_minutes, where)
        if self.has("category"):
            category = (
                pc.utf8_lower(self.required("category"))
                if not self.mapping.values.get("category")
                else self.recoded("category")
            )
        else:
            category = pc.coalesce(pc.take(categories, where), pa.scalar(ServiceCategory.OTHER.value))
        if self.has("minutes"):
            minutes: pa.Array = pc.utf8_trim_whitespace(self.required("minutes"))
        elif self.has("units"):
            text = pc.utf8_trim_whitespace(self.required("units"))
            number = pc.if_else(
                pc.match_substring_regex(text, r"^\d+(\.\d+)?$"), text, pa.scalar(None, pa.string())
            )
            index = first_true(pc.is_null(number))
            if index >= 0:
                raise self.fail(
                    index, "units", f"{text[index].as_py()!r} is not a number of units", "e.g. 2 or 1.5"
                )
            units = number.cast(pa.float64())
            minutes = pc.round(pc.multiply(units, pc.coalesce(per_unit, 0).cast(pa.float64()))).cast(
                pa.int64()
            )
        else:
            minutes = pc.coalesce(per_unit, 0)
        service_ids = self.required("service_id") if self.has("service_id") else self.hashed_ids(codes)
        empty = pa.nulls(self.rows.num_rows, pa.string())
        return pa.table(
            {
                "service_id": service_ids,
                "person_id": self.required("person_id"),
                "episode_id": self.col("episode_id") if self.has("episode_id") else empty,
                "staff_id": self.col("staff_id") if self.has("staff_id") else empty,
                "service_date": self.dates_required("service_date"),
                "code": codes,
                "minutes": minutes,
                "category": category,
            }
        )

    def dates_required(self, name: str) -> pa.Array:
        self.required(name)
        return self.dates(name)

    def hashed_ids(self, codes: pa.Array) -> pa.Array:
        """A stable id from the row's person, date, code, staff and its position among identical rows."""
        parts = [self.required("person_id"), self.required("service_date"), codes]
        if self.has("staff_id"):
            parts.append(pc.coalesce(self.col("staff_id"), ""))
        joined = pc.binary_join_element_wise(*parts, "|").to_pylist()
        seen: dict[str, int] = {}
        out: list[str] = []
        for text in joined:
            n = seen.get(text, 0)
            seen[text] = n + 1
            out.append("ENC-" + hashlib.sha256(f"{text}|{n}".encode()).hexdigest()[:24])
        return pa.array(out, pa.string())

    def first_rows(self, key: str, extra: pa.Table, known: pa.Array) -> pa.Table:
        """One row per new `key` value (not in `known`): the columns of its first CSV row, plus `_row`."""
        table = extra.append_column(_ROW, self.rows.column(_ROW)).filter(pc.is_valid(extra.column(key)))
        first = table.group_by(key, use_threads=False).aggregate([(_ROW, "min")])
        first = first.filter(pc.invert(pc.is_in(first.column(key), known)))
        order = pc.sort_indices(first, [(f"{_ROW}_min", "ascending")])
        rows = pc.take(first.column(f"{_ROW}_min"), order)
        return table.take(rows)


def _new_people(b: _Builder, services: pa.Table, known: pa.Array) -> pa.Table:
    m = b.mapping
    n = b.rows.num_rows
    columns: dict[str, pa.Array] = {"person_id": services.column("person_id").combine_chunks()}
    if b.has("birth_year"):
        columns["birth_year"] = pc.utf8_trim_whitespace(b.col("birth_year"))
    elif b.has("birth_date"):
        columns["birth_year"] = pc.year(b.dates("birth_date")).cast(pa.string())
    else:
        columns["birth_year"] = pa.nulls(n, pa.string())
    columns["sex"] = pc.coalesce(b.recoded("sex"), m.new.sex) if b.has("sex") else pa.array([m.new.sex] * n)
    prefix = m.new.postcode_prefix
    if b.has("postcode"):
        postcode = pc.utf8_slice_codeunits(
            pc.utf8_trim_whitespace(b.col("postcode")), 0, POSTCODE_PREFIX_CHARS
        )
        columns["postcode_prefix"] = pc.coalesce(postcode, prefix) if prefix else postcode
    else:
        columns["postcode_prefix"] = pa.array([prefix] * n, pa.string())
    first = b.first_rows("person_id", pa.table(columns), known)
    return first.append_column("school_grade", pa.nulls(first.num_rows, pa.int64())).append_column(
        "pregnancy_due_date", pa.nulls(first.num_rows, pa.date32())
    )


def _new_programs(b: _Builder, known: pa.Array) -> pa.Table:
    m = b.mapping
    ids = b.col("program_id")
    names = pc.coalesce(b.col("program_name"), ids) if b.has("program_name") else ids
    first = b.first_rows("program_id", pa.table({"program_id": ids, "name": names}), known)
    count = first.num_rows
    return (
        first.append_column("kind", pa.array([m.new.program_kind] * count, pa.string()))
        .append_column("level_of_care", pa.array([m.new.program_level_of_care] * count, pa.int64()))
        .append_column("capacity_slots", pa.array([m.new.program_capacity_slots] * count, pa.int64()))
    )


def _new_staff(b: _Builder, known: pa.Array) -> pa.Table:
    m = b.mapping
    n = b.rows.num_rows
    role = (
        pc.coalesce(b.recoded("staff_role"), m.new.staff_role)
        if b.has("staff_role")
        else pa.array([m.new.staff_role] * n)
    )
    program = b.col("program_id") if b.has("program_id") else pa.nulls(n, pa.string())
    first = b.first_rows(
        "staff_id", pa.table({"staff_id": b.col("staff_id"), "role": role, "program_id": program}), known
    )
    return first.append_column(
        "hours_per_week", pa.array([m.new.staff_hours_per_week] * first.num_rows, pa.int64())
    )


def _new_episodes(b: _Builder, services: pa.Table, known: pa.Array, kinds: dict[str, str]) -> pa.Table:
    n = b.rows.num_rows
    program = b.col("program_id") if b.has("program_id") else pa.nulls(n, pa.string())
    base = pa.table(
        {
            "episode_id": services.column("episode_id").combine_chunks(),
            "person_id": services.column("person_id").combine_chunks(),
            "program_id": program,
            "primary_staff_id": services.column("staff_id").combine_chunks(),
            "service_date": services.column("service_date").combine_chunks(),
        }
    )
    first = b.first_rows("episode_id", base, known)
    starts = (
        base.filter(pc.is_valid(base.column("episode_id")))
        .group_by("episode_id")
        .aggregate([("service_date", "min")])
    )
    start = pc.take(
        starts.column("service_date_min"),
        pc.index_in(first.column("episode_id"), starts.column("episode_id")),
    )
    sud = b.mapping.new.is_sud
    is_sud = [
        sud if sud is not None else kinds.get(p or "", "") == ProgramKind.MEDICATION_FOR_OUD.value
        for p in first.column("program_id").to_pylist()
    ]
    count = first.num_rows
    return pa.table(
        {
            "episode_id": first.column("episode_id"),
            "person_id": first.column("person_id"),
            "program_id": first.column("program_id"),
            "referral_id": pa.nulls(count, pa.string()),
            "primary_staff_id": first.column("primary_staff_id"),
            "start_date": start,
            "planned_end_date": pa.nulls(count, pa.date32()),
            "end_date": pa.nulls(count, pa.date32()),
            "end_reason": pa.nulls(count, pa.string()),
            "is_sud": pa.array(is_sud, pa.bool_()),
            _ROW: first.column(_ROW),
        }
    )


#: Which mapped field each event-log column of a derived table comes from (for error messages).
_FROM: dict[str, dict[str, str]] = {
    "people": {
        "person_id": "person_id",
        "birth_year": "birth_year",
        "sex": "sex",
        "postcode_prefix": "postcode",
    },
    "programs": {"program_id": "program_id", "name": "program_name"},
    "staff": {"staff_id": "staff_id", "role": "staff_role", "program_id": "program_id"},
    "episodes": {
        "episode_id": "episode_id",
        "person_id": "person_id",
        "program_id": "program_id",
        "primary_staff_id": "staff_id",
        "start_date": "service_date",
    },
    "services": {
        "service_id": "service_id",
        "person_id": "person_id",
        "episode_id": "episode_id",
        "staff_id": "staff_id",
        "service_date": "service_date",
        "code": "code",
        "minutes": "minutes",
        "category": "category",
    },
}


def _content_hash(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def import_encounters(
    file: Path,
    mapping_path: Path,
    url: str,
    *,
    progress: bool = True,
    catalogue: ServiceCatalog | None = None,
) -> ImportResult:
    """Check every row of the encounter CSV through its mapping, then import it in one transaction."""
    mapping = read_mapping(mapping_path)
    catalogue = catalogue or default_catalog()
    with progress_bars(progress) as task:
        advance = task(f"read {file.name}", 3)
        rows = read_rows(file, mapping)
        advance(1)
        builder = _Builder(file, mapping, rows, catalogue)
        services = builder.services()
        advance(1)
        upgrade_database(url)
        engine = create_db_engine(url)
        try:
            with engine.connect() as connection:
                known = {
                    t: existing_ids(connection, t, k)
                    for t, k in (
                        ("people", "person_id"),
                        ("programs", "program_id"),
                        ("staff", "staff_id"),
                        ("episodes", "episode_id"),
                    )
                }
                kinds = dict(connection.exec_driver_sql("SELECT program_id, kind FROM programs").all())
        finally:
            engine.dispose()
        tables: dict[str, pa.Table] = {"people": _new_people(builder, services, known["people"])}
        if builder.has("program_id"):
            tables["programs"] = _new_programs(builder, known["programs"])
            kinds.update(
                dict.fromkeys(tables["programs"].column("program_id").to_pylist(), mapping.new.program_kind)
            )
        if builder.has("staff_id"):
            tables["staff"] = _new_staff(builder, known["staff"])
        if builder.has("episode_id"):
            tables["episodes"] = _new_episodes(builder, services, known["episodes"], kinds)
        tables["services"] = services.append_column(_ROW, rows.column(_ROW))
        advance(1)

    def load(name: str) -> tuple[pa.Table, Source]:
        table = tables[name]
        origin = tuple(table.column(_ROW).to_pylist())
        headers = {col: mapping.columns[f] for col, f in _FROM[name].items() if f in mapping.columns}
        source = EncounterSource(file=str(file), is_csv=True, table=name, rows=origin, headers=headers)
        return table.drop_columns([_ROW]), source

    return import_tables(
        [n for n in ("people", "programs", "staff", "episodes", "services") if n in tables],
        load,
        url,
        source=file,
        content_hash=_content_hash(file, mapping_path),
        synthetic=False,
        progress=progress,
        catalogue=catalogue,
    )
