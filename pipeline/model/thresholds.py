"""Decision thresholds chosen on dev after training: the span entity finder's one
threshold, then one per relation type (the relations are drawn on the entities found).

The relation pipe scores every candidate pair; with all thresholds at zero it keeps
every score, and each type's threshold is then the one with the best dev F1. Dev has
few relations of some types, so the search is limited to a middle range and ties go
to the threshold nearest 0.5.

A threshold tuned on a handful of relations fits those few: with 3 to 13 dev relations
per type, per-type thresholds scored 0.05 lower on test than one shared threshold.
Types with fewer than `min_support` dev relations therefore share one threshold, the
best for all of them pooled (micro F1); a type with enough support gets its own.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spacy.language import Language

from ..annotations.corpus import Example
from ..schema import RELATION_TYPES

GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))  # 0.2 … 0.8


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _f1_at(scored: list[tuple[float, bool]], gold_count: int, threshold: float) -> float:
    tp = sum(1 for s, ok in scored if s >= threshold and ok)
    fp = sum(1 for s, ok in scored if s >= threshold and not ok)
    return _f1(tp, fp, gold_count - tp)


def _best_threshold(scored: list[tuple[float, bool]], gold_count: int) -> tuple[float, float]:
    """(threshold, F1) with the best F1 on the grid; ties go to the one nearest 0.5."""
    best = (-1.0, 0.0, 0.5)
    for threshold in GRID:
        candidate = (_f1_at(scored, gold_count, threshold), -abs(threshold - 0.5), threshold)
        if candidate > best:
            best = candidate
    return best[2], best[0]


def tune_thresholds(nlp: Language, dev: Sequence[Example], min_support: int = 20) -> dict[str, dict[str, Any]]:
    """Sets the relation pipe's per-type thresholds; returns
    {type: {threshold, f1, support, shared}} (`shared`: tuned on the pooled small types)."""
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
    chosen = choose_thresholds(scored, gold_count, min_support)
    relation.cfg["thresholds"] = {t: v["threshold"] for t, v in chosen.items()}
    return chosen


def choose_thresholds(
    scored: dict[str, list[tuple[float, bool]]], gold_count: dict[str, int], min_support: int = 20
) -> dict[str, dict[str, Any]]:
    """Each type's threshold from its dev candidates (score, is gold) and gold count."""
    small = [t for t in scored if gold_count[t] < min_support]
    shared, _ = _best_threshold([pair for t in small for pair in scored[t]], sum(gold_count[t] for t in small))
    chosen: dict[str, dict[str, Any]] = {}
    for rel_type in scored:
        if rel_type in small:
            threshold = shared
            f1 = _f1_at(scored[rel_type], gold_count[rel_type], threshold)
        else:
            threshold, f1 = _best_threshold(scored[rel_type], gold_count[rel_type])
        chosen[rel_type] = {
            "threshold": threshold,
            "f1": round(f1, 4),
            "support": gold_count[rel_type],
            "shared": rel_type in small,
        }
    return chosen


def tune_span_threshold(nlp: Language, dev: Sequence[Example]) -> dict[str, Any]:
    """Sets the `span_entities` pipe's threshold to the one on GRID with the best dev entity
    micro-F1 (strict offsets, every label, after the pipes that follow it up to the
    relations); returns {threshold, f1}. The transformer and NER run once."""
    span = nlp.get_pipe("span_entities")
    upstream = nlp.pipe_names[: nlp.pipe_names.index("span_entities")]
    downstream = [name for name in nlp.pipe_names[nlp.pipe_names.index("span_entities") + 1 :] if name != "relation_extractor"]
    with nlp.select_pipes(enable=upstream):
        docs = list(nlp.pipe(ex.text for ex in dev))
    found = [list(doc.ents) for doc in docs]
    probabilities = span.probabilities(docs, span.predict(docs))
    gold = [{(e.start, e.end, e.label) for e in ex.entities} for ex in dev]
    best = (-1.0, 0.0, 0.5)
    for threshold in GRID:
        span.cfg["threshold"] = threshold
        tp = fp = fn = 0
        for doc, ents, (spans, probs), truth in zip(docs, found, probabilities, gold):
            doc.ents = ents
            doc.ents = span.decode(doc, spans, probs)
            for name in downstream:
                doc = nlp.get_pipe(name)(doc)
            predicted = {(e.start_char, e.end_char, e.label_) for e in doc.ents}
            tp += len(predicted & truth)
            fp += len(predicted - truth)
            fn += len(truth - predicted)
        best = max(best, (_f1(tp, fp, fn), -abs(threshold - 0.5), threshold))
    span.cfg["threshold"] = best[2]
    return {"threshold": best[2], "f1": round(best[0], 4)}
