"""The five seed documents: where they are, how they are cut into paragraph-sized
examples, and which split each piece belongs to.

Seeds 001 and 004 and six of the ten articles of 002 are kept out of train, as the
corpus issue requires: they make up dev and test.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SHARED_DIR = Path(__file__).resolve().parents[3] / "shared"
SEEDS_DIR = SHARED_DIR / "seeds"
UNLABELED_DIR = SHARED_DIR / "data" / "unlabeled"

MAX_SEGMENT_CHARS = 420
_SENTENCE_END = re.compile(r"[。！？；!?;]")
_ARTICLE_HEAD = re.compile(r"【[^】\n]{1,20}】")
_HAS_CONTENT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]")

# seed file prefix -> split, for whole documents
DOCUMENT_SPLIT: dict[str, str] = {"000": "train", "001": "dev", "003": "train", "004": "test"}
# seed 002 is a page of ten articles; article index -> split
ARTICLE_SPLIT_002: dict[int, str] = {
    0: "train",  # 即墨区 2019 government work report
    1: "test",  # 崂山区 2019 government work report
    2: "train",
    3: "dev",
    4: "train",
    5: "dev",
    6: "test",
    7: "dev",
    8: "train",
    9: "test",
}


@dataclass(frozen=True)
class Segment:
    id: str
    file: str
    start: int
    end: int
    text: str
    split: str


def seed_files(seeds_dir: Path | None = None) -> list[Path]:
    return sorted((seeds_dir or SEEDS_DIR).glob("*.txt"))


@lru_cache(maxsize=16)
def read_seed(name: str, seeds_dir: Path | None = None) -> str:
    # read once per process (every seed example is checked against its seed);
    # newline="" keeps \r and the offsets exactly as in the file
    with open((seeds_dir or SEEDS_DIR) / name, encoding="utf-8", newline="") as handle:
        return handle.read()


def _split_long(text: str, start: int, end: int) -> list[tuple]:
    """Cut text[start:end] at sentence ends into pieces of at most MAX_SEGMENT_CHARS
    (a sentence longer than that stays whole)."""
    pieces = []
    cut_points = [m.end() for m in _SENTENCE_END.finditer(text, start, end)]
    if not cut_points or cut_points[-1] != end:
        cut_points.append(end)
    piece_start = start
    last_cut = start
    for cut in cut_points:
        if cut - piece_start > MAX_SEGMENT_CHARS and last_cut > piece_start:
            pieces.append((piece_start, last_cut))
            piece_start = last_cut
        last_cut = cut
    if piece_start < end:
        pieces.append((piece_start, end))
    return pieces


def _article_starts_002(text: str) -> list[int]:
    return [m.start() for m in _ARTICLE_HEAD.finditer(text)]


def split_for(file_name: str, offset: int, text: str) -> str:
    prefix = file_name[:3]
    if prefix in DOCUMENT_SPLIT:
        return DOCUMENT_SPLIT[prefix]
    starts = _article_starts_002(text)
    article = max((i for i, s in enumerate(starts) if s <= offset), default=0)
    return ARTICLE_SPLIT_002[article]


def segment_seed(file_name: str, seeds_dir: Path | None = None) -> list[Segment]:
    """Paragraph-sized segments of one seed, with their offsets in the original file.

    Non-blank lines are the building blocks; a line longer than MAX_SEGMENT_CHARS is cut
    at sentence ends, and in 002 also at every article head. Consecutive short blocks
    (headlines, bylines) are joined while the joined segment stays within
    MAX_SEGMENT_CHARS, never across an article head, so no segment straddles two
    articles (which may sit in different splits).
    """
    text = read_seed(file_name, seeds_dir)
    heads = sorted(set(_article_starts_002(text))) if file_name.startswith("002") else []
    blocks: list[tuple] = []
    pos = 0
    for line in text.split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        if not line.strip():
            continue
        s = line_start + (len(line) - len(line.lstrip()))
        e = line_end - (len(line) - len(line.rstrip()))
        cuts = [s] + [b for b in heads if s < b < e] + [e]
        for a, b in zip(cuts, cuts[1:]):
            for ps, pe in _split_long(text, a, b):
                piece = text[ps:pe]
                ps, pe = ps + len(piece) - len(piece.lstrip()), pe - (len(piece) - len(piece.rstrip()))
                if ps < pe and _HAS_CONTENT.search(text, ps, pe):
                    blocks.append((ps, pe))
    merged: list[list] = []
    for ps, pe in blocks:
        starts_article = any(ps == h for h in heads)
        if merged and not starts_article and pe - merged[-1][0] <= MAX_SEGMENT_CHARS:
            merged[-1][1] = pe
        else:
            merged.append([ps, pe])
    return [
        Segment(f"s{file_name[:3]}-{i:03d}", file_name, ps, pe, text[ps:pe], split_for(file_name, ps, text))
        for i, (ps, pe) in enumerate(merged, 1)
    ]


def all_segments(seeds_dir: Path | None = None) -> list[Segment]:
    out: list[Segment] = []
    for path in seed_files(seeds_dir):
        out.extend(segment_seed(path.name, seeds_dir))
    return out


@lru_cache(maxsize=4)
def read_reports(name: str, unlabeled_dir: Path | None = None) -> dict[str, str]:
    """Title -> content of a JSON Lines file of unlabeled reports (real text that
    `{"kind": "report"}` examples quote)."""
    from ..fileio import read_jsonl_rows

    rows = read_jsonl_rows((unlabeled_dir or UNLABELED_DIR) / name, ValueError)
    return {row["title"]: row["content"] for _, row in rows}
