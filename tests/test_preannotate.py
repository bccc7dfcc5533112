"""The weak pre-annotator on real phrases from the seeds."""
from __future__ import annotations

from pipeline.annotations.corpus import read_splits
from pipeline.annotations.preannotate import preannotate, preannotate_example
from pipeline.evaluation.metrics import Scores, score

from .conftest import seed_text


def labelled(text):
    spans, relations = preannotate(text)
    return {(text[s:e], label) for s, e, label in spans}, {(r.type, text[spans[r.head][0]:spans[r.head][1]], text[spans[r.tail][0]:spans[r.tail][1]]) for r in relations}


def test_signing_sentence_from_the_progress_table():
    text = "2月27日，组织佰鸿未来科技产业园项目签约仪式，推动投资20.7亿元佰鸿未来科技产业园项目签约落地。"
    spans, relations = labelled(text)
    assert {("2月27日", "DATE"), ("20.7亿元", "MONEY"), ("佰鸿未来科技产业园项目", "PROJECT"), ("签约", "STATUS"), ("落地", "STATUS")} <= spans
    assert ("AMOUNT", "佰鸿未来科技产业园项目", "20.7亿元") in relations


def test_registered_capital_is_money_but_not_an_amount():
    text = "近期,总投资3亿美元,注册资本1亿美元的山东鸿瑞医疗器械产业园项目拟落户威海经济技术开发区。"
    spans, relations = labelled(text)
    assert {("3亿美元", "MONEY"), ("1亿美元", "MONEY"), ("落户", "STATUS"), ("威海经济技术开发区", "DISTRICT")} <= spans
    assert ("注册", "STATUS") not in spans
    assert not any(t == "AMOUNT" and tail == "1亿美元" for t, _, tail in relations)


def test_traditional_text_offsets_point_into_the_original():
    text = seed_text("003")
    spans, _ = preannotate(text)
    assert spans
    for start, end, _ in spans:
        assert 0 <= start < end <= len(text)
    surfaces = {text[s:e] for s, e, label in spans if label == "MONEY"}
    assert "29.4億美元" in surfaces


def test_dev_scores_are_computed_for_every_label():
    gold = read_splits()["dev"]
    scores = score(gold, [preannotate_example(ex.id, ex.text) for ex in gold])
    micro = Scores.micro(scores.entities)
    assert micro.tp > 0 and micro.tp + micro.fn == sum(len(ex.entities) for ex in gold)
    assert scores.entities["MONEY"].f1 > 0.8
