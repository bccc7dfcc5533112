"""The public Chinese NER sets in ../shared/data/ner, mapped to our labels.

The sets carry their own labels; the mapping to ours is explicit here and tested:

| set | their label | ours | condition |
|---|---|---|---|
| CLUENER2020 | company, government, organization | ORG | always |
| CLUENER2020 | address | DISTRICT | only the part that is a chain of administrative names (山东省威海市 in 山东省威海市高区路) |
| People's Daily 1998 | TIME | DATE | not a duration (三年, 48小时) and not a time of day (上午, 8时) |
| CFSC | Corporate | ORG | always |

Every other label (name, position, game, book, movie, scene; Stock, Market, Economy) is
dropped. The sets do not label MONEY, PROJECT, INDUSTRY or STATUS, and each labels only
some of our classes, so their documents are partially annotated: the training step must
treat unlabelled tokens of these sets as unknown, not as "outside".
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .seeds import SHARED_DIR

NER_DIR = SHARED_DIR / "data" / "ner"

CLUENER_TO_OURS: dict[str, str] = {
    "company": "ORG",
    "government": "ORG",
    "organization": "ORG",
    "address": "DISTRICT",
}
PEOPLES_DAILY_TO_OURS: dict[str, str] = {"TIME": "DATE"}
CFSC_TO_OURS: dict[str, str] = {"Corporate": "ORG"}

_NUM = r"[0-9０-９一二三四五六七八九十百千万两几多数半]+"
_DURATION = re.compile(rf"^(?:近|约|整整|长达|最近)?{_NUM}(?:个)?(?:多)?(?:小时|分钟|秒钟?|天|日|周|星期|个月|月|年|多年|年来|年间|载|世纪)(?:来|间|多|之久|以来)?$")
_TIME_OF_DAY = re.compile(r"(?:凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|晚间|夜间|深夜|午夜|时|点|分)$")
_VAGUE = {"日前", "近日", "目前", "当前", "近期", "此前", "以前", "今后", "最近", "不久前", "日后", "前日", "连日", "多日"}
_DATE_CUE = re.compile(r"[年月日号]|季度|上半年|下半年|今天|昨天|明天|前天|今年|去年|明年|前年|当年|元旦|春节|世纪|年代|春|夏|秋|冬")


@dataclass
class PublicExample:
    id: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # start, end (exclusive), our label
    source: dict[str, str] = field(default_factory=dict)


def time_is_date(surface: str) -> bool:
    """Whether a People's Daily TIME span is a DATE in our schema."""
    s = surface.strip()
    if re.match(r"^(?:[12][0-9]{3}|[一二][〇零一二三四五六七八九]{3})年", s) and not _TIME_OF_DAY.search(s):
        return True
    if not s or s in _VAGUE or _DURATION.match(s):
        return False
    if _TIME_OF_DAY.search(s) and not re.search(r"[年月日号]", s[:-1] if s else s):
        return False
    return bool(_DATE_CUE.search(s))


def address_to_district(surface: str) -> tuple[int, int] | None:
    """The administrative part of a CLUENER address (relative offsets), or None."""
    from ..gazetteers import admin_gazetteer

    gazetteer = admin_gazetteer()
    length = gazetteer.admin_prefix(surface)
    if length < 2:
        return None
    chain = gazetteer.parse_chain(surface[:length]) or []
    # 泗水街 is a street named after a county, not the county: a prefix that stops
    # inside the span must end with a full division name (北京市海淀区|中关村大街).
    if length < len(surface) and (not chain or chain[-1][2].name != surface[chain[-1][0] : chain[-1][1]]):
        return None
    return (0, length)


def map_cluener_row(row: dict, index: int, split: str) -> PublicExample:
    text = row["text"]
    spans: list[tuple[int, int, str]] = []
    for their_label, mentions in (row.get("label") or {}).items():
        ours = CLUENER_TO_OURS.get(their_label)
        if not ours:
            continue
        for surface, places in mentions.items():
            for start, end_inclusive in places:
                end = end_inclusive + 1
                if text[start:end] != surface:
                    continue
                if ours == "DISTRICT":
                    part = address_to_district(surface)
                    if part is None:
                        continue
                    end = start + part[1]
                spans.append((start, end, ours))
    return PublicExample(f"cluener-{split}-{index}", text, _drop_overlaps(spans), {"kind": "public", "set": "cluener2020", "split": split, "line": str(index + 1)})


