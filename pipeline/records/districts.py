"""DISTRICT spans to the national administrative code and its province/city parents.

Full names (环翠区) and short forms (胶州 → 胶州市) come from the gazetteer; zones the
gazetteer does not list under the name people use are in ALIASES (西海岸新区 is 黄岛区,
上合示范区 lies in 胶州市). A name several places share (朝阳区) is resolved by the other
places of the same document; a generic zone name (经开区, 高新区) is resolved to the zone
of that kind in the document's city.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..gazetteers import Division, admin_gazetteer
from ..text.chinese import plain_simplified

# name people use -> the gazetteer's name (or code) of the place it is / lies in
ALIASES: dict[str, str] = {
    "西海岸新区": "370211",  # 青岛西海岸新区 = 黄岛区
    "青岛西海岸新区": "370211",
    "上合示范区": "370281",  # 中国—上海合作组织地方经贸合作示范区, in 胶州市
    "上合新区": "370281",
    "威海经开区": "371072",
    "威海高区": "371071",
    "威海火炬高技术产业开发区": "371071",
    "青岛蓝谷": "370215",
    "蓝谷": "370215",
    "黄岛": "370211",
    "浦东新区": "310115",
    "滨海新区": "120116",
    "雄安新区": "1306",
    "两江新区": "500112",
    "天府新区": "5101",
    "南沙新区": "440115",
    "前海": "440305",
    "横琴": "440404",
    "苏州工业园区": "320571",
}
GENERIC_ZONES: dict[str, tuple] = {
    "经开区": ("经济技术开发区", "经济开发区"),
    "开发区": ("经济技术开发区", "经济开发区", "开发区"),
    "高新区": ("高新技术产业开发区", "高技术产业开发区"),
    "临港区": ("临港经济技术开发区",),
}


@dataclass(frozen=True)
class District:
    text: str
    code: str | None
    province: str | None
    city: str | None
    level: str | None = None

    def to_json(self) -> dict:
        return {"text": self.text, "code": self.code, "province": self.province, "city": self.city}


def _parents(division: Division) -> tuple:
    if division.level == "province":
        return division.name, None
    if division.level == "city":
        return division.province, division.name
    return division.province, division.city


def _as_district(text: str, division: Division | None) -> District:
    if division is None:
        return District(text, None, None, None)
    province, city = _parents(division)
    return District(text, division.code, province, city, division.level)


def candidates(name: str) -> list[Division]:
    gazetteer = admin_gazetteer()
    if name in ALIASES:
        target = ALIASES[name]
        division = gazetteer.divisions.get(target) if target.isdigit() else None
        return [division] if division else list(gazetteer.lookup(target))
    found = list(gazetteer.lookup(name))
    if not found:
        chain = gazetteer.parse_chain(name)
        if chain:
            found = [chain[-1][2]]
    return found


def _context_scores(division: Division, context: Sequence[Division]) -> int:
    score = 0
    for other in context:
        if other.code == division.code:
            continue
        if division.code.startswith(other.code) or other.code.startswith(division.code):
            score += 2
        elif division.code[:2] == other.code[:2]:
            score += 1
    return score


def resolve(text: str, context_names: Iterable[str] = ()) -> District:
    """One DISTRICT span, resolved with the document's other district names as context."""
    name = plain_simplified(text).strip()
    name = re.sub(r"办事处$", "", name)
    context: list[Division] = []
    for other in context_names:
        other = plain_simplified(other).strip()
        if other != name and other not in GENERIC_ZONES:
            found = candidates(other)
            if len(found) == 1:
                context.extend(found)
    if name in GENERIC_ZONES:
        return _as_district(text, _generic_zone(name, context))
    found = candidates(name)
    if not found:
        return District(text, None, None, None)
    if len(found) == 1:
        only = found[0]
        # street names repeat across the country: a street-level match needs the name to
        # say it is one (街道, 镇, 乡) or support from the document's other places
        if only.level == "street" and not re.search(r"(街道|镇|乡)$", name) and _context_scores(only, context) == 0:
            return District(text, None, None, None)
        return _as_district(text, only)
    best = max(found, key=lambda d: (_context_scores(d, context), -len(d.code)))
    if _context_scores(best, context) == 0:
        # ambiguous with no help from the document: prefer the higher level (威海 the city)
        levels = {"province": 0, "city": 1, "area": 2, "street": 3}
        top = min(levels[d.level] for d in found)
        same_level = [d for d in found if levels[d.level] == top]
        if len(same_level) > 1:
            return District(text, None, None, None)
        best = same_level[0]
    return _as_district(text, best)


def _generic_zone(name: str, context: Sequence[Division]) -> Division | None:
    gazetteer = admin_gazetteer()
    cities = {d.code[:4] for d in context if len(d.code) >= 4}
    kinds = GENERIC_ZONES[name]
    matches = [
        d
        for d in gazetteer.divisions.values()
        if d.level == "area" and d.code[:4] in cities and any(d.name.endswith(kind) for kind in kinds)
    ]
    if len(matches) == 1:
        return matches[0]
    # several zones of that kind in the city: prefer the one named after the city itself
    for d in matches:
        city_short = (d.city or "").rstrip("市")
        if city_short and d.name.startswith(city_short) and d.name.endswith(kinds[0]):
            return d
    return None
