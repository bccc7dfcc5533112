"""`make extract FORMAT=csv`: one CSV row per project record, flat columns, every field
with its evidence offsets; a document without records still gets a row (with its error,
if any), so every input document is in the table."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text
from .ledger import record_row

LEAD_COLUMNS = ["doc_id", "error", "record_idx"]


def csv_columns() -> list[str]:
    return LEAD_COLUMNS + [c for c in record_row("", 0, {"name": "", "start": 0, "end": 0}) if c not in LEAD_COLUMNS]


def csv_text(lines: Iterable[dict[str, Any]]) -> str:
    columns = csv_columns()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        records = line.get("projects", [])
        if not records:
            writer.writerow({"doc_id": line["id"], "error": line.get("error") or ""})
            continue
        for i, record in enumerate(records):
            row = record_row(str(line["id"]), i, record)
            row["error"] = line.get("error") or ""
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()


def write_csv(lines: Iterable[dict[str, Any]], path: Path) -> None:
    # BOM so that spreadsheet programs open the Chinese text as UTF-8
    atomic_write_text(Path(path), "\ufeff" + csv_text(lines))
