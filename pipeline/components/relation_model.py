"""The relation model: scores (PROJECT, other entity) pairs from transformer token vectors.

A pair's vector is the mean of its head span's token vectors, the mean of its tail
span's, the mean of what lies between them, and a few exact facts a list sentence needs
(the gap in characters and its direction, how many other projects, entities of the
tail's label and sentence ends lie between, whether each is the other's nearest) —
then one hidden layer and a logit per relation type. Candidate pairs come from
`pipeline.project_pairs.v1`, which may cross sentence ends: in a list sentence one
district, stage or date belongs to every project of the list.
"""

import re
from collections.abc import Callable

import numpy as np
from spacy.tokens import Doc, Span
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d

from ..schema import ENTITY_LABELS, RELATION_TYPES, TAIL_LABEL_TO_RELATION
from .span_pooling import RangePlan, initialized_width, pool_ranges, range_gradients

Pair = tuple[Span, Span]
GetCandidates = Callable[[Doc], list[Pair]]

GAP_BUCKETS = (0, 2, 5, 10, 20, 40, 80, 160)  # upper bounds of the first buckets
COUNT_BUCKETS = 4  # 0, 1, 2, 3 or more
TAIL_LABELS = tuple(label for label in ENTITY_LABELS if label in TAIL_LABEL_TO_RELATION)
N_PAIR_FEATURES = 2 * (len(GAP_BUCKETS) + 1) + 3 * COUNT_BUCKETS + len(TAIL_LABELS) + 2
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


@registry.misc("pipeline.project_pairs.v1")
def configure_project_pairs(max_gap: int = 250) -> GetCandidates:
    """Every (PROJECT, entity of a tail label) pair whose spans are at most max_gap
    characters apart, in document order; sentence ends do not stop a pair."""

    def get_candidates(doc: Doc) -> list[Pair]:
        ents = list(doc.ents)
        projects = [e for e in ents if e.label_ == "PROJECT"]
        tails = [e for e in ents if e.label_ in TAIL_LABEL_TO_RELATION]
        pairs = []
        for head in projects:
            for tail in tails:
                gap = max(tail.start_char - head.end_char, head.start_char - tail.end_char, 0)
                if gap <= max_gap:
                    pairs.append((head, tail))
        return pairs

    return get_candidates


def _bucket(value: int, bounds: tuple[int, ...]) -> int:
    for i, bound in enumerate(bounds):
        if value <= bound:
            return i
    return len(bounds)


def pair_features(doc: Doc, pairs: list[Pair]) -> np.ndarray:
    """The exact, non-learned facts about each pair (see the module docstring)."""
    feats = np.zeros((len(pairs), N_PAIR_FEATURES), dtype="float32")
    if not pairs:
        return feats
    ends = np.zeros(len(doc.text) + 1, dtype="int32")
    for m in _SENTENCE_END.finditer(doc.text):
        ends[m.end()] += 1
    ends = np.cumsum(ends)
    ents = list(doc.ents)
    project_starts = np.array([e.start_char for e in ents if e.label_ == "PROJECT"])
    starts_by_label = {label: np.array([e.start_char for e in ents if e.label_ == label]) for label in TAIL_LABELS}
    n_gap = len(GAP_BUCKETS) + 1

    def distance(a: Span, b: Span) -> int:
        return max(b.start_char - a.end_char, a.start_char - b.end_char, 0)

    nearest_tail: dict[tuple[int, str], int] = {}
    nearest_head: dict[int, int] = {}
    for head, tail in pairs:
        key = (head.start_char, tail.label_)
        d = distance(head, tail)
        nearest_tail[key] = min(nearest_tail.get(key, d), d)
        nearest_head[tail.start_char] = min(nearest_head.get(tail.start_char, d), d)
    for row, (head, tail) in enumerate(pairs):
        gap = distance(head, tail)
        after = tail.start_char >= head.end_char
        feats[row, (0 if after else n_gap) + _bucket(gap, GAP_BUCKETS)] = 1
        lo, hi = (head.end_char, tail.start_char) if after else (tail.end_char, head.start_char)
        lo, hi = min(lo, hi), max(lo, hi)
        offset = 2 * n_gap
        projects_between = int(((project_starts >= lo) & (project_starts < hi)).sum())
        same_between = int(((starts_by_label[tail.label_] >= lo) & (starts_by_label[tail.label_] < hi)).sum())
        sentence_ends = int(ends[hi] - ends[lo])
        for i, count in enumerate((projects_between, same_between, sentence_ends)):
            feats[row, offset + i * COUNT_BUCKETS + min(count, COUNT_BUCKETS - 1)] = 1
        offset += 3 * COUNT_BUCKETS
        feats[row, offset + TAIL_LABELS.index(tail.label_)] = 1
        offset += len(TAIL_LABELS)
        feats[row, offset] = float(gap == nearest_tail[(head.start_char, tail.label_)])
        feats[row, offset + 1] = float(gap == nearest_head[tail.start_char])
    return feats


