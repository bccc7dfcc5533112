"""`make reeval`: the scheduled re-evaluation of the current model.

One run evaluates the annotator on the frozen test split (and, separately, on the
examples pulled from doccano outside the test split), appends one entry to the history
(models/eval-history.jsonl), compares it with a baseline entry and with the targets of
configs/reeval.cfg (the regression gate), and writes the HTML report.

The gate fails when a tracked figure fell by more than its tolerance since the baseline
(the latest passed entry of the same annotator, or simply the previous one); the entry is
still appended, marked failed, and the report still written. `accept=True` records a
failing run as accepted: it becomes the new baseline (for a deliberate trade-off).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confection import Config

from ..annotations.corpus import Example, read_splits
from ..extract import Annotator
from ..schema import ENTITY_LABELS, RELATION_TYPES
from .evaluate import evaluate_system
from .history import ENTRY_VERSION, append_entry, examples_hash, git_commit, model_hash, read_history
from .records import FIELDS

ROOT = Path(__file__).resolve().parents[2]
HISTORY_PATH = ROOT / "models" / "eval-history.jsonl"
REPORT_PATH = ROOT / "reports" / "reeval.html"
CONFIG_PATH = ROOT / "configs" / "reeval.cfg"

PASSING = ("first", "passed", "accepted")

# config key -> (figure name, path into the test figures); GROUPS: one figure per label/type/field
HEADLINE: dict[str, tuple[str, str]] = {
    "entities_micro_f1": ("entities micro F1", "entities_micro"),
    "relations_micro_f1": ("relations micro F1", "relations_micro"),
    "records_fields_f1": ("records fields F1", "records.fields_micro"),
    "records_projects_f1": ("records projects F1", "records.projects"),
}
GROUPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "entity_label_f1": ("entity {} F1", "entities", ENTITY_LABELS),
    "relation_type_f1": ("relation {} F1", "relations", RELATION_TYPES),
    "record_field_f1": ("record {} F1", "records.fields", FIELDS),
}
THROUGHPUT = "chars_per_second"


class ConfigError(ValueError):
    """configs/reeval.cfg is missing a section or has an unknown or ill-typed key."""


@dataclass
class ReevalConfig:
    baseline: str = "last_passed"
    min_support: int = 10
    max_drop: dict[str, float] = field(default_factory=dict)
    max_relative_drop: dict[str, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    on_miss: str = "warn"
    report: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_disk(cls, path: Path = CONFIG_PATH) -> ReevalConfig:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"{path} does not exist (the default is configs/reeval.cfg)")
        try:
            cfg = Config().from_disk(path)
        except Exception as err:  # confection raises several types for syntax errors
            raise ConfigError(f"{path}: cannot be read as a config ({err})") from err
        return cls.from_config(cfg, str(path))

    @classmethod
    def from_config(cls, cfg: dict[str, Any], where: str = "config") -> ReevalConfig:
        gate = dict(cfg.get("gate", {}))
        max_drop = dict(gate.pop("max_drop", {}))
        max_relative_drop = dict(gate.pop("max_relative_drop", {}))
        targets = dict(cfg.get("targets", {}))
        on_miss = targets.pop("on_miss", "warn")
        config = cls(
            baseline=gate.pop("baseline", "last_passed"),
            min_support=gate.pop("min_support", 10),
            max_drop=max_drop,
            max_relative_drop=max_relative_drop,
            targets=targets,
            on_miss=on_miss,
            report=dict(cfg.get("report", {})),
        )
        problems = [f"[gate] unknown key {key!r}" for key in gate]
        known = set(HEADLINE) | set(GROUPS)
        problems += [f"[gate.max_drop] unknown figure {key!r} (known: {', '.join(sorted(known))})" for key in max_drop if key not in known]
        problems += [f"[gate.max_relative_drop] unknown figure {key!r} (known: {THROUGHPUT})" for key in max_relative_drop if key != THROUGHPUT]
        problems += [f"[targets] unknown figure {key!r} (known: {', '.join(HEADLINE)})" for key in targets if key not in HEADLINE]
        for section, values in (("gate.max_drop", max_drop), ("gate.max_relative_drop", max_relative_drop), ("targets", targets)):
            problems += [f"[{section}] {key} must be a number, not {value!r}" for key, value in values.items() if not _is_number(value) or value < 0]
        if config.baseline not in ("last_passed", "previous"):
            problems.append(f"[gate] baseline must be \"last_passed\" or \"previous\", not {config.baseline!r}")
        if config.on_miss not in ("warn", "fail"):
            problems.append(f"[targets] on_miss must be \"warn\" or \"fail\", not {config.on_miss!r}")
        if not isinstance(config.min_support, int) or isinstance(config.min_support, bool):
            problems.append(f"[gate] min_support must be an integer, not {config.min_support!r}")
        if problems:
            raise ConfigError(f"{where}: " + "; ".join(problems))
        return config

    def report_setting(self, key: str, default: int) -> int:
        return int(self.report.get(key, default))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def lookup(figures: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = figures
    for part in path.split("."):
        node = node[part]
    return node


def tracked_figures(figures: dict[str, Any]) -> dict[str, tuple[str, float, int]]:
    """figure name -> (config key, F1, support) for every F1 the gate can track."""
    out: dict[str, tuple[str, float, int]] = {}
    for key, (name, path) in HEADLINE.items():
        try:
            prf = lookup(figures, path)
            out[name] = (key, float(prf["f1"]), int(prf["support"]))
        except (KeyError, TypeError, ValueError):  # an older entry without this figure
            continue
    for key, (pattern, path, names) in GROUPS.items():
        try:
            table = lookup(figures, path)
        except (KeyError, TypeError):
            continue
        for item in names:
            if isinstance(table.get(item), dict) and "f1" in table[item]:
                out[pattern.format(item)] = (key, float(table[item]["f1"]), int(table[item].get("support", 0)))
    return out


@dataclass
class Check:
    """One comparison that did not hold: a fall beyond tolerance or a missed target."""

    figure: str
    old: float | None
    new: float
    limit: float
    kind: str  # "drop", "relative drop" or "target"
    severity: str  # "fail" or "warn"

    @property
    def message(self) -> str:
        if self.kind == "target":
            return f"{self.figure} is {self.new:.4g}, below its target {self.limit:.4g}"
        assert self.old is not None
        if self.kind == "relative drop":
            fall = (self.old - self.new) / self.old
            return f"{self.figure} fell from {self.old:.4g} to {self.new:.4g} (-{fall:.0%}; tolerance {self.limit:.0%})"
        return f"{self.figure} fell from {self.old:.4f} to {self.new:.4f} ({self.new - self.old:+.4f}; tolerance {self.limit:.4f})"

    def to_json(self) -> dict[str, Any]:
        return {"figure": self.figure, "old": self.old, "new": self.new, "limit": self.limit, "kind": self.kind, "message": self.message}


def compare(current: dict[str, Any], baseline: dict[str, Any] | None, config: ReevalConfig) -> list[Check]:
    """The checks that failed or warn, for the current test figures against the baseline's."""
    checks: list[Check] = []
    now = tracked_figures(current)
    if baseline is not None:
        before = tracked_figures(baseline)
        for name, (key, new, support) in now.items():
            if key not in config.max_drop or name not in before:
                continue
            old, old_support = before[name][1], before[name][2]
            if key in GROUPS and min(support, old_support) < config.min_support:
                continue
            tolerance = float(config.max_drop[key])
            if old - new > tolerance + 1e-9:
                checks.append(Check(name, old, new, tolerance, "drop", "fail"))
        tolerance = config.max_relative_drop.get(THROUGHPUT)
        old_speed, new_speed = baseline.get(THROUGHPUT), current.get(THROUGHPUT)
        if tolerance is not None and old_speed and new_speed is not None and (old_speed - new_speed) / old_speed > float(tolerance) + 1e-9:
            checks.append(Check("throughput (chars/s)", old_speed, new_speed, float(tolerance), "relative drop", "fail"))
    for key, target in config.targets.items():
        name = HEADLINE[key][0]
        if name not in now:
            continue
        value = now[name][1]
        if value < float(target) - 1e-9:
            checks.append(Check(name, None, value, float(target), "target", config.on_miss))
    return checks


