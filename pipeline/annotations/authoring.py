"""The authoring format: annotations written as surface text, compiled to offsets.

Annotators who write rather than click describe each span by its exact surface text
and which occurrence of that text it is; this module places them and refuses
anything it cannot place. One document per JSON line::

    {"id": "w-a-0001",
     "text": "...",                                    # written documents
     "source": {"kind": "written", "author": "...", "note": "..."},
     "spans": [["PROJECT", "佰鸿未来科技产业园项目"],    # first occurrence
               ["STATUS", "签约", 2]],                   # second occurrence
     "relations": [["STATUS", "佰鸿未来科技产业园项目", "签约@2"]]}

A seed example gives no text: its source names the seed file and character range,
``{"kind": "seed", "file": "001_....txt", "start": 120, "end": 560}``, and the text
is read from the seed itself, so it cannot be mistyped.

Occurrences count every match of the surface text in the example's text, left to
right, 1-based. A relation names its head and tail by surface text, with ``@N`` when
that surface is labelled more than once in the example.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fileio import read_jsonl_rows
from ..schema import ENTITY_LABELS, RELATION_ARGS
from .corpus import Entity, Example, Relation
from .seeds import read_seed


class AuthoringError(ValueError):
    """A span or relation that cannot be placed; the message names the example."""


@dataclass
class Compiled:
    example: Example
    warnings: list[str] = field(default_factory=list)


def occurrences(text: str, surface: str) -> list[int]:
    """Start offsets of every (possibly overlapping) match of surface in text."""
    starts = []
    pos = text.find(surface)
    while pos != -1:
        starts.append(pos)
        pos = text.find(surface, pos + 1)
    return starts


def _parse_ref(ref: str) -> tuple[str, int | None]:
    if "@" in ref:
        surface, _, number = ref.rpartition("@")
        if number.isdigit() and surface:
            return surface, int(number)
    return ref, None


def _resolve_text(row: dict[str, Any], where: str, seeds_dir: Path | None) -> str:
    source = row.get("source") or {}
    if isinstance(source, dict) and source.get("kind") == "seed":
        try:
            seed_text = read_seed(source["file"], seeds_dir)
            start, end = int(source["start"]), int(source["end"])
        except (KeyError, TypeError, ValueError, OSError) as err:
            raise AuthoringError(f"{where}: seed source cannot be read ({err!r})") from err
        if not 0 <= start < end <= len(seed_text):
            raise AuthoringError(f"{where}: seed range {start}-{end} outside {source['file']}")
        text = seed_text[start:end]
        if "text" in row and row["text"] != text:
            raise AuthoringError(f"{where}: 'text' differs from the seed's characters {start}-{end}")
        return text
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise AuthoringError(f"{where}: a written example needs a non-empty 'text'")
    return text


def compile_row(row: dict[str, Any], seeds_dir: Path | None = None) -> Compiled:
    ex_id = str(row.get("id", "")).strip()
    where = f"example {ex_id or '<no id>'}"
    if not ex_id:
        raise AuthoringError(f"{where}: missing 'id'")
    text = _resolve_text(row, where, seeds_dir)

    placed: list[tuple[int, int, str]] = []  # start, end, label (declaration order)
    by_key: dict[tuple[str, int], int] = {}  # (surface, occurrence) -> index in placed
    by_surface: dict[str, list[int]] = {}
    for spec in row.get("spans") or []:
        if not isinstance(spec, (list, tuple)) or len(spec) not in (2, 3):
            raise AuthoringError(f"{where}: span {spec!r} must be [LABEL, text] or [LABEL, text, occurrence]")
        label, surface = str(spec[0]), str(spec[1])
        number = int(spec[2]) if len(spec) == 3 else 1
        if label not in ENTITY_LABELS:
            raise AuthoringError(f"{where}: unknown label {label!r} on {surface!r}")
        if not surface or surface != surface.strip():
            raise AuthoringError(f"{where}: span text {surface!r} is empty or has outer whitespace")
        starts = occurrences(text, surface)
        if number < 1 or number > len(starts):
            raise AuthoringError(
                f"{where}: cannot place {label} {surface!r} occurrence {number}: "
                f"the text has {len(starts)} occurrence(s)"
            )
        if (surface, number) in by_key:
            raise AuthoringError(f"{where}: {surface!r} occurrence {number} is declared twice")
        start = starts[number - 1]
        by_key[(surface, number)] = len(placed)
        by_surface.setdefault(surface, []).append(len(placed))
        placed.append((start, start + len(surface), label))

    order = sorted(range(len(placed)), key=lambda i: placed[i][:2])
    for a, b in zip(order, order[1:]):
        if placed[b][0] < placed[a][1]:
            raise AuthoringError(
                f"{where}: spans overlap: {text[placed[a][0]:placed[a][1]]!r} ({placed[a][2]}) "
                f"and {text[placed[b][0]:placed[b][1]]!r} ({placed[b][2]}) at {placed[b][0]}"
            )
    entity_id = {idx: rank + 1 for rank, idx in enumerate(order)}
    entities = [Entity(entity_id[i], placed[i][2], placed[i][0], placed[i][1]) for i in order]

    def resolve(ref: Any) -> int:
        surface, number = _parse_ref(str(ref))
        if number is None:
            candidates = by_surface.get(surface, [])
            if not candidates:
                raise AuthoringError(f"{where}: relation names {surface!r}, which is not a declared span")
            if len(candidates) > 1:
                raise AuthoringError(f"{where}: {surface!r} is labelled more than once; say which with @N")
            return candidates[0]
        if (surface, number) not in by_key:
            raise AuthoringError(f"{where}: relation names {ref!r}, which is not a declared span")
        return by_key[(surface, number)]

    relations: list[Relation] = []
    seen = set()
    for spec in row.get("relations") or []:
        if not isinstance(spec, (list, tuple)) or len(spec) != 3:
            raise AuthoringError(f"{where}: relation {spec!r} must be [TYPE, head, tail]")
        rel_type = str(spec[0])
        if rel_type not in RELATION_ARGS:
            raise AuthoringError(f"{where}: unknown relation type {rel_type!r}")
        head, tail = resolve(spec[1]), resolve(spec[2])
        want_head, want_tail = RELATION_ARGS[rel_type]
        if placed[head][2] != want_head or placed[tail][2] != want_tail:
            raise AuthoringError(
                f"{where}: {rel_type} needs {want_head} -> {want_tail}, "
                f"got {placed[head][2]} {spec[1]!r} -> {placed[tail][2]} {spec[2]!r}"
            )
        key = (rel_type, head, tail)
        if key in seen:
            raise AuthoringError(f"{where}: relation {spec!r} is given twice")
        seen.add(key)
        relations.append(Relation(len(relations) + 1, entity_id[head], entity_id[tail], rel_type))

    meta = {k: v for k, v in row.items() if k not in {"id", "text", "spans", "relations"}}
    example = Example(ex_id, text, entities, relations, meta)
    return Compiled(example, unlabelled_occurrence_warnings(example))


def unlabelled_occurrence_warnings(example: Example) -> list[str]:
    """Places where a labelled surface text occurs again outside every span.

    "Every mention of every label" is the rule; these are the places a writer most
    often forgets. They are warnings: the same characters may mean something else.
    """
    covered = [False] * len(example.text)
    for ent in example.entities:
        for i in range(ent.start, ent.end):
            covered[i] = True
    warnings = []
    done = set()
    for ent in example.entities:
        surface = example.span_text(ent)
        if len(surface) < 2 or surface in done:
            continue
        done.add(surface)
        for start in occurrences(example.text, surface):
            if not any(covered[start : start + len(surface)]):
                context = example.text[max(0, start - 8) : start + len(surface) + 8]
                warnings.append(
                    f"{example.id}: {ent.label} {surface!r} also occurs unlabelled at {start}: …{context}…"
                )
    return warnings


def compile_file(path: Path, seeds_dir: Path | None = None) -> tuple[list[Example], list[str]]:
    """Compile every line of an authoring file; the first fault stops it with its place."""
    examples: list[Example] = []
    warnings: list[str] = []
    for where, row in read_jsonl_rows(Path(path), AuthoringError):
        try:
            compiled = compile_row(row, seeds_dir)
        except AuthoringError as err:
            raise AuthoringError(f"{where}: {err}") from err
        examples.append(compiled.example)
        warnings.extend(compiled.warnings)
    return examples, warnings


def decompile(example: Example) -> dict[str, Any]:
    """An Example back in the authoring format (used to re-read and hand-edit annotations)."""
    spans: list[list[Any]] = []
    ref_of: dict[int, str] = {}
    count: dict[str, int] = {}
    labelled_surfaces = [example.span_text(e) for e in example.entities]
    for ent in sorted(example.entities, key=lambda e: e.start):
        surface = example.span_text(ent)
        number = occurrences(example.text, surface).index(ent.start) + 1
        spans.append([ent.label, surface] + ([number] if number != 1 else []))
        count[surface] = count.get(surface, 0) + 1
        ref_of[ent.id] = surface if labelled_surfaces.count(surface) == 1 else f"{surface}@{number}"
    relations = [[r.type, ref_of[r.head], ref_of[r.tail]] for r in example.relations]
    row: dict[str, Any] = {"id": example.id}
    source = example.meta.get("source")
    if not (isinstance(source, dict) and source.get("kind") == "seed"):
        row["text"] = example.text
    row.update(example.meta)
    row["spans"] = spans
    row["relations"] = relations
    return row


def split_of(example: Example, default: str = "train") -> str:
    source = example.meta.get("source")
    split = example.meta.get("split")
    if isinstance(split, str):
        return split
    if isinstance(source, dict) and source.get("kind") == "seed":
        from .seeds import split_for

        return split_for(source["file"], int(source["start"]), read_seed(source["file"]))
    return default


def compile_many(paths: Sequence[Path], seeds_dir: Path | None = None) -> tuple[list[Example], list[str]]:
    examples: list[Example] = []
    warnings: list[str] = []
    for path in paths:
        exs, warns = compile_file(path, seeds_dir)
        examples.extend(exs)
        warnings.extend(warns)
    return examples, warnings
