"""Precision, recall and F1 of predicted examples against gold ones.

Entities match when start, end and label are identical (strict offsets); relations when
the type and both argument spans (offsets and labels) are identical.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..annotations.corpus import Example
from ..schema import ENTITY_LABELS, RELATION_TYPES


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, gold: set, pred: set) -> None:
        self.tp += len(gold & pred)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    def to_json(self) -> dict[str, float]:
        return {"p": round(self.precision, 4), "r": round(self.recall, 4), "f1": round(self.f1, 4), "tp": self.tp, "fp": self.fp, "fn": self.fn, "support": self.tp + self.fn}


@dataclass
class Scores:
    entities: dict[str, PRF] = field(default_factory=lambda: {label: PRF() for label in ENTITY_LABELS})
    relations: dict[str, PRF] = field(default_factory=lambda: {t: PRF() for t in RELATION_TYPES})

    @staticmethod
    def micro(table: dict[str, PRF]) -> PRF:
        total = PRF()
        for prf in table.values():
            total.tp += prf.tp
            total.fp += prf.fp
            total.fn += prf.fn
        return total

    def to_json(self) -> dict:
        return {
            "entities": {k: v.to_json() for k, v in self.entities.items()},
            "entities_micro": self.micro(self.entities).to_json(),
            "relations": {k: v.to_json() for k, v in self.relations.items()},
            "relations_micro": self.micro(self.relations).to_json(),
        }


def entity_set(example: Example, label: str) -> set[tuple[int, int, str]]:
    return {(e.start, e.end, e.label) for e in example.entities if e.label == label}


def relation_set(example: Example, rel_type: str) -> set[tuple]:
    by_id = example.entity_by_id()
    out = set()
    for r in example.relations:
        if r.type != rel_type or r.head not in by_id or r.tail not in by_id:
            continue
        h, t = by_id[r.head], by_id[r.tail]
        out.add((h.start, h.end, h.label, t.start, t.end, t.label, r.type))
    return out


def score(gold: Sequence[Example], predicted: Iterable[Example]) -> Scores:
    predicted_by_id = {p.id: p for p in predicted}
    scores = Scores()
    for g in gold:
        p = predicted_by_id.get(g.id) or Example(g.id, g.text)
        for label in ENTITY_LABELS:
            scores.entities[label].add(entity_set(g, label), entity_set(p, label))
        for rel_type in RELATION_TYPES:
            scores.relations[rel_type].add(relation_set(g, rel_type), relation_set(p, rel_type))
    return scores


def format_scores(scores: Scores, title: str) -> Iterable[str]:
    yield title
    yield f"  {'label':10} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}"
    for label, prf in scores.entities.items():
        yield f"  {label:10} {prf.precision:6.3f} {prf.recall:6.3f} {prf.f1:6.3f} {prf.tp + prf.fn:8d}"
    micro = Scores.micro(scores.entities)
    yield f"  {'micro':10} {micro.precision:6.3f} {micro.recall:6.3f} {micro.f1:6.3f} {micro.tp + micro.fn:8d}"
    yield f"  {'relation':10} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}"
    for rel, prf in scores.relations.items():
        yield f"  {rel:10} {prf.precision:6.3f} {prf.recall:6.3f} {prf.f1:6.3f} {prf.tp + prf.fn:8d}"
    micro = Scores.micro(scores.relations)
    yield f"  {'micro':10} {micro.precision:6.3f} {micro.recall:6.3f} {micro.f1:6.3f} {micro.tp + micro.fn:8d}"


def counter_of(examples: Iterable[Example]) -> Counter:
    return Counter(e.label for ex in examples for e in ex.entities)
