"""Per-relation-type decision thresholds, chosen on dev after training.

The relation pipe scores every candidate pair; with all thresholds at zero it keeps
every score, and each type's threshold is then the one with the best dev F1. Dev has
few relations of some types, so the search is limited to a middle range and ties go
to the threshold nearest 0.5.
"""
from __future__ import annotations

from collections.abc import Sequence

from spacy.language import Language

from ..annotations.corpus import Example
from ..schema import RELATION_TYPES

GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))  # 0.2 … 0.8


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def tune_thresholds(nlp: Language, dev: Sequence[Example]) -> dict[str, dict[str, float]]:
    """Sets the relation pipe's per-type thresholds; returns {type: {threshold, f1, support}}."""
    relation = nlp.get_pipe("relation_extractor")
    scored: dict[str, list[tuple[float, bool]]] = {t: [] for t in RELATION_TYPES}
    gold_count = {t: 0 for t in RELATION_TYPES}
    with relation.keeping_every_candidate():
        for example, doc in zip(dev, nlp.pipe(ex.text for ex in dev)):
            by_id = example.entity_by_id()
            gold = set()
            for r in example.relations:
                h, t = by_id[r.head], by_id[r.tail]
                gold.add((r.type, h.start, h.end, t.start, t.end))
                gold_count[r.type] += 1
            for rel in doc.user_data.get("relations", []):
                key = (rel["type"], *rel["head"], *rel["tail"])
                scored[rel["type"]].append((rel["score"], key in gold))
    chosen: dict[str, dict[str, float]] = {}
    for rel_type in RELATION_TYPES:
        best = (-1.0, 0.0, 0.5)
        for threshold in GRID:
            tp = sum(1 for s, ok in scored[rel_type] if s >= threshold and ok)
            fp = sum(1 for s, ok in scored[rel_type] if s >= threshold and not ok)
            f1 = _f1(tp, fp, gold_count[rel_type] - tp)
            candidate = (f1, -abs(threshold - 0.5), threshold)
            if candidate > best:
                best = candidate
        chosen[rel_type] = {"threshold": best[2], "f1": round(best[0], 4), "support": gold_count[rel_type]}
    relation.cfg["thresholds"] = {t: v["threshold"] for t, v in chosen.items()}
    return chosen