def read_cluener(split: str = "train", root: Path | None = None) -> Iterator[PublicExample]:
    path = Path(root or NER_DIR) / "cluener2020" / f"{split}.json"
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if line.strip():
                yield map_cluener_row(json.loads(line), index, split)


def read_peoples_daily(split: str = "dev", root: Path | None = None) -> Iterator[PublicExample]:
    path = Path(root or NER_DIR) / "peoples_daily_1998_time" / f"{split}.char.bio.tsv"
    chars: list[str] = []
    tags: list[str] = []
    index = 0

    def flush() -> PublicExample | None:
        nonlocal index
        if not chars:
            return None
        text = "".join(chars)
        spans = []
        start = None
        label = None
        for i, tag in enumerate(tags + ["O"]):
            if start is not None and not tag.startswith("I-"):
                ours = PEOPLES_DAILY_TO_OURS.get(label or "")
                if ours and time_is_date(text[start:i]):
                    spans.append((start, i, ours))
                start = None
            if tag.startswith("B-"):
                start, label = i, tag[2:]
        example = PublicExample(f"pd1998-{split}-{index}", text, spans, {"kind": "public", "set": "peoples_daily_1998_time", "split": split, "sentence": str(index + 1)})
        index += 1
        chars.clear()
        tags.clear()
        return example

    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line.strip():
                example = flush()
                if example:
                    yield example
                continue
            char, _, tag = line.partition("\t")
            chars.append(char[:1] or " ")
            tags.append(tag.strip() or "O")
    example = flush()
    if example:
        yield example


def read_cfsc(split: str = "val", root: Path | None = None) -> Iterator[PublicExample]:
    path = Path(root or NER_DIR) / "cfsc" / f"{split}.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    for index, row in enumerate(rows):
        text = row["text"]
        spans = []
        for label in row.get("labels") or []:
            ours = CFSC_TO_OURS.get(label.get("Level 1 Aspect", ""))
            start, end = int(label["from"]), int(label["to"])
            if ours and text[start:end] == label.get("text"):
                spans.append((start, end, ours))
        yield PublicExample(f"cfsc-{split}-{index}", text, _drop_overlaps(spans), {"kind": "public", "set": "cfsc", "split": split, "item": str(index + 1)})


def _drop_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep the longer of overlapping spans (the sets label some nested mentions)."""
    kept: list[tuple[int, int, str]] = []
    for span in sorted(set(spans), key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept)


PUBLIC_SETS = {
    "cluener2020": (read_cluener, ("train", "dev")),
    "peoples_daily_1998_time": (read_peoples_daily, ("dev", "test")),
    "cfsc": (read_cfsc, ("val", "test")),
}


def iter_public_examples(root: Path | None = None) -> Iterator[PublicExample]:
    for reader, splits in PUBLIC_SETS.values():
        for split in splits:
            yield from reader(split, root)


def iter_public_texts(root: Path | None = None) -> Iterator[str]:
    for example in iter_public_examples(root):
        yield example.text


def sample_public_examples(sets: Iterable[str], count: int, seed: int, root: Path | None = None) -> list[PublicExample]:
    """`count` examples with at least one mapped span, drawn reproducibly from `sets`
    (names in PUBLIC_SETS), for mixing into training."""
    unknown = sorted(set(sets) - set(PUBLIC_SETS))
    if unknown:
        raise ValueError(f"unknown public sets {unknown}; known: {sorted(PUBLIC_SETS)}")
    pool = [ex for name in sets for split in PUBLIC_SETS[name][1] for ex in PUBLIC_SETS[name][0](split, root) if ex.spans]
    random.Random(seed).shuffle(pool)
    return pool[:count]
