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


def bad_documents(folder):
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "gbk.txt").write_bytes("总投资5亿元的智能制造产业园项目在胶州签约。".encode("gbk"))
    (folder / "big5.txt").write_bytes("總投資5億元的智能製造產業園項目在膠州簽約。".encode("big5"))
    (folder / "page.html").write_text("<html><script>alert('签约')</script><p>投资1.3亿元的嘉士通冷链云仓项目已开工建设</p></html>", encoding="utf-8")
    (folder / "long.txt").write_text(("投资20.7亿元的佰鸿未来科技产业园项目签约。" * 9000)[:200000], encoding="utf-8")
    (folder / "batch.jsonl").write_text('{"id": "ok", "text": "总投资3亿美元的鸿瑞项目落户。"}\n{broken\n', encoding="utf-8")
    return folder


def model_annotator():
    from pipeline.model.annotator import ModelAnnotator

    return ModelAnnotator()


@pytest.mark.parametrize("make_annotator", [WeakAnnotator, pytest.param(model_annotator, marks=pytest.mark.slow)], ids=["weak", "model"])
def test_bad_documents_each_get_a_line_and_the_run_resumes(tmp_path, make_annotator):
    docs = bad_documents(tmp_path / "in")
    annotator = make_annotator()
    out = tmp_path / "out.jsonl"
    summary = extract(docs, out, annotator)
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
        for rel in row["relations"]:
            assert row["entities"][rel["head"]]["label"] == "PROJECT"
    again = extract(docs, out, annotator)
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


class _BatchingAnnotator(WeakAnnotator):
    """The weak annotator behind an annotate_many that, like a model, reads texts in one
    batch; one text makes it fail, as a model would on a document it cannot process."""

    def __init__(self, poison: str):
        self.poison = poison
        self.batches: list[int] = []

    def annotate(self, text):
        if self.poison in text:
            raise RuntimeError("cannot process this one")
        return super().annotate(text)

    def annotate_many(self, texts):
        texts = list(texts)
        self.batches.append(len(texts))
        if any(self.poison in t for t in texts):
            raise RuntimeError("batch failed")
        return [super(_BatchingAnnotator, self).annotate(t) for t in texts]


def test_documents_are_annotated_in_batches_and_a_failing_batch_isolates_its_document(tmp_path):
    docs = tmp_path / "in"
    docs.mkdir()
    for i in range(4):
        (docs / f"{i}.txt").write_text(f"总投资{i + 2}亿元的智能制造产业园项目在胶州签约。", encoding="utf-8")
    (docs / "2.txt").write_text("总投资5亿元的☢项目在胶州签约。", encoding="utf-8")
    annotator = _BatchingAnnotator("☢")
    out = tmp_path / "out.jsonl"
    summary = extract(docs, out, annotator)
    rows = lines(out)
    assert [row["id"] for row in rows] == ["0.txt", "1.txt", "2.txt", "3.txt"]  # input order kept
    assert annotator.batches == [4]  # one batch of the four readable documents
    assert summary.errors == 1 and "cannot process this one" in rows[2]["error"]
    assert all(row["error"] is None and row["entities"] for i, row in enumerate(rows) if i != 2)
