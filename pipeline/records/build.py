"""One record per distinct project of a document, from its entities and relations.

Mentions of one project (repeats, short forms such as 鸿瑞医疗器械产业园项目 for
山东鸿瑞医疗器械产业园项目) are merged; each field is normalised and keeps the offsets
of the span it came from, so every value can be checked against the text.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..text.chinese import plain_simplified
from .dates import DateContext, document_context, parse_date
from .districts import resolve
from .money import parse_money
from .stages import PLANNED_CONTEXT, parse_stage


@dataclass(frozen=True)
class SpanRef:
    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class RelationRef:
    head: int
    tail: int
    type: str


_QUOTES = "“”\"'‘’《》「」『』"
_LEVEL_RANK = {"street": 0, "area": 1, "city": 2, "province": 3, None: 4}


def project_key(name: str) -> str:
    key = plain_simplified(name).strip(_QUOTES + " ")
    return re.sub(r"项目$", "", key)


def group_mentions(entities: Sequence[SpanRef]) -> list[list[int]]:
    """Indices of PROJECT entities grouped by project: same name, or one name inside the other."""
    groups: list[list[int]] = []
    keys: list[list[str]] = []
    for i, ent in enumerate(entities):
        if ent.label != "PROJECT":
            continue
        key = project_key(ent.text)
        for group, group_keys in zip(groups, keys):
            if any(key == k or (min(len(key), len(k)) >= 4 and (key in k or k in key)) for k in group_keys):
                group.append(i)
                group_keys.append(key)
                break
        else:
            groups.append([i])
            keys.append([key])
    return groups


def _evidence(ent: SpanRef) -> dict[str, Any]:
    return {"start": ent.start, "end": ent.end}


def build_records(
    text: str,
    entities: Sequence[SpanRef],
    relations: Sequence[RelationRef],
    meta: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    context: DateContext = document_context(text, meta)
    district_names = [e.text for e in entities if e.label == "DISTRICT"]
    tails: dict[int, list[RelationRef]] = {}
    for rel in relations:
        tails.setdefault(rel.head, []).append(rel)
    records = []
    for group in group_mentions(entities):
        name_ent = max((entities[i] for i in group), key=lambda e: (len(e.text), -e.start))
        rels = sorted((r for i in group for r in tails.get(i, [])), key=lambda r: entities[r.tail].start)
        by_type: dict[str, list[SpanRef]] = {}
        for rel in rels:
            by_type.setdefault(rel.type, []).append(entities[rel.tail])
        record: dict[str, Any] = {
            "name": name_ent.text,
            "start": name_ent.start,
            "end": name_ent.end,
            "mentions": [{"start": entities[i].start, "end": entities[i].end} for i in sorted(group, key=lambda i: entities[i].start)],
            "amount": None,
            "district": None,
            "stage": None,
            "investors": [],
            "industries": [],
            "date": None,
        }
        amounts = by_type.get("AMOUNT", [])
        if amounts:
            ent = amounts[0]
            money = parse_money(ent.text, text[max(0, ent.start - 4) : ent.start], text[ent.end : ent.end + 3])
            record["amount"] = {**money.to_json(), **_evidence(ent)}
        locations = by_type.get("LOCATION", [])
        if locations:
            resolved = [(resolve(e.text, district_names), e) for e in locations]
            district, ent = min(resolved, key=lambda pair: (_LEVEL_RANK[pair[0].level], pair[1].start))
            record["district"] = {**district.to_json(), **_evidence(ent)}
        stage_ent = None
        statuses = by_type.get("STATUS", [])
        # two stage words in a row (签约落地, 注册落地) state one event: the first word says it
        compound_tails = {e.end for e in statuses}
        statuses = [e for e in statuses if e.start not in compound_tails] or statuses
        if statuses:
            parsed = [(parse_stage(e.text, text[max(0, e.start - PLANNED_CONTEXT) : e.start]), e) for e in statuses]
            done = [p for p in parsed if not p[0].planned and p[0].stage]
            pool = done or [p for p in parsed if p[0].stage] or parsed
            stage, stage_ent = max(pool, key=lambda pair: (pair[0].rank, -pair[1].start))
            record["stage"] = {**stage.to_json(), **_evidence(stage_ent)}
        for rel_type, field in (("INVESTOR", "investors"), ("INDUSTRY", "industries")):
            seen = set()
            for ent in by_type.get(rel_type, []):
                if ent.text not in seen:
                    seen.add(ent.text)
                    record[field].append({"text": ent.text, **_evidence(ent)})
        dates = by_type.get("DATE", [])
        if dates:
            anchor = stage_ent.start if stage_ent is not None else name_ent.start
            ent = min(dates, key=lambda e: abs(e.start - anchor))
            record["date"] = {"text": ent.text, "value": parse_date(ent.text, context, text, ent.start), **_evidence(ent)}
        records.append(record)
    return records
