"""Authoring compiler, validator, merge, seed segments and the public-set mappings."""
from __future__ import annotations

import json

import pytest

from pipeline.annotations.authoring import AuthoringError, compile_row, decompile
from pipeline.annotations.corpus import Entity, Example, Relation, read_splits
from pipeline.annotations.merge import merge_into_splits
from pipeline.annotations.public_sets import (
    CFSC_TO_OURS,
    CLUENER_TO_OURS,
    address_to_district,
    map_cluener_row,
    read_cfsc,
    read_peoples_daily,
    sample_public_examples,
    time_is_date,
)
from pipeline.annotations.seeds import all_segments
from pipeline.annotations.validate import example_faults, validate_splits
from pipeline.schema import stage_of

from .conftest import seed_text

TEXT = "总投资20.7亿元的佰鸿未来科技产业园项目在环翠区签约。该项目签约后将于6月开工。"


def row(**kw):
    base = {"id": "t1", "text": TEXT, "source": {"kind": "written", "author": "test"}}
    base.update(kw)
    return base


def test_authoring_places_spans_by_surface_and_occurrence():
    compiled = compile_row(
        row(
            spans=[["MONEY", "20.7亿元"], ["PROJECT", "佰鸿未来科技产业园项目"], ["DISTRICT", "环翠区"], ["STATUS", "签约"], ["STATUS", "签约", 2], ["STATUS", "开工"], ["DATE", "6月"]],
            relations=[["AMOUNT", "佰鸿未来科技产业园项目", "20.7亿元"], ["STATUS", "佰鸿未来科技产业园项目", "签约@1"], ["STATUS", "佰鸿未来科技产业园项目", "开工"]],
        )
    )
    ex = compiled.example
    spans = [(ex.span_text(e), e.label, e.start) for e in ex.entities]
    assert spans[0] == ("20.7亿元", "MONEY", 3)
    assert [s for s in spans if s[0] == "签约"] == [("签约", "STATUS", 25), ("签约", "STATUS", 31)]
    assert example_faults(ex) == []
    by_id = ex.entity_by_id()
    assert {(r.type, ex.span_text(by_id[r.tail])) for r in ex.relations} == {("AMOUNT", "20.7亿元"), ("STATUS", "签约"), ("STATUS", "开工")}
    assert compile_row(decompile(ex)).example.to_json() == ex.to_json()


@pytest.mark.parametrize(
    "spans, relations, message",
    [
        ([["MONEY", "30亿元"]], [], "cannot place"),
        ([["STATUS", "签约", 3]], [], "occurrence 3"),
        ([["PROJECT", "佰鸿未来科技产业园项目"], ["DISTRICT", "科技产业园"]], [], "overlap"),
        ([["PLACE", "环翠区"]], [], "unknown label"),
        ([["PROJECT", "佰鸿未来科技产业园项目"], ["STATUS", "签约"], ["STATUS", "签约", 2]], [["STATUS", "佰鸿未来科技产业园项目", "签约"]], "@N"),
        ([["PROJECT", "佰鸿未来科技产业园项目"], ["DISTRICT", "环翠区"]], [["AMOUNT", "佰鸿未来科技产业园项目", "环翠区"]], "needs PROJECT -> MONEY"),
        ([["PROJECT", "佰鸿未来科技产业园项目"]], [["LOCATION", "佰鸿未来科技产业园项目", "环翠区"]], "not a declared span"),
    ],
)
def test_authoring_refuses_what_it_cannot_place(spans, relations, message):
    with pytest.raises(AuthoringError, match=message):
        compile_row(row(spans=spans, relations=relations))


def test_authoring_warns_about_unlabelled_repeats():
    compiled = compile_row(row(spans=[["STATUS", "签约"]], relations=[]))
    assert len(compiled.warnings) == 1 and "签约" in compiled.warnings[0]


def test_validator_reports_each_fault_with_its_example():
    good = compile_row(row(spans=[["PROJECT", "佰鸿未来科技产业园项目"], ["DISTRICT", "环翠区"]], relations=[["LOCATION", "佰鸿未来科技产业园项目", "环翠区"]])).example
    bad = Example(
        "bad-1",
        "佰鸿项目在环翠区签约",
        [Entity(1, "PROJECT", 0, 4), Entity(2, "DISTRICT", 3, 8), Entity(3, "STATUS", 8, 40), Entity(4, "PLACE", 0, 1)],
        [Relation(1, 1, 2, "AMOUNT"), Relation(2, 1, 9, "STATUS")],
        {"source": {"kind": "written"}},
    )
    dup = Example("dup", good.text, [], [], {"source": {"kind": "written"}})
    faults, counts = validate_splits({"train": [good, bad], "dev": [dup]})
    reasons = [str(f) for f in faults]
    assert any("bad-1" in r and "outside the text" in r for r in reasons)
    assert any("bad-1" in r and "overlap" in r for r in reasons)
    assert any("unknown label 'PLACE'" in r for r in reasons)
    assert any("needs PROJECT -> MONEY" in r for r in reasons)
    assert any("missing entity" in r for r in reasons)
    assert any("[dev] dup: same text as train/t1" in r for r in reasons)
    assert counts["train"].relations["LOCATION"] == 1


