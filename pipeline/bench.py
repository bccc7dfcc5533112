"""`make bench`: how fast the backbone reads our documents, on this machine's 2 threads.

The backbone's forward throughput (characters of original text per second) over the
seed documents cut into the pipeline's windows, batched by length, is the number the
pipeline's own throughput is measured against.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

WINDOW_CHARS = 400
BATCH_SIZE = 8
THREADS = 2


@dataclass
class ForwardBench:
    model: str
    characters: int
    windows: int
    tokens: int
    runs: list[float]  # characters per second, one per run

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def row(self) -> str:
        return (
            f"{self.model:10} {self.characters:9d} chars {self.windows:4d} windows {self.tokens:7d} tokens  "
            f"chars/s median {self.median:8.0f}  min {min(self.runs):8.0f}  max {max(self.runs):8.0f}"
        )

    def to_json(self) -> dict:
        out = asdict(self)
        out["median_chars_per_s"] = self.median
        return out


def seed_windows(seeds_dir: Path | None = None) -> list[str]:
    from .annotations.seeds import read_seed, seed_files
    from .text.normalise import normalise
    from .text.windows import windows

    out: list[str] = []
    for path in seed_files(seeds_dir):
        text = normalise(read_seed(path.name, seeds_dir)).text
        out.extend(text[a:b] for a, b in windows(text, max_chars=WINDOW_CHARS, overlap=0))
    return [w for w in out if w.strip()]


def batches_by_length(encoded: Sequence[list[int]], size: int) -> list[list[int]]:
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    return [order[i : i + size] for i in range(0, len(order), size)]


def bench_forward(model_dir: Path, texts: Sequence[str], runs: int = 5, threads: int = THREADS) -> ForwardBench:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    encoded = tokenizer(list(texts), truncation=True, max_length=512)["input_ids"]
    groups = batches_by_length(encoded, BATCH_SIZE)
    pad = tokenizer.pad_token_id

    def one_pass() -> float:
        start = time.perf_counter()
        with torch.inference_mode():
            for group in groups:
                width = max(len(encoded[i]) for i in group)
                ids = torch.full((len(group), width), pad, dtype=torch.long)
                mask = torch.zeros((len(group), width), dtype=torch.long)
                for row, i in enumerate(group):
                    ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
                    mask[row, : len(encoded[i])] = 1
                model(input_ids=ids, attention_mask=mask)
        return time.perf_counter() - start

    one_pass()  # warm-up
    characters = sum(len(t) for t in texts)
    speeds = [characters / one_pass() for _ in range(runs)]
    return ForwardBench(Path(model_dir).name, characters, len(texts), sum(len(e) for e in encoded), speeds)


def run_bench(models: Sequence[Path], runs: int = 5) -> tuple[list[ForwardBench], dict]:
    texts = seed_windows()
    results = [bench_forward(m, texts, runs) for m in models]
    sizes = {Path(m).name: (Path(m) / "model.safetensors").stat().st_size for m in models}
    return results, sizes
