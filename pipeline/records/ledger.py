"""The project ledger: extract's output lines in DuckDB, with one project across documents.

Tables (every row keeps its source document and character offsets):
- `documents`  one row per input document: id, entity and project counts, error;
- `entities`   every entity: doc_id, idx, label, text, start, end;
- `relations`  every relation: doc_id, head and tail entity idx, type;
- `records`    one row per project record of a document, its normalised fields and
               each field's evidence offsets, and the `project_id` it was linked to;
- `projects`   one row per project across documents: its name, latest district,
               amount and stage, how many documents report it;
- `stage_history` (view) each project's stages in date order, with the document
               and offsets that say so (signed in February, started in June).

Records of different documents are one project when their names match after
normalisation (or one name contains the other, for names of 6+ characters), the name
is specific (4+ characters and not a generic 招商引资项目 or 园区项目) and their
districts do not disagree.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from .build import project_key

SCHEMA = """
CREATE TABLE documents (doc_id VARCHAR PRIMARY KEY, n_entities INTEGER, n_projects INTEGER, error VARCHAR, meta JSON);
CREATE TABLE entities (doc_id VARCHAR, idx INTEGER, label VARCHAR, text VARCHAR, start INTEGER, "end" INTEGER);
CREATE TABLE relations (doc_id VARCHAR, head INTEGER, tail INTEGER, type VARCHAR);
CREATE TABLE records (
    doc_id VARCHAR, record_idx INTEGER, project_id INTEGER, name VARCHAR, start INTEGER, "end" INTEGER,
    amount_value DOUBLE, amount_max DOUBLE, currency VARCHAR, amount_qualifier VARCHAR, amount_text VARCHAR, amount_start INTEGER, amount_end INTEGER,
    district_code VARCHAR, district_province VARCHAR, district_city VARCHAR, district_text VARCHAR, district_start INTEGER, district_end INTEGER,
    stage VARCHAR, stage_planned BOOLEAN, stage_text VARCHAR, stage_start INTEGER, stage_end INTEGER,
    date_value VARCHAR, date_text VARCHAR, date_start INTEGER, date_end INTEGER,
    investors JSON, industries JSON
);
CREATE TABLE projects (project_id INTEGER PRIMARY KEY, name VARCHAR, district_code VARCHAR, district VARCHAR, amount_value DOUBLE, currency VARCHAR, stage VARCHAR, n_documents INTEGER, n_records INTEGER);
CREATE VIEW stage_history AS
    SELECT project_id, name, stage, stage_planned AS planned, date_value, doc_id, stage_start, stage_end, stage_text
    FROM records WHERE stage IS NOT NULL
    ORDER BY project_id, date_value NULLS LAST, doc_id;
"""

STAGE_RANK = {"negotiating": 0, "signed": 1, "landed": 2, "started": 3, "completed": 4, "operating": 5}


def _get(record: dict[str, Any], field: str, key: str) -> Any:
    value = record.get(field)
    return value.get(key) if isinstance(value, dict) else None


def record_row(doc_id: str, idx: int, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "doc_id": doc_id,
        "record_idx": idx,
        "name": record["name"],
        "start": record["start"],
        "end": record["end"],
        "amount_value": _get(record, "amount", "value"),
        "amount_max": _get(record, "amount", "max"),
        "currency": _get(record, "amount", "currency"),
        "amount_qualifier": _get(record, "amount", "qualifier"),
        "amount_text": _get(record, "amount", "text"),
        "amount_start": _get(record, "amount", "start"),
        "amount_end": _get(record, "amount", "end"),
        "district_code": _get(record, "district", "code"),
        "district_province": _get(record, "district", "province"),
        "district_city": _get(record, "district", "city"),
        "district_text": _get(record, "district", "text"),
        "district_start": _get(record, "district", "start"),
        "district_end": _get(record, "district", "end"),
        "stage": _get(record, "stage", "stage"),
        "stage_planned": _get(record, "stage", "planned"),
        "stage_text": _get(record, "stage", "text"),
        "stage_start": _get(record, "stage", "start"),
        "stage_end": _get(record, "stage", "end"),
        "date_value": _get(record, "date", "value"),
        "date_text": _get(record, "date", "text"),
        "date_start": _get(record, "date", "start"),
        "date_end": _get(record, "date", "end"),
        "investors": json.dumps(record.get("investors", []), ensure_ascii=False),
        "industries": json.dumps(record.get("industries", []), ensure_ascii=False),
    }


# names that say what kind of project, not which one: never linked across documents
GENERIC_KEYS = frozenset({"招商引资", "重点", "重大", "产业", "园区", "工业", "制造业", "续建", "新建", "在建", "签约", "基础设施", "民生"})


def _linkable(key: str) -> bool:
    return len(key) >= 4 and key not in GENERIC_KEYS


def _same_project(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ka, kb = a["_key"], b["_key"]
    if a["doc_id"] != b["doc_id"] and not (_linkable(ka) and _linkable(kb)):
        return False
    names_match = ka == kb or (min(len(ka), len(kb)) >= 6 and (ka in kb or kb in ka))
    codes = {a["district_code"], b["district_code"]} - {None}
    return names_match and len(codes) <= 1


def link_projects(rows: Sequence[dict[str, Any]]) -> list[int]:
    """A project id per record row (union of records that name the same project)."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row in rows:
        row["_key"] = project_key(row["name"])
    by_key: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_key.setdefault(row["_key"], []).append(i)
    for key, members in by_key.items():
        # the same name, and every name of 6+ characters found inside this one
        inner = ({key[a:b] for a in range(len(key)) for b in range(a + 6, len(key) + 1)} & by_key.keys()) | {key}
        for other in inner:
            for a in members:
                for b in by_key[other]:
                    if a != b and _same_project(rows[a], rows[b]):
                        parent[find(a)] = find(b)
    roots: dict[int, int] = {}
    return [roots.setdefault(find(i), len(roots) + 1) for i in range(len(rows))]