def test_report_examples_must_quote_the_report_exactly():
    from pipeline.annotations.seeds import read_reports

    name = "gov_work_reports_national_1954_2025.jsonl"
    title, content = next(iter(read_reports(name).items()))
    start = content.index("。") + 1
    end = content.index("。", start) + 1
    source = {"kind": "report", "file": name, "title": title, "start": start, "end": end}
    quoted = Example("r-1", content[start:end], [], [], {"source": source})
    assert example_faults(quoted) == []
    altered = Example("r-2", content[start:end] + "。", [], [], {"source": source})
    assert any("text differs from report" in r for r in example_faults(altered))
    unknown = Example("r-3", quoted.text, [], [], {"source": dict(source, title="no such report")})
    assert any("report source unreadable" in r for r in example_faults(unknown))


def test_committed_corpus_is_valid():
    faults, counts = validate_splits(read_splits())
    assert faults == []
    assert counts["dev"].examples > 0 and counts["test"].examples > 0


def test_seed_segments_cover_every_seed_and_keep_splits_apart():
    segments = all_segments()
    by_split = {}
    for seg in segments:
        assert seed_text(seg.file[:3])[seg.start : seg.end] == seg.text
        by_split.setdefault(seg.split, set()).add(seg.file[:3])
    assert "001" not in by_split["train"] and "004" not in by_split["train"]
    articles_002 = {seg.split for seg in segments if seg.file.startswith("002")}
    assert articles_002 == {"train", "dev", "test"}


def test_merge_adds_replaces_with_backup_and_keeps_protected(tmp_path):
    def ex(i, label, origin):
        return Example(i, f"文本{i}", [Entity(1, label, 0, 2)], [], {"source": {"kind": "written"}, "origin": origin})
    first = merge_into_splits({"train": [ex("a", "ORG", "authored:x"), ex("b", "ORG", "doccano:1")]}, root=tmp_path)
    assert sum(first.added.values()) == 2 and not first.backups
    second = merge_into_splits(
        {"train": [ex("a", "DATE", "authored:x"), ex("b", "DATE", "authored:x"), ex("c", "ORG", "authored:x")]},
        root=tmp_path,
        may_replace=lambda old, new: old.meta["origin"].startswith("authored:"),
    )
    assert sum(second.changed.values()) == 1 and sum(second.kept.values()) == 1 and sum(second.added.values()) == 1
    assert len(second.backups) == 1 and second.backups[0].exists()
    stored = {e.id: e.entities[0].label for e in read_splits(tmp_path)["train"]}
    assert stored == {"a": "DATE", "b": "ORG", "c": "ORG"}
    backed_up = [json.loads(line)["id"] for line in second.backups[0].read_text(encoding="utf-8").splitlines()]
    assert backed_up == ["a", "b"]


def test_stage_words_map_including_traditional_and_glossed():
    assert stage_of("签约") == "signed" and stage_of("集中签约") == "signed"
    assert stage_of("開工建設") == "started" and stage_of("落戶") == "landed"
    assert stage_of("對(duì)接") == "negotiating" and stage_of("投產") == "operating"
    assert stage_of("研究") is None


# ---- public sets: one test per mapping


def test_cluener_company_government_organization_map_to_org():
    assert {k for k, v in CLUENER_TO_OURS.items() if v == "ORG"} == {"company", "government", "organization"}
    ex = map_cluener_row(
        {"text": "威海市商务局与华润资本签约，中国航天基金会出席", "label": {"government": {"威海市商务局": [[0, 5]]}, "company": {"华润资本": [[7, 10]]}, "organization": {"中国航天基金会": [[14, 20]]}, "name": {"某人": [[0, 1]]}}},
        0,
        "train",
    )
    assert [(ex.text[s:e], l) for s, e, l in ex.spans] == [("威海市商务局", "ORG"), ("华润资本", "ORG"), ("中国航天基金会", "ORG")]


