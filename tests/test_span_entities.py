"""The span entity finder: its candidates on the real corpus, its hand-written backward
pass against finite differences, and its decoding."""
from __future__ import annotations

import numpy as np
import pytest
from spacy.tokens import Span
from spacy.util import registry
from thinc.api import Config

import pipeline.components  # noqa: F401  (registers the architectures)
from pipeline.annotations.corpus import read_splits
from pipeline.annotations.docbin import blank_nlp, example_to_doc
from pipeline.components.span_entity_model import CLAUSE_BREAKS, CLOSERS, OPENERS, span_candidates

LABELS = ("ORG", "PROJECT", "DISTRICT", "INDUSTRY")


@pytest.fixture(scope="module")
def nlp():
    return blank_nlp()


@pytest.fixture(scope="module")
def test_docs(nlp):
    return [example_to_doc(nlp, ex) for ex in read_splits()["test"]]


def test_every_gold_name_of_the_test_split_is_a_candidate(test_docs) -> None:
    names = 0
    for doc in test_docs:
        candidates = {tuple(c) for c in span_candidates(doc, 20).tolist()}
        for ent in doc.ents:
            if ent.label_ in LABELS:
                names += 1
                assert (ent.start, ent.end) in candidates, ent.text
    assert names > 400


def test_candidates_never_cross_a_clause_or_start_and_end_on_punctuation(test_docs) -> None:
    doc = test_docs[0]
    candidates = span_candidates(doc, 6)
    assert len(candidates) > len(doc)  # many per token
    assert (candidates[:, 1] - candidates[:, 0]).max() == 6
    for start, end in candidates.tolist():
        span = doc[start:end]
        assert not any(tok.text in CLAUSE_BREAKS or tok.is_space for tok in span), span.text
        assert not (span[0].is_punct and span[0].text not in OPENERS), span.text
        assert not (span[-1].is_punct and span[-1].text not in CLOSERS), span.text


def test_no_candidates_in_an_empty_doc(nlp) -> None:
    assert span_candidates(nlp.make_doc(""), 20).shape == (0, 2)


def _small_model(max_width: int = 5):
    config = Config().from_str(
        f"""
        [model]
        @architectures = "pipeline.SpanEntityModel.v1"
        max_width = {max_width}
        hidden_width = 8
        context = 2
        dropout = 0.0

        [model.tok2vec]
        @architectures = "spacy.Tok2Vec.v2"

        [model.tok2vec.embed]
        @architectures = "spacy.MultiHashEmbed.v2"
        width = 12
        attrs = ["ORTH"]
        rows = [50]
        include_static_vectors = false

        [model.tok2vec.encode]
        @architectures = "spacy.MaxoutWindowEncoder.v2"
        width = 12
        depth = 1
        window_size = 1
        maxout_pieces = 2
        """
    )
    return registry.resolve(config)["model"]


def test_span_hidden_backward_matches_finite_differences(nlp) -> None:
    from pipeline.components.span_entity_model import init_span_entity_model

    docs = [nlp.make_doc("青岛市崂山区签约华为云项目，总投资10亿元。"), nlp.make_doc("新能源产业园开工")]
    model = _small_model()
    init_span_entity_model(model, docs, n_classes=5)
    hidden = model.get_ref("span_hidden")
    rng = np.random.default_rng(0)
    out, _ = hidden(docs, is_train=False)
    weights = rng.normal(size=out.shape).astype("float32")

    def loss() -> float:
        return float((hidden.predict(docs).astype("float64") * weights).sum())

    for name in ("W", "E", "b"):
        hidden.set_grad(name, np.zeros_like(hidden.get_param(name)))
    _, backprop = hidden.begin_update(docs)
    backprop(weights)
    # the bias moves every span at once, so any step flips some ReLU: its gradient is
    # the upstream gradient summed over the active outputs
    assert np.allclose(hidden.get_grad("b"), (weights * (out > 0)).sum(axis=0), rtol=1e-4, atol=1e-3)
    # a step can flip a ReLU somewhere, so one pick in twelve may disagree
    for name in ("W", "E"):
        param = hidden.get_param(name)
        grad = hidden.get_grad(name)
        flat = param.reshape(-1)
        picks = rng.choice(flat.size, size=min(12, flat.size), replace=False)
        eps = 1e-3
        wrong = []
        for i in picks:
            old = flat[i]
            flat[i] = old + eps
            up = loss()
            flat[i] = old - eps
            down = loss()
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            if abs(numeric - grad.reshape(-1)[i]) > 2e-2 * max(1.0, abs(numeric)):
                wrong.append((int(i), numeric, float(grad.reshape(-1)[i])))
        assert len(wrong) <= 1, (name, wrong)
        assert np.abs(grad).sum() > 0


def test_decode_keeps_other_labels_and_the_most_probable_non_overlapping_spans(nlp) -> None:
    model = _small_model()
    component = pipeline.components.span_entities.SpanEntities(nlp.vocab, model, labels=list(LABELS), threshold=0.5)
    doc = nlp.make_doc("青岛财富产品交易中心投资10亿元")
    doc.ents = [Span(doc, 0, 2, label="DISTRICT"), Span(doc, 12, 16, label="MONEY")]
    spans = np.array([[0, 2], [0, 10], [2, 10], [10, 12], [12, 16]])
    probs = np.array(
        [
            [0.3, 0.0, 0.0, 0.7, 0.0],  # DISTRICT 青岛, overlaps the better span
            [0.1, 0.0, 0.9, 0.0, 0.0],  # PROJECT 青岛财富产品交易中心
            [0.2, 0.8, 0.0, 0.0, 0.0],  # overlaps the kept PROJECT
            [0.6, 0.4, 0.0, 0.0, 0.0],  # below the threshold
            [0.0, 1.0, 0.0, 0.0, 0.0],  # overlaps the NER's MONEY, which stays
        ]
    )
    ents = component.decode(doc, spans, probs)
    assert [(e.text, e.label_) for e in ents] == [("青岛财富产品交易中心", "PROJECT"), ("10亿元", "MONEY")]
    component.cfg["threshold"] = 0.35
    ents = component.decode(doc, spans, probs)
    assert [(e.text, e.label_) for e in ents] == [("青岛财富产品交易中心", "PROJECT"), ("投资", "ORG"), ("10亿元", "MONEY")]


def test_threshold_must_be_a_probability(nlp) -> None:
    with pytest.raises(ValueError, match="threshold"):
        pipeline.components.span_entities.SpanEntities(nlp.vocab, _small_model(), threshold=0.0)
