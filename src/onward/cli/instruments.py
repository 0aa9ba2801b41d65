"""`onward instruments`: the outcome instruments Onward knows, scoring a form, the FHIR Questionnaire."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import app
from onward.errors import ValidationError

instruments_app = typer.Typer(
    name="instruments",
    help="Outcome instruments (PHQ-9, GAD-7, AUDIT, ...): list them, score a form, export FHIR.\n\n"
    "Definitions, cut-offs and their sources: docs/instruments.md.",
    no_args_is_help=True,
)
app.add_typer(instruments_app)

TextsOption = Annotated[
    Path | None,
    typer.Option(
        "--texts",
        help="Folder of the site's licensed wording (<id>.toml); default: ONWARD_INSTRUMENT_TEXTS_DIR.",
        show_default=False,
    ),
]


def _definitions(texts: Path | None) -> dict[Any, Any]:
    from onward.interop.instrument_texts import definitions
    from onward.settings import load_settings

    folder = texts if texts is not None else load_settings().instrument_texts_dir
    return definitions(folder)


def _summary(d: Any) -> dict[str, Any]:
    return {
        "id": d.id.value,
        "name": d.name,
        "short_name": d.short_name,
        "items": d.n_items,
        "total_range": [0, d.max_total],
        "item_text": "site" if d.texts_licence else d.item_text,
        "has_text": d.has_text,
        "reverse_scored_items": list(d.reversed_items),
        "risk_item": d.risk_item,
        "caseness": d.caseness,
        "caseness_female": d.caseness_female,
        "bands": [{"low": b.low, "high": b.high, "label": b.label} for b in d.bands],
        "subscales": {s.name: list(s.items) for s in d.subscales},
        "loinc_total": d.loinc_total,
        "licence": d.texts_licence or d.licence,
    }


@instruments_app.command(
    "list",
    help="List every instrument: items, range, bands, risk item, item text and licence.\n\n"
    "\b\nExample:\n  onward instruments list\n  onward instruments list --json",
)
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    texts: TextsOption = None,
) -> None:
    rows = [_summary(d) for d in _definitions(texts).values()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Outcome instruments (docs/instruments.md)")
    for column in ("id", "name", "items", "range", "bands", "risk item", "item text"):
        table.add_column(column)
    for r in rows:
        bands = ", ".join(f"{b['low']}-{b['high']} {b['label']}" for b in r["bands"])
        text = "included" if r["has_text"] else "site licence needed"
        risk = str(r["risk_item"]) if r["risk_item"] else ""
        table.add_row(
            r["id"], r["short_name"], str(r["items"]), f"0-{r['total_range'][1]}", bands, risk, text
        )
    Console().print(table)


def parse_answers(text: str) -> list[int]:
    """`0,1,2,...` as whole numbers; anything else is refused naming the position."""
    parts = [p.strip() for p in text.split(",")]
    out: list[int] = []
    for number, part in enumerate(parts, start=1):
        try:
            out.append(int(part))
        except ValueError:
            raise ValidationError(
                f"answer {number} is {part!r}",
                column="--answers",
                expected="whole numbers separated by commas",
            ) from None
    return out


@instruments_app.command(
    "score",
    help="Score a completed form from its answers, one per item, in printed order.\n\n"
    "An answer is the option's value: 0-3 for the PHQ-9 and GAD-7, 0-4 for the PCL-5, the printed points for "
    "the AUDIT (items 9-10: 0, 2 or 4), 1 = yes / 0 = no for the DAST-10, and for the EPDS the box ticked "
    "counted from the top (0-3). Reverse-scored items are turned round by the scorer.\n\n"
    "\b\nExample:\n  onward instruments score phq9 --answers 1,2,1,0,3,1,0,0,1 --json\n"
    "  onward instruments score auditc --answers 2,1,1 --sex female",
)
def score_command(
    name: Annotated[
        str, typer.Argument(help="Instrument id: phq9, phq2, gad7, gad2, audit, auditc, dast10, pcl5, epds.")
    ],
    answers: Annotated[str, typer.Option("--answers", help="Comma-separated answers, one per item.")],
    sex: Annotated[
        str | None,
        typer.Option("--sex", help="female | male: picks the AUDIT-C cut-off (3 for women, else 4)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    from onward.model.eventlog import Sex
    from onward.model.instruments import score_answers, spec

    if sex is not None and sex not in {s.value for s in Sex}:
        raise ValidationError(f"--sex {sex!r}", expected=", ".join(s.value for s in Sex))
    result = score_answers(name, parse_answers(answers), sex=sex)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    d = spec(name)
    console = Console()
    console.print(f"{d.short_name} total {result.total} of {d.max_total}: {result.band}", highlight=False)
    for key, value in result.subscales.items():
        console.print(f"  {key}: {value}", highlight=False)
    if result.flags:
        console.print("flags: " + ", ".join(result.flags), highlight=False)


@instruments_app.command(
    "questionnaire",
    help="Print an instrument as a FHIR R4 Questionnaire (JSON), validated with fhir.resources.\n\n"
    "Without a site licence the EPDS prints as scoring and metadata only (items without text).\n\n"
    "\b\nExample:\n  onward instruments questionnaire phq9 > phq9.json\n"
    "  onward instruments questionnaire epds --texts /etc/onward/instrument-texts",
)
def questionnaire_command(
    name: Annotated[str, typer.Argument(help="Instrument id, e.g. phq9.")],
    texts: TextsOption = None,
) -> None:
    from onward.interop.questionnaire import questionnaire_json
    from onward.model.instruments import spec

    definition = _definitions(texts)[spec(name).id]
    typer.echo(json.dumps(questionnaire_json(definition), indent=2, ensure_ascii=False))
