"""MONEY spans to a number in the currency's base unit, an ISO 4217 code and a qualifier.

20.7亿元 → 2070000000 CNY; 5545万美元 → 55450000 USD; 三千万元 → 30000000 CNY;
5-10亿元 → 500000000 with qualifier "range" and `max` 1000000000; 亿元以上 → 100000000 "over".
Chinese numerals go through cn2an, digit by digit for the number part only (cn2an
refuses 十二点五亿 as a whole, so the magnitude word is always handled here).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

CURRENCIES = (
    ("新台币", "TWD"), ("新臺幣", "TWD"), ("台币", "TWD"), ("臺幣", "TWD"),
    ("港元", "HKD"), ("港币", "HKD"), ("港幣", "HKD"),
    ("美元", "USD"), ("美金", "USD"),
    ("欧元", "EUR"), ("歐元", "EUR"),
    ("日元", "JPY"), ("日圆", "JPY"), ("日圓", "JPY"),
    ("韩元", "KRW"), ("韓元", "KRW"),
    ("英镑", "GBP"), ("英鎊", "GBP"),
    ("澳门元", "MOP"), ("澳門元", "MOP"), ("澳元", "AUD"), ("新加坡元", "SGD"), ("新元", "SGD"),
    ("瑞士法郎", "CHF"), ("加元", "CAD"),
    ("人民币", "CNY"), ("人民幣", "CNY"), ("元", "CNY"),
)
BIG_UNITS = (("万亿", 10**12), ("萬億", 10**12), ("兆", 10**12), ("亿", 10**8), ("億", 10**8), ("万", 10**4), ("萬", 10**4))
QUALIFIERS = (
    ("以上", "over"), ("多", "over"), ("余", "over"), ("超过", "over"), ("超", "over"), ("逾", "over"), ("过", "over"), ("突破", "over"), ("达", "reached"),
    ("近", "under"), ("将近", "under"), ("接近", "under"), ("以下", "under"), ("不到", "under"), ("以内", "under"),
    ("约", "approx"), ("大约", "approx"), ("左右", "approx"), ("上下", "approx"),
)
_CN_DIGITS = "零〇一二两三四五六七八九十百千点"
_NUMBER = re.compile(rf"[0-9０-９.,，．]+|[{_CN_DIGITS}]+")
_RANGE = re.compile(r"^(?P<a>[0-9.]+|[零〇一二两三四五六七八九十百千点]+)\s*[-—–~～至到]\s*(?P<b>.+)$")


@dataclass(frozen=True)
class Money:
    text: str
    value: float | None
    currency: str | None
    qualifier: str | None
    max_value: float | None = None

    def to_json(self) -> dict:
        out = {"text": self.text, "value": _clean(self.value), "currency": self.currency, "qualifier": self.qualifier}
        if self.max_value is not None:
            out["max"] = _clean(self.max_value)
        return out


def _clean(value: float | None):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 4)


def parse_number(text: str) -> Decimal | None:
    """`20.7`, `1,200`, `２０`, `三千`, `十二点五` → Decimal; None when not a number."""
    text = text.strip()
    if not text:
        return None
    half = text.translate(str.maketrans("０１２３４５６７８９．，", "0123456789.,"))
    if re.fullmatch(r"[0-9][0-9,]*(?:\.[0-9]+)?", half):
        try:
            return Decimal(half.replace(",", ""))
        except InvalidOperation:
            return None
    if re.fullmatch(rf"[{_CN_DIGITS}]+", text):
        import cn2an

        try:
            return Decimal(str(cn2an.cn2an(text.replace("〇", "零"), "smart")))
        except (ValueError, KeyError, TypeError):
            return None
    return None


def _split_currency(text: str) -> tuple:
    for word, code in CURRENCIES:
        if text.endswith(word):
            return text[: -len(word)], code
        if text.startswith(word) and word != "元":  # 人民币5亿, 新台币1.2兆元
            rest = text[len(word) :]
            return (rest[:-1] if rest.endswith("元") else rest), code
    return text, None


def _split_magnitude(text: str) -> tuple:
    """Strip the big units at the end (万亿, 亿, 万, 兆), then a 十/百/千 written after
    Arabic digits (3千万); Chinese numerals keep their 千/百 for cn2an (一千二百万)."""
    factor = 1
    rest = text
    stripped = True
    while stripped:
        stripped = False
        for word, size in BIG_UNITS:
            if rest.endswith(word):
                rest, factor = rest[: -len(word)], factor * size
                stripped = True
                break
    small = re.fullmatch(r"([0-9][0-9.,]*)([十百千])", rest)
    if small:
        rest, factor = small.group(1), factor * {"十": 10, "百": 100, "千": 1000}[small.group(2)]
    return rest, factor


def parse_money(text: str, context_before: str = "", context_after: str = "") -> Money:
    """Normalise a MONEY span; the words just before and after it supply the qualifier."""
    surface = text
    core = text.strip().replace(" ", "")
    qualifier = None
    if core.endswith("级"):  # 百亿级 (as an amount: 总投资百亿级): the order of magnitude
        core, qualifier = core[:-1], "approx"
    for word, meaning in QUALIFIERS:
        if core.startswith(word):
            core, qualifier = core[len(word) :], meaning
            break
    for word, meaning in QUALIFIERS:
        if core.endswith(word) and word in ("以上", "多", "余", "左右", "以下", "以内", "上下"):
            core, qualifier = core[: -len(word)], meaning
            break
    if qualifier is None:
        before = context_before[-3:]
        after = context_after[:2]
        for word, meaning in QUALIFIERS:
            if before.endswith(word) or (word in ("以上", "多", "余", "左右", "以下", "以内") and after.startswith(word)):
                qualifier = meaning
                break
    number_part, currency = _split_currency(core)
    if re.search(r"(?<=[0-9一二三四五六七八九十百千])[多余]", number_part):
        number_part = re.sub(r"(?<=[0-9一二三四五六七八九十百千])[多余]", "", number_part)
        qualifier = qualifier or "over"
    if currency is None:
        currency = "CNY"
    range_match = _RANGE.match(number_part)
    if range_match:
        high_rest, factor = _split_magnitude(range_match.group("b"))
        low = parse_number(range_match.group("a"))
        high = parse_number(high_rest)
        if low is not None and high is not None:
            return Money(surface, float(low * factor), currency, "range", float(high * factor))
    rest, factor = _split_magnitude(number_part)
    if rest in ("", "百", "千", "几", "数"):
        # 亿元 (as in 过亿元), 百亿元级: one unit of the magnitude
        base = {"": 1, "百": 100, "千": 1000}.get(rest)
        if base is None:
            return Money(surface, None, currency, qualifier or "approx")
        return Money(surface, float(base * factor), currency, qualifier)
    number = parse_number(rest)
    if number is None:
        return Money(surface, None, currency, qualifier)
    return Money(surface, float(number * factor), currency, qualifier)
