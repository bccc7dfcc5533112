"""Domain vocabulary trimming: keep the pieces our texts need, re-index the embeddings.

The kept set is: every piece of the e5 prefixes ("passage: ", "query: "); every piece
the full tokenizer produces on the shared texts (seeds, public NER sets, unlabeled
government reports), line by line and sentence by sentence; every single-character
piece, with and without the word-start marker ▁, so any character keeps a piece of its
own; the ▁-variant of every kept piece (text cut out anywhere begins with ▁); the
special tokens; and the lowest-scoring piece (the unknown-token penalty is derived from
the minimum score, so dropping it would change segmentations).

Unigram segmentation picks the best-scoring path; every piece of the full vocabulary's
best path on a shared text is kept, so the same path stays best: tokenisation of the
shared texts is unchanged. `verify_identical` checks that on every line and sentence.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .convert import HF_SPECIALS, MASK, SPM_FILE, sentencepiece_model, write_model_dir

META = "\u2581"
# e5 is used with these prefixes; their pieces stay so the trimmed model embeds like e5.
E5_PREFIXES = ("passage: ", "query: ")


def shared_texts(shared_dir: Path | None = None) -> Iterator[str]:
    """Every text of ../shared: seeds, public NER sets, unlabeled reports (line by line)."""
    from ..annotations.public_sets import iter_public_texts
    from ..annotations.seeds import SHARED_DIR, read_seed, seed_files

    shared = shared_dir or SHARED_DIR
    for path in seed_files(shared / "seeds"):
        yield from read_seed(path.name, shared / "seeds").splitlines()
    yield from iter_public_texts(shared / "data" / "ner")
    reports = shared / "data" / "unlabeled" / "gov_work_reports_national_1954_2025.jsonl"
    with reports.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield row.get("title", "")
            yield from str(row.get("content", "")).splitlines()


_SENTENCE_END = re.compile(r"(?<=[。！？；])")


def sentences_of(texts: Iterable[str]) -> Iterator[str]:
    """Each text's sentences on their own: text cut out mid-line must tokenise the same too."""
    for text in texts:
        parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
        if len(parts) > 1:
            yield from parts


def _batched(items: Iterable[str], size: int = 2048) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        if item.strip():
            batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def used_piece_ids(tokenizer, texts: Iterable[str]) -> set[int]:
    used: set[int] = set()
    for batch in _batched(texts):
        for ids in tokenizer(batch, add_special_tokens=False, verbose=False)["input_ids"]:
            used.update(ids)
    return used


def keep_ids(pieces: Sequence[str], scores: Sequence[float], used: set[int]) -> list[int]:
    keep = set(used)
    keep.update(range(len(HF_SPECIALS)))
    keep.add(len(pieces) - 1)  # <mask>
    index = {piece: i for i, piece in enumerate(pieces)}
    for idx, piece in enumerate(pieces):
        bare = piece[1:] if piece.startswith(META) else piece
        if len(bare) <= 1:
            keep.add(idx)
    # A window or sentence cut out of a text starts with the word-start marker: keep
    # the ▁-variant of every kept piece so text starting anywhere tokenises the same.
    for idx in list(keep):
        twin = index.get(META + pieces[idx])
        if twin is not None:
            keep.add(twin)
    regular = range(len(HF_SPECIALS), len(pieces) - 1)
    keep.add(min(regular, key=lambda i: scores[i]))
    return sorted(keep)


@dataclass
class TrimReport:
    full_vocab: int
    kept_vocab: int
    texts_checked: int
    texts_identical: int
    full_bytes: int
    trimmed_bytes: int


def trim(full_dir: Path, out_dir: Path, texts: Sequence[str] | None = None, progress: bool = True) -> TrimReport:
    from rich.progress import Progress
    from safetensors.numpy import load_file
    from sentencepiece import sentencepiece_model_pb2 as pb
    from transformers import AutoTokenizer

    full_dir, out_dir = Path(full_dir), Path(out_dir)
    texts = list(texts if texts is not None else shared_texts())
    tokenizer = AutoTokenizer.from_pretrained(str(full_dir))
    proto = pb.ModelProto()
    proto.ParseFromString((full_dir / SPM_FILE).read_bytes())
    # HF order: <s> <pad> </s> <unk>, then sentencepiece pieces 3.., then <mask>
    pieces = list(HF_SPECIALS) + [p.piece for p in proto.pieces[3:]] + [MASK]
    scores = [0.0] * 4 + [p.score for p in proto.pieces[3:]] + [0.0]

    with Progress(disable=not progress) as bar:
        task = bar.add_task("tokenising shared texts", total=3)
        sentences = list(sentences_of(texts))
        used = used_piece_ids(tokenizer, list(texts) + sentences + [p + "投资" for p in E5_PREFIXES])
        bar.advance(task)
        kept = keep_ids(pieces, scores, used)
        weights = load_file(str(full_dir / "model.safetensors"))
        weights["embeddings.word_embeddings.weight"] = weights["embeddings.word_embeddings.weight"][kept]
        config = json.loads((full_dir / "config.json").read_text(encoding="utf-8"))
        config["vocab_size"] = len(kept)
        spm_bytes = sentencepiece_model(
            [pieces[i] for i in kept], [scores[i] for i in kept], proto.normalizer_spec.precompiled_charsmap
        )
        bar.update(task, advance=1, description="writing trimmed model")
        write_model_dir(out_dir, config, weights, spm_bytes, {"format": "pt", "trimmed_from": str(len(pieces))})
        bar.update(task, advance=1, description="verifying tokenisation")
        checked, identical = verify_identical(full_dir, out_dir, list(texts) + sentences)
    return TrimReport(
        full_vocab=len(pieces),
        kept_vocab=len(kept),
        texts_checked=checked,
        texts_identical=identical,
        full_bytes=(full_dir / "model.safetensors").stat().st_size,
        trimmed_bytes=(out_dir / "model.safetensors").stat().st_size,
    )


def verify_identical(full_dir: Path, trimmed_dir: Path, texts: Iterable[str]) -> tuple:
    """(texts checked, texts whose token strings are identical under both tokenizers)."""
    from transformers import AutoTokenizer

    full = AutoTokenizer.from_pretrained(str(full_dir))
    small = AutoTokenizer.from_pretrained(str(trimmed_dir))
    checked = identical = 0
    for batch in _batched(texts):
        a = full(batch, add_special_tokens=False, verbose=False)["input_ids"]
        b = small(batch, add_special_tokens=False, verbose=False)["input_ids"]
        for ids_a, ids_b in zip(a, b):
            checked += 1
            if full.convert_ids_to_tokens(ids_a) == small.convert_ids_to_tokens(ids_b):
                identical += 1
    return checked, identical


def id_map(full_dir: Path, trimmed_dir: Path) -> dict[int, int]:
    """Full-vocabulary id -> trimmed id, for the pieces both have."""
    full = json.loads((Path(full_dir) / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    small = json.loads((Path(trimmed_dir) / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    small_index = {piece: i for i, (piece, _) in enumerate(small)}
    return {i: small_index[p] for i, (p, _) in enumerate(full) if p in small_index}


