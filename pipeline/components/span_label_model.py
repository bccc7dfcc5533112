"""The span label model: scores each entity span's label from transformer token vectors.

The transition-based NER decides an entity's label at its first character, before it has
read the end of the name, and its errors are mostly the right span with the wrong label
(`上合风电装备产业园` as ORG, `常州恒达电机有限公司` as DISTRICT). This model reads the
whole span at once: the mean of its token vectors, its first and last token, and the
mean of `context` tokens on each side, then one hidden layer and a logit per label.
"""

from collections.abc import Callable

import numpy as np
from spacy.tokens import Doc, Span
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d

from .span_pooling import RangePlan, initialized_width, pool_ranges, range_gradients

GetSpans = Callable[[Doc], list[Span]]
N_RANGES = 5  # span, first token, last token, left context, right context


def all_entities(doc: Doc) -> list[Span]:
    return list(doc.ents)


def span_ranges(doc: Doc, spans: list[Span], context: int) -> np.ndarray:
    ranges = np.zeros((len(spans), N_RANGES, 2), dtype="int64")
    for i, span in enumerate(spans):
        s, e = span.start, span.end
        ranges[i] = ((s, e), (s, s + 1), (e - 1, e), (max(0, s - context), s), (e, min(len(doc), e + context)))
    return ranges


def span_vectors_forward(model: Model, docs: list[Doc], is_train: bool):
    tok2vec = model.get_ref("tok2vec")
    get_spans: GetSpans = model.attrs["get_spans"]
    context: int = model.attrs["context"]
    tokvecs, backprop_tokvecs = tok2vec(docs, is_train)
    width = tokvecs[0].shape[1] if tokvecs else model.get_dim("nO") // N_RANGES
    rows: list[np.ndarray] = []
    plans: list[RangePlan] = []
    for doc, vectors in zip(docs, tokvecs):
        ranges = span_ranges(doc, get_spans(doc), context)
        plans.append(RangePlan(len(doc), ranges))
        if len(ranges):
            vectors = model.ops.to_numpy(vectors)
            rows.append(pool_ranges(vectors, ranges).astype("float32"))
    output = np.vstack(rows) if rows else np.zeros((0, N_RANGES * width), dtype="float32")

    def backprop(d_output: Floats2d) -> list[Doc]:
        d_tokvecs = range_gradients(plans, model.ops.to_numpy(d_output), width)
        return backprop_tokvecs([model.ops.asarray2f(d) for d in d_tokvecs])

    return model.ops.asarray2f(output), backprop


def init_span_vectors(model: Model, X: list[Doc] | None = None, Y=None) -> None:
    model.set_dim("nO", N_RANGES * initialized_width(model.get_ref("tok2vec"), X))


@registry.architectures("pipeline.SpanLabelModel.v1")
def span_label_model(
    tok2vec: Model[list[Doc], list[Floats2d]],
    hidden_width: int = 128,
    context: int = 3,
    dropout: float = 0.1,
) -> Model[list[Doc], Floats2d]:
    """Logits (n_spans, n_labels) for the spans `attrs["get_spans"]` picks in a batch
    (every entity unless the component says otherwise); n_labels is set at initialize."""
    span_vectors: Model[list[Doc], Floats2d] = Model(
        "span_vectors",
        span_vectors_forward,
        init=init_span_vectors,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        attrs={"get_spans": all_entities, "context": context},
        dims={"nO": None},
    )
    model = chain(span_vectors, Relu(nO=hidden_width, dropout=dropout), Linear())
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("span_vectors", span_vectors)
    return model


def init_span_label_model(model: Model, docs: list[Doc], n_labels: int) -> None:
    """Shape inference without running the classifier on empty data."""
    span_vectors = model.get_ref("span_vectors")
    span_vectors.initialize(X=docs)
    classifier = chain(*model.layers[1:])
    n_in = span_vectors.get_dim("nO")
    classifier.initialize(X=model.ops.alloc2f(2, n_in), Y=model.ops.alloc2f(2, n_labels))
