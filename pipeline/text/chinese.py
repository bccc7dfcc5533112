"""Traditional → simplified conversion, character by character (behind OpenCC).

The conversion must keep one output character per input character so that offsets
survive it; OpenCC's `t2s` table maps characters one to one, but its phrase tables
can change lengths, so we convert each character on its own and cache the result.
"""
from __future__ import annotations

from functools import lru_cache

import opencc

_converter = opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def simplified_char(ch: str) -> str:
    out = _converter.convert(ch)
    return out if len(out) == 1 else ch


def to_simplified(text: str) -> str:
    """Simplified Chinese with exactly the same length (and so the same offsets)."""
    return "".join(simplified_char(ch) for ch in text)
