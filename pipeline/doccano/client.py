"""Talking to doccano (through doccano-client): the project, push and pull.

- `ensure_project` creates the project (sequence labelling with relations, no
  overlapping spans, the guidelines as its guideline) or checks an existing one, and makes
  its span labels and relation types exactly the schema's, in the schema's colours, with
  one-key shortcuts for the labels. Label types are in place before anything is uploaded,
  so doccano never creates one silently.
- `prepare` pre-annotates: an example already in the corpus goes up with its corpus
  annotations (for review), any other with the annotator's (model or weak) proposals,
  cut down to a valid subset (convert.keep_valid).
- `push` uploads what the project does not hold yet (doccano is asked, by our ids in the
  documents' metadata), in batches, and records it in the state file.
- `pull` downloads the export twice (everything, and approved documents only), then hands
  both to export.pull_from_zips.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from doccano_client import DoccanoClient
from doccano_client.exceptions import DoccanoAPIError
from requests import RequestException

from ..annotations.corpus import ANNOTATIONS_DIR, Example, iter_all
from ..annotations.validate import example_faults
from ..fileio import atomic_write_jsonl
from ..schema import ENTITY_LABELS, LABEL_COLOURS, RELATION_COLOURS, RELATION_TYPES
from .convert import example_from_prediction, fingerprint, keep_valid, renumbered, to_doccano
from .documents import Candidate
from .export import PullResult, confirmed_ids, pull_from_zips, read_export
from .server import healthy
from .state import PushState

SPAN_SHORTCUTS = {"ORG": "o", "PROJECT": "p", "MONEY": "m", "DATE": "d", "INDUSTRY": "i", "DISTRICT": "l", "STATUS": "s"}
LABEL_KINDS = (("span", ENTITY_LABELS, LABEL_COLOURS), ("relation", RELATION_TYPES, RELATION_COLOURS))
DESCRIPTION = "Investment projects in Chinese documents: entities and PROJECT relations (pushed by `annotate push`)."


class DoccanoError(RuntimeError):
    """Something about the server or the project stops a push or pull; says what."""


def connect(url: str, user: str, password: str) -> DoccanoClient:
    if not healthy(url):
        raise DoccanoError(f"no doccano answers at {url}: start it with `make doccano` (or set DOCCANO_URL)")
    client = DoccanoClient(url)
    try:
        client.login(user, password)
    except DoccanoAPIError as err:
        raise DoccanoError(f"cannot log in to {url} as {user!r}: check DOCCANO_ADMIN and DOCCANO_PASSWORD ({err})") from err
    return client


# --------------------------------------------------------------------------- project


def find_project(client: DoccanoClient, name: str) -> Any | None:
    return next((p for p in client.list_projects() if p.name == name), None)


def ensure_project(client: DoccanoClient, name: str, collaborative: bool = True, guideline: str | None = None) -> Any:
    project = find_project(client, name)
    if project is None:
        guidelines = ANNOTATIONS_DIR / "GUIDELINES.md"
        project = client.create_project(
            name=name,
            project_type="SequenceLabeling",
            description=DESCRIPTION,
            guideline=guideline if guideline is not None else (guidelines.read_text(encoding="utf-8") if guidelines.exists() else ""),
            collaborative_annotation=collaborative,
            allow_overlapping=False,
            use_relation=True,
        )
    elif str(getattr(project.project_type, "value", project.project_type)) != "SequenceLabeling" or not project.use_relation:
        raise DoccanoError(f"doccano project {name!r} exists but is not sequence labelling with relations; choose another --project")
    ensure_label_types(client, project.id, name)
    return project


def ensure_label_types(client: DoccanoClient, project_id: int, name: str = "") -> None:
    """Exactly the schema's labels and relation types, in the schema's colours."""
    for kind, names, colours in LABEL_KINDS:
        existing = {lt.text: lt for lt in client.list_label_types(project_id, kind)}
        extra = sorted(set(existing) - set(names))
        if extra:
            raise DoccanoError(
                f"doccano project {name or project_id} has {kind} labels that are not in the schema: {', '.join(extra)}. "
                "Relabel and delete them in doccano (Labels page), or push to another --project."
            )
        for label in names:
            key = SPAN_SHORTCUTS.get(label) if kind == "span" else None
            found = existing.get(label)
            if found is None:
                client.create_label_type(project_id, kind, label, suffix_key=key, color=colours[label])
            elif (found.background_color or "").lower() != colours[label].lower():
                client.update_label_type(project_id, found.id, kind, color=colours[label])


# --------------------------------------------------------------------------- push


@dataclass(frozen=True)
class Prepared:
    candidate: Candidate
    example: Example
    preannotation: str  # the annotator's name, or "corpus"
    base: str  # fingerprint of the corpus version, "" when unlabelled
    dropped: int  # pre-annotation items left out as invalid

    @property
    def id(self) -> str:
        return self.candidate.id


def corpus_index(root: Path | None = None) -> dict[str, tuple[str, Example]]:
    return {ex.id: (split, ex) for split, ex in iter_all(root)}


def prepare(
    candidates: Sequence[Candidate],
    annotator: Any,
    root: Path | None = None,
    on_progress: Callable[[Candidate], None] | None = None,
) -> list[Prepared]:
    corpus = corpus_index(root)
    out: list[Prepared] = []
    for cand in candidates:
        if cand.id in corpus:
            split, ex = corpus[cand.id]
            if ex.text != cand.text or split != cand.split:
                raise DoccanoError(f"{cand.id}: annotations/{split}.jsonl has an example with this id but another text or split")
            example = renumbered(Example(ex.id, ex.text, ex.entities, ex.relations, {"source": ex.meta.get("source")}))
            item = Prepared(cand, example, "corpus", fingerprint(ex), 0)
        else:
            entities, relations = annotator.annotate(cand.text)
            proposed = example_from_prediction(cand.id, cand.text, entities, relations, {"source": cand.source})
            example, dropped = keep_valid(proposed)
            item = Prepared(cand, example, str(annotator.name), "", dropped)
        faults = example_faults(item.example)
        if faults:
            raise DoccanoError(f"{cand.id}: cannot push an invalid example: {'; '.join(faults)}")
        out.append(item)
        if on_progress:
            on_progress(cand)
    return out


@dataclass
class PushReport:
    project: str
    project_id: int
    uploaded: Counter = field(default_factory=Counter)  # by pre-annotation source
    already_there: int = 0
    dropped: int = 0


def _upload_errors(status: Any) -> str | None:
    if status.error:
        return str(status.error)
    result = status.result if isinstance(status.result, dict) else {}
    errors = result.get("error") or []
    if errors:
        return "; ".join(str(e) for e in errors[:10]) + (f" (and {len(errors) - 10} more)" if len(errors) > 10 else "")
    return None


def existing_example_ids(client: DoccanoClient, project_id: int) -> dict[str, int]:
    """Our example id -> doccano id, for every document in the project."""
    return {str(ex.meta.get("example_id")): ex.id for ex in client.list_examples(project_id) if ex.meta.get("example_id")}


def push(
    client: DoccanoClient,
    project: Any,
    items: Sequence[Prepared],
    user: str,
    state: PushState,
    url: str,
    batch_size: int = 50,
    on_batch: Callable[[int], None] | None = None,
) -> PushReport:
    """Upload the items the project does not hold yet, batch by batch."""
    report = PushReport(project.name, project.id)
    present = existing_example_ids(client, project.id)
    todo = [item for item in items if item.id not in present]
    report.already_there = len(items) - len(todo)
    with tempfile.TemporaryDirectory(prefix="doccano-push-") as tmp:
        for number, start in enumerate(range(0, len(todo), batch_size), 1):
            batch = todo[start : start + batch_size]
            path = Path(tmp) / f"batch-{number:04d}.jsonl"
            atomic_write_jsonl(path, (to_doccano(i.example, i.candidate.split, i.preannotation, i.base, user) for i in batch))
            try:
                status = client.upload(project.id, [str(path)], task="RelationExtraction", format="JSONL")
            except (DoccanoAPIError, RequestException, TimeoutError) as err:
                raise DoccanoError(f"upload of batch {number} failed: {err}") from err
            problem = _upload_errors(status)
            if problem:
                raise DoccanoError(f"doccano rejected batch {number} ({batch[0].id} .. {batch[-1].id}): {problem}")
            for item in batch:
                report.uploaded[item.preannotation] += 1
                report.dropped += item.dropped
            if on_batch:
                on_batch(len(batch))
    ids = existing_example_ids(client, project.id)
    entry = state.project(project.name, url, project.id, bool(project.collaborative_annotation))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for item in todo:
        entry["examples"][item.id] = {
            "doccano_id": ids.get(item.id),
            "split": item.candidate.split,
            "preannotation": item.preannotation,
            "pushed": fingerprint(item.example),
            "pushed_at": now,
        }
    state.save()
    return report


# --------------------------------------------------------------------------- pull


def approvers(client: DoccanoClient, project_id: int, doccano_ids: set[int]) -> dict[int, str]:
    """Who marked each document done (for the shared annotation of a collaborative
    project, whose export does not say)."""
    users = {u.id: u.username for u in client.search_users("")}
    out: dict[int, str] = {}
    for example_id in sorted(doccano_ids):
        # doccano-client 1.2.8 has no call for example states; its session does the GET
        states = client._base_repository.get(f"projects/{project_id}/examples/{example_id}/states").json()
        rows = states.get("results", states) if isinstance(states, dict) else states
        names = sorted({users.get(s.get("confirmed_by"), str(s.get("confirmed_by"))) for s in rows})
        if names:
            out[example_id] = "+".join(names)
    return out


def pull(
    client: DoccanoClient,
    project_name: str,
    root: Path | None = None,
    approved_only: bool = False,
    force: bool = False,
    dry_run: bool = False,
) -> PullResult:
    project = find_project(client, project_name)
    if project is None:
        raise DoccanoError(f"no doccano project {project_name!r}: push to it first")
    collaborative = bool(project.collaborative_annotation)
    with tempfile.TemporaryDirectory(prefix="doccano-pull-") as tmp:
        try:
            export_zip = client.download(project.id, "JSONL", only_approved=False, dir_name=tmp)
            approved_zip = client.download(project.id, "JSONL", only_approved=True, dir_name=tmp)
        except (DoccanoAPIError, RequestException, TimeoutError) as err:
            raise DoccanoError(f"export of {project_name!r} failed: {err}") from err
        names = None
        if collaborative:
            confirmed = set().union(*confirmed_ids(read_export(approved_zip)).values())
            names = approvers(client, project.id, confirmed)
        return pull_from_zips(export_zip, approved_zip, project.name, collaborative, approved_only, root, names, force, dry_run)
