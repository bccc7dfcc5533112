"""The span entity model: scores every candidate span of a doc as no entity or one label.

The transition-based NER commits to an entity's label and start at its first character,
before it has read the rest of the name, and most of its test errors are boundaries
(`青岛` for `青岛财富产品交易中心`, `山东重` for `山东`). This model reads every span up to
`max_width` tokens whole: its first and last token, the mean of its tokens, the mean of
`context` tokens on each side, and its width.

The hidden layer is linear in those parts, so each part is projected once per token and
a span only adds projected rows: a paragraph's ~10^4 candidates cost (n_tokens, 5h)
projections instead of (n_spans, 5d) features.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Dropout, Linear, Model, chain, glorot_uniform_init
from thinc.types import Floats2d, Ints2d

from .span_pooling import initialized_width

N_PARTS = 5  # first token, last token, mean inside, mean left context, mean right context
CLAUSE_BREAKS = frozenset("，。；：！？、\n;!?")
OPENERS = frozenset("（(《“‘「【[")
CLOSERS = frozenset("）)》”’」】]")

GetCandidates = Callable[[Doc], Ints2d]


def _token_flags(doc: Doc, chars: frozenset[str]) -> np.ndarray:
    hashes = np.array([doc.vocab.strings.add(ch) for ch in sorted(chars)], dtype="uint64")
    return np.isin(doc.to_array("ORTH").astype("uint64"), hashes)


def span_candidates(doc: Doc, max_width: int) -> Ints2d:
    """(n, 2) token [start, end) of every span of at most max_width tokens that does not
    cross a clause break and neither starts nor ends on space or punctuation (an opening
    bracket may start one, a closing bracket end one: `杭州高新区（滨江）`)."""
    n = len(doc)
    if n == 0:
        return np.zeros((0, 2), dtype="int64")
    flags = doc.to_array(["IS_PUNCT", "IS_SPACE"]).astype(bool)
    is_space = flags[:, 1]
    is_break = _token_flags(doc, CLAUSE_BREAKS) | is_space
    edge = flags[:, 0] | is_space
    good_start = ~edge | _token_flags(doc, OPENERS)
    good_end = ~edge | _token_flags(doc, CLOSERS)
    breaks_before = np.concatenate([[0], np.cumsum(is_break)])
    starts = np.repeat(np.arange(n), max_width)
    ends = starts + np.tile(np.arange(1, max_width + 1), n)
    keep = ends <= n
    starts, ends = starts[keep], ends[keep]
    keep = good_start[starts] & good_end[ends - 1] & (breaks_before[ends] == breaks_before[starts])
    return np.stack([starts[keep], ends[keep]], axis=1).astype("int64")


@dataclass
class SpanPlan:
    """One doc's candidates and the token ranges its parts read. Candidates come sorted by
    start; `by_end` sorts them by end (the ranges at and after a span's end share it)."""

    n_tokens: int
    spans: Ints2d
    left: np.ndarray  # first token of the left context
    right: np.ndarray  # end of the right context
    by_end: np.ndarray

    @classmethod
    def of(cls, spans: Ints2d, n_tokens: int, context: int) -> "SpanPlan":
        starts, ends = spans[:, 0], spans[:, 1]
        return cls(
            n_tokens,
            spans,
            np.maximum(0, starts - context),
            np.minimum(n_tokens, ends + context),
            np.argsort(ends, kind="stable"),
        )

    @property
    def widths(self) -> np.ndarray:
        return self.spans[:, 1] - self.spans[:, 0]

    def lengths(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token counts (at least 1) of the inside, left and right ranges, as columns."""
        starts, ends = self.spans[:, 0], self.spans[:, 1]
        inside = np.maximum(ends - starts, 1)
        left = np.maximum(starts - self.left, 1)
        right = np.maximum(self.right - ends, 1)
        return tuple(x.astype("float32")[:, None] for x in (inside, left, right))


def sorted_sums(index: np.ndarray, rows: np.ndarray, n_out: int) -> np.ndarray:
    """(n_out, width) sums of rows by index, for an ascending index: one np.add.reduceat."""
    out = np.zeros((n_out, rows.shape[1]), dtype="float32")
    if len(index):
        firsts = np.flatnonzero(np.concatenate([[True], index[1:] != index[:-1]]))
        out[index[firsts]] = np.add.reduceat(rows, firsts, axis=0)
    return out


def part_means(projected: np.ndarray, plan: SpanPlan, nH: int) -> np.ndarray:
    """(n_spans, nH): the sum over the five parts of each part's projected mean."""
    starts, ends = plan.spans[:, 0], plan.spans[:, 1]
    inside, left, right = plan.lengths()
    cum = np.vstack([np.zeros((1, 3 * nH), dtype="float32"), np.cumsum(projected[:, 2 * nH :], axis=0)])
    pre = projected[starts, :nH] + projected[ends - 1, nH : 2 * nH]
    pre += (cum[ends, :nH] - cum[starts, :nH]) / inside
    pre += (cum[starts, nH : 2 * nH] - cum[plan.left, nH : 2 * nH]) / left
    pre += (cum[plan.right, 2 * nH :] - cum[ends, 2 * nH :]) / right
    return pre


def part_gradients(d_pre: np.ndarray, plan: SpanPlan, nH: int) -> np.ndarray:
    """(n_tokens, 5 nH): the gradient of part_means with respect to projected. A mean's
    gradient is added at its range's start and removed at its end, then summed up the
    tokens; sorted scatters (np.add.reduceat) replace np.add.at, which is ten times slower."""
    n = plan.n_tokens
    starts, ends = plan.spans[:, 0], plan.spans[:, 1]
    inside, left, right = plan.lengths()
    d_inside, d_left, d_right = d_pre / inside, d_pre / left, d_pre / right
    # by start: the first token, the inside mean's start, the left context's end
    at_start = sorted_sums(starts, np.hstack([d_pre, d_inside, -d_left]), n + 1)
    at_left = sorted_sums(plan.left, d_left, n + 1)
    order = plan.by_end
    sorted_ends = ends[order]
    # by end: the last token (at end - 1), the inside mean's end, the right context's start
    at_end = sorted_sums(sorted_ends, np.hstack([d_pre, -d_inside, d_right])[order], n + 1)
    at_right = sorted_sums(plan.right[order], -d_right[order], n + 1)
    first = at_start[:n, :nH]
    last = at_end[1:, :nH]
    diffs = np.hstack(
        [
            at_start[:, nH : 2 * nH] + at_end[:, nH : 2 * nH],  # inside
            at_left + at_start[:, 2 * nH :],  # left context
            at_end[:, 2 * nH :] + at_right,  # right context
        ]
    )
    return np.hstack([first, last, np.cumsum(diffs, axis=0)[:n]])


def span_hidden_forward(model: Model, docs: list[Doc], is_train: bool):
    tok2vec = model.get_ref("tok2vec")
    get_candidates: GetCandidates = model.attrs["get_candidates"]
    context: int = model.attrs["context"]
    W = model.get_param("W")  # (N_PARTS * nH, nI)
    E = model.get_param("E")  # (max_width, nH)
    b = model.get_param("b")  # (nH,)
    nH = model.get_dim("nH")
    ops = model.ops
    tokvecs, backprop_tokvecs = tok2vec(docs, is_train)
    outputs, caches = [], []
    for doc, vectors in zip(docs, tokvecs):
        vectors = np.ascontiguousarray(ops.to_numpy(vectors), dtype="float32")
        plan = SpanPlan.of(get_candidates(doc), len(doc), context)
        projected = ops.gemm(vectors, W, trans2=True)  # (n_tokens, N_PARTS * nH)
        pre = part_means(projected, plan, nH) + E[plan.widths - 1] + b
        outputs.append(np.maximum(pre, 0.0, dtype="float32"))
        caches.append((vectors, plan, pre > 0))
    output = np.vstack(outputs) if outputs else np.zeros((0, nH), dtype="float32")

    def backprop(d_output: Floats2d) -> list[Doc]:
        d_output = ops.to_numpy(d_output)
        dW = np.zeros_like(W)
        dE = np.zeros_like(E)
        db = np.zeros_like(b)
        d_tokvecs = []
        row = 0
        for vectors, plan, active in caches:
            n = len(plan.spans)
            d_pre = np.ascontiguousarray(d_output[row : row + n] * active, dtype="float32")
            row += n
            d_projected = np.ascontiguousarray(part_gradients(d_pre, plan, nH))
            by_width = np.zeros((len(E), n), dtype="float32")
            by_width[plan.widths - 1, np.arange(n)] = 1.0
            dE += ops.gemm(by_width, d_pre)
            db += d_pre.sum(axis=0)
            dW += ops.gemm(d_projected, vectors, trans1=True)
            d_tokvecs.append(ops.asarray2f(ops.gemm(d_projected, W)))
        model.inc_grad("W", dW)
        model.inc_grad("E", dE)
        model.inc_grad("b", db)
        return backprop_tokvecs(d_tokvecs)

    return ops.asarray2f(output), backprop


def init_span_hidden(model: Model, X: list[Doc] | None = None, Y=None) -> None:
    nI = initialized_width(model.get_ref("tok2vec"), X)
    nH = model.get_dim("nH")
    model.set_dim("nI", nI)
    model.set_param("W", glorot_uniform_init(model.ops, (N_PARTS * nH, nI)))
    model.set_param("E", model.ops.alloc2f(model.attrs["max_width"], nH))
    model.set_param("b", model.ops.alloc1f(nH))


@registry.architectures("pipeline.SpanEntityModel.v1")
def span_entity_model(
    tok2vec: Model[list[Doc], list[Floats2d]],
    max_width: int = 20,
    hidden_width: int = 128,
    context: int = 3,
    dropout: float = 0.1,
) -> Model[list[Doc], Floats2d]:
    """Logits (n_candidates, 1 + n_labels) for every candidate span of a batch, docs in
    order, candidates as `span_candidates` lists them; column 0 is "no entity", and
    n_labels is set at initialize."""
    span_hidden: Model[list[Doc], Floats2d] = Model(
        "span_hidden",
        span_hidden_forward,
        init=init_span_hidden,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        attrs={"get_candidates": lambda doc: span_candidates(doc, max_width), "context": context, "max_width": max_width},
        dims={"nH": hidden_width, "nI": None},
        params={"W": None, "E": None, "b": None},
    )
    model = chain(span_hidden, Dropout(dropout), Linear())
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("span_hidden", span_hidden)
    return model


def init_span_entity_model(model: Model, docs: list[Doc], n_classes: int) -> None:
    """Shape inference without running the classifier on empty data."""
    span_hidden = model.get_ref("span_hidden")
    span_hidden.initialize(X=docs)
    classifier = chain(*model.layers[1:])
    n_in = span_hidden.get_dim("nH")
    classifier.initialize(X=model.ops.alloc2f(2, n_in), Y=model.ops.alloc2f(2, n_classes))
