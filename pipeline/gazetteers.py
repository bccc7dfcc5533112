"""The shared gazetteers: administrative divisions, industries, central SOEs.

Loaded once per process from ../shared/data/gazetteers; used for weak labels, for
mapping the public NER sets, and for normalising districts to codes.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GAZETTEER_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "gazetteers"

# Longest first: the suffix removed to get a short form (山东省 -> 山东, 胶州市 -> 胶州).
_ADMIN_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县",
    "地区", "盟", "省", "市", "区", "县", "旗",
)
_ETHNIC = re.compile(r"(?:[\u4e00-\u9fff]{1,8}?族)+$")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # province | city | area | street
    province: str | None  # province name
    city: str | None  # city name (None for provinces and direct-administered areas' "市辖区")


def short_form(name: str) -> str | None:
    """山东省 -> 山东, 威海市 -> 威海, 恩施土家族苗族自治州 -> 恩施; None when too short to be safe."""
    for suffix in _ADMIN_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            stem = _ETHNIC.sub("", stem) or stem
            return stem if len(stem) >= 2 else None
    return None


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass
class AdminGazetteer:
    divisions: dict[str, Division]  # code -> division
    by_name: dict[str, list[Division]]  # full names and safe short forms
    max_name: int

    def lookup(self, name: str) -> list[Division]:
        return self.by_name.get(name, [])

    def parse_chain(self, text: str) -> list[tuple[int, int, Division]] | None:
        """Split text into a chain of known division names (山东省威海市环翠区), or None."""
        out: list[tuple[int, int, Division]] = []
        pos = 0
        while pos < len(text):
            for length in range(min(self.max_name, len(text) - pos), 1, -1):
                candidates = self.by_name.get(text[pos : pos + length])
                if candidates:
                    out.append((pos, pos + length, candidates[0]))
                    pos += length
                    break
            else:
                return None
        return out or None

    def admin_prefix(self, text: str) -> int:
        """Length of the longest prefix of text that is a chain of division names (0 if none)."""
        best = 0
        pos = 0
        while pos < len(text):
            for length in range(min(self.max_name, len(text) - pos), 1, -1):
                if text[pos : pos + length] in self.by_name:
                    pos += length
                    best = pos
                    break
            else:
                break
        return best


@lru_cache(maxsize=2)
def admin_gazetteer(root: Path | None = None, with_streets: bool = True) -> AdminGazetteer:
    root = Path(root or GAZETTEER_DIR) / "admin_divisions"
    divisions: dict[str, Division] = {}
    provinces = {r["code"]: r["name"] for r in _read_csv(root / "provinces.csv")}
    for code, name in provinces.items():
        divisions[code] = Division(code, name, "province", None, None)
    cities: dict[str, str] = {}
    for r in _read_csv(root / "cities.csv"):
        cities[r["code"]] = r["name"]
        if r["name"] in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        divisions[r["code"]] = Division(r["code"], r["name"], "city", provinces.get(r["provinceCode"]), None)
    for r in _read_csv(root / "areas.csv"):
        city = cities.get(r["cityCode"])
        if city in (None, "市辖区", "县") or "直辖" in (city or ""):
            city = provinces.get(r["provinceCode"]) if r["provinceCode"] in ("11", "12", "31", "50") else None
        divisions[r["code"]] = Division(r["code"], r["name"], "area", provinces.get(r["provinceCode"]), city)
    if with_streets:
        for r in _read_csv(root / "streets.csv"):
            city = cities.get(r["cityCode"])
            if city in (None, "市辖区", "县"):
                city = None
            divisions[r["code"]] = Division(r["code"], r["name"], "street", provinces.get(r["provinceCode"]), city)

    level_rank = {"province": 0, "city": 1, "area": 2, "street": 3}
    by_name: dict[str, list[Division]] = {}
    for division in sorted(divisions.values(), key=lambda d: (level_rank[d.level], d.code)):
        by_name.setdefault(division.name, []).append(division)
        if division.level != "street":
            short = short_form(division.name)
            if short and short not in ("市辖", "城区", "郊区", "矿区", "新区", "高新", "开发"):
                by_name.setdefault(short, []).append(division)
    max_name = max(len(n) for n in by_name)
    return AdminGazetteer(divisions, by_name, max_name)


@lru_cache(maxsize=1)
def industry_names(root: Path | None = None) -> tuple[str, ...]:
    """Industry names from GB/T 4754-2017 and the strategic emerging industries list."""
    root = Path(root or GAZETTEER_DIR)
    names = set()
    for r in _read_csv(root / "industry_gbt4754_2017" / "gbt4754_2017.csv"):
        for part in re.split(r"[、，,和及]", r["name"]):
            part = part.strip()
            if 2 <= len(part) <= 10 and not part.startswith("其他"):
                names.add(part)
    for r in _read_csv(root / "strategic_emerging_industries_2018" / "sei_2018_l1_l2.csv"):
        name = r["name"].strip()
        names.add(name)
        if name.endswith("产业") and len(name) > 4:
            names.add(name[: -len("产业")])
    return tuple(sorted(names))


@lru_cache(maxsize=1)
def central_soe_names(root: Path | None = None) -> tuple[str, ...]:
    root = Path(root or GAZETTEER_DIR)
    names = set()
    for r in _read_csv(root / "central_soe" / "central_soe.csv"):
        for key in ("short", "full"):
            if r.get(key):
                names.add(r[key].strip())
    return tuple(sorted(names))
