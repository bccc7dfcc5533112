"""DATE spans to ISO 8601, as precise as the text allows.

2023年3月6日 → 2023-03-06; 2021年11月 → 2021-11; 一季度 → 2023-Q1; 上半年 → 2023-H1;
1—6月 → 2023-01/2023-06; 今年4月 → 2023-04; 昨日 → the day before the document's date.
A span without a year takes the document's year (its own date, or a year in its title),
else the nearest explicit year written before it; with none, the value is None.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..text.chinese import to_simplified

_CN_NUM = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_YEAR = r"(?P<year>\d{4}|[一二][〇零一二三四五六七八九]{3})年(?:度)?"
_NUM = r"\d{1,2}|[一二三四五六七八九十]{1,3}"
_FULL_DATE = re.compile(r"(\d{4})[年\-/.](\d{1,2})[月\-/.](\d{1,2})[日号]?")


def cn_int(text: str) -> int | None:
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_NUM for ch in text):
        return None
    if len(text) == 4 and "十" not in text:  # 二〇二三
        return int("".join(str(_CN_NUM[ch]) for ch in text))
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_NUM[text[1]]
    if len(text) == 3 and text[1] == "十":
        return _CN_NUM[text[0]] * 10 + _CN_NUM[text[2]]
    if len(text) == 2 and text[1] == "十":
        return _CN_NUM[text[0]] * 10
    if len(text) == 1:
        return _CN_NUM[text]
    return None


@dataclass(frozen=True)
class DateContext:
    """What a document tells about its own time."""

    document_date: date | None = None
    document_year: int | None = None

    @property
    def year(self) -> int | None:
        return self.document_date.year if self.document_date else self.document_year


def document_context(text: str, meta: dict[str, Any] | None = None) -> DateContext:
    """The document's date from metadata (date/published/pub_date) or a full date in its
    first lines; else a year written in its title (the first 120 characters)."""
    meta = meta or {}
    for key in ("date", "published", "pub_date", "publish_date", "time"):
        value = meta.get(key)
        if isinstance(value, str):
            m = _FULL_DATE.search(value)
            if m:
                try:
                    return DateContext(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
                except ValueError:
                    pass
    head = text[:300]
    m = _FULL_DATE.search(head)
    if m:
        try:
            return DateContext(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            pass
    m = re.search(r"(?<!\d)((?:19|20)\d{2})年", text[:120])
    return DateContext(document_year=int(m.group(1)) if m else None)


def _year_before(text: str, offset: int) -> int | None:
    years = [int(m.group(1)) for m in re.finditer(r"(?<!\d)((?:19|20)\d{2})年", text[:offset])]
    return years[-1] if years else None


def parse_date(surface: str, context: DateContext = DateContext(), text: str = "", offset: int = 0) -> str | None:
    """ISO 8601 for a DATE span, or None when no year can be known."""
    s = to_simplified(surface).strip().replace(" ", "")
    today = context.document_date
    if s in ("今日", "今天", "当日", "当天"):
        return today.isoformat() if today else None
    if s in ("昨日", "昨天"):
        return (today - timedelta(days=1)).isoformat() if today else None
    if s in ("明日", "明天"):
        return (today + timedelta(days=1)).isoformat() if today else None
    if s in ("前天",):
        return (today - timedelta(days=2)).isoformat() if today else None

    year: int | None = None
    rest = s
    m = re.match(_YEAR, rest)
    if m:
        year = cn_int(m.group("year"))
        rest = rest[m.end() :]
    else:
        relative = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "前年": -2, "明年": 1}
        for word, delta in relative.items():
            if rest.startswith(word):
                base = context.year
                if base is None:
                    return None
                year = base + delta
                rest = rest[len(word) :]
                break
    if year is None:
        year = context.year or (_year_before(text, offset) if text else None)
    if year is None:
        return None
    rest = re.sub(r"^(?:第|首)", "", rest)
    rest = re.sub(r"(?:以来|前后|期间|底|初|末|中旬|上旬|下旬)$", "", rest)
    if rest in ("", "度", "全年"):
        return f"{year:04d}"
    quarter = re.fullmatch(r"(?:第)?([一二三四1-4])季度?|首季度?", rest)
    if quarter:
        q = cn_int(quarter.group(1)) if quarter.group(1) else 1
        return f"{year:04d}-Q{q}"
    if rest in ("季", "季度"):
        return f"{year:04d}-Q1" if s.startswith("首") else None
    if rest in ("上半年", "上半"):
        return f"{year:04d}-H1"
    if rest in ("下半年", "下半"):
        return f"{year:04d}-H2"
    span = re.fullmatch(rf"({_NUM})月?[—\-~－–至到]({_NUM})月份?", rest)
    if span:
        a, b = cn_int(span.group(1)), cn_int(span.group(2))
        if a and b and 1 <= a <= 12 and 1 <= b <= 12:
            return f"{year:04d}-{a:02d}/{year:04d}-{b:02d}"
    day_range = re.fullmatch(rf"({_NUM})月({_NUM})[日号]?[—\-~－–至到](?:({_NUM})月)?({_NUM})[日号]", rest)
    if day_range:
        m1, d1 = cn_int(day_range.group(1)), cn_int(day_range.group(2))
        m2 = cn_int(day_range.group(3)) if day_range.group(3) else m1
        d2 = cn_int(day_range.group(4))
        try:
            return f"{date(year, m1, d1).isoformat()}/{date(year, m2, d2).isoformat()}"
        except (TypeError, ValueError):
            return None
    month_day = re.fullmatch(rf"({_NUM})月份?(?:({_NUM})[日号])?", rest)
    if month_day:
        month = cn_int(month_day.group(1))
        day = cn_int(month_day.group(2)) if month_day.group(2) else None
        if month is None or not 1 <= month <= 12:
            return None
        if day is None:
            return f"{year:04d}-{month:02d}"
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return None
    if rest.rstrip("季天") in ("春", "夏", "秋", "冬"):  # ISO 8601 has no season: the year
        return f"{year:04d}"
    return None
