"""`annotate pull` after the download: read doccano's export, check every line, decide
what to merge, merge. Nothing here talks to the server, so all of it is testable offline.

The export zip holds `all.jsonl` when the project annotates collaboratively (one shared
annotation per document), else one `<user>.jsonl` per project member, each with every
document and only that user's labels.

Rules:

- Every line of every file is read back to our ids and checked with the project's
  validator (unknown labels, offsets outside the text, overlaps, relations between the
  wrong labels or to missing spans, a STATUS word with no stage), plus: our id present
  and unique per file, a known split, the same text and split as the corpus example with
  that id. One fault anywhere and the pull stops with every fault listed, each naming
  the file, line, our id and doccano's id; nothing is written.
- A document counts as reviewed by an annotator when they marked it done (doccano's
  checkmark, "approved"), or when their annotations differ from what they started from:
  the uploaded pre-annotations for the shared annotation or the uploader's copy, nothing
  for everyone else's copy. Documents nobody reviewed are not merged, so untouched
  pre-annotations never enter the corpus. `approved_only` merges only the marked ones.
- When two annotators reviewed a document differently it is not merged and is listed for
  adjudication.
- A reviewed document replaces the corpus example with its id only when that example is
  still what was pushed (or came from an earlier pull of the same project); an example
  changed locally since the push is kept, and reported. The merge backs up every split
  file it rewrites (pipeline/annotations/merge.py).
"""
from __future__ import annotations

import json
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..annotations.corpus import SPLITS, Example, iter_all
from ..annotations.merge import MergeReport, merge_into_splits
from .convert import PulledRow, fingerprint, from_doccano

COLLABORATIVE_GROUP = "all"


class ExportError(ValueError):
    """The export has faulty lines; `faults` names each (file, line, example, reason)."""

    def __init__(self, faults: list[str]):
        self.faults = faults
        listing = "\n".join(f"  {fault}" for fault in faults)
        super().__init__(f"{len(faults)} fault(s) in the doccano export; nothing was merged:\n{listing}")


