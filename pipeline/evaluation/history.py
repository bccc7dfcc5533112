"""The re-evaluation history, models/eval-history.jsonl: one JSON object per run.

An entry (see `pipeline.evaluation.reeval.build_entry`) holds the time, the model's and
the data's hashes, the git commit, the figures on the test split (and on pulled
examples) and the gate's verdict. The file is committed with the model. Appending
rewrites the whole file atomically (`pipeline.fileio`), so a crash or a full disk leaves
the previous history intact, never a half line.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..annotations.corpus import Example
from ..fileio import atomic_write_text, dumps_jsonl, read_jsonl_rows

ENTRY_VERSION = 1
REQUIRED_KEYS = ("timestamp", "annotator", "test", "gate")


class HistoryError(ValueError):
    """A history file that cannot be read; names the file and line."""


def read_history(path: Path) -> list[dict[str, Any]]:
    """Every entry, oldest first; [] when the file does not exist yet."""
    path = Path(path)
    if not path.exists():
        return []
    entries: list[dict[str, Any]] = []
    for where, row in read_jsonl_rows(path, HistoryError, label=str(path), hint="; fix or remove that line"):
        if not isinstance(row, dict):
            raise HistoryError(f"{where}: a history entry must be a JSON object; fix or remove that line")
        missing = [key for key in REQUIRED_KEYS if key not in row]
        if missing:
            raise HistoryError(f"{where}: not a re-evaluation entry (missing {', '.join(missing)}); fix or remove that line")
        if not isinstance(row["test"], dict) or "entities_micro" not in row["test"]:
            raise HistoryError(f"{where}: entry without test figures ('test.entities_micro'); fix or remove that line")
        entries.append(row)
    return entries


def append_entry(path: Path, entry: dict[str, Any], history: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The history with `entry` added, written atomically; returns it."""
    entries = list(read_history(path) if history is None else history) + [entry]
    atomic_write_text(Path(path), dumps_jsonl(entries))
    return entries


def _sha256_files(root: Path, relpaths: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(relpaths):
        data = (root / rel).read_bytes()
        digest.update(rel.encode("utf-8") + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()


def model_hash(model_dir: Path) -> str | None:
    """sha256 over the sorted relative paths and bytes of every file in the model folder."""
    from ..model.package import model_files

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return None
    return _sha256_files(model_dir, model_files(model_dir))


def examples_hash(examples: Sequence[Example]) -> str:
    """sha256 over examples as canonical JSON lines (sorted keys), in the given order."""
    digest = hashlib.sha256()
    for ex in examples:
        digest.update(json.dumps(ex.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
    return digest.hexdigest()


def git_commit(repo: Path) -> dict[str, Any] | None:
    """{"commit", "dirty"} of the repository at repo, or None outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}