def same_annotator(history: Sequence[dict[str, Any]], annotator: str) -> list[dict[str, Any]]:
    return [entry for entry in history if entry.get("annotator") == annotator]


def choose_baseline(history: Sequence[dict[str, Any]], annotator: str, rule: str) -> dict[str, Any] | None:
    entries = same_annotator(history, annotator)
    if rule == "last_passed":
        entries = [e for e in entries if e.get("gate", {}).get("status") in PASSING]
    return entries[-1] if entries else None


def pulled_examples(splits: dict[str, list[Example]]) -> list[Example]:
    """Examples merged from doccano (origin `doccano:<project>/<annotator>`, written by
    `annotate pull`) outside the test split; a pulled test example counts only there."""
    test_ids = {ex.id for ex in splits.get("test", [])}
    return [
        ex
        for split in ("train", "dev")
        for ex in splits.get(split, [])
        if str(ex.meta.get("origin", "")).startswith("doccano:") and ex.id not in test_ids
    ]


def _entry_ref(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"run": entry.get("run"), "timestamp": entry["timestamp"], "model_hash": entry.get("model", {}).get("hash")}


def build_entry(
    *,
    run: int,
    annotator: str,
    timestamp: datetime,
    test: dict[str, Any],
    test_examples: Sequence[Example],
    pulled: dict[str, Any] | None,
    pulled_set: Sequence[Example],
    model_dir: Path | None,
    git: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "version": ENTRY_VERSION,
        "run": run,
        "timestamp": timestamp.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "annotator": annotator,
        "model": {
            "dir": _display(model_dir) if model_dir else None,
            "hash": model_hash(model_dir) if model_dir else None,
        },
        "data": {
            "hash": examples_hash([*test_examples, *pulled_set]),
            "test_hash": examples_hash(test_examples),
            "test_examples": len(test_examples),
            "test_chars": sum(len(ex.text) for ex in test_examples),
            "pulled_examples": len(pulled_set),
            "pulled_hash": examples_hash(pulled_set) if pulled_set else None,
        },
        "git": git,
        "chars_per_second": test.get(THROUGHPUT),
        "test": test,
        "pulled": pulled,
        "gate": {},
    }


