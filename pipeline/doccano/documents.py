"""What `annotate push` can upload: paragraph-sized pieces with stable ids and a source.

- The seed paragraphs (no path given): the segments of pipeline/annotations/seeds.py,
  ids like `s001-004`, each in the split the seeds decide.
- A file or folder: every document (the readers of `make extract`, which also take a
  JSON Lines row's text from `content`, as the shared unlabelled reports have it) is cut
  at line ends into paragraphs of at most MAX_SEGMENT_CHARS (a longer line at sentence
  ends); ids are `<document id>#p<n>`, and the split is train (only seed text may go to
  dev and test).
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..annotations.seeds import MAX_SEGMENT_CHARS, SEEDS_DIR, all_segments, segment_seed
from ..readers.documents import read_documents
from ..text.windows import sentence_ends
from .config import ROOT

_HAS_CONTENT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]")


@dataclass(frozen=True)
class Candidate:
    id: str
    text: str
    split: str
    source: dict[str, Any] = field(hash=False)


def seed_candidates(seeds_dir: Path | None = None, file_name: str | None = None) -> list[Candidate]:
    """The seed paragraphs (of one seed file when file_name is given)."""
    segments = segment_seed(file_name, seeds_dir) if file_name else all_segments(seeds_dir)
    return [
        Candidate(seg.id, seg.text, seg.split, {"kind": "seed", "file": seg.file, "start": seg.start, "end": seg.end})
        for seg in segments
    ]


def paragraphs(text: str, max_chars: int = MAX_SEGMENT_CHARS) -> list[tuple[int, int]]:
    """(start, end) of paragraph-sized pieces: non-blank lines without outer whitespace,
    a line longer than max_chars cut at sentence ends, consecutive short lines joined
    while the piece stays within max_chars. Pieces without a letter or digit are left out."""
    blocks: list[tuple[int, int]] = []
    ends = sentence_ends(text)
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        start += len(line) - len(line.lstrip())
        end -= len(line) - len(line.rstrip())
        while start < end:
            cut = end
            if end - start > max_chars:
                i = bisect.bisect_right(ends, start + max_chars) - 1
                cut = ends[i] if i >= 0 and ends[i] > start else start + max_chars
            piece = text[start:cut]
            s, e = start + len(piece) - len(piece.lstrip()), cut - (len(piece) - len(piece.rstrip()))
            if s < e and _HAS_CONTENT.search(text, s, e):
                blocks.append((s, e))
            start = cut
    merged: list[list[int]] = []
    for s, e in blocks:
        if merged and e - merged[-1][0] <= max_chars:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _display_path(path: Path) -> str:
    resolved = path.resolve()
    for base in (ROOT, ROOT.parent):
        if resolved.is_relative_to(base):
            return str(resolved.relative_to(ROOT)) if base == ROOT else f"../{resolved.relative_to(base)}"
    return str(resolved)


def _documents(path: Path, on_skip: Callable[[str], None] | None = None) -> Iterator[tuple[str, str, dict[str, Any], Path]]:
    """(document id, text, metadata worth keeping, file) for every readable document,
    read by the readers of `make extract`; unreadable ones go to on_skip with the reason."""
    for doc in read_documents(path):
        if doc.error is not None:
            if on_skip is not None:
                on_skip(f"{doc.path}: {doc.id}: {doc.error}")
            continue
        extra = {k: doc.meta[k] for k in ("title", "url", "date") if isinstance(doc.meta.get(k), str)}
        yield doc.id, doc.text, extra, Path(doc.path or path)


def file_candidates(path: Path, on_skip: Callable[[str], None] | None = None) -> list[Candidate]:
    """Paragraphs of every document under path (train split); a seed file gives its
    seed paragraphs, with their ids and splits. Unreadable documents go to on_skip."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    out: list[Candidate] = []
    for doc_id, text, extra, file in _documents(path, on_skip):
        if file.resolve().parent == SEEDS_DIR.resolve():
            if not any(c.source.get("file") == file.name for c in out):
                out.extend(seed_candidates(file_name=file.name))
            continue
        for n, (start, end) in enumerate(paragraphs(text), 1):
            source = {"kind": "document", "file": _display_path(file), "doc": doc_id, "start": start, "end": end, **extra}
            out.append(Candidate(f"{doc_id}#p{n:03d}", text[start:end], "train", source))
    return out
