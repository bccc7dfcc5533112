"""The weak pre-annotator: gazetteers, patterns and stage words, no learning.

It pre-fills doccano before a model exists and is the baseline every model is compared
with. Each label has its own small matcher; overlaps are resolved by a fixed priority
(longer spans first, then MONEY, DATE, STATUS, PROJECT, ORG, DISTRICT, INDUSTRY), and a
rule-based linker attaches each project to the nearest fitting span of its sentence.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..schema import STAGE_TRIGGERS, TAIL_LABEL_TO_RELATION
from ..text.normalise import NormalisedText, normalise

Span = tuple[int, int, str]  # start, end (exclusive), label

_NUM = r"(?:\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十百千]+(?:点[零〇一二三四五六七八九]+)?)"
_CURRENCY = r"(?:人民币|美元|欧元|港元|港币|日元|韩元|英镑|新台币|新臺幣|澳门元|澳元|加元|瑞士法郎|新加坡元|元)"
MONEY_RE = re.compile(rf"{_NUM}(?:[多余])?(?:万亿|千万|百万|十万|万|亿|兆)?(?:[多余])?{_CURRENCY}|{_NUM}(?:[多余])?(?:万亿|千万|百万|亿)(?=(?:元|的|项目|投资|,|，|。|、|；|;|\)|）|\s|$))")
_CN_MONTH = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3}|十[一二])"
DATE_RE = re.compile(
    r"(?:(?:\d{4}|[一二][〇零一二三四五六七八九]{3})年(?:度)?)?"
    rf"(?:(?:第?[一二三四1-4]季度|[上下]半年|首季度?|{_CN_MONTH}[—\-~－至到]{_CN_MONTH}月份?|{_CN_MONTH}月(?:份|底|初|中旬|上旬|下旬)?(?:\d{{1,2}}[日号])?))"
    r"|(?:\d{4}|[一二][〇零一二三四五六七八九]{3})年(?:度)?"
    r"|(?:今年|去年|明年|前年|上年)(?:[上下]半年|第?[一二三四]季度|\d{1,2}月(?:\d{1,2}日)?|以来)?"
    r"|昨日|今日|昨天|今天|明天"
)
_ORG_SUFFIX = (
    "股份有限公司|有限责任公司|有限公司|株式会社|集团公司|集团|控股|研究院|研究所|设计院|大学|学院|银行|证券|基金会|基金|"
    "资本|商务局|投资促进局|投促局|管委会|管理委员会|人民政府|区政府|市政府|县政府|发展和改革委员会|发改委|协会|商会|联合会"
)
_BOUNDARY = r"[\s,，。、；;：:！!？?“”\"'‘’（）()《》【】<>/|\t\n的与和及在由对向将为从同把被是等]"
ORG_RE = re.compile(rf"(?<={_BOUNDARY})[^\s,，。、；;：:！!？?“”\"'‘’《》【】<>/|的与和及在由对向将为从同把被是等]{{2,24}}?(?:{_ORG_SUFFIX})")
PROJECT_SUFFIX = "项目|产业园|产业基地|基地|中心|园区|工业园|科技园|物流园|小镇|综合体|城"
PROJECT_RE = re.compile(rf"(?<={_BOUNDARY})[^\s,，。、；;：:！!？?“”\"'‘’《》【】<>/|的与在由对向将为从同把被是等]{{2,30}}?(?:{PROJECT_SUFFIX})(?:[一二三四五六]期)?(?:项目)?")
_GENERIC_PROJECT = re.compile(
    r"^(?:该|本|此|各|全|重点|重大|大|新|招商|签约|在谈|在建|续建|开工|竣工|投产|外资|内资|产业|亿元|优质|好|大好高|各类|一批|多个|\d+个|[一二三四五六七八九十百千]+个|其他|相关|这些|上述|同类|其中)*(?:项目|基地|中心|园区|城)$"
)
_GENERIC_ORG = re.compile(r"^(?:各类|相关|民营|社会|外资|深圳|产业|行业|商|优秀|安排|有关|国有|知名)*(?:基金|资本|协会|商会|大学|集团|银行|有限公司|股份有限公司|研究院)$")
ZONE_RE = re.compile(rf"(?<={_BOUNDARY})[\u4e00-\u9fff]{{2,12}}?(?:经济技术开发区|高新技术产业开发区|经济开发区|高新区|经开区|开发区|新区|示范区|综合保税区|保税区|自贸片区|自由贸易试验区|片区|街道|镇)")
# Verbs and function words that stand in front of a name without being part of it.
LEADING_NOISE = re.compile(
    r"(?:(?:计划|拟|将|已|正在|全力|积极|主动|重点|加快|加速|大力|进一步|成功|并|又|再|共同|分别|还|也|如|像|据|根据|"
    r"对接|接|拜访|走访|接待|推进|推动|促进|扶持|支持|服务|筹建|引进|引入|吸引|招引|梳理|组织|走进|位于|落户|落地|入驻|签约|开工|"
    r"建设|建成|打造|培育|发展|壮大|提升|确保|引导|安排|有效|强化|到|了|参与|依托|围绕|为了|为|举办|建立|成立|设立|联合|携手|助力|实现|"
    r"完成|开展|通过|经过|深化|聚焦|带动|加强|做好|抓好|保障|解决|掌握|调研|参加|出席|赴|来自|包括|其中|目前|今年|去年|同时|此外|另外|"
    r"该|本|此|这|其|各|全|区|市|县|省|镇)+)"
)
GENERIC_ZONE_PREFIX = re.compile(r"^(?:全|本|该|各|我|国家级|省级|市级|新|重点)")

INDUSTRY_TERMS = (
    "新能源汽车", "智能网联汽车", "汽车零部件", "动力电池", "锂电池", "储能", "氢能", "光伏", "风电", "新能源", "新材料", "集成电路", "半导体",
    "芯片", "人工智能", "大数据", "云计算", "数字经济", "工业互联网", "物联网", "软件", "信息技术", "电子信息", "生物医药", "医疗器械",
    "大健康", "医养健康", "高端装备", "智能制造", "装备制造", "先进制造业", "制造业", "现代服务业", "服务业", "冷链物流", "现代物流", "物流",
    "跨境电商", "电子商务", "直播电商", "文化旅游", "文旅", "旅游", "现代农业", "食品加工", "预制菜", "纺织服装", "化工", "精细化工", "航空航天",
    "海洋经济", "现代金融", "金融", "总部经济", "节能环保", "环保", "机器人", "虚拟现实", "微电子", "轨道交通", "商贸物流", "大宗商品交易",
    "绿色建材", "建材", "碳纤维", "复合材料", "家电", "智能家电", "海工装备", "船舶", "电子商务", "数据中心", "算力", "康养", "教育", "白酒",
)


def _stage_regex() -> re.Pattern:
    words = sorted({w for ws in STAGE_TRIGGERS.values() for w in ws}, key=len, reverse=True)
    # 注册资本/注册资金 are capital, not a stage; 运营商/运营方 are companies
    return re.compile("(?:" + "|".join(map(re.escape, words)) + ")(?!资本|资金|商标|商|方|中心)")


STATUS_RE = _stage_regex()


@lru_cache(maxsize=1)
def _common_words() -> frozenset:
    """Two-character county short forms that are everyday words (合作, 资源, 新建, 振兴):
    those that occur in the national work reports, where county names hardly ever do."""
    import json

    from ..gazetteers import GAZETTEER_DIR, admin_gazetteer

    reports = GAZETTEER_DIR.parent / "unlabeled" / "gov_work_reports_national_1954_2025.jsonl"
    text = "".join(json.loads(line).get("content", "") for line in reports.open(encoding="utf-8"))
    shorts = {n for n, ds in admin_gazetteer(with_streets=False).by_name.items() if all(d.name != n for d in ds)}
    return frozenset(n for n in shorts if text.count(n) >= 2)


@lru_cache(maxsize=1)
def _district_names() -> tuple[re.Pattern, frozenset]:
    from ..gazetteers import admin_gazetteer

    gazetteer = admin_gazetteer(with_streets=False)
    common = _common_words()
    names = set()
    for name, divisions in gazetteer.by_name.items():
        is_full_name = any(d.name == name for d in divisions)
        if len(name) >= 2 and (is_full_name or any(d.level in ("province", "city") for d in divisions) or name not in common):
            names.add(name)
    pattern = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))
    return pattern, frozenset(names)


@lru_cache(maxsize=1)
def _industry_regex() -> re.Pattern:
    from ..gazetteers import industry_names

    terms = set(INDUSTRY_TERMS) | {n for n in industry_names() if 2 <= len(n) <= 8 and not n.endswith(("业", "服务", "活动", "制造"))}
    return re.compile("|".join(map(re.escape, sorted(terms, key=len, reverse=True))))


@lru_cache(maxsize=1)
def _soe_regex() -> re.Pattern:
    from ..gazetteers import central_soe_names

    return re.compile("|".join(map(re.escape, sorted((n for n in central_soe_names() if len(n) >= 3), key=len, reverse=True))))


def _strip_leading_noise(start: int, end: int, text: str) -> int:
    """Move a name's start past leading verbs and past any amount, date or stage word
    inside it (投资20.7亿元佰鸿…项目 -> 佰鸿…项目)."""
    for regex in (MONEY_RE, STATUS_RE, DATE_RE):
        for m in regex.finditer(text, start, end):
            if m.end() <= end - 3:
                start = max(start, m.end())
    m = LEADING_NOISE.match(text, start, end)
    return m.end() if m and m.end() < end - 1 else start


def candidate_spans(text: str) -> list[tuple[int, int, str, int]]:
    """Every match of every matcher: (start, end, label, priority)."""
    out: list[tuple[int, int, str, int]] = []
    padded = "\n" + text  # lets look-behind boundaries match at the start

    def add(regex: re.Pattern, label: str, priority: int, source: str = padded, shift: int = 1) -> None:
        for m in regex.finditer(source):
            if m.end() > m.start():
                out.append((m.start() - shift, m.end() - shift, label, priority))

    add(MONEY_RE, "MONEY", 0, text, 0)
    add(DATE_RE, "DATE", 1, text, 0)
    add(STATUS_RE, "STATUS", 2, text, 0)
    named = ((PROJECT_RE, "PROJECT", 3, _GENERIC_PROJECT), (ORG_RE, "ORG", 4, _GENERIC_ORG), (ZONE_RE, "DISTRICT", 5, GENERIC_ZONE_PREFIX))
    for regex, label, priority, generic in named:
        for m in regex.finditer(padded):
            start = _strip_leading_noise(m.start() - 1, m.end() - 1, text)
            surface = text[start : m.end() - 1]
            if len(surface) < 3 or generic.match(surface) or re.search(r"\d+个|类项目|^\d", surface):
                continue
            out.append((start, m.end() - 1, label, priority))
    add(_soe_regex(), "ORG", 4, text, 0)
    district_re, _ = _district_names()
    add(district_re, "DISTRICT", 5, text, 0)
    add(_industry_regex(), "INDUSTRY", 6, text, 0)
    return out


def resolve_overlaps(candidates: Iterable[tuple[int, int, str, int]]) -> list[Span]:
    chosen: list[tuple[int, int, str, int]] = []
    taken = bytearray()
    for start, end, label, priority in sorted(candidates, key=lambda c: (-(c[1] - c[0]), c[3], c[0])):
        if len(taken) < end:
            taken.extend(b"\x00" * (end - len(taken)))
        if any(taken[start:end]):
            continue
        taken[start:end] = b"\x01" * (end - start)
        chosen.append((start, end, label, priority))
    return sorted((s, e, l) for s, e, l, _ in chosen)


def preannotate_entities(text: str) -> list[Span]:
    """Entity spans for text, as original-text offsets (the matchers run on normalised text)."""
    norm: NormalisedText = normalise(text)
    spans = resolve_overlaps(candidate_spans(norm.text))
    mapped = []
    for start, end, label in spans:
        a, b = norm.to_original(start, end)
        mapped.append((a, b, label))
    return mapped


_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
NOT_INVESTMENT_BEFORE = re.compile(r"(?:注册资本|注册资金|到账|到位|销售额|销售收入|营收|营业收入|产值|税收|利税|增加值|进出口|完成)[^，,。；;]{0,4}$")


@dataclass
class WeakRelation:
    head: int  # index into spans
    tail: int
    type: str


def link_relations(text: str, spans: Sequence[Span]) -> list[WeakRelation]:
    """Each PROJECT to the nearest span of each other label in its own sentence (MONEY
    only when it reads as investment)."""
    sentence_of = []
    boundaries = [m.start() for m in _SENTENCE_END.finditer(text)]
    b = 0
    for start, _, _ in spans:
        while b < len(boundaries) and boundaries[b] < start:
            b += 1
        sentence_of.append(b)
    relations: list[WeakRelation] = []
    projects = [i for i, s in enumerate(spans) if s[2] == "PROJECT"]
    for p in projects:
        best: dict[str, tuple[int, int]] = {}
        for t, (start, _, label) in enumerate(spans):
            if label == "PROJECT" or sentence_of[t] != sentence_of[p]:
                continue
            if label == "MONEY" and NOT_INVESTMENT_BEFORE.search(text[max(0, start - 12) : start]):
                continue
            distance = abs(start - spans[p][0])
            if label not in best or distance < best[label][0]:
                best[label] = (distance, t)
        for label, (_, t) in best.items():
            relations.append(WeakRelation(p, t, TAIL_LABEL_TO_RELATION[label]))
    return relations


def preannotate(text: str) -> tuple[list[Span], list[WeakRelation]]:
    spans = preannotate_entities(text)
    return spans, link_relations(text, spans)


def preannotate_example(example_id: str, text: str, meta: dict | None = None):
    """A corpus Example with the weak annotation (used to pre-fill doccano)."""
    from .corpus import Entity, Example, Relation

    spans, relations = preannotate(text)
    entities = [Entity(i + 1, label, s, e) for i, (s, e, label) in enumerate(spans)]
    rels = [Relation(i + 1, r.head + 1, r.tail + 1, r.type) for i, r in enumerate(relations)]
    return Example(example_id, text, entities, rels, dict(meta or {}))