def read_export(zip_path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of each `<group>.jsonl` in a doccano JSONL export zip."""
    out: dict[str, list[dict[str, Any]]] = {}
    faults: list[str] = []
    with zipfile.ZipFile(zip_path) as archive:
        for name in sorted(archive.namelist()):
            if not name.endswith(".jsonl"):
                continue
            rows: list[dict[str, Any]] = []
            for lineno, line in enumerate(archive.read(name).decode("utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    faults.append(f"{name} line {lineno}: not JSON ({err.msg})")
                    continue
                if not isinstance(row, dict):
                    faults.append(f"{name} line {lineno}: not a JSON object")
                    continue
                rows.append(row)
            out[Path(name).stem] = rows
    if faults:
        raise ExportError(faults)
    return out


def confirmed_ids(export: Mapping[str, list[dict[str, Any]]]) -> dict[str, set[int]]:
    """Doccano ids per group, from an export made with only approved documents."""
    return {group: {row["id"] for row in rows if isinstance(row.get("id"), int)} for group, rows in export.items()}


@dataclass
class PullPlan:
    project: str
    incoming: dict[str, list[Example]] = field(default_factory=dict)
    annotator: dict[str, str] = field(default_factory=dict)  # example id -> who reviewed it
    base: dict[str, str] = field(default_factory=dict)  # example id -> corpus fingerprint at push
    not_reviewed: Counter = field(default_factory=Counter)
    disagreements: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.incoming.values())


def plan_pull(
    export: Mapping[str, list[dict[str, Any]]],
    confirmed: Mapping[str, set[int]],
    project: str,
    collaborative: bool,
    approved_only: bool = False,
    root: Path | None = None,
    names: Mapping[int, str] | None = None,
) -> PullPlan:
    """Check every exported line and choose what to merge (see the module's rules).

    `names` maps doccano ids to who marked them done, for the shared annotation of a
    collaborative project (whose export does not say who did what)."""
    local = {ex.id: (split, ex) for split, ex in iter_all(root)}
    faults: list[str] = []
    taken: dict[str, list[tuple[str, PulledRow]]] = {}
    plan = PullPlan(project)
    for group, rows in sorted(export.items()):
        seen: set[str] = set()
        for lineno, row in enumerate(rows, 1):
            pulled = from_doccano(row)
            ex = pulled.example
            problems = list(pulled.faults)
            if ex.id in seen:
                problems.append("the same example_id appears twice")
            seen.add(ex.id)
            if pulled.split not in SPLITS:
                problems.append(f"unknown split {pulled.split!r}")
            if ex.id in local:
                local_split, local_ex = local[ex.id]
                if local_ex.text != ex.text:
                    problems.append(f"text differs from the example with this id in annotations/{local_split}.jsonl")
                elif pulled.split in SPLITS and local_split != pulled.split:
                    problems.append(f"it is in {local_split} locally, the export says {pulled.split}")
            if problems:
                where = f"{group}.jsonl line {lineno}: {ex.id} (doccano example {pulled.doccano_id})"
                faults.extend(f"{where}: {problem}" for problem in problems)
                continue
            starts_with_upload = collaborative or group == pulled.pushed_by
            baseline = pulled.pushed if starts_with_upload else fingerprint(Example(ex.id, ex.text))
            is_confirmed = pulled.doccano_id in confirmed.get(group, set())
            annotator = (names or {}).get(pulled.doccano_id, group) if collaborative else group
            reviewed = is_confirmed if approved_only else is_confirmed or fingerprint(ex) != baseline
            if reviewed:
                taken.setdefault(ex.id, []).append((annotator, pulled))
            else:
                plan.not_reviewed[annotator] += 1
    if faults:
        raise ExportError(faults)
    for example_id, versions in sorted(taken.items()):
        versions.sort(key=lambda item: item[0])
        if len({fingerprint(p.example) for _, p in versions}) > 1:
            who = ", ".join(a for a, _ in versions)
            plan.disagreements.append(f"{example_id}: {who} annotated it differently; not merged (adjudicate in doccano)")
            continue
        annotator, pulled = versions[0]
        plan.incoming.setdefault(pulled.split, []).append(_merged_example(pulled, local.get(example_id), project, annotator))
        plan.annotator[example_id] = annotator
        plan.base[example_id] = pulled.base
    return plan


def _merged_example(pulled: PulledRow, local: tuple[str, Example] | None, project: str, annotator: str) -> Example:
    """The pulled annotations with the corpus example's metadata; the corpus example
    itself when the annotations are the same (so a mere approval changes nothing)."""
    ex = pulled.example
    if local is not None and fingerprint(local[1]) == fingerprint(ex):
        return local[1]
    meta = dict(local[1].meta) if local is not None else {"source": ex.meta["source"]}
    meta["origin"] = f"doccano:{project}/{annotator}"
    return Example(ex.id, ex.text, ex.entities, ex.relations, meta)


@dataclass
class PullResult:
    plan: PullPlan
    report: MergeReport
    kept_ids: list[str]


def apply_pull(plan: PullPlan, root: Path | None = None, force: bool = False, dry_run: bool = False) -> PullResult:
    """Merge the plan into the split files (with backups); never over a local change
    unless forced."""
    prefix = f"doccano:{plan.project}/"
    kept: list[str] = []

    def may_replace(old: Example, new: Example) -> bool:
        allowed = force or fingerprint(old) == plan.base.get(new.id) or str(old.meta.get("origin", "")).startswith(prefix)
        if not allowed:
            kept.append(new.id)
        return allowed

    report = merge_into_splits(plan.incoming, root, may_replace=may_replace, group_of=lambda ex: plan.annotator[ex.id], dry_run=dry_run)
    return PullResult(plan, report, kept)


def pull_from_zips(
    export_zip: Path,
    approved_zip: Path,
    project: str,
    collaborative: bool,
    approved_only: bool = False,
    root: Path | None = None,
    names: Mapping[int, str] | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> PullResult:
    """The whole offline half of a pull: both zips in, the corpus updated (or an
    ExportError and nothing changed)."""
    export = read_export(export_zip)
    confirmed = confirmed_ids(read_export(approved_zip))
    plan = plan_pull(export, confirmed, project, collaborative, approved_only, root, names)
    return apply_pull(plan, root, force=force, dry_run=dry_run)