def _display(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


@dataclass
class ReevalResult:
    entry: dict[str, Any]
    history: list[dict[str, Any]]
    baseline: dict[str, Any] | None
    previous: dict[str, Any] | None
    checks: list[Check]
    report_path: Path
    report_copy: Path | None = None

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.severity == "fail"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.severity == "warn"]

    @property
    def passed(self) -> bool:
        return self.entry["gate"]["status"] in PASSING


def run_reeval(
    annotator: Annotator,
    *,
    history_path: Path = HISTORY_PATH,
    report_path: Path = REPORT_PATH,
    config: ReevalConfig | None = None,
    model_dir: Path | None = None,
    splits: dict[str, list[Example]] | None = None,
    accept: bool = False,
    now: datetime | None = None,
    repo: Path | None = ROOT,
    log: Callable[[str], None] = lambda message: None,
) -> ReevalResult:
    """Evaluate, append to the history, gate, write the report (see the module doc).

    Everything is injectable for tests: the annotator, the paths, the config, the corpus
    (`splits`, default annotations/), the clock and the repository for the git commit."""
    from .report import keep_copy, write_report

    config = config or ReevalConfig.from_disk()
    history = read_history(history_path)  # a malformed history stops the run before the work
    splits = splits if splits is not None else read_splits()
    gold = splits["test"]
    if not gold:
        raise ValueError("the test split is empty: nothing to evaluate")
    model_dir = model_dir if model_dir is not None else getattr(annotator, "model_dir", None)
    log(f"evaluating {annotator.name} on {len(gold)} test examples")
    annotator.annotate(gold[0].text)  # warm-up, so the throughput is not the first call's
    test, predicted = evaluate_system(annotator, gold)
    pulled_set = pulled_examples(splits)
    pulled = None
    if pulled_set:
        log(f"evaluating on {len(pulled_set)} examples pulled from doccano")
        pulled = evaluate_system(annotator, pulled_set)[0]
    entry = build_entry(
        run=max((int(e.get("run") or 0) for e in history), default=0) + 1,
        annotator=annotator.name,
        timestamp=now or datetime.now(UTC),
        test=test,
        test_examples=gold,
        pulled=pulled,
        pulled_set=pulled_set,
        model_dir=model_dir,
        git=git_commit(repo) if repo else None,
    )
    baseline = choose_baseline(history, annotator.name, config.baseline)
    same = same_annotator(history, annotator.name)
    previous = same[-1] if same else None
    checks = compare(test, baseline["test"] if baseline else None, config)
    failures = [c for c in checks if c.severity == "fail"]
    notes = []
    if baseline is not None and baseline.get("data", {}).get("test_hash") not in (None, entry["data"]["test_hash"]):
        notes.append("the test split changed since the baseline: the comparison is not like for like")
    status = "first" if baseline is None and not failures else ("failed" if failures else "passed")
    if failures and accept:
        status = "accepted"
    entry["gate"] = {
        "status": status,
        "baseline": _entry_ref(baseline),
        "rule": config.baseline,
        "failures": [c.to_json() for c in failures],
        "warnings": [c.to_json() for c in checks if c.severity == "warn"],
        "notes": notes,
    }
    history = append_entry(history_path, entry, history)
    write_report(report_path, history, entry, gold, predicted, config)
    copy = keep_copy(report_path, entry, config.report_setting("keep_copies", 0))
    return ReevalResult(entry, history, baseline, previous, checks, Path(report_path), copy)


def summary_rows(result: ReevalResult) -> list[tuple[str, str, str, str, str, str]]:
    """(figure, baseline, previous, now, change since baseline, gate) for the headline
    figures, the throughput and every tracked per-label, per-type and per-field F1."""
    now = tracked_figures(result.entry["test"])
    base = tracked_figures(result.baseline["test"]) if result.baseline else {}
    prev = tracked_figures(result.previous["test"]) if result.previous else {}
    verdict = {c.figure: c.severity for c in result.checks}

    def cell(table: dict[str, tuple[str, float, int]], name: str) -> str:
        return f"{table[name][1]:.3f}" if name in table else "-"

    rows = []
    for name, (_, value, support) in now.items():
        change = f"{value - base[name][1]:+.3f}" if name in base else "-"
        rows.append((f"{name} ({support})", cell(base, name), cell(prev, name), f"{value:.3f}", change, verdict.get(name, "ok")))
    speeds = [e.get(THROUGHPUT) if e else None for e in (result.baseline, result.previous, result.entry)]
    text = [f"{s:,.0f}" if s else "-" for s in speeds]
    change = f"{(speeds[2] - speeds[0]) / speeds[0]:+.0%}" if speeds[0] and speeds[2] is not None else "-"
    rows.append(("throughput (chars/s)", text[0], text[1], text[2], change, verdict.get("throughput (chars/s)", "ok")))
    return rows
