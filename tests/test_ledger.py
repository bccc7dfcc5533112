"""The DuckDB ledger and the CSV table built from extract's lines."""
from __future__ import annotations

import csv
import json

import duckdb

from pipeline.extract import WeakAnnotator, extract
from pipeline.records.ledger import read_lines, write_ledger
from pipeline.records.table import csv_columns, write_csv

from .conftest import SEEDS


def _record(name, stage=None, date=None, district=None, amount=None, start=0):
    return {
        "name": name,
        "start": start,
        "end": start + len(name),
        "amount": {"text": "20.7亿元", "value": amount, "currency": "CNY", "qualifier": None, "start": 0, "end": 6} if amount else None,
        "district": {"text": "环翠区", "code": district, "province": "山东省", "city": "威海市", "start": 7, "end": 10} if district else None,
        "stage": {"text": "签约", "stage": stage, "planned": False, "start": 11, "end": 13} if stage else None,
        "investors": [],
        "industries": [],
        "date": {"text": "2月", "value": date, "start": 14, "end": 16} if date else None,
    }


def test_one_project_across_documents_with_its_stage_history(tmp_path):
    lines = [
        {"id": "feb", "entities": [], "relations": [], "projects": [_record("佰鸿未来科技产业园项目", "signed", "2023-02", "371002", 2070000000)], "error": None},
        {"id": "jun", "entities": [], "relations": [], "projects": [_record("佰鸿未来科技产业园", "started", "2023-06", "371002")], "error": None},
        {"id": "other", "entities": [], "relations": [], "projects": [_record("园区项目", "signed"), _record("佰鸿未来科技产业园项目", "signed", None, "370211")], "error": None},
        {"id": "bad", "entities": [], "relations": [], "projects": [], "error": "empty document"},
    ]
    path = tmp_path / "ledger.duckdb"
    counts = write_ledger(lines, path)
    assert counts == {"documents": 4, "entities": 0, "relations": 0, "records": 4, "projects": 3}
    con = duckdb.connect(str(path), read_only=True)
    linked = con.execute("SELECT project_id, stage, amount_value, n_documents FROM projects WHERE district_code = '371002'").fetchall()
    assert len(linked) == 1 and linked[0][1:] == ("started", 2070000000.0, 2)
    history = con.execute("SELECT stage, date_value, doc_id, stage_start FROM stage_history WHERE project_id = ?", [linked[0][0]]).fetchall()
    assert history == [("signed", "2023-02", "feb", 11), ("started", "2023-06", "jun", 11)]
    # another district's 佰鸿 is another project; a generic name is never linked across documents
    assert con.execute("SELECT count(*) FROM projects WHERE name LIKE '佰鸿%'").fetchone()[0] == 2
    assert con.execute("SELECT error FROM documents WHERE doc_id = 'bad'").fetchone()[0] == "empty document"


def test_seed_ledger_answers_projects_by_district_and_stage(tmp_path):
    out = tmp_path / "s.jsonl"
    extract(SEEDS, out, WeakAnnotator())
    path = tmp_path / "s.duckdb"
    counts = write_ledger(read_lines(out), path)
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("SELECT district_code, stage, count(*) FROM projects GROUP BY ALL").fetchall()
    assert sum(n for *_, n in rows) == counts["projects"] > 0
    assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 5
    signed = con.execute("SELECT amount_value, currency, stage FROM records WHERE name = '佰鸿未来科技产业园项目'").fetchall()
    assert (2070000000.0, "CNY", "signed") in signed
    # every evidence offset points at its text
    texts = {json.loads(line)["id"]: None for line in out.read_text(encoding="utf-8").splitlines()}
    assert set(texts) == {r[0] for r in con.execute("SELECT doc_id FROM documents").fetchall()}


def test_csv_has_a_row_per_record_and_one_per_empty_document(tmp_path):
    lines = [
        {"id": "a", "entities": [], "relations": [], "projects": [_record("甲项目", "signed"), _record("乙项目")], "error": None},
        {"id": "b", "entities": [], "relations": [], "projects": [], "error": "binary file"},
    ]
    path = tmp_path / "out.csv"
    write_csv(lines, path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == csv_columns()
    assert [(r["doc_id"], r["name"], r["stage"], r["error"]) for r in rows] == [("a", "甲项目", "signed", ""), ("a", "乙项目", "", ""), ("b", "", "", "binary file")]
