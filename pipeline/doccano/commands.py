"""`annotate push` and `annotate pull` (registered on the annotate group in pipeline/cli.py)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .config import DoccanoConfig

console = Console(stderr=True)


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


def _url(cfg: DoccanoConfig) -> str:
    """DOCCANO_URL when set, else the URL of the server `make doccano` started."""
    from .server import server_url

    return cfg.url if os.environ.get("DOCCANO_URL") else server_url(cfg)


@contextmanager
def _progress() -> Iterator[Progress]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        yield bar


def push(
    path: Path = typer.Argument(None, help="a document file or folder (.jsonl, .txt, .md, .html, .tsv/.csv); default: the seed paragraphs"),
    select: int = typer.Option(None, "--select", min=1, help="push only the N unlabelled paragraphs the model is least sure about"),
    only: list[str] = typer.Option(None, "--only", help="push only this example id (repeatable)"),
    project: str = typer.Option(None, help="doccano project (default: $DOCCANO_PROJECT or zhaoshang-projects)"),
    annotator: str = typer.Option("auto", help="pre-annotations from auto (the trained model when built, else weak), model or weak"),
    individual: bool = typer.Option(
        False, "--individual", help="new project only: every annotator works on their own copy (pre-annotations only in the pusher's)"
    ),
    batch_size: int = typer.Option(50, min=1, help="documents per upload"),
    root: Path = typer.Option(None, help="annotations folder (default: the project's annotations/)"),
) -> None:
    """Upload paragraphs with pre-annotations to doccano (creating the project with the schema's labels)."""
    from ..extract import available_annotator
    from .client import DoccanoError, connect, corpus_index, ensure_project, existing_example_ids, find_project, prepare
    from .client import push as push_items
    from .documents import file_candidates, seed_candidates
    from .ranking import rank
    from .state import PushState

    cfg = DoccanoConfig.from_env()
    name = project or cfg.project
    url = _url(cfg)
    try:
        skipped: list[str] = []
        candidates = file_candidates(path, skipped.append) if path else seed_candidates()
        if skipped:
            console.print(f"[yellow]skipped {len(skipped)} unreadable document(s), first: {skipped[0]}[/]")
    except (OSError, ValueError) as err:
        _fail(str(err))
    if only:
        wanted = set(only)
        candidates = [c for c in candidates if c.id in wanted]
        missing = wanted - {c.id for c in candidates}
        if missing:
            _fail(f"not among the paragraphs of {path or 'the seeds'}: {', '.join(sorted(missing))}")
    if not candidates:
        _fail(f"no paragraphs to push in {path or 'the seeds'}")
    try:
        chosen_annotator = available_annotator(annotator)
        client = connect(url, cfg.admin, cfg.password)
        existing = find_project(client, name)
        if existing is not None and individual and existing.collaborative_annotation:
            console.print(f"[yellow]project {name!r} exists and is collaborative; --individual only applies to a new project[/]")
        console.print(f"pre-annotations: {chosen_annotator.name}; doccano project {name!r} at {url}")
        if select:
            held = set(existing_example_ids(client, existing.id)) if existing is not None else set()
            corpus = corpus_index(root)
            unlabelled = [c for c in candidates if c.id not in corpus and c.id not in held]
            with _progress() as bar:
                task = bar.add_task("ranking", total=len(unlabelled))
                ranked = rank(unlabelled, chosen_annotator, on_progress=lambda _c: bar.advance(task))
            candidates = [cand for _, cand in ranked[:select]]
            for score, cand in ranked[: min(select, 10)]:
                console.print(f"  {score:.3f}  {cand.id}  {cand.text[:40]!r}")
            if not candidates:
                _fail("every paragraph is already annotated or in the project")
        with _progress() as bar:
            task = bar.add_task("pre-annotating", total=len(candidates))
            items = prepare(candidates, chosen_annotator, root, on_progress=lambda _c: bar.advance(task))
        target = ensure_project(client, name, collaborative=not individual)
        state = PushState.load(cfg.state_path)
        with _progress() as bar:
            task = bar.add_task("uploading", total=len(items))
            report = push_items(client, target, items, cfg.admin, state, url, batch_size, on_batch=lambda n: bar.advance(task, n))
    except (DoccanoError, ValueError, FileNotFoundError) as err:
        _fail(str(err))
    uploaded = sum(report.uploaded.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(report.uploaded.items()))
    print(
        f"pushed {uploaded} paragraph(s) to {name!r}" + (f" ({detail})" if detail else "")
        + f"; {report.already_there} already there; {report.dropped} invalid pre-annotation item(s) left out"
    )
    print(f"annotate at {url}/projects/{report.project_id}/dataset  (record: {cfg.state_path})")


def pull(
    project: str = typer.Option(None, help="doccano project (default: $DOCCANO_PROJECT or zhaoshang-projects)"),
    approved_only: bool = typer.Option(False, "--approved-only", help="merge only documents marked done (approved) in doccano"),
    force: bool = typer.Option(False, help="also replace corpus examples changed locally since they were pushed"),
    dry_run: bool = typer.Option(False, help="report what would change, write nothing"),
    root: Path = typer.Option(None, help="annotations folder (default: the project's annotations/)"),
) -> None:
    """Export reviewed documents from doccano, validate every one, merge into annotations/ (with a backup)."""
    from .client import DoccanoError, connect
    from .client import pull as pull_project
    from .export import ExportError

    cfg = DoccanoConfig.from_env()
    name = project or cfg.project
    try:
        client = connect(_url(cfg), cfg.admin, cfg.password)
        result = pull_project(client, name, root, approved_only=approved_only, force=force, dry_run=dry_run)
    except ExportError as err:
        for fault in err.faults:
            console.print(f"[red]FAULT[/] {fault}")
        _fail(f"{len(err.faults)} fault(s) in the export of {name!r}; nothing was merged. Fix them in doccano and pull again.")
    except DoccanoError as err:
        _fail(str(err))
    plan, report = result.plan, result.report
    print(("would merge: " if dry_run else "") + report.summary())
    if plan.not_reviewed:
        print("not reviewed (left in doccano): " + ", ".join(f"{k} {v}" for k, v in sorted(plan.not_reviewed.items())))
    for backup in report.backups:
        print(f"backup: {backup}")
    for line in plan.disagreements:
        console.print(f"[yellow]disagreement[/] {line}")
    if result.kept_ids:
        console.print(
            f"[yellow]kept the local version of {len(result.kept_ids)} example(s) changed since they were pushed: "
            f"{', '.join(result.kept_ids[:10])}{' ...' if len(result.kept_ids) > 10 else ''} (--force replaces them)[/]"
        )
