"""Merging examples into the corpus split files, never losing what is there.

Used by `annotate import` (authoring files) and `annotate pull` (doccano). Examples are
matched by id; a changed example replaces the old one only when the caller's policy
allows it; every split file that changes is first copied to annotations/backups/.
"""
from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .corpus import ANNOTATIONS_DIR, SPLITS, Example, read_examples, split_path, write_examples


@dataclass
class MergeReport:
    added: Counter = field(default_factory=Counter)
    changed: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)  # changed upstream but not overwritten
    backups: list[Path] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        for name in ("added", "changed", "unchanged", "kept"):
            counter: Counter = getattr(self, name)
            total = sum(counter.values())
            detail = ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
            parts.append(f"{name} {total}" + (f" ({detail})" if detail else ""))
        return "; ".join(parts)


def same_annotation(a: Example, b: Example) -> bool:
    return json.dumps(a.to_json(), sort_keys=True, ensure_ascii=False) == json.dumps(b.to_json(), sort_keys=True, ensure_ascii=False)


def backup_dir(root: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return root / "backups" / stamp


def merge_into_splits(
    incoming: dict[str, Sequence[Example]],
    root: Path | None = None,
    may_replace: Callable[[Example, Example], bool] = lambda old, new: True,
    group_of: Callable[[Example], str] = lambda ex: "all",
    dry_run: bool = False,
) -> MergeReport:
    """Upsert examples by id into the split files under root; back up what changes."""
    root = Path(root or ANNOTATIONS_DIR)
    report = MergeReport()
    existing = {split: (read_examples(split_path(split, root)) if split_path(split, root).exists() else []) for split in SPLITS}
    home = {ex.id: split for split, exs in existing.items() for ex in exs}
    updated = {split: list(exs) for split, exs in existing.items()}
    touched = set()
    for split, examples in incoming.items():
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}")
        for new in examples:
            group = group_of(new)
            old_split = home.get(new.id)
            if old_split is None:
                updated[split].append(new)
                home[new.id] = split
                report.added[group] += 1
                touched.add(split)
                continue
            if old_split != split:
                raise ValueError(f"example {new.id} is in {old_split}; refusing to move it to {split}")
            index = next(i for i, ex in enumerate(updated[split]) if ex.id == new.id)
            old = updated[split][index]
            if same_annotation(old, new):
                report.unchanged[group] += 1
            elif may_replace(old, new):
                updated[split][index] = new
                report.changed[group] += 1
                report.changed_ids.append(new.id)
                touched.add(split)
            else:
                report.kept[group] += 1
    if dry_run or not touched:
        return report
    target = backup_dir(root)
    for split in sorted(touched):
        path = split_path(split, root)
        if path.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)
            report.backups.append(target / path.name)
        write_examples(path, updated[split])
    return report
