"""The corpus validator behind `make validate`.

Checks every example against the schema and reports the first reason per faulty
example with its split and id; counts labels, relation types and stages per split.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..schema import ENTITY_LABELS, RELATION_ARGS, stage_of
from .corpus import Example


@dataclass
class Fault:
    split: str
    example_id: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.split}] {self.example_id}: {self.reason}"


@dataclass
class SplitCounts:
    examples: int = 0
    characters: int = 0
    labels: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    stages: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)


def example_faults(example: Example, seeds_dir: Path | None = None) -> list[str]:
    """Every schema violation in one example, as readable reasons."""
    reasons: list[str] = []
    text = example.text
    if not example.id:
        reasons.append("empty id")
    if not isinstance(example.meta.get("source"), (dict, str)) or not example.meta.get("source"):
        reasons.append("no 'source': every example says where its text came from")
    ids = [e.id for e in example.entities]
    if len(ids) != len(set(ids)):
        reasons.append(f"duplicate entity ids {sorted(i for i, n in Counter(ids).items() if n > 1)}")
    for ent in example.entities:
        if ent.label not in ENTITY_LABELS:
            reasons.append(f"entity {ent.id}: unknown label {ent.label!r}")
        if not (0 <= ent.start < ent.end <= len(text)):
            reasons.append(f"entity {ent.id} ({ent.label}): offsets {ent.start}-{ent.end} outside the text (length {len(text)})")
            continue
        surface = text[ent.start : ent.end]
        if surface != surface.strip():
            reasons.append(f"entity {ent.id} ({ent.label}) {surface!r}: span has outer whitespace")
        if ent.label == "STATUS" and stage_of(surface) is None:
            reasons.append(f"entity {ent.id} STATUS {surface!r}: no canonical stage for this word")
    spans = sorted((e for e in example.entities if 0 <= e.start < e.end <= len(text)), key=lambda e: (e.start, e.end))
    for a, b in zip(spans, spans[1:]):
        if b.start < a.end:
            reasons.append(
                f"entities {a.id} {text[a.start:a.end]!r} ({a.label}) and {b.id} {text[b.start:b.end]!r} ({b.label}) overlap"
            )
    by_id = {e.id: e for e in example.entities}
    rel_ids = [r.id for r in example.relations]
    if len(rel_ids) != len(set(rel_ids)):
        reasons.append("duplicate relation ids")
    seen = set()
    for rel in example.relations:
        if rel.type not in RELATION_ARGS:
            reasons.append(f"relation {rel.id}: unknown type {rel.type!r}")
            continue
        head, tail = by_id.get(rel.head), by_id.get(rel.tail)
        if head is None or tail is None:
            reasons.append(f"relation {rel.id} ({rel.type}): refers to a missing entity ({rel.head} -> {rel.tail})")
            continue
        want = RELATION_ARGS[rel.type]
        if (head.label, tail.label) != want:
            reasons.append(
                f"relation {rel.id} ({rel.type}) needs {want[0]} -> {want[1]}, got {head.label} "
                f"{text[head.start:head.end]!r} -> {tail.label} {text[tail.start:tail.end]!r}"
            )
        key = (rel.type, rel.head, rel.tail)
        if key in seen:
            reasons.append(f"relation {rel.id} ({rel.type}) duplicates another")
        seen.add(key)
    source = example.meta.get("source")
    if isinstance(source, dict) and source.get("kind") == "seed":
        from .seeds import read_seed

        try:
            seed_text = read_seed(source["file"], seeds_dir)
            if seed_text[int(source["start"]) : int(source["end"])] != text:
                reasons.append(f"text differs from seed {source['file']} {source['start']}-{source['end']}")
        except (KeyError, OSError, ValueError) as err:
            reasons.append(f"seed source unreadable: {err!r}")
    if isinstance(source, dict) and source.get("kind") == "report":
        from .seeds import read_reports

        try:
            content = read_reports(source["file"])[source["title"]]
            if content[int(source["start"]) : int(source["end"])] != text:
                reasons.append(f"text differs from report {source['title']!r} {source['start']}-{source['end']}")
        except (KeyError, OSError, ValueError) as err:
            reasons.append(f"report source unreadable: {err!r}")
    return reasons


def validate_splits(
    splits: Mapping[str, Sequence[Example]], seeds_dir: Path | None = None
) -> tuple:
    """(faults, counts per split) over all splits, including cross-split duplicates."""
    faults: list[Fault] = []
    counts: dict[str, SplitCounts] = {}
    id_home: dict[str, str] = {}
    text_home: dict[str, tuple] = {}
    for split, examples in splits.items():
        c = counts.setdefault(split, SplitCounts())
        for ex in examples:
            for reason in example_faults(ex, seeds_dir):
                faults.append(Fault(split, ex.id, reason))
            if ex.id in id_home:
                faults.append(Fault(split, ex.id, f"id also used in {id_home[ex.id]}"))
            id_home.setdefault(ex.id, split)
            key = ex.text.strip()
            if key in text_home:
                other_split, other_id = text_home[key]
                faults.append(Fault(split, ex.id, f"same text as {other_split}/{other_id}"))
            text_home.setdefault(key, (split, ex.id))
            c.examples += 1
            c.characters += len(ex.text)
            for ent in ex.entities:
                c.labels[ent.label] += 1
                if ent.label == "STATUS":
                    c.stages[stage_of(ex.span_text(ent)) or "?"] += 1
            for rel in ex.relations:
                c.relations[rel.type] += 1
            source = ex.meta.get("source")
            kind = source.get("kind", "?") if isinstance(source, dict) else str(source)
            c.sources[kind] += 1
    return faults, counts


def format_counts(counts: Mapping[str, SplitCounts]) -> Iterable[str]:
    from ..schema import RELATION_TYPES, STAGES

    yield "split   examples   chars  " + "  ".join(f"{l:>8}" for l in ENTITY_LABELS)
    for split, c in counts.items():
        yield f"{split:6} {c.examples:9} {c.characters:7}  " + "  ".join(f"{c.labels[l]:8}" for l in ENTITY_LABELS)
    yield ""
    yield "split   " + "  ".join(f"{t:>8}" for t in RELATION_TYPES) + "     total"
    for split, c in counts.items():
        yield f"{split:6}  " + "  ".join(f"{c.relations[t]:8}" for t in RELATION_TYPES) + f"  {sum(c.relations.values()):8}"
    yield ""
    yield "split   " + "  ".join(f"{s:>11}" for s in STAGES)
    for split, c in counts.items():
        yield f"{split:6}  " + "  ".join(f"{c.stages[s]:11}" for s in STAGES)
    yield ""
    for split, c in counts.items():
        yield f"{split:6}  sources: " + ", ".join(f"{k} {v}" for k, v in sorted(c.sources.items()))
