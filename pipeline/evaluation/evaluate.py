"""`make evaluate`: the fine-tuned model and the weak pre-annotator side by side on dev
and test: per-label entity P/R/F1 (strict offsets), per-type relation P/R/F1 and the
end-to-end record figures, as a table and as JSON."""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from ..annotations.corpus import Entity, Example, Relation, read_splits
from ..extract import Annotator
from .metrics import Scores, score
from .records import record_scores


def predict(annotator: Annotator, examples: Sequence[Example]) -> list[Example]:
    texts = [ex.text for ex in examples]
    many = getattr(annotator, "annotate_many", None)
    results: Iterable = many(texts) if many else (annotator.annotate(t) for t in texts)
    predicted = []
    for ex, (entities, relations) in zip(examples, results):
        ents = [Entity(i + 1, e.label, e.start, e.end) for i, e in enumerate(entities)]
        rels = [Relation(i + 1, r.head + 1, r.tail + 1, r.type) for i, r in enumerate(relations)]
        predicted.append(Example(ex.id, ex.text, ents, rels, dict(ex.meta)))
    return predicted


def evaluate_system(annotator: Annotator, gold: Sequence[Example]) -> tuple[dict[str, Any], list[Example]]:
    started = time.perf_counter()
    predicted = predict(annotator, gold)
    seconds = time.perf_counter() - started
    scores: Scores = score(gold, predicted)
    result = scores.to_json()
    result["records"] = record_scores(gold, predicted)
    result["chars_per_second"] = round(sum(len(ex.text) for ex in gold) / seconds, 1) if seconds else None
    return result, predicted


def evaluate(systems: dict[str, Annotator], splits: Sequence[str] = ("dev", "test")) -> dict[str, dict[str, Any]]:
    """{split: {system: figures}}"""
    corpus = read_splits()
    return {split: {name: evaluate_system(annotator, corpus[split])[0] for name, annotator in systems.items()} for split in splits}


def _f(prf: dict[str, Any]) -> str:
    return f"{prf['p']:.3f} {prf['r']:.3f} {prf['f1']:.3f}"


def format_side_by_side(results: dict[str, dict[str, Any]]) -> Iterable[str]:
    """One table per split: a row per label / relation type, P R F1 per system."""
    for split, systems in results.items():
        names = list(systems)
        yield f"== {split} =="
        yield f"  {'':22}" + "".join(f"{name:>24}" for name in names) + f"{'support':>9}"
        yield f"  {'':22}" + "".join(f"{'P     R     F1':>24}" for _ in names)
        first = systems[names[0]]
        rows: list[tuple[str, str, str]] = []
        rows += [(f"entity {label}", "entities", label) for label in first["entities"]]
        rows.append(("entity micro", "entities_micro", ""))
        rows += [(f"relation {rel}", "relations", rel) for rel in first["relations"]]
        rows.append(("relation micro", "relations_micro", ""))
        rows.append(("records: projects", "records", "projects"))
        rows += [(f"records: {field}", "records.fields", field) for field in first["records"]["fields"]]
        rows.append(("records: all fields", "records", "fields_micro"))
        for title, key, sub in rows:
            cells = []
            support = 0
            for name in names:
                prf = _lookup(systems[name], key, sub)
                cells.append(f"{_f(prf):>24}")
                support = prf["support"]
            yield f"  {title:22}" + "".join(cells) + f"{support:>9}"


def _lookup(figures: dict[str, Any], key: str, sub: str) -> dict[str, Any]:
    node: Any = figures
    for part in key.split("."):
        node = node[part]
    return node[sub] if sub else node

