"""doccano push and pull: offline tests of the conversion, the export checks and the
ranking, and one integration test against a real local doccano server.

The integration test (marked `doccano`, part of `make test`) starts doccano from
.venv-doccano on a free port with a temporary data folder; the first run creates that
virtual environment (about a minute) and later runs reuse it.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.annotations.corpus import SPLITS, Entity, Example, Relation, read_examples, split_path
from pipeline.doccano.config import ROOT, DoccanoConfig
from pipeline.doccano.convert import fingerprint, from_doccano, keep_valid, to_doccano
from pipeline.doccano.documents import Candidate, paragraphs
from pipeline.doccano.export import ExportError, plan_pull, pull_from_zips
from pipeline.doccano.ranking import rank, weak_uncertainty
from pipeline.records.build import RelationRef, SpanRef
from pipeline.schema import TAIL_LABEL_TO_RELATION

PROJECT = "test-project"


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """A copy of the split files to pull into."""
    root = tmp_path / "annotations"
    root.mkdir()
    for split in SPLITS:
        shutil.copy2(split_path(split), split_path(split, root))
    return root


def corpus_example(root: Path, example_id: str) -> tuple[str, Example]:
    for split in SPLITS:
        for ex in read_examples(split_path(split, root)):
            if ex.id == example_id:
                return split, ex
    raise KeyError(example_id)


def exported(row: dict, doccano_id: int, id_offset: int = 100) -> dict:
    """An uploaded line as doccano exports it: database ids for the document and labels."""
    out = dict(row, id=doccano_id, Comments=[])
    out["entities"] = [dict(e, id=e["id"] + id_offset) for e in row["entities"]]
    out["relations"] = [
        dict(r, id=r["id"] + id_offset, from_id=r["from_id"] + id_offset, to_id=r["to_id"] + id_offset) for r in row["relations"]
    ]
    return out


def write_zip(path: Path, files: dict[str, list[dict]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, rows in files.items():
            archive.writestr(name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def drop_last_entity(row: dict) -> None:
    """An annotator deletes the last span (and the relations that use it)."""
    gone = row["entities"].pop()["id"]
    row["relations"] = [r for r in row["relations"] if gone not in (r["from_id"], r["to_id"])]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def semantic(ex: Example) -> tuple[set, set]:
    spans = {e.id: (e.start, e.end, e.label) for e in ex.entities}
    return set(spans.values()), {(r.type, spans[r.head], spans[r.tail]) for r in ex.relations}


# --------------------------------------------------------------------------- offline


def test_upload_and_export_round_trip_keeps_our_ids(corpus: Path) -> None:
    split, ex = corpus_example(corpus, "s001-001")
    row = to_doccano(ex, split, "corpus", fingerprint(ex), "admin")
    assert {"example_id", "split", "source", "preannotation", "pushed", "base", "pushed_by"} <= set(row)
    pulled = from_doccano(exported(row, doccano_id=7))
    assert pulled.faults == []
    assert pulled.example.id == "s001-001" and pulled.doccano_id == 7 and pulled.split == split
    assert semantic(pulled.example) == semantic(ex)
    assert fingerprint(pulled.example) == fingerprint(ex) == row["pushed"]


def test_pull_with_unknown_label_or_bad_offset_fails_naming_the_example_and_changes_nothing(corpus: Path, tmp_path: Path) -> None:
    rows = []
    for doccano_id, example_id in enumerate(("s001-001", "s000-002", "s000-013"), 1):
        split, ex = corpus_example(corpus, example_id)
        rows.append(exported(to_doccano(ex, split, "corpus", fingerprint(ex), "admin"), doccano_id))
    rows[0]["entities"][0]["label"] = "BOGUS"  # doccano creates unknown labels silently on import
    rows[1]["entities"][-1]["end_offset"] = len(rows[1]["text"]) + 5  # doccano does not check offsets
    export_zip = write_zip(tmp_path / "export.zip", {"admin.jsonl": rows})
    approved_zip = write_zip(tmp_path / "approved.zip", {"admin.jsonl": rows})
    before = snapshot(corpus)

    with pytest.raises(ExportError) as caught:
        pull_from_zips(export_zip, approved_zip, PROJECT, collaborative=False, root=corpus)

    message = str(caught.value)
    assert "admin.jsonl line 1: s001-001 (doccano example 1)" in message and "unknown label 'BOGUS'" in message
    assert "admin.jsonl line 2: s000-002 (doccano example 2)" in message and "outside the text" in message
    assert "s000-013" not in message
    assert "nothing was merged" in message
    assert snapshot(corpus) == before
    assert not (corpus / "backups").exists()


def test_wrong_relation_arguments_and_changed_text_are_faults(corpus: Path) -> None:
    split, ex = corpus_example(corpus, "s000-015")
    row = exported(to_doccano(ex, split, "corpus", fingerprint(ex), "admin"), 3)
    row["relations"][0]["type"] = "AMOUNT" if row["relations"][0]["type"] != "AMOUNT" else "LOCATION"
    other = exported(to_doccano(ex, split, "corpus", fingerprint(ex), "admin"), 4)
    other["example_id"] = "s000-013"
    with pytest.raises(ExportError) as caught:
        plan_pull({"all": [row, other]}, {}, PROJECT, collaborative=True, root=corpus)
    faults = caught.value.faults
    assert any("s000-015" in f and "needs PROJECT ->" in f for f in faults)
    assert any("s000-013" in f and "text differs" in f for f in faults)


def test_only_reviewed_documents_are_merged_and_local_changes_are_kept(corpus: Path, tmp_path: Path) -> None:
    rows = []
    for doccano_id, example_id in enumerate(("s000-002", "s000-013", "s000-015"), 1):
        split, ex = corpus_example(corpus, example_id)
        rows.append(exported(to_doccano(ex, split, "corpus", fingerprint(ex), "admin"), doccano_id))
    drop_last_entity(rows[0])  # s000-002 edited
    drop_last_entity(rows[2])  # s000-015 edited in doccano, but locally no longer what was pushed:
    rows[2]["base"] = "0" * 16
    export_zip = write_zip(tmp_path / "export.zip", {"all.jsonl": rows})
    approved_zip = write_zip(tmp_path / "approved.zip", {"all.jsonl": []})

    result = pull_from_zips(export_zip, approved_zip, PROJECT, collaborative=True, root=corpus)

    assert result.report.changed == Counter({"all": 1})
    assert result.kept_ids == ["s000-015"]
    assert result.plan.not_reviewed == Counter({"all": 1})  # s000-013: untouched
    _, merged = corpus_example(corpus, "s000-002")
    assert merged.meta["origin"] == f"doccano:{PROJECT}/all"
    assert len(merged.entities) == len(rows[0]["entities"])
    assert len(result.report.backups) == 1 and result.report.backups[0].name == "train.jsonl"


def test_annotators_who_disagree_are_not_merged(corpus: Path) -> None:
    split, ex = corpus_example(corpus, "s000-013")
    base = exported(to_doccano(ex, split, "corpus", fingerprint(ex), "admin"), 1)
    alice = dict(base, entities=base["entities"][:1], relations=[])
    bob = dict(base, entities=base["entities"][1:2], relations=[])
    plan = plan_pull({"admin": [base], "alice": [alice], "bob": [bob]}, {}, PROJECT, collaborative=False, root=corpus)
    assert plan.size == 0
    assert plan.disagreements and "alice, bob" in plan.disagreements[0]
    assert plan.not_reviewed == Counter({"admin": 1})


def test_keep_valid_leaves_out_overlaps_and_wrong_relations() -> None:
    text = "青岛华为产业园项目签约，总投资10亿元。"
    ex = Example(
        "x",
        text,
        [Entity(1, "PROJECT", 0, 9), Entity(2, "ORG", 2, 4), Entity(3, "STATUS", 9, 11), Entity(4, "MONEY", 15, 19), Entity(5, "SHOP", 0, 1)],
        [Relation(1, 1, 3, "STATUS"), Relation(2, 1, 4, "LOCATION"), Relation(3, 1, 2, "INVESTOR")],
        {"source": "test"},
    )
    kept, dropped = keep_valid(ex)
    assert [(e.label, e.start) for e in kept.entities] == [("PROJECT", 0), ("STATUS", 9), ("MONEY", 15)]
    assert [(r.type, r.head, r.tail) for r in kept.relations] == [("STATUS", 1, 2)]
    assert dropped == 4


def test_ranking_uses_the_annotators_own_uncertainty_when_it_has_one() -> None:
    class Model:
        name = "model"

        def annotate(self, text: str):  # pragma: no cover - not called when uncertainty exists
            raise AssertionError("ranking must use uncertainty()")

        def uncertainty(self, text: str) -> float:
            return {"a": 0.1, "b": 0.9, "c": 0.5}[text]

    cands = [Candidate(t, t, "train", {"kind": "test"}) for t in "abc"]
    assert [c.id for _, c in rank(cands, Model())] == ["b", "c", "a"]


def test_weak_uncertainty_counts_unresolved_project_mentions() -> None:
    project, status, money = SpanRef(0, 4, "PROJECT", "某某项目"), SpanRef(5, 7, "STATUS", "签约"), SpanRef(8, 12, "MONEY", "10亿元")
    resolved = weak_uncertainty([project, status, money], [RelationRef(0, 1, "STATUS"), RelationRef(0, 2, "AMOUNT")])
    unresolved = weak_uncertainty([project, status, money], [])
    assert resolved == 0.0 and unresolved == 0.75
    assert weak_uncertainty([money], []) == 0.0  # an amount alone is a budget figure, not a project


def test_paragraphs_cut_long_lines_at_sentence_ends() -> None:
    text = "标题\n\n" + "这是一个句子。" * 100 + "\n短行\n"
    pieces = paragraphs(text, max_chars=100)
    assert all(e - s <= 100 for s, e in pieces)
    assert text[pieces[0][0] : pieces[0][1]].startswith("标题")
    assert "".join(text[s:e] for s, e in pieces).replace("\n", "") == text.replace("\n", "")


# --------------------------------------------------------------------------- real server


@pytest.fixture(scope="module")
def doccano(tmp_path_factory: pytest.TempPathFactory):
    from pipeline.doccano.server import ensure_venv, free_port, port_in_use, running_pid, start, stop

    data = tmp_path_factory.mktemp("doccano-data")
    cfg = DoccanoConfig.from_env(env={}, port=free_port(), data_dir=data, venv=ROOT / ".venv-doccano")
    ensure_venv(cfg.venv)
    url = start(cfg, log=lambda _m: None)
    try:
        yield cfg, url
    finally:
        stop(cfg, log=lambda _m: None)
        assert running_pid(cfg) is None
        assert not port_in_use(cfg.port)


@pytest.mark.doccano
def test_push_edit_in_doccano_pull(doccano, corpus: Path) -> None:
    from doccano_client import DoccanoClient

    from pipeline.cli import app

    cfg, url = doccano
    chosen = ["s000-013", "s002-017", "s002-092"]  # short train paragraphs the weak annotator marks up
    for split in SPLITS:  # make them unlabelled in the corpus copy, so they get pre-annotations
        path = split_path(split, corpus)
        keep = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if json.loads(line)["id"] not in chosen]
        path.write_text("".join(keep), encoding="utf-8")
    env = {
        "DOCCANO_URL": url, "DOCCANO_ADMIN": cfg.admin, "DOCCANO_PASSWORD": cfg.password,
        "DOCCANO_DATA": str(cfg.data_dir), "DOCCANO_PROJECT": PROJECT,
    }  # fmt: skip
    runner = CliRunner()
    only = [arg for example_id in chosen for arg in ("--only", example_id)]
    pushed = runner.invoke(app, ["annotate", "push", "--annotator", "weak", "--root", str(corpus), *only], env=env)
    assert pushed.exit_code == 0, pushed.output
    assert "pushed 3 paragraph(s)" in pushed.output and "weak-preannotator 3" in pushed.output
    state = json.loads((cfg.data_dir / "state.json").read_text())
    assert sorted(state["projects"][PROJECT]["examples"]) == sorted(chosen)

    # an annotator at work, through doccano-client
    client = DoccanoClient(url)
    client.login(cfg.admin, cfg.password)
    project = next(p for p in client.list_projects() if p.name == PROJECT)
    assert sorted(t.text for t in client.list_label_types(project.id, "span")) == sorted(
        ["ORG", "PROJECT", "MONEY", "DATE", "INDUSTRY", "DISTRICT", "STATUS"]
    )
    docs = {ex.meta["example_id"]: ex for ex in client.list_examples(project.id)}
    assert sorted(docs) == sorted(chosen)
    edited = docs["s002-092"]
    label_name = {t.id: t.text for t in client.list_label_types(project.id, "span")}
    spans = client.list_spans(project.id, edited.id)
    relations = client.list_relations(project.id, edited.id)
    before = {s.id: (s.start_offset, s.end_offset, label_name[s.label]) for s in spans}
    in_relation = {r.from_id for r in relations} | {r.to_id for r in relations}
    target = next(s for s in spans if s.id not in in_relation and label_name[s.label] not in ("PROJECT", "STATUS", "ORG"))
    client.update_span(project.id, edited.id, target.id, label="ORG")  # edit one span's label
    head = next(s for s in spans if label_name[s.label] == "PROJECT")
    tail = next(s for s in spans if s.id != target.id and s.id not in in_relation and label_name[s.label] in TAIL_LABEL_TO_RELATION)
    relation_type = TAIL_LABEL_TO_RELATION[label_name[tail.label]]
    client.create_relation(project.id, edited.id, head.id, tail.id, relation_type)  # add one relation
    client.update_example_state(project.id, docs["s000-013"].id)  # approved without changes
    expected_spans = {(*before[s.id][:2], "ORG") if s.id == target.id else before[s.id] for s in spans}
    relation_type_name = {t.id: t.text for t in client.list_label_types(project.id, "relation")}
    expected_relations = {(relation_type_name[r.type], before[r.from_id], before[r.to_id]) for r in relations}
    expected_relations.add((relation_type, before[head.id], before[tail.id]))
    approved_spans = {
        (s.start_offset, s.end_offset, label_name[s.label]) for s in client.list_spans(project.id, docs["s000-013"].id)
    }

    train_before = split_path("train", corpus).read_bytes()
    pulled = runner.invoke(app, ["annotate", "pull", "--root", str(corpus)], env=env)
    assert pulled.exit_code == 0, pulled.output
    assert "added 2 (admin 1, all 1); changed 0; unchanged 0; kept 0" in pulled.output
    assert "not reviewed (left in doccano): all 1" in pulled.output

    split, merged = corpus_example(corpus, "s002-092")
    assert split == "train" and merged.meta["origin"] == f"doccano:{PROJECT}/all"
    assert semantic(merged) == (expected_spans, expected_relations)
    _, approved = corpus_example(corpus, "s000-013")
    assert semantic(approved)[0] == approved_spans and approved.meta["origin"] == f"doccano:{PROJECT}/admin"
    with pytest.raises(KeyError):
        corpus_example(corpus, "s002-017")  # nobody touched it: its pre-annotations stay out
    backups = list((corpus / "backups").glob("*/train.jsonl"))
    assert len(backups) == 1 and backups[0].read_bytes() == train_before

    again = runner.invoke(app, ["annotate", "pull", "--root", str(corpus)], env=env)
    assert again.exit_code == 0, again.output
    assert "added 0; changed 0; unchanged 2" in again.output
    assert len(list((corpus / "backups").iterdir())) == 1
