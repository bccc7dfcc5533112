"""Traditional → simplified conversion, character by character (behind OpenCC).

The conversion must keep one output character per input character so that offsets
survive it; OpenCC's `t2s` table maps characters one to one, but its phrase tables
can change lengths, so we convert each character on its own and cache the result.
"""
from __future__ import annotations

import re
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


# a pinyin gloss as seed 003 writes them after a character: 產(chǎn), 對(duì)
PINYIN_GLOSS = re.compile(r"\([a-zü\u00e0-\u01dc ]{1,12}\)")


def plain_simplified(text: str) -> str:
    """Simplified text without pinyin glosses, for comparing names and words (not offsets)."""
    return to_simplified(PINYIN_GLOSS.sub("", text))
