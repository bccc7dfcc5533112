"""Mean pooling of token vectors over token ranges, with its backward pass.

Ranges are half-open token [start, end) pairs; an empty range pools to zeros. Both the
relation model (head, tail, between) and the entity relabeler (span, first, last,
context) describe what they read as such ranges.
"""

import numpy as np


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
