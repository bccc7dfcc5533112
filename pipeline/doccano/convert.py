"""Our examples <-> doccano's relation-extraction JSON Lines.

What we upload is a corpus line plus transport metadata, which doccano keeps as the
document's metadata and returns in every export:

- `example_id`: our id (doccano's own `id` is a database id);
- `split`, `source`: where the example goes and where its text comes from;
- `preannotation`: who made the annotations we uploaded (an annotator's name, or
  `corpus` when the example was already annotated and is pushed for review);
- `pushed`: the fingerprint of the uploaded annotations, so that a pull can tell a
  reviewed document from one nobody touched;
- `base`: the fingerprint of the corpus version at push time ("" when there was none),
  so that a pull never overwrites an example changed locally since;
- `pushed_by`: the doccano user who uploaded it (the owner of the pre-annotations when
  every annotator has their own copy).

Every uploaded line has all of these keys with non-null values: doccano reads a batch
into one table, and a key missing from some lines becomes NaN, which SQLite rejects.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..annotations.corpus import CorpusFormatError, Entity, Example, Relation
from ..annotations.validate import example_faults
from ..records.build import RelationRef, SpanRef
from ..schema import ENTITY_LABELS, RELATION_ARGS, stage_of

TRANSPORT_KEYS = ("example_id", "split", "source", "preannotation", "pushed", "base", "pushed_by")
EXPORT_ONLY_KEYS = ("id", "Comments")


def fingerprint(example: Example) -> str:
    """A short digest of the text and the annotations (not of ids or metadata)."""
    spans = {e.id: (e.start, e.end, e.label) for e in example.entities}
    relations = sorted(
        (r.type, spans.get(r.head, (-1, -1, "?")), spans.get(r.tail, (-1, -1, "?"))) for r in example.relations
    )
    payload = json.dumps([example.text, sorted(spans.values()), relations], ensure_ascii=False)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def example_from_prediction(
    example_id: str, text: str, entities: Sequence[SpanRef], relations: Sequence[RelationRef], meta: dict[str, Any]
) -> Example:
    """An annotator's output (relations point at indices of `entities`) as an Example."""
    ents = [Entity(i + 1, e.label, e.start, e.end) for i, e in enumerate(entities)]
    rels = [Relation(i + 1, r.head + 1, r.tail + 1, r.type) for i, r in enumerate(relations)]
    return Example(example_id, text, ents, rels, dict(meta))


def keep_valid(example: Example) -> tuple[Example, int]:
    """The largest simple valid subset of a pre-annotation, and how many items were dropped.

    A pre-annotator may propose overlapping spans, a STATUS word with no stage or a
    relation between the wrong labels; doccano would accept them and the pull would then
    refuse the example. Spans are kept first come, longest first, without overlap; then
    relations whose arguments survived and fit the schema, once each."""
    text = example.text
    candidates = sorted(example.entities, key=lambda e: (e.start, -(e.end - e.start)))
    kept: list[Entity] = []
    for ent in candidates:
        if ent.label not in ENTITY_LABELS or not (0 <= ent.start < ent.end <= len(text)):
            continue
        surface = text[ent.start : ent.end]
        if surface != surface.strip() or (ent.label == "STATUS" and stage_of(surface) is None):
            continue
        if kept and ent.start < kept[-1].end:
            continue
        kept.append(ent)
    by_id = {e.id: e for e in kept}
    relations: list[Relation] = []
    seen: set[tuple] = set()
    for rel in example.relations:
        head, tail = by_id.get(rel.head), by_id.get(rel.tail)
        if head is None or tail is None or RELATION_ARGS.get(rel.type) != (head.label, tail.label):
            continue
        if (rel.type, rel.head, rel.tail) in seen:
            continue
        seen.add((rel.type, rel.head, rel.tail))
        relations.append(rel)
    dropped = len(example.entities) - len(kept) + len(example.relations) - len(relations)
    return renumbered(Example(example.id, text, kept, relations, dict(example.meta))), dropped


def renumbered(example: Example) -> Example:
    """Entities numbered 1.. in text order, relations 1.. in (head, tail, type) order."""
    ents = sorted(example.entities, key=lambda e: (e.start, e.end, e.label))
    new_id = {e.id: i for i, e in enumerate(ents, 1)}
    entities = [Entity(new_id[e.id], e.label, e.start, e.end) for e in ents]
    rels = sorted(
        (Relation(0, new_id.get(r.head, 0), new_id.get(r.tail, 0), r.type) for r in example.relations),
        key=lambda r: (r.head, r.tail, r.type),
    )
    relations = [Relation(i, r.head, r.tail, r.type) for i, r in enumerate(rels, 1)]
    return Example(example.id, example.text, entities, relations, dict(example.meta))


def to_doccano(example: Example, split: str, preannotation: str, base: str, pushed_by: str) -> dict[str, Any]:
    """One line of an upload file."""
    source = example.meta.get("source")
    if not source:
        raise ValueError(f"{example.id}: no source; every example says where its text came from")
    return {
        "text": example.text,
        "entities": [e.to_json() for e in example.entities],
        "relations": [r.to_json() for r in example.relations],
        "example_id": example.id,
        "split": split,
        "source": source,
        "preannotation": preannotation,
        "pushed": fingerprint(example),
        "base": base,
        "pushed_by": pushed_by,
    }


@dataclass
class PulledRow:
    """One line of an export, read back: our example and what the upload carried."""

    doccano_id: int
    example: Example  # our id, entities renumbered; meta holds only `source`
    split: str
    pushed: str
    base: str
    pushed_by: str
    faults: list[str]


def from_doccano(row: dict[str, Any]) -> PulledRow:
    """Read one export line; everything wrong with it goes to `faults` (nothing raises
    for bad content, so that one pull reports every faulty example at once)."""
    faults: list[str] = []
    doccano_id = row.get("id") if isinstance(row.get("id"), int) else -1
    example_id = row.get("example_id")
    if not isinstance(example_id, str) or not example_id:
        faults.append("no 'example_id' in its metadata: not uploaded by `annotate push`")
        example_id = f"doccano-{doccano_id}"
    text = row.get("text")
    if not isinstance(text, str):
        faults.append("no text")
        text = ""
    split = row.get("split")
    if not isinstance(split, str):
        faults.append("no 'split' in its metadata")
        split = ""
    raw = {"id": example_id, "text": text, "entities": row.get("entities") or [], "relations": row.get("relations") or []}
    try:
        parsed = Example.from_json(raw)
    except CorpusFormatError as err:
        faults.append(str(err).lstrip(": "))
        parsed = Example(example_id, text)
    entity_ids = {e.id for e in parsed.entities}
    relations = []
    for rel in parsed.relations:
        if rel.head not in entity_ids or rel.tail not in entity_ids:
            faults.append(f"relation {rel.id} ({rel.type}) refers to a span that is not in the example ({rel.head} -> {rel.tail})")
        else:
            relations.append(rel)
    example = renumbered(Example(example_id, text, parsed.entities, relations, {"source": row.get("source")}))
    faults.extend(example_faults(example))
    return PulledRow(
        doccano_id=doccano_id,
        example=example,
        split=split,
        pushed=str(row.get("pushed") or ""),
        base=str(row.get("base") or ""),
        pushed_by=str(row.get("pushed_by") or ""),
        faults=faults,
    )

