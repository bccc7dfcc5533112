"""Text normalisation for every model step, with a map back to the original offsets.

The model sees normalised text; everything it reports must point into the original.
`normalise` applies, in one pass:

- traditional → simplified Chinese, character by character (產 → 产);
- full-width ASCII forms → half-width (２０．７ → 20.7, ， → ,), ideographic space → space;
- pinyin glosses after a character removed (產(chǎn) → 产), as in seed 003;
- zero-width characters removed; runs of spaces and tabs collapsed to one space.

`NormalisedText.to_original(start, end)` maps a span of the normalised text back to
the original: the original characters that produced the span's first and last
characters, with any removed gloss or zero-width character inside the span included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .chinese import simplified_char

_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_HORIZONTAL_SPACE = {" ", "\t", "\u00a0", "\u3000", "\u2002", "\u2003", "\u2009"}
_GLOSS = re.compile(r"\((?:[a-zA-Z\u00c0-\u024f\u1e00-\u1eff]{1,8}\s?){1,3}\)")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class NormalisedText:
    original: str
    text: str
    starts: tuple[int, ...]  # starts[i]: original offset where normalised char i begins
    ends: tuple[int, ...]  # ends[i]: original offset where normalised char i ends

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}-{end} outside normalised text of length {len(self.text)}")
        return self.starts[start], self.ends[end - 1]

    def original_span(self, start: int, end: int) -> str:
        a, b = self.to_original(start, end)
        return self.original[a:b]


def half_width(ch: str) -> str:
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if ch in _HORIZONTAL_SPACE:
        return " "
    return ch


def normalise_char(ch: str) -> str:
    return half_width(simplified_char(ch))


def _gloss_spans(text: str) -> list[tuple[int, int]]:
    """Pinyin glosses right after a CJK character: 產(chǎn) → the `(chǎn)` part."""
    spans = []
    for match in _GLOSS.finditer(text):
        start = match.start()
        inner = match.group(0)[1:-1]
        if start > 0 and _CJK.match(text[start - 1]) and not inner.isdigit() and inner.lower() == inner:
            spans.append((start, match.end()))
    return spans


def normalise(original: str) -> NormalisedText:
    removed = [False] * len(original)
    for start, end in _gloss_spans(original):
        for i in range(start, end):
            removed[i] = True
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(original)
    while i < n:
        ch = original[i]
        if removed[i] or ch in _ZERO_WIDTH:
            # removed characters belong to the previous output character's extent, so
            # a span ending after them includes them and one ending before them does not
            i += 1
            continue
        if ch in _HORIZONTAL_SPACE:
            j = i
            while j < n and (original[j] in _HORIZONTAL_SPACE or original[j] in _ZERO_WIDTH):
                j += 1
            chars.append(" ")
            starts.append(i)
            ends.append(j)
            i = j
            continue
        chars.append(normalise_char(ch))
        starts.append(i)
        ends.append(i + 1)
        i += 1
    return NormalisedText(original, "".join(chars), tuple(starts), tuple(ends))


_FULL_WIDTH_ALNUM = {chr(c) for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for c in range(r[0], r[1] + 1)} | {"．", "％"}


def model_view(text: str) -> str:
    """The text the model reads: traditional characters simplified and full-width digits
    and letters made half-width, one character for one, so offsets need no map.
    Chinese punctuation stays full-width, as in the training corpus."""
    return "".join(half_width(ch) if ch in _FULL_WIDTH_ALNUM else simplified_char(ch) for ch in text)
