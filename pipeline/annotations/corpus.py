"""The corpus as doccano relation-export JSON Lines: reading, writing, the split files.

One example per line::

    {"id": ..., "text": ..., "entities": [{"id", "label", "start_offset", "end_offset"}],
     "relations": [{"id", "from_id", "to_id", "type"}], "source": {...}, ...}

Keys other than these are metadata and are kept untouched.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_jsonl, read_jsonl_rows

SPLITS = ("train", "dev", "test")
ANNOTATIONS_DIR = Path(__file__).resolve().parents[2] / "annotations"
CORE_KEYS = {"id", "text", "entities", "relations"}


class CorpusFormatError(ValueError):
    """A line of a corpus file that is not a well-formed doccano example."""


@dataclass
class Entity:
    id: int
    label: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "start_offset": self.start, "end_offset": self.end}


@dataclass
class Relation:
    id: int
    head: int  # entity id
    tail: int  # entity id
    type: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "from_id": self.head, "to_id": self.tail, "type": self.type}


@dataclass
class Example:
    id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> Any:
        return self.meta.get("source")

    def entity_by_id(self) -> dict[int, Entity]:
        return {ent.id: ent for ent in self.entities}

    def span_text(self, ent: Entity) -> str:
        return self.text[ent.start : ent.end]

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"id": self.id, "text": self.text}
        row["entities"] = [e.to_json() for e in sorted(self.entities, key=lambda e: (e.start, e.end))]
        row["relations"] = [r.to_json() for r in self.relations]
        row.update(self.meta)
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any], where: str = "") -> Example:
        if not isinstance(row, dict):
            raise CorpusFormatError(f"{where}: an example must be a JSON object")
        for key in ("id", "text"):
            if key not in row:
                raise CorpusFormatError(f"{where}: missing key {key!r}")
        if not isinstance(row["text"], str):
            raise CorpusFormatError(f"{where}: 'text' must be a string")
        try:
            entities = [
                Entity(int(e["id"]), str(e["label"]), int(e["start_offset"]), int(e["end_offset"]))
                for e in row.get("entities") or []
            ]
            relations = [
                Relation(int(r["id"]), int(r["from_id"]), int(r["to_id"]), str(r["type"]))
                for r in row.get("relations") or []
            ]
        except (KeyError, TypeError, ValueError) as err:
            raise CorpusFormatError(f"{where}: malformed entity or relation ({err!r})") from err
        meta = {k: v for k, v in row.items() if k not in CORE_KEYS}
        return cls(str(row["id"]), row["text"], entities, relations, meta)


def read_examples(path: Path) -> list[Example]:
    path = Path(path)
    return [Example.from_json(row, where) for where, row in read_jsonl_rows(path, CorpusFormatError)]


def write_examples(path: Path, examples: Sequence[Example]) -> None:
    atomic_write_jsonl(path, (ex.to_json() for ex in examples))


def split_path(split: str, root: Path | None = None) -> Path:
    return (root or ANNOTATIONS_DIR) / f"{split}.jsonl"


def read_splits(root: Path | None = None) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {}
    for split in SPLITS:
        path = split_path(split, root)
        out[split] = read_examples(path) if path.exists() else []
    return out


def iter_all(root: Path | None = None) -> Iterator[tuple]:
    for split, examples in read_splits(root).items():
        for ex in examples:
            yield split, ex