def _project_rows(rows: Sequence[dict[str, Any]], ids: Sequence[int]) -> list[tuple]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row, pid in zip(rows, ids):
        grouped.setdefault(pid, []).append(row)
    out = []
    for pid, members in sorted(grouped.items()):
        name = max((m["name"] for m in members), key=len)
        latest = sorted(members, key=lambda m: (m["date_value"] or "", STAGE_RANK.get(m["stage"] or "", -1)))
        stage = next((m["stage"] for m in reversed(latest) if m["stage"] and not m["stage_planned"]), None)
        stage = stage or next((m["stage"] for m in reversed(latest) if m["stage"]), None)
        district = next((m for m in reversed(latest) if m["district_code"] or m["district_text"]), None)
        amount = next((m for m in reversed(latest) if m["amount_value"] is not None), None)
        out.append(
            (
                pid,
                name,
                district["district_code"] if district else None,
                district["district_text"] if district else None,
                amount["amount_value"] if amount else None,
                amount["currency"] if amount else None,
                stage,
                len({m["doc_id"] for m in members}),
                len(members),
            )
        )
    return out


def write_ledger(lines: Iterable[dict[str, Any]], path: Path) -> dict[str, int]:
    """(Re)build the ledger at path from extract's output lines; atomic."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    documents, entities, relations, rows = [], [], [], []
    for line in lines:
        doc_id = str(line["id"])
        meta = line.get("meta")
        documents.append((doc_id, len(line.get("entities", [])), len(line.get("projects", [])), line.get("error"), json.dumps(meta, ensure_ascii=False) if meta else None))
        entities.extend((doc_id, i, e["label"], e["text"], e["start"], e["end"]) for i, e in enumerate(line.get("entities", [])))
        relations.extend((doc_id, r["head"], r["tail"], r["type"]) for r in line.get("relations", []))
        rows.extend(record_row(doc_id, i, rec) for i, rec in enumerate(line.get("projects", [])))
    ids = link_projects(rows)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(SCHEMA)
        _insert(con, "documents", documents)
        _insert(con, "entities", entities)
        _insert(con, "relations", relations)
        columns = [c for c in record_row("", 0, {"name": "", "start": 0, "end": 0})]
        _insert(con, "records", [(pid, *(row[c] for c in columns)) for row, pid in zip(rows, ids)], ["project_id", *columns])
        _insert(con, "projects", _project_rows(rows, ids))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)
    return {"documents": len(documents), "entities": len(entities), "relations": len(relations), "records": len(rows), "projects": len(set(ids))}


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple], columns: Sequence[str] | None = None) -> None:
    """Insert rows in one statement: DuckDB reads them as columns of text and casts each
    to the table's type (row-by-row executemany took seconds for a few thousand rows)."""
    if not rows:
        return
    width = len(rows[0])
    incoming = {f"c{i}": np.array([_as_text(row[i]) for row in rows], dtype=object) for i in range(width)}
    target = f"{table} ({', '.join(_quote(c) for c in columns)})" if columns else table
    con.register("incoming_rows", incoming)
    try:
        con.execute(f"INSERT INTO {target} SELECT * FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")


def _quote(column: str) -> str:
    return f'"{column}"'


def read_lines(path: Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
