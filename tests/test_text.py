"""Normalisation with offset maps, and windowing, on the seeds and on generated input."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.text.chinese import to_simplified
from pipeline.text.normalise import normalise
from pipeline.text.windows import windows

from .conftest import seed_text

MIXED_ALPHABET = st.sampled_from(
    list("投资签约落地项目产业园亿元美元开工建设区市省")
    + list("投資簽約落戶項目產業園億開發區設專")
    + list("０１２３４５６７８９ＡＢＣａｂｃ，。：（）％")
    + list("0123456789abcABC,.:()% \t\n")
    + ["\u3000", "\u00a0", "\u200b", "(chǎn)", "(yè)", "(2.0版)", "(qū)"]
)


def test_traditional_seed_maps_simplified_span_back_to_original_characters():
    original = seed_text("003")
    norm = normalise(original)
    assert "產(chǎn)業(yè)" in original
    start = norm.text.index("产业招商")
    assert norm.original_span(start, start + 4) == "產(chǎn)業(yè)招商"
    start = norm.text.index("外资引进")
    assert norm.original_span(start, start + 4) == "外資引進"
    assert "(2.0版)" in norm.text  # a real parenthesis, not a gloss


def test_full_width_and_spaces():
    norm = normalise("总投资２０．７亿元，\u3000\u3000落户 \t 环翠区")
    assert norm.text == "总投资20.7亿元, 落户 环翠区"
    start = norm.text.index("20.7亿元")
    assert norm.original_span(start, start + 6) == "２０．７亿元"


@settings(max_examples=300, deadline=None)
@given(st.lists(MIXED_ALPHABET, min_size=1, max_size=60).map("".join), st.data())
def test_span_in_normalised_text_maps_back_to_original_that_normalises_to_it(original, data):
    norm = normalise(original)
    if not norm.text:
        return
    start = data.draw(st.integers(0, len(norm.text) - 1))
    end = data.draw(st.integers(start + 1, len(norm.text)))
    a, b = norm.to_original(start, end)
    assert 0 <= a < b <= len(original)
    assert normalise(original[a:b]).text == norm.text[start:end]


def test_simplification_keeps_length():
    text = seed_text("003")
    assert len(to_simplified(text)) == len(text)


def test_long_line_is_windowed_with_no_text_lost():
    text = seed_text("002")
    assert max(len(line) for line in text.split("\n")) > 16000
    spans = windows(text, max_chars=400, overlap=80)
    covered = bytearray(len(text))
    for a, b in spans:
        assert 0 <= a < b <= len(text) and b - a <= 400
        covered[a:b] = b"\x01" * (b - a)
    assert all(covered)
    assert all(spans[i][0] < spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))
    cut_at_sentence_end = sum(1 for _, b in spans[:-1] if text[b - 1] in "。；！？;\n")
    assert cut_at_sentence_end >= 0.9 * (len(spans) - 1)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="项目签约。；\n abc", min_size=0, max_size=2000), st.integers(20, 300))
def test_windows_always_cover_the_text(text, size):
    spans = windows(text, max_chars=size, overlap=size // 4)
    covered = bytearray(len(text))
    for a, b in spans:
        covered[a:b] = b"\x01" * (b - a)
    assert all(covered)
