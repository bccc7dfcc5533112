"""Documents in, one at a time: the readers behind `make extract`.

`read_documents(path)` yields a `Document` for every document in a file or folder
(folders searched recursively, in sorted order), exactly as
../shared/spec/extract-output.md describes. A file or line that cannot be read yields a
Document whose `error` says why; reading never stops the run.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .encoding import UnreadableDocument, decode_bytes
from .markup import html_to_text, strip_cell_markup

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
TABLE_SUFFIXES = {".tsv", ".csv"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES | JSONL_SUFFIXES
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class Document:
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    path: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def table_to_text(raw: str, delimiter: str) -> str:
    """A progress table as readable text: one row a line, cells tab-separated, `<p>` removed."""
    rows = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter)
    lines = []
    for row in rows:
        cells = [strip_cell_markup(cell) for cell in row]
        if any(cells):
            lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)


def _document_id(path: Path, root: Path) -> str:
    if root.is_dir():
        return path.relative_to(root).as_posix()
    return path.name


def _read_text_file(path: Path) -> tuple:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnreadableDocument(f"file of {size} bytes is over the {MAX_FILE_BYTES} byte limit")
    decoded = decode_bytes(path.read_bytes())
    return decoded.text, decoded.encoding


def _read_jsonl(path: Path, doc_id_prefix: str) -> Iterator[Document]:
    try:
        raw, encoding = _read_text_file(path)
    except (UnreadableDocument, OSError) as err:
        yield Document(doc_id_prefix, "", {}, f"cannot read {path.name}: {err}", str(path))
        return
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        fallback_id = f"{doc_id_prefix}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            yield Document(fallback_id, "", {"line": lineno}, f"line {lineno}: malformed JSON ({err.msg} at column {err.colno})", str(path))
            continue
        if not isinstance(row, dict):
            yield Document(fallback_id, "", {"line": lineno}, f"line {lineno}: expected a JSON object with 'id' and 'text'", str(path))
            continue
        doc_id = str(row["id"]) if row.get("id") not in (None, "") else fallback_id
        # the shared unlabelled reports carry their text as `content`
        text_key = "content" if "text" not in row and isinstance(row.get("content"), str) else "text"
        text = row.get(text_key)
        meta = {k: v for k, v in row.items() if k not in ("id", text_key)}
        if not isinstance(text, str):
            yield Document(doc_id, "", meta, f"line {lineno}: 'text' is missing or not a string", str(path))
        elif not text.strip():
            yield Document(doc_id, text, meta, f"line {lineno}: empty text", str(path))
        else:
            yield Document(doc_id, text, meta, None, str(path))


def read_file(path: Path, root: Path | None = None) -> Iterator[Document]:
    path = Path(path)
    root = Path(root) if root is not None else path
    doc_id = _document_id(path, root)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from _read_jsonl(path, doc_id)
        return
    if suffix not in SUPPORTED_SUFFIXES:
        yield Document(doc_id, "", {}, f"unsupported file type {suffix or '(none)'}: expected one of {', '.join(sorted(SUPPORTED_SUFFIXES))}", str(path))
        return
    try:
        raw, encoding = _read_text_file(path)
        if suffix in HTML_SUFFIXES:
            text = html_to_text(raw)
        elif suffix in TABLE_SUFFIXES:
            text = table_to_text(raw, "\t" if suffix == ".tsv" else ",")
        else:
            text = raw
    except (UnreadableDocument, OSError, csv.Error) as err:
        yield Document(doc_id, "", {}, f"cannot read {path.name}: {err}", str(path))
        return
    meta: dict[str, Any] = {"encoding": encoding, "format": suffix.lstrip(".")}
    if not text.strip():
        yield Document(doc_id, text, meta, "no text in the document", str(path))
        return
    yield Document(doc_id, text, meta, None, str(path))


def list_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(
        p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def read_documents(path: Path) -> Iterator[Document]:
    """Every document under path (a file, or a folder searched recursively)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    for file_path in list_files(path):
        yield from read_file(file_path, path)
