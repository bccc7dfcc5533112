"""The command line behind the make targets: `python -m pipeline --help`."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Investment-project extraction for Chinese documents.")
annotate_app = typer.Typer(no_args_is_help=True, help="Annotation tooling: authoring, corpus, doccano.")
app.add_typer(annotate_app, name="annotate")

console = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


# --------------------------------------------------------------------------- corpus


@app.command()
def validate(
    root: Path = typer.Option(None, help="annotations folder (default: the project's annotations/)"),
) -> None:
    """Validate the corpus (train/dev/test) against the schema and print counts."""
    from .annotations.corpus import CorpusFormatError, read_splits
    from .annotations.validate import format_counts, validate_splits

    try:
        splits = read_splits(root)
    except CorpusFormatError as err:
        fail(str(err))
    faults, counts = validate_splits(splits)
    for line in format_counts(counts):
        print(line)
    if faults:
        for fault in faults[:50]:
            console.print(f"[red]FAULT[/] {fault}")
        fail(f"{len(faults)} fault(s) in the corpus")
    console.print("[green]corpus valid[/]")


@annotate_app.command("check")
def annotate_check(
    files: List[Path] = typer.Argument(..., help="authoring files (JSON lines) to compile"),
    quiet: bool = typer.Option(False, help="do not print unlabelled-occurrence warnings"),
) -> None:
    """Compile authoring files to offsets and report what cannot be placed."""
    from collections import Counter

    from .annotations.authoring import AuthoringError, compile_many
    from .annotations.validate import example_faults

    try:
        examples, warnings = compile_many(files)
    except AuthoringError as err:
        fail(str(err))
    bad = 0
    for ex in examples:
        for reason in example_faults(ex):
            console.print(f"[red]FAULT[/] {ex.id}: {reason}")
            bad += 1
    if not quiet:
        for warning in warnings:
            console.print(f"[yellow]warn[/] {warning}")
    labels = Counter(e.label for ex in examples for e in ex.entities)
    rels = Counter(r.type for ex in examples for r in ex.relations)
    print(f"{len(examples)} examples; entities {dict(labels)}; relations {dict(rels)}; {len(warnings)} warnings")
    if bad:
        fail(f"{bad} fault(s)")


@annotate_app.command("segments")
def annotate_segments(
    seed: str = typer.Argument(..., help="seed prefix, e.g. 001"),
) -> None:
    """Print a seed's paragraph segments as authoring stubs (one JSON line each)."""
    from .annotations.seeds import SEEDS_DIR, segment_seed

    matches = sorted(SEEDS_DIR.glob(f"{seed}*.txt"))
    if not matches:
        fail(f"no seed file starting with {seed!r} in {SEEDS_DIR}")
    for seg in segment_seed(matches[0].name):
        row = {
            "id": seg.id,
            "source": {"kind": "seed", "file": seg.file, "start": seg.start, "end": seg.end},
            "split": seg.split,
            "text": seg.text,
            "spans": [],
            "relations": [],
        }
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
