"""End-to-end record figures: the project records built from predicted entities and
relations against those built from the gold ones.

Projects match when their normalised names match (the same key that merges mentions);
a matched project's field counts as right when its normalised value equals gold's:
amount (value and currency), district code, stage, date value, and the sets of
investors and industries.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..annotations.corpus import Example
from ..records.build import RelationRef, SpanRef, build_records, project_key
from .metrics import PRF

FIELDS = ("amount", "district", "stage", "date", "investors", "industries")


def example_records(example: Example) -> list[dict[str, Any]]:
    order = sorted(example.entities, key=lambda e: (e.start, e.end))
    index = {e.id: i for i, e in enumerate(order)}
    spans = [SpanRef(e.start, e.end, e.label, example.text[e.start : e.end]) for e in order]
    rels = [RelationRef(index[r.head], index[r.tail], r.type) for r in example.relations if r.head in index and r.tail in index]
    return build_records(example.text, spans, rels, example.meta)


def field_value(record: dict[str, Any], field: str) -> Any:
    value = record.get(field)
    if value is None or value == []:
        return None
    if field == "amount":
        return (value.get("value"), value.get("currency"))
    if field == "district":
        return value.get("code") or value.get("text")
    if field == "stage":
        return (value.get("stage"), value.get("planned"))
    if field == "date":
        return value.get("value") or value.get("text")
    return frozenset(item["text"] for item in value)


def record_scores(gold: Sequence[Example], predicted: Sequence[Example]) -> dict[str, Any]:
    predicted_by_id = {p.id: p for p in predicted}
    projects = PRF()
    fields = {name: PRF() for name in FIELDS}
    for g in gold:
        p = predicted_by_id.get(g.id) or Example(g.id, g.text)
        gold_records = {project_key(r["name"]): r for r in example_records(g)}
        pred_records = {project_key(r["name"]): r for r in example_records(p)}
        projects.add(set(gold_records), set(pred_records))
        for key in set(gold_records) | set(pred_records):
            g_rec, p_rec = gold_records.get(key), pred_records.get(key)
            for name, prf in fields.items():
                g_val = field_value(g_rec, name) if g_rec else None
                p_val = field_value(p_rec, name) if p_rec else None
                if g_val is not None and g_val == p_val:
                    prf.tp += 1
                    continue
                if p_val is not None:
                    prf.fp += 1
                if g_val is not None:
                    prf.fn += 1
    all_fields = PRF()
    for prf in fields.values():
        all_fields.tp += prf.tp
        all_fields.fp += prf.fp
        all_fields.fn += prf.fn
    return {
        "projects": projects.to_json(),
        "fields": {name: prf.to_json() for name, prf in fields.items()},
        "fields_micro": all_fields.to_json(),
    }
