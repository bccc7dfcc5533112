"""Overlapping windows over long documents, cut at sentence ends where possible.

Seed 002 is one 118 KB line; the model reads at most a few hundred tokens at a time.
`windows` returns (start, end) character ranges that together cover every character;
consecutive windows overlap by about `overlap` characters so that an entity or a
relation cut by one window's edge is seen whole in the next.
"""
from __future__ import annotations

import bisect
import re

SENTENCE_END = re.compile(r"[。！？!?；;\n]+[”’」』)）]*")


def sentence_ends(text: str) -> list[int]:
    return [m.end() for m in SENTENCE_END.finditer(text)]


def windows(text: str, max_chars: int = 400, overlap: int = 80) -> list[tuple[int, int]]:
    """Windows of at most max_chars characters covering text, ending at sentence ends
    when one falls in the window's second half; the next window starts at a sentence end
    about `overlap` characters before the previous window's end."""
    if max_chars <= 0 or overlap < 0 or overlap >= max_chars:
        raise ValueError("need 0 <= overlap < max_chars")
    n = len(text)
    if n <= max_chars:
        return [(0, n)] if n else []
    ends = sentence_ends(text)
    out: list[tuple[int, int]] = []
    start = 0
    while True:
        limit = start + max_chars
        if limit >= n:
            out.append((start, n))
            return out
        i = bisect.bisect_right(ends, limit) - 1
        end = ends[i] if i >= 0 and ends[i] > start + max_chars // 2 else limit
        out.append((start, end))
        # the next window starts at the sentence end nearest to end - overlap, always
        # after this window's start (progress) and no later than end (coverage)
        target = end - overlap
        j = bisect.bisect_left(ends, target)
        candidates = [e for e in ends[max(0, j - 1) : j + 1] if start < e <= end]
        next_start = min(candidates, key=lambda e: abs(e - target)) if candidates else max(start + 1, target)
        if next_start >= end:
            next_start = max(start + 1, target)
        start = next_start
