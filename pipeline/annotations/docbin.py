"""Corpus examples ↔ spaCy Docs (and DocBin files), exactly, both ways.

Entities go to `doc.ents`; relations, entity ids, the example's id and metadata go to
`doc.user_data`, which DocBin stores, so the relation component trains from the same
Doc and a Doc converts back to the identical doccano example. Chinese text is split
into one token per character, so every character-offset span aligns with tokens.

Partially annotated documents (the public NER sets) mark every token outside their
spans as missing rather than outside, so training does not learn "not an entity" from
what those sets simply do not label.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from .corpus import Entity, Example, Relation

RELATIONS_KEY = "relations"  # [{"id", "type", "head": [start, end], "tail": [start, end]}]
ENTITY_IDS_KEY = "entity_ids"  # {"start:end": id}
EXAMPLE_ID_KEY = "example_id"
META_KEY = "meta"
PARTIAL_KEY = "partial"


class AlignmentError(ValueError):
    """A span whose offsets do not fall on token boundaries."""


def _char_span(doc: Doc, start: int, end: int, label: str, where: str) -> Span:
    span = doc.char_span(start, end, label=label)
    if span is None:
        raise AlignmentError(f"{where}: {label} {doc.text[start:end]!r} at {start}-{end} does not align with tokens")
    return span


def example_to_doc(nlp: Language, example: Example) -> Doc:
    doc = nlp.make_doc(example.text)
    spans = [_char_span(doc, e.start, e.end, e.label, example.id) for e in sorted(example.entities, key=lambda e: e.start)]
    doc.set_ents(spans, default="outside")
    by_id = example.entity_by_id()
    doc.user_data[EXAMPLE_ID_KEY] = example.id
    doc.user_data[META_KEY] = example.meta
    doc.user_data[ENTITY_IDS_KEY] = {f"{e.start}:{e.end}": e.id for e in example.entities}
    doc.user_data[RELATIONS_KEY] = [
        {
            "id": r.id,
            "type": r.type,
            "head": [by_id[r.head].start, by_id[r.head].end],
            "tail": [by_id[r.tail].start, by_id[r.tail].end],
        }
        for r in example.relations
    ]
    return doc


def partial_doc(nlp: Language, doc_id: str, text: str, spans: Sequence[tuple[int, int, str]], meta: dict[str, Any]) -> Doc:
    """A Doc that knows only some entities: tokens outside them are missing, not outside."""
    doc = nlp.make_doc(text)
    doc.set_ents([_char_span(doc, s, e, label, doc_id) for s, e, label in spans], default="missing")
    doc.user_data[EXAMPLE_ID_KEY] = doc_id
    doc.user_data[META_KEY] = meta
    doc.user_data[PARTIAL_KEY] = True
    doc.user_data[RELATIONS_KEY] = []
    return doc


def doc_relations(doc: Doc) -> list[dict[str, Any]]:
    return list(doc.user_data.get(RELATIONS_KEY, []))


def doc_to_example(doc: Doc) -> Example:
    ids: dict[str, int] = dict(doc.user_data.get(ENTITY_IDS_KEY, {}))
    next_id = max(ids.values(), default=0) + 1
    entities: list[Entity] = []
    for span in doc.ents:
        key = f"{span.start_char}:{span.end_char}"
        if key not in ids:
            ids[key] = next_id
            next_id += 1
        entities.append(Entity(ids[key], span.label_, span.start_char, span.end_char))
    relations: list[Relation] = []
    for index, rel in enumerate(doc_relations(doc), 1):
        head = ids.get(f"{rel['head'][0]}:{rel['head'][1]}")
        tail = ids.get(f"{rel['tail'][0]}:{rel['tail'][1]}")
        if head is None or tail is None:
            raise AlignmentError(f"relation {rel} refers to a span that is not an entity of the doc")
        relations.append(Relation(int(rel.get("id", index)), head, tail, rel["type"]))
    return Example(str(doc.user_data.get(EXAMPLE_ID_KEY, "")), doc.text, entities, relations, dict(doc.user_data.get(META_KEY, {})))


def blank_nlp() -> Language:
    import spacy

    return spacy.blank("zh")  # character segmentation: one token per character


def write_docbin(docs: Iterable[Doc], path: Path) -> int:
    docbin = DocBin(store_user_data=True)
    count = 0
    for doc in docs:
        docbin.add(doc)
        count += 1
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    docbin.to_disk(tmp)
    tmp.replace(path)
    return count


def read_docbin(path: Path, nlp: Language) -> Iterator[Doc]:
    yield from DocBin().from_disk(path).get_docs(nlp.vocab)
