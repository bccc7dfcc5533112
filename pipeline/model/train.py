"""`make train`: corpus → DocBins → `spacy train` on a profile → thresholds on dev →
the small committed model in models/finetuned and its model card.

A profile is a .cfg in configs/; `[profile] extends = "default.cfg"` makes a file a
set of overrides on another (configs/fast.cfg is the tiny smoke-test profile).
"""
from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import spacy
from thinc.api import Config

from ..annotations.corpus import Example, read_splits
from ..annotations.docbin import blank_nlp, example_to_doc, partial_doc, write_docbin
from ..annotations.public_sets import PUBLIC_SETS, sample_public_examples
from ..backbone.build import MODELS_DIR
from ..text.normalise import model_view
from .package import FINETUNED_DIR, export_finetuned, model_files
from .thresholds import tune_span_threshold, tune_thresholds

ROOT = MODELS_DIR.parent
CONFIGS_DIR = ROOT / "configs"


def load_profile(path: Path) -> Config:
    """A training config; `[profile] extends` merges it over the file it names."""
    path = Path(path)
    config = Config().from_disk(path, interpolate=False)
    extends = config.get("profile", {}).get("extends")
    if not extends:
        return config
    overrides = Config({k: v for k, v in config.items() if k != "profile"})
    return load_profile(path.parent / extends).merge(overrides)


def as_model_reads(example: Example) -> Example:
    """The example with the text the model reads at extract time (same length, same offsets)."""
    return replace(example, text=model_view(example.text))


def source_kind(example: Example) -> str:
    source = example.meta.get("source")
    return str(source.get("kind", "")) if isinstance(source, dict) else ""


def weighted(examples: list[Example], copies: dict[str, int]) -> list[Example]:
    """Each example repeated as often as `copies` says for its source kind (default once):
    real in-domain text can count for more than text we wrote ourselves."""
    return [ex for ex in examples for _ in range(int(copies.get(source_kind(ex), 1)))]


def write_corpus(out_dir: Path, copies: dict[str, int] | None = None) -> dict[str, int]:
    """DocBins of every split; the train split weighted by `copies` per source kind."""
    nlp = blank_nlp()
    splits = read_splits()
    if copies:
        splits["train"] = weighted(splits["train"], copies)
    return {
        split: write_docbin((example_to_doc(nlp, as_model_reads(ex)) for ex in examples), Path(out_dir) / f"{split}.spacy")
        for split, examples in splits.items()
    }


def write_public_mix(settings: dict[str, Any], out_path: Path, seed: int) -> int:
    """The `[public_mix]` section of a profile: how many partially labelled sentences of
    which public sets join the training data (0: none)."""
    count = int(settings.get("examples", 0))
    if count <= 0:
        return 0
    nlp = blank_nlp()
    sampled = sample_public_examples(settings.get("sets", list(PUBLIC_SETS)), count, seed)
    docs = (partial_doc(nlp, ex.id, model_view(ex.text), ex.spans, ex.source) for ex in sampled)
    return write_docbin(docs, out_path)


@dataclass
class TrainResult:
    model_dir: Path
    seconds: float
    peak_rss_mb: float
    thresholds: dict[str, dict[str, float]]
    files: dict[str, int]
    dev_scores: dict[str, Any]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(profile: Path, run_dir: Path, model_dir: Path | None = None, base_dir: Path | None = None) -> TrainResult:
    from spacy.cli.train import train as spacy_train

    from .. import components  # noqa: F401  (registers our architectures and factories)

    started = time.perf_counter()
    run_dir = Path(run_dir)
    model_dir = Path(model_dir or FINETUNED_DIR)
    corpus_dir = run_dir / "corpus"
    config = load_profile(profile)
    write_corpus(corpus_dir, dict(config.get("corpus_weights", {})))
    train_path = corpus_dir / "train.spacy"
    public_mix = dict(config.get("public_mix", {}))
    if public_mix.get("examples", 0):
        # spacy.Corpus.v1 reads every .spacy file under a folder
        train_path = corpus_dir / "train_mix"
        train_path.mkdir(parents=True, exist_ok=True)
        (corpus_dir / "train.spacy").replace(train_path / "ours.spacy")
        write_public_mix(public_mix, train_path / "public.spacy", config["system"]["seed"])
    base = Path(base_dir) if base_dir else (ROOT / config["paths"]["base"])
    config["paths"]["base"] = str(base.resolve())
    config["paths"]["train"] = str(train_path.resolve())
    config["paths"]["dev"] = str((corpus_dir / "dev.spacy").resolve())
    config_path = run_dir / "config.cfg"
    config.to_disk(config_path, interpolate=False)
    spacy_train(config_path, run_dir / "pipeline", use_gpu=-1)
    nlp = spacy.load(run_dir / "pipeline" / "model-best")
    dev = [as_model_reads(ex) for ex in read_splits()["dev"]]
    span_threshold = tune_span_threshold(nlp, dev) if "span_entities" in nlp.pipe_names else None
    thresholds = tune_thresholds(nlp, dev, **dict(config.get("thresholds", {})))
    nlp.meta.setdefault("zhaoshang", {})
    nlp.meta["zhaoshang"] = {
        "profile": str(Path(profile).name),
        "trained_on": datetime.now(UTC).strftime("%Y-%m-%d"),
        "seed": config["system"]["seed"],
        "thresholds": thresholds,
        "span_threshold": span_threshold,
        "trained_seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    export_finetuned(nlp, model_dir)
    meta = json.loads((run_dir / "pipeline" / "model-best" / "meta.json").read_text(encoding="utf-8"))
    return TrainResult(
        model_dir=model_dir,
        seconds=time.perf_counter() - started,
        peak_rss_mb=peak_rss_mb(),
        thresholds=thresholds,
        files=model_files(model_dir),
        dev_scores=meta.get("performance", {}),
    )
