"""`make extract`: documents in, one JSON line of entities, relations and project records
out per document, as ../shared/spec/extract-output.md specifies.

Documents are annotated in batches (the model sorts their windows by length across
documents). The run writes to OUT.partial and renames it to OUT when done, so OUT is never half
written; a re-run (or a run after a crash) keeps the lines already written and skips
those documents. A document that cannot be read or processed still gets its line,
with the reason in `error`.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .readers.documents import Document, read_documents
from .records.build import RelationRef, SpanRef, build_records


class Annotator(Protocol):
    name: str

    def annotate(self, text: str) -> tuple[list[SpanRef], list[RelationRef]]: ...


class WeakAnnotator:
    """Gazetteers, patterns and stage words (the pre-annotator); no trained model needed."""

    name = "weak-preannotator"

    def annotate(self, text: str) -> tuple[list[SpanRef], list[RelationRef]]:
        from .annotations.preannotate import preannotate

        spans, relations = preannotate(text)
        entities = [SpanRef(s, e, label, text[s:e]) for s, e, label in spans]
        return entities, [RelationRef(r.head, r.tail, r.type) for r in relations]


@dataclass
class ExtractSummary:
    documents: int = 0
    skipped: int = 0
    errors: int = 0
    projects: int = 0

    @property
    def processed(self) -> int:
        return self.documents - self.errors


# documents read together: the model batches their windows by length across documents
BATCH_CHARS = 60_000
BATCH_DOCUMENTS = 64

Annotations = tuple[list[SpanRef], list[RelationRef]]


def document_line(doc: Document, annotator: Annotator, annotations: Annotations | None = None) -> dict[str, Any]:
    """The output line of one document; `annotations` when they were made in a batch."""
    line: dict[str, Any] = {"id": doc.id, "entities": [], "relations": [], "projects": [], "error": doc.error}
    if doc.meta:
        line["meta"] = doc.meta
    if doc.error is not None:
        return line
    try:
        entities, relations = annotations if annotations is not None else annotator.annotate(doc.text)
        records = build_records(doc.text, entities, relations, doc.meta)
    except Exception as err:  # one bad document must not stop the run
        line["error"] = f"processing failed: {type(err).__name__}: {err}"
        return line
    line["entities"] = [{"start": e.start, "end": e.end, "label": e.label, "text": e.text} for e in entities]
    line["relations"] = [{"head": r.head, "tail": r.tail, "type": r.type} for r in relations]
    line["projects"] = records
    return line


def document_lines(docs: list[Document], annotator: Annotator) -> list[dict[str, Any]]:
    """Lines for several documents. An annotator with `annotate_many` reads them in
    shared batches; if that fails, each document is annotated alone, so only the
    document at fault gets an error."""
    many = getattr(annotator, "annotate_many", None)
    readable = [i for i, doc in enumerate(docs) if doc.error is None]
    annotations: dict[int, Annotations] = {}
    if many is not None and len(readable) > 1:
        try:
            annotations = dict(zip(readable, many([docs[i].text for i in readable]), strict=True))
        except Exception:  # noqa: BLE001 - retried per document below, where errors are reported
            annotations = {}
    return [document_line(doc, annotator, annotations.get(i)) for i, doc in enumerate(docs)]


def _done_ids(partial: Path) -> set[str]:
    """Ids already written to a partial output; a cut-off last line is dropped."""
    if not partial.exists():
        return set()
    data = partial.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):
        with partial.open("r+b") as handle:
            handle.truncate(keep)
    ids = set()
    for raw in data[:keep].splitlines():
        try:
            ids.add(json.loads(raw)["id"])
        except (ValueError, KeyError):
            continue
    return ids


def extract(
    in_path: Path,
    out_path: Path,
    annotator: Annotator,
    on_document: Callable[[Document, dict[str, Any]], None] | None = None,
    documents: Iterable[Document] | None = None,
) -> ExtractSummary:
    out_path = Path(out_path)
    partial = out_path.with_name(out_path.name + ".partial")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if out_path.exists() and not partial.exists():
        shutil.copy2(out_path, partial)  # resume from a finished run: append to a copy
    done = _done_ids(partial)
    summary = ExtractSummary()
    with partial.open("a", encoding="utf-8") as handle:
        pending: list[Document] = []
        pending_ids: set[str] = set()
        pending_chars = 0

        def flush() -> None:
            nonlocal pending_chars
            for doc, line in zip(pending, document_lines(pending, annotator)):
                if line["error"] is not None:
                    summary.errors += 1
                summary.projects += len(line["projects"])
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                handle.flush()
                done.add(doc.id)
                if on_document:
                    on_document(doc, line)
            pending.clear()
            pending_ids.clear()
            pending_chars = 0

        for doc in documents if documents is not None else read_documents(in_path):
            summary.documents += 1
            if doc.id in done or doc.id in pending_ids:
                summary.skipped += 1
                continue
            pending.append(doc)
            pending_ids.add(doc.id)
            pending_chars += len(doc.text or "")
            if len(pending) >= BATCH_DOCUMENTS or pending_chars >= BATCH_CHARS:
                flush()
        flush()
        os.fsync(handle.fileno())
    os.replace(partial, out_path)
    return summary


def available_annotator(kind: str = "auto", model_dir: Path | None = None) -> Annotator:
    """The annotator to run: `model` the fine-tuned pipeline (models/finetuned on
    models/base), `weak` the pre-annotator, `auto` the model when it is there, else weak."""
    if kind == "weak":
        return WeakAnnotator()
    if kind in ("auto", "model"):
        from .model.annotator import ModelAnnotator
        from .model.package import ModelNotFound

        try:
            return ModelAnnotator(model_dir)
        except ModelNotFound:
            if kind == "model":
                raise
            return WeakAnnotator()
    raise ValueError(f"unknown annotator {kind!r}: expected auto, model or weak")

