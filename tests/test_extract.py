"""`extract` end to end on the seeds and on a folder of deliberately bad documents."""
from __future__ import annotations

import json

import pytest

from pipeline.extract import WeakAnnotator, available_annotator, extract
from pipeline.readers.documents import read_documents

from .conftest import SEEDS


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_seeds_give_five_lines_with_valid_offsets_and_the_signed_project(tmp_path):
    out = tmp_path / "s.jsonl"
    summary = extract(SEEDS, out, WeakAnnotator())
    rows = lines(out)
    assert summary.documents == 5 and summary.errors == 0 and len(rows) == 5
    texts = {d.id: d.text for d in read_documents(SEEDS)}
    for row in rows:
        text = texts[row["id"]]
        for ent in row["entities"]:
            assert text[ent["start"] : ent["end"]] == ent["text"]
        for rel in row["relations"]:
            assert row["entities"][rel["head"]]["label"] == "PROJECT"
    projects = [p for p in rows[0]["projects"] if p["name"] == "佰鸿未来科技产业园项目"]
    assert projects and projects[0]["amount"]["value"] == 2070000000 and projects[0]["amount"]["currency"] == "CNY"
    assert projects[0]["stage"]["stage"] == "signed"


def test_bad_documents_each_get_a_line_and_the_run_resumes(tmp_path):
    docs = tmp_path / "in"
    docs.mkdir()
    (docs / "empty.txt").write_bytes(b"")
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (docs / "gbk.txt").write_bytes("总投资5亿元的智能制造产业园项目在胶州签约。".encode("gbk"))
    (docs / "big5.txt").write_bytes("總投資5億元的智能製造產業園項目在膠州簽約。".encode("big5"))
    (docs / "page.html").write_text("<html><script>alert('签约')</script><p>投资1.3亿元的嘉士通冷链云仓项目已开工建设</p></html>", encoding="utf-8")
    (docs / "long.txt").write_text(("投资20.7亿元的佰鸿未来科技产业园项目签约。" * 9000)[:200000], encoding="utf-8")
    (docs / "batch.jsonl").write_text('{"id": "ok", "text": "总投资3亿美元的鸿瑞项目落户。"}\n{broken\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = extract(docs, out, WeakAnnotator())
    rows = {row["id"]: row for row in lines(out)}
    assert len(rows) == summary.documents == 8
    assert rows["empty.txt"]["error"] and rows["binary.txt"]["error"] and rows["batch.jsonl:2"]["error"]
    for key in ("gbk.txt", "big5.txt", "page.html", "long.txt", "ok"):
        assert rows[key]["error"] is None and rows[key]["entities"], key
    assert "alert" not in json.dumps(rows["page.html"], ensure_ascii=False)
    texts = {d.id: d.text for d in read_documents(docs)}
    for key, row in rows.items():
        for ent in row["entities"]:
            assert texts[key][ent["start"] : ent["end"]] == ent["text"]
    again = extract(docs, out, WeakAnnotator())
    assert again.skipped == 8 and len(lines(out)) == 8


@pytest.mark.slow
def test_committed_model_extracts_the_signed_project_from_seed_000(tmp_path):
    from pipeline.model.annotator import ModelAnnotator

    annotator = available_annotator("auto")
    assert isinstance(annotator, ModelAnnotator), "the committed model (models/finetuned) is the default"
    docs = [d for d in read_documents(SEEDS) if d.id.startswith("000_")]
    out = tmp_path / "s.jsonl"
    extract(SEEDS, out, annotator, documents=docs)
    (row,) = lines(out)
    text = docs[0].text
    labels = {e["label"] for e in row["entities"]}
    assert labels == {"ORG", "PROJECT", "MONEY", "DATE", "INDUSTRY", "DISTRICT", "STATUS"}
    for ent in row["entities"]:
        assert text[ent["start"] : ent["end"]] == ent["text"]
    for rel in row["relations"]:
        assert row["entities"][rel["head"]]["label"] == "PROJECT"
    project = next(p for p in row["projects"] if p["name"] == "佰鸿未来科技产业园项目")
    assert (project["amount"]["value"], project["amount"]["currency"], project["stage"]["stage"]) == (2070000000, "CNY", "signed")
    assert text[project["amount"]["start"] : project["amount"]["end"]] == project["amount"]["text"]