def test_cluener_address_maps_to_district_only_for_administrative_areas():
    assert address_to_district("山东省威海市环翠区") == (0, 9)
    assert address_to_district("北京市海淀区中关村大街") == (0, 6)
    assert address_to_district("泗水街") is None
    assert address_to_district("布莱克本埃伍德公园") is None
    ex = map_cluener_row({"text": "他住在北京市海淀区中关村大街", "label": {"address": {"北京市海淀区中关村大街": [[3, 13]]}}}, 0, "dev")
    assert [(ex.text[s:e], l) for s, e, l in ex.spans] == [("北京市海淀区", "DISTRICT")]


def test_peoples_daily_time_maps_to_date_except_durations_and_times_of_day():
    assert time_is_date("1998年") and time_is_date("今年") and time_is_date("一季度") and time_is_date("3月28日")
    assert not time_is_date("三年") and not time_is_date("48小时") and not time_is_date("上午") and not time_is_date("日前")
    examples = list(read_peoples_daily("dev"))
    assert len(examples) > 1000
    spans = [(ex.text[s:e], l) for ex in examples for s, e, l in ex.spans]
    assert spans and all(l == "DATE" for _, l in spans) and all(time_is_date(t) for t, _ in spans)


def test_cfsc_corporate_maps_to_org():
    assert CFSC_TO_OURS == {"Corporate": "ORG"}
    examples = list(read_cfsc("val"))
    spans = [(ex.text[s:e], l) for ex in examples for s, e, l in ex.spans]
    assert ("美的集团", "ORG") in spans and all(l == "ORG" for _, l in spans)


def test_whole_corpus_round_trips_through_docbin_exactly(tmp_path):
    from pipeline.annotations.docbin import (
        blank_nlp,
        doc_relations,
        doc_to_example,
        example_to_doc,
        read_docbin,
        write_docbin,
    )

    nlp = blank_nlp()
    for split, examples in read_splits().items():
        path = tmp_path / f"{split}.spacy"
        write_docbin((example_to_doc(nlp, ex) for ex in examples), path)
        docs = list(read_docbin(path, nlp))
        assert len(docs) == len(examples)
        for ex, doc in zip(examples, docs):
            assert len(doc.ents) == len(ex.entities)
            assert len(doc_relations(doc)) == len(ex.relations)
            assert doc_to_example(doc).to_json() == ex.to_json()


def test_public_sets_convert_to_aligned_partial_docs(tmp_path):
    from pipeline.annotations.docbin import PARTIAL_KEY, blank_nlp, partial_doc, read_docbin, write_docbin
    from pipeline.annotations.public_sets import iter_public_examples

    nlp = blank_nlp()
    examples = list(iter_public_examples())
    count = write_docbin((partial_doc(nlp, ex.id, ex.text, ex.spans, ex.source) for ex in examples), tmp_path / "public.spacy")
    assert count == len(examples) > 10000
    spans_in = sum(len(ex.spans) for ex in examples)
    docs = list(read_docbin(tmp_path / "public.spacy", nlp))
    assert sum(len(doc.ents) for doc in docs) == spans_in
    doc = next(d for d in docs if d.ents)
    assert doc.user_data[PARTIAL_KEY] is True
    outside = [t for t in doc if t.ent_iob_ == ""]
    assert outside, "tokens outside the known spans are missing, not O"


def test_public_mix_sample_is_reproducible_and_labelled():
    first = sample_public_examples(["cfsc"], 30, seed=5)
    again = sample_public_examples(["cfsc"], 30, seed=5)
    other = sample_public_examples(["cfsc"], 30, seed=6)
    assert [ex.id for ex in first] == [ex.id for ex in again] != [ex.id for ex in other]
    assert len(first) == 30 and all(ex.spans for ex in first)
    for ex in first:
        assert all(ex.text[s:e] and label == "ORG" for s, e, label in ex.spans)
    with pytest.raises(ValueError, match="unknown public sets"):
        sample_public_examples(["msra"], 5, seed=1)


def test_corpus_weights_repeat_examples_by_source_kind():
    from pipeline.model.train import source_kind, weighted

    train = read_splits()["train"]
    kinds = {source_kind(ex) for ex in train}
    assert {"seed", "written", "report"} <= kinds
    repeated = weighted(train, {"seed": 3, "written": 0})
    seeds = [ex for ex in train if source_kind(ex) == "seed"]
    assert len(repeated) == 3 * len(seeds) + sum(source_kind(ex) == "report" for ex in train)
    assert [ex.id for ex in repeated].count(seeds[0].id) == 3
    assert not any(source_kind(ex) == "written" for ex in repeated)
    assert weighted(train, {}) == train
