"""Mean pooling of token vectors over token ranges, with its backward pass.

Ranges are half-open token [start, end) pairs; an empty range pools to zeros. The
relation model describes what it reads (head, tail, between) as such ranges.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from spacy.tokens import Doc
from thinc.api import Model


def mean_over_ranges(vectors: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """(n_ranges, width) means of vectors[start:end] for each (start, end) row of bounds."""
    cumsum = np.vstack([np.zeros((1, vectors.shape[1]), dtype=vectors.dtype), np.cumsum(vectors, axis=0)])
    lengths = np.maximum(bounds[:, 1] - bounds[:, 0], 1)[:, None]
    return (cumsum[bounds[:, 1]] - cumsum[bounds[:, 0]]) / lengths


def add_range_gradient(grad: np.ndarray, bounds: np.ndarray, d_means: np.ndarray) -> None:
    """Accumulate the gradient of mean_over_ranges into grad, a (n_tokens + 1, width)
    difference array: the token gradient is np.cumsum(grad, axis=0)[:n_tokens]."""
    lengths = np.maximum(bounds[:, 1] - bounds[:, 0], 1)[:, None]
    g = d_means / lengths
    np.add.at(grad, bounds[:, 0], g)
    np.add.at(grad, bounds[:, 1], -g)


@dataclass
class RangePlan:
    """What one doc's forward pass pooled: (n_rows, n_ranges, 2) token [start, end) ranges;
    a row's output is the n_ranges means side by side."""

    n_tokens: int
    ranges: np.ndarray


def pool_ranges(vectors: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """(n_rows, n_ranges * width): the means over each row's ranges, side by side."""
    return np.hstack([mean_over_ranges(vectors, ranges[:, k]) for k in range(ranges.shape[1])])


def range_gradients(plans: Sequence[RangePlan], d_output: np.ndarray, width: int) -> list[np.ndarray]:
    """Per doc, the (n_tokens, width) token gradient of the pooled rows; d_output's rows
    follow the plans in order and its first n_ranges * width columns are the pooled ones."""
    d_tokvecs = []
    row = 0
    for plan in plans:
        grad = np.zeros((plan.n_tokens + 1, width), dtype="float32")
        n = len(plan.ranges)
        for k in range(plan.ranges.shape[1]):
            add_range_gradient(grad, plan.ranges[:, k], d_output[row : row + n, k * width : (k + 1) * width])
        row += n
        d_tokvecs.append(np.cumsum(grad, axis=0)[: plan.n_tokens])
    return d_tokvecs


def initialized_width(tok2vec: Model, X: list[Doc] | None) -> int:
    """Initialize tok2vec and return its output width (run it once if it does not say)."""
    tok2vec.initialize(X=X)
    if tok2vec.has_dim("nO") and tok2vec.get_dim("nO"):
        return tok2vec.get_dim("nO")
    return tok2vec.predict(X[:1])[0].shape[1]
