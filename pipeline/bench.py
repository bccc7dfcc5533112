"""`make bench`: how fast `make extract` and the bare backbone read our documents, on this
machine's 2 threads.

Both figures are characters of the seed documents per second. The backbone runs a
plain forward pass over exactly the windows the pipeline's transformer reads (the
model's chunks, cut into its sentence windows), batched by length; `make extract`
reads the files, runs the whole pipeline, builds the records and writes the output
lines and the ledger. Their ratio says what everything around the encoder costs.

The two are timed in one process, alternately (backbone pass, extract pass, ...), so
each pair sees the same machine: the ratio is the median of the pairs' ratios. A
shared machine's speed drifts by several percent from minute to minute, which timing
one and then the other would put into the ratio. Peak memory comes from a separate
process that only extracts, so it is extract's own.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

WINDOW_CHARS = 400
BATCH_SIZE = 8
THREADS = 2


def speeds_text(runs: Sequence[float]) -> str:
    return f"chars/s median {statistics.median(runs):8.0f}  min {min(runs):8.0f}  max {max(runs):8.0f}"


def extract_row(figures: dict) -> str:
    """The extract line of `make bench`, from ExtractBench.to_json() (the child's output)."""
    return (
        f"{'extract':10} {figures['characters']:9d} chars ({figures['annotator']}, loaded in {figures['load_seconds']:.1f} s)  "
        f"{speeds_text(figures['runs'])}  peak memory {figures['peak_rss_mb']:,.0f} MB"
    )


class _Speeds:
    runs: list[float]  # characters per second, one per run

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def to_json(self) -> dict:
        out = asdict(self)
        out["median_chars_per_s"] = self.median
        return out


@dataclass
class ForwardBench(_Speeds):
    model: str
    characters: int
    windows: int
    tokens: int
    runs: list[float]

    def row(self) -> str:
        return f"{self.model:10} {self.characters:9d} chars {self.windows:4d} windows {self.tokens:7d} tokens  {speeds_text(self.runs)}"


def seed_windows(seeds_dir: Path | None = None, model_dir: Path | None = None) -> tuple[list[str], int]:
    """The windows the fine-tuned pipeline's transformer reads on the seeds (without a
    model: 400-character windows), and the seeds' total characters."""
    from .annotations.seeds import read_seed, seed_files
    from .model.annotator import CHUNK_CHARS
    from .model.package import FINETUNED_DIR
    from .text.normalise import model_view
    from .text.windows import windows

    max_chars, overlap = WINDOW_CHARS, 0
    config_path = Path(model_dir or FINETUNED_DIR) / "config.cfg"
    if config_path.exists():
        import spacy

        get_spans = spacy.util.load_config(config_path)["components"]["transformer"]["model"]["get_spans"]
        max_chars, overlap = get_spans["max_chars"], get_spans["overlap"]
    out: list[str] = []
    characters = 0
    for path in seed_files(seeds_dir):
        text = model_view(read_seed(path.name, seeds_dir))
        characters += len(text)
        for a, b in windows(text, max_chars=CHUNK_CHARS, overlap=0):
            chunk = text[a:b]
            out.extend(chunk[c:d] for c, d in windows(chunk, max_chars=max_chars, overlap=overlap))
    return [w for w in out if w.strip()], characters


def batches_by_length(encoded: Sequence[list[int]], size: int) -> list[list[int]]:
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    return [order[i : i + size] for i in range(0, len(order), size)]


def forward_pass(model_dir: Path, texts: Sequence[str], threads: int = THREADS) -> tuple[Callable[[], float], int]:
    """A function timing one forward pass of the bare backbone over `texts` (seconds),
    batched by length; and the number of tokens."""
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

    return one_pass, sum(len(e) for e in encoded)


def bench_forward(model_dir: Path, texts: Sequence[str], characters: int, runs: int = 5, threads: int = THREADS) -> ForwardBench:
    one_pass, tokens = forward_pass(model_dir, texts, threads)
    one_pass()  # warm-up
    speeds = [characters / one_pass() for _ in range(runs)]
    return ForwardBench(Path(model_dir).name, characters, len(texts), tokens, speeds)


def run_bench(models: Sequence[Path], runs: int = 5) -> list[ForwardBench]:
    texts, characters = seed_windows()
    return [bench_forward(m, texts, characters, runs) for m in models]


@dataclass
class ExtractBench(_Speeds):
    annotator: str
    documents: int
    characters: int
    load_seconds: float
    runs: list[float]
    peak_rss_mb: float


def extract_pass(seeds_dir: Path, threads: int = THREADS) -> tuple[Callable[[], float], str, int, int, float]:
    """A function timing one `make extract` over seeds_dir (seconds): it reads the files,
    extracts, writes the lines and the ledger into a fresh folder. Also the annotator's
    name, the documents, their characters and the seconds the annotator took to load."""
    import tempfile

    import torch

    from .extract import available_annotator, extract
    from .readers.documents import read_documents
    from .records.ledger import read_lines, write_ledger

    torch.set_num_threads(threads)
    start = time.perf_counter()
    annotator = available_annotator("auto")
    load_seconds = time.perf_counter() - start
    documents = list(read_documents(seeds_dir))
    characters = sum(len(doc.text) for doc in documents if doc.error is None)

    def one_pass() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.jsonl"
            begin = time.perf_counter()
            extract(seeds_dir, out, annotator)
            write_ledger(read_lines(out), out.with_suffix(".duckdb"))
            return time.perf_counter() - begin

    return one_pass, annotator.name, len(documents), characters, round(load_seconds, 2)


def bench_extract(seeds_dir: Path, runs: int = 5, threads: int = THREADS) -> ExtractBench:
    """`make extract` on the seeds in this process: annotator loaded once, then timed runs."""
    import resource

    one_pass, name, documents, characters, load_seconds = extract_pass(seeds_dir, threads)
    one_pass()  # warm-up
    speeds = [characters / one_pass() for _ in range(runs)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return ExtractBench(name, documents, characters, load_seconds, speeds, round(peak, 1))


@dataclass
class PairedBench:
    backbone: ForwardBench
    extract: ExtractBench  # peak_rss_mb is filled in from the extract-only process
    ratios: list[float]  # extract chars/s over backbone chars/s, one per pair of runs

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def bench_paired(model_dir: Path, seeds_dir: Path, runs: int = 5, threads: int = THREADS) -> PairedBench:
    """The backbone's forward pass and `make extract`, timed alternately in this process."""
    texts, characters = seed_windows(seeds_dir)
    forward, tokens = forward_pass(model_dir, texts, threads)
    extract_once, name, documents, extract_chars, load_seconds = extract_pass(seeds_dir, threads)
    forward()  # warm-ups
    extract_once()
    backbone_speeds, extract_speeds = [], []
    for _ in range(runs):
        backbone_speeds.append(characters / forward())
        extract_speeds.append(extract_chars / extract_once())
    return PairedBench(
        ForwardBench(Path(model_dir).name, characters, len(texts), tokens, backbone_speeds),
        ExtractBench(name, documents, extract_chars, load_seconds, extract_speeds, float("nan")),
        [e / b for e, b in zip(extract_speeds, backbone_speeds)],
    )