def pair_vectors_forward(model: Model, docs: list[Doc], is_train: bool):
    tok2vec = model.get_ref("tok2vec")
    get_candidates: GetCandidates = model.attrs["get_candidates"]
    tokvecs, backprop_tokvecs = tok2vec(docs, is_train)
    width = tokvecs[0].shape[1] if tokvecs else model.get_dim("nO") // 3
    rows: list[np.ndarray] = []
    plans: list[RangePlan] = []  # ranges per pair: head, tail, between
    for doc, vectors in zip(docs, tokvecs):
        pairs = get_candidates(doc)
        bounds = np.zeros((len(pairs), 3, 2), dtype="int64")
        for i, (head, tail) in enumerate(pairs):
            first, second = (head, tail) if head.start <= tail.start else (tail, head)
            between = (first.end, max(first.end, second.start))
            bounds[i] = ((head.start, head.end), (tail.start, tail.end), between)
        plans.append(RangePlan(len(doc), bounds))
        if not pairs:
            continue
        vectors = model.ops.to_numpy(vectors)
        rows.append(np.hstack([pool_ranges(vectors, bounds), pair_features(doc, pairs)]).astype("float32"))
    output = np.vstack(rows) if rows else np.zeros((0, 3 * width + N_PAIR_FEATURES), dtype="float32")

    def backprop(d_output: Floats2d) -> list[Doc]:
        d_tokvecs = range_gradients(plans, model.ops.to_numpy(d_output), width)
        return backprop_tokvecs([model.ops.asarray2f(d) for d in d_tokvecs])

    return model.ops.asarray2f(output), backprop


def init_pair_vectors(model: Model, X: list[Doc] | None = None, Y=None) -> None:
    model.set_dim("nO", 3 * initialized_width(model.get_ref("tok2vec"), X) + N_PAIR_FEATURES)


@registry.architectures("pipeline.RelationModel.v1")
def relation_model(
    tok2vec: Model[list[Doc], list[Floats2d]],
    get_candidates: GetCandidates,
    hidden_width: int = 256,
    dropout: float = 0.1,
) -> Model[list[Doc], Floats2d]:
    """Logits (n_candidate_pairs, n_relation_types) for the candidate pairs of a batch."""
    pair_vectors: Model[list[Doc], Floats2d] = Model(
        "pair_vectors",
        pair_vectors_forward,
        init=init_pair_vectors,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        attrs={"get_candidates": get_candidates},
        dims={"nO": None},
    )
    classifier = chain(Relu(nO=hidden_width, dropout=dropout), Linear(nO=len(RELATION_TYPES)))
    model = chain(pair_vectors, classifier)
    model.attrs["get_candidates"] = get_candidates
    model.set_ref("tok2vec", tok2vec)
    return model


def init_relation_model(model: Model, docs: list[Doc]) -> None:
    """Shape inference without running the classifier on empty data."""
    pair_vectors, classifier = model.layers
    pair_vectors.initialize(X=docs)
    n_in = pair_vectors.get_dim("nO")
    sample = model.ops.alloc2f(2, n_in)
    classifier.initialize(X=sample, Y=model.ops.alloc2f(2, len(RELATION_TYPES)))
