"""The place filter on the Laoshan district work report (seed 002): DISTRICT spans the
guidelines exclude go, real districts stay, other labels are never touched."""
from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Doc

import pipeline.components  # noqa: F401  (registers the factories)

from .conftest import seed_text


@pytest.fixture(scope="module")
def report() -> str:
    text = seed_text("002")
    start = text.index("【崂山区招商】")
    return text[start:]


def _doc_with(nlp, text: str, spans: list[tuple[str, str]]) -> Doc:
    doc = nlp.make_doc(text)
    ents = []
    for surface, label in spans:
        start = text.index(surface)
        ents.append(doc.char_span(start, start + len(surface), label=label))
    doc.set_ents(ents)
    return doc


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    nlp.add_pipe("place_filter")
    return nlp


def test_drops_places_of_events_slogans_and_roads(nlp, report: str) -> None:
    cases = {
        "服务保障上合组织青岛": "青岛",  # 上合组织青岛峰会: an event
        "“崂山担当": "崂山",  # “崂山担当”: a slogan
        "打通了海口路": "海口路",  # a road
        "北涧安置区": "北涧安置区",  # a resettlement compound
        "第28届青岛": "青岛",  # 青岛国际啤酒节: a festival
    }
    for context, place in cases.items():
        start = report.index(context) + context.index(place)
        doc = nlp.make_doc(report)
        doc.set_ents([doc.char_span(start, start + len(place), label="DISTRICT")])
        assert list(nlp.get_pipe("place_filter")(doc).ents) == [], context


def test_keeps_districts_streets_and_other_labels(nlp, report: str) -> None:
    # 青岛市崂山区 in the title, a road under another label, and a street (街道) name
    text = report + "\n沙子口街道"
    doc = _doc_with(nlp, text, [("青岛市", "DISTRICT"), ("崂山区", "DISTRICT"), ("海口路", "ORG"), ("沙子口街道", "DISTRICT")])
    ents = list(doc.ents)
    kept = nlp.get_pipe("place_filter")(doc)
    assert [(e.text, e.label_) for e in kept.ents] == [(e.text, e.label_) for e in ents]


def test_rules_come_from_the_config(report: str) -> None:
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    nlp.add_pipe("place_filter", config={"not_place_suffixes": [], "event_words": [], "slogan_max_chars": 0})
    doc = _doc_with(nlp, report, [("海口路", "DISTRICT")])
    assert [e.text for e in nlp(doc).ents] == ["海口路"]
