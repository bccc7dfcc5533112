"""`make reeval`: history entries, the regression gate, the HTML report, atomic writes.

Everything runs on the weak pre-annotator or on fakes derived from gold (no model is
loaded); history, report and config live in tmp_path."""
from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.annotations.corpus import Entity, Example, Relation, read_splits
from pipeline.evaluation.evaluate import evaluate_system
from pipeline.evaluation.history import HistoryError, append_entry, read_history
from pipeline.evaluation.reeval import CONFIG_PATH, ConfigError, ReevalConfig, compare, pulled_examples, run_reeval
from pipeline.evaluation.report import entity_errors
from pipeline.extract import WeakAnnotator
from pipeline.records.build import RelationRef, SpanRef

IMAGE = "data:image/png;base64,"


@pytest.fixture(scope="module")
def splits() -> dict[str, list[Example]]:
    return read_splits()


@pytest.fixture(scope="module")
def weak() -> WeakAnnotator:
    return WeakAnnotator()


def steady_config(tmp_path: Path) -> Path:
    """configs/reeval.cfg without the throughput check: a test machine's speed is noise."""
    text = CONFIG_PATH.read_text(encoding="utf-8")
    assert "chars_per_second = 0.30" in text
    path = tmp_path / "reeval.cfg"
    path.write_text(text.replace("chars_per_second = 0.30", ""), encoding="utf-8")
    return path


class HalfDroppingAnnotator:
    """The weak annotator with every second entity (and its relations) dropped: a
    deliberately degraded 'model' under the same name, so it is compared with it."""

    name = WeakAnnotator.name

    def __init__(self) -> None:
        self.inner = WeakAnnotator()

    def annotate(self, text: str) -> tuple[list[SpanRef], list[RelationRef]]:
        entities, relations = self.inner.annotate(text)
        kept = {old: new for new, old in enumerate(i for i in range(len(entities)) if i % 2 == 0)}
        return (
            [e for i, e in enumerate(entities) if i in kept],
            [RelationRef(kept[r.head], kept[r.tail], r.type) for r in relations if r.head in kept and r.tail in kept],
        )


class GoldAnnotator:
    """Predicts exactly the gold annotations of the examples it was given (by text)."""

    name = "gold-copy"

    def __init__(self, examples: list[Example]) -> None:
        self.by_text = {ex.text: ex for ex in examples}

    def annotate(self, text: str) -> tuple[list[SpanRef], list[RelationRef]]:
        ex = self.by_text.get(text)
        if ex is None:
            return [], []
        order = sorted(ex.entities, key=lambda e: (e.start, e.end))
        index = {e.id: i for i, e in enumerate(order)}
        spans = [SpanRef(e.start, e.end, e.label, text[e.start : e.end]) for e in order]
        return spans, [RelationRef(index[r.head], index[r.tail], r.type) for r in ex.relations]


def plot_rows(report: str) -> dict[str, int]:
    """Rows of each plot's data table (one per run plotted)."""
    out = {}
    for slug, body in re.findall(r'<table class="plotdata" data-plot="([a-z]+)">.*?<tbody>(.*?)</tbody>', report, re.S):
        out[slug] = body.count("<tr>")
    return out


def test_two_runs_add_two_entries_and_the_report_plots_both(tmp_path, splits, weak) -> None:
    history, report = tmp_path / "models" / "eval-history.jsonl", tmp_path / "reports" / "reeval.html"
    config = ReevalConfig.from_disk(steady_config(tmp_path))
    first = run_reeval(weak, history_path=history, report_path=report, config=config, splits=splits)
    assert first.entry["gate"]["status"] == "first" and first.passed
    after_one = report.read_text(encoding="utf-8")
    assert set(plot_rows(after_one).values()) == {1}
    second = run_reeval(weak, history_path=history, report_path=report, config=config, splits=splits)
    assert second.entry["gate"]["status"] == "passed" and second.failures == []
    assert second.entry["gate"]["baseline"]["run"] == 1

    lines = history.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    entries = [json.loads(line) for line in lines]
    assert [e["run"] for e in entries] == [1, 2]
    for entry in entries:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["timestamp"])
        assert entry["annotator"] == "weak-preannotator" and entry["model"]["hash"] is None
        assert entry["data"]["test_examples"] == len(splits["test"]) and len(entry["data"]["hash"]) == 64
        assert set(entry["test"]["entities"]) == {"ORG", "PROJECT", "MONEY", "DATE", "INDUSTRY", "DISTRICT", "STATUS"}
        assert {"p", "r", "f1"} <= set(entry["test"]["relations"]["STATUS"])
        assert "fields_micro" in entry["test"]["records"] and entry["chars_per_second"] > 0
    assert entries[0]["test"]["entities"] == entries[1]["test"]["entities"]  # the weak annotator is deterministic
    assert entries[0]["data"]["hash"] == entries[1]["data"]["hash"]

    html = report.read_text(encoding="utf-8")
    images = re.findall(re.escape(IMAGE) + r'([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 5  # headline, entities, relations, records, throughput
    assert all(base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n" for image in images)
    assert plot_rows(html) == {"headline": 2, "entities": 2, "relations": 2, "records": 2, "throughput": 2}
    assert images != re.findall(re.escape(IMAGE) + r'([A-Za-z0-9+/=]+)"', after_one)  # the plots were redrawn with both
    entity_table = re.search(r'<table class="prf" data-kind="entities">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert entity_table.count("<tr>") == 8 and "ORG" in entity_table and 'class="delta same">+0.000' in entity_table
    assert "Worst errors on the test split" in html and '<table class="errors" data-label="ORG">' in html
    assert '<mark class="gold">' in html and '<mark class="pred">' in html
    assert 'id="pulled"' not in html  # no example in the corpus came from doccano yet
    assert html.count('<table class="history">') == 1 and "Gate PASSED" in html
    copies = sorted(p.name for p in (report.parent / "reeval-archive").iterdir())
    assert [name[:16] for name in copies] == ["reeval-run0001-2", "reeval-run0002-2"] and second.report_copy.read_text(encoding="utf-8") == html


def test_only_the_newest_dated_copies_are_kept(tmp_path, splits) -> None:
    gold = splits["test"][:2]
    config = ReevalConfig.from_disk(steady_config(tmp_path))
    config.report["keep_copies"] = 2
    for _ in range(3):
        result = run_reeval(GoldAnnotator(gold), history_path=tmp_path / "h.jsonl", report_path=tmp_path / "r.html", config=config, splits={"test": gold})
    assert sorted(p.name[:9] for p in (tmp_path / "r-archive").iterdir()) == ["r-run0002", "r-run0003"]
    assert result.report_copy.name.startswith("r-run0003-")
    config.report["keep_copies"] = 0
    assert run_reeval(GoldAnnotator(gold), history_path=tmp_path / "h.jsonl", report_path=tmp_path / "r.html", config=config, splits={"test": gold}).report_copy is None


def test_gate_fails_for_a_degraded_annotator_naming_the_figure_and_passes_for_the_original(tmp_path, splits, weak) -> None:
    history, report = tmp_path / "eval-history.jsonl", tmp_path / "reeval.html"
    config = ReevalConfig.from_disk(steady_config(tmp_path))
    good = run_reeval(weak, history_path=history, report_path=report, config=config, splits=splits)
    old = good.entry["test"]["entities_micro"]["f1"]

    bad = run_reeval(HalfDroppingAnnotator(), history_path=history, report_path=report, config=config, splits=splits)
    assert not bad.passed and bad.entry["gate"]["status"] == "failed"
    new = bad.entry["test"]["entities_micro"]["f1"]
    assert new < old - 0.02
    by_figure = {check.figure: check for check in bad.failures}
    assert by_figure["entities micro F1"].old == old and by_figure["entities micro F1"].new == new
    message = by_figure["entities micro F1"].message
    assert message == f"entities micro F1 fell from {old:.4f} to {new:.4f} ({new - old:+.4f}; tolerance 0.0200)"
    assert "relations micro F1" in by_figure
    # the failed run is still recorded, marked failed, and reported
    stored = read_history(history)
    assert len(stored) == 2 and stored[1]["gate"]["status"] == "failed"
    assert message in [f["message"] for f in stored[1]["gate"]["failures"]]
    html = report.read_text(encoding="utf-8")
    assert "Gate FAILED" in html and message in html and '<tr class="fail"><td>entities micro F1</td>' in html

    # the original again: compared with the last passed run (run 1), it passes
    again = run_reeval(weak, history_path=history, report_path=report, config=config, splits=splits)
    assert again.passed and again.entry["gate"]["status"] == "passed"
    assert again.entry["gate"]["baseline"]["run"] == 1 and again.failures == []
    assert [e["gate"]["status"] for e in read_history(history)] == ["first", "failed", "passed"]


def test_a_failing_run_keeps_failing_until_accepted(tmp_path, splits) -> None:
    gold = splits["test"][:12]
    small = {"train": [], "dev": [], "test": gold}
    history, report = tmp_path / "h.jsonl", tmp_path / "r.html"
    config = ReevalConfig.from_disk(steady_config(tmp_path))
    perfect = GoldAnnotator(gold)
    worse = GoldAnnotator([Example(ex.id, ex.text, ex.entities[: len(ex.entities) // 2]) for ex in gold])
    worse.name = perfect.name
    assert run_reeval(perfect, history_path=history, report_path=report, config=config, splits=small).passed
    assert not run_reeval(worse, history_path=history, report_path=report, config=config, splits=small).passed
    assert not run_reeval(worse, history_path=history, report_path=report, config=config, splits=small).passed  # still vs run 1
    accepted = run_reeval(worse, history_path=history, report_path=report, config=config, splits=small, accept=True)
    assert accepted.entry["gate"]["status"] == "accepted" and accepted.passed and accepted.failures
    assert run_reeval(worse, history_path=history, report_path=report, config=config, splits=small).entry["gate"]["baseline"]["run"] == 4


def test_cli_exits_3_naming_the_figure_and_prints_the_report_path_last(tmp_path, monkeypatch) -> None:
    from pipeline.cli import app

    history, report, cfg = tmp_path / "h.jsonl", tmp_path / "out" / "r.html", steady_config(tmp_path)
    args = ["reeval", "--annotator", "weak", "--history", str(history), "--report", str(report), "--config", str(cfg)]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().splitlines()[-1] == str(report) and report.exists()
    assert "entities micro F1" in first.stdout and "below its target 0.85" in first.output  # a warning, not a failure

    # pretend the previous run was better: the same figures now fall beyond tolerance
    entry = read_history(history)[0]
    entry["test"]["entities_micro"]["f1"] = round(entry["test"]["entities_micro"]["f1"] + 0.1, 4)
    history.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    second = runner.invoke(app, args)
    assert second.exit_code == 3, second.output
    assert second.stdout.strip().splitlines()[-1] == str(report)
    assert re.search(r"regression: entities micro F1 fell from 0\.\d{4} to 0\.\d{4} \(-0\.1000; tolerance 0\.0200\)", second.output)
    assert [e["gate"]["status"] for e in read_history(history)] == ["first", "failed"]


def test_history_is_rewritten_atomically(tmp_path, monkeypatch) -> None:
    import pipeline.fileio as fileio

    path = tmp_path / "h.jsonl"
    entry = {"timestamp": "2026-01-01T00:00:00Z", "annotator": "x", "test": {"entities_micro": {"f1": 0.5}}, "gate": {"status": "first"}}
    append_entry(path, entry)
    before = path.read_bytes()
    second = dict(entry, timestamp="2026-01-02T00:00:00Z")
    append_entry(path, second)
    assert path.read_bytes().startswith(before) and len(read_history(path)) == 2
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(OSError):
        append_entry(path, dict(entry, timestamp="2026-01-03T00:00:00Z"))
    assert path.read_bytes() == before  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.jsonl"]  # no temporary file left behind


def test_report_is_written_atomically(tmp_path, splits, monkeypatch) -> None:
    import pipeline.fileio as fileio

    gold = splits["test"][:3]
    small = {"train": [], "dev": [], "test": gold}
    history, report = tmp_path / "h.jsonl", tmp_path / "r.html"
    config = ReevalConfig.from_disk(steady_config(tmp_path))
    run_reeval(GoldAnnotator(gold), history_path=history, report_path=report, config=config, splits=small)
    old_report, old_history = report.read_bytes(), history.read_bytes()
    real_replace = fileio.os.replace

    def crash_on_report(src, dst):
        if str(dst).endswith(".html"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", crash_on_report)
    with pytest.raises(OSError):
        run_reeval(GoldAnnotator(gold), history_path=history, report_path=report, config=config, splits=small)
    assert report.read_bytes() == old_report
    assert len(read_history(history)) == 2 and history.read_bytes().startswith(old_history)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.jsonl", "r-archive", "r.html", "reeval.cfg"]
    assert len(list((tmp_path / "r-archive").iterdir())) == 1  # the failed run's copy was never made


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json\n", "not JSON"),
        ("[1, 2]\n", "must be a JSON object"),
        ('{"timestamp": "2026-01-01T00:00:00Z"}\n', "missing annotator, test, gate"),
        ('{"timestamp": "t", "annotator": "a", "test": {}, "gate": {}}\n', "without test figures"),
    ],
)
def test_a_malformed_history_line_is_a_clear_error_and_nothing_is_written(tmp_path, splits, line, reason) -> None:
    history, report = tmp_path / "h.jsonl", tmp_path / "r.html"
    good = {"timestamp": "2026-01-01T00:00:00Z", "annotator": "x", "test": {"entities_micro": {"f1": 0.5}}, "gate": {"status": "first"}}
    history.write_text(json.dumps(good) + "\n" + line, encoding="utf-8")
    before = history.read_bytes()
    with pytest.raises(HistoryError) as caught:
        run_reeval(GoldAnnotator([]), history_path=history, report_path=report, splits={"test": splits["test"][:2]})
    assert f"{history}:2:" in str(caught.value) and reason in str(caught.value) and "fix or remove that line" in str(caught.value)
    assert history.read_bytes() == before and not report.exists()


def test_an_entry_with_fewer_figures_still_serves_as_baseline(tmp_path, splits) -> None:
    gold = splits["test"][:3]
    history, report = tmp_path / "h.jsonl", tmp_path / "r.html"
    old = {"run": 1, "timestamp": "2026-01-01T00:00:00Z", "annotator": "gold-copy", "test": {"entities_micro": {"f1": 1.0, "support": 9}}, "gate": {"status": "first"}}
    history.write_text(json.dumps(old) + "\n", encoding="utf-8")
    result = run_reeval(GoldAnnotator(gold), history_path=history, report_path=report, config=ReevalConfig.from_disk(steady_config(tmp_path)), splits={"test": gold})
    assert result.passed and result.entry["gate"]["baseline"]["run"] == 1 and result.entry["run"] == 2
    assert plot_rows(report.read_text(encoding="utf-8"))["entities"] == 2


def test_cli_reports_a_malformed_history_before_loading_anything(tmp_path) -> None:
    from pipeline.cli import app

    history = tmp_path / "h.jsonl"
    history.write_text("garbage\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["reeval", "--annotator", "weak", "--history", str(history), "--report", str(tmp_path / "r.html")])
    output = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 1 and "h.jsonl:1: not JSON" in output and not (tmp_path / "r.html").exists()


def test_pulled_examples_are_reported_separately(tmp_path, splits) -> None:
    test = splits["test"][:4]
    pulled = Example("pulled-1", splits["train"][0].text, splits["train"][0].entities, splits["train"][0].relations, {"origin": "doccano:zhaoshang-projects/alice"})
    authored = Example("authored-1", splits["train"][1].text, meta={"origin": "authored:x.jsonl"})
    pulled_test = Example(test[0].id, test[0].text, test[0].entities, test[0].relations, {"origin": "doccano:zhaoshang-projects/bob"})
    corpus = {"train": [pulled, authored], "dev": [], "test": [pulled_test, *test[1:]]}
    assert [ex.id for ex in pulled_examples(corpus)] == ["pulled-1"]  # a pulled test example counts only in test
    history, report = tmp_path / "h.jsonl", tmp_path / "r.html"
    result = run_reeval(
        GoldAnnotator([*test, pulled]), history_path=history, report_path=report, config=ReevalConfig.from_disk(steady_config(tmp_path)), splits=corpus
    )
    entry = result.entry
    assert entry["data"]["pulled_examples"] == 1 and entry["pulled"]["entities_micro"]["f1"] == 1.0
    assert entry["data"]["hash"] != entry["data"]["test_hash"]
    html = report.read_text(encoding="utf-8")
    assert 'id="pulled"' in html and "1 example(s) merged by <code>annotate pull</code>" in html


def test_compare_throughput_min_support_and_targets(splits) -> None:
    gold = splits["test"][:10]
    figures, _ = evaluate_system(GoldAnnotator(gold), gold)
    config = ReevalConfig.from_disk(CONFIG_PATH)
    assert compare(figures, copy.deepcopy(figures), config) == []

    slower = copy.deepcopy(figures)
    slower["chars_per_second"] = figures["chars_per_second"] * 0.6
    (check,) = compare(slower, figures, config)
    assert check.figure == "throughput (chars/s)" and check.severity == "fail" and "-40%" in check.message

    rare = next(label for label, prf in figures["entities"].items() if 0 < prf["support"] < config.min_support)
    common = next(label for label, prf in figures["entities"].items() if prf["support"] >= config.min_support)
    worse = copy.deepcopy(figures)
    worse["entities"][rare]["f1"] = 0.5
    worse["entities"][common]["f1"] = 0.94
    assert [c.figure for c in compare(worse, figures, config)] == [f"entity {common} F1"]  # the rare label is not gated

    low = copy.deepcopy(figures)
    low["entities_micro"]["f1"] = 0.80
    checks = compare(low, None, config)  # no baseline: only the targets
    assert [(c.figure, c.kind, c.severity) for c in checks] == [("entities micro F1", "target", "warn")]
    config.on_miss = "fail"
    assert compare(low, None, config)[0].severity == "fail"


def test_model_hash_covers_every_file_path_and_byte(tmp_path, splits) -> None:
    from pipeline.evaluation.history import model_hash

    model = tmp_path / "finetuned"
    (model / "ner").mkdir(parents=True)
    (model / "config.cfg").write_text("[nlp]\n", encoding="utf-8")
    (model / "ner" / "model").write_bytes(b"\x00\x01")
    first = model_hash(model)
    assert first == model_hash(model) and len(first) == 64
    (model / "ner" / "model").write_bytes(b"\x00\x02")
    changed = model_hash(model)
    (model / "ner" / "model").rename(model / "ner" / "moved")
    assert len({first, changed, model_hash(model)}) == 3
    assert model_hash(tmp_path / "absent") is None

    gold = splits["test"][:2]
    annotator = GoldAnnotator(gold)
    annotator.model_dir = model  # as ModelAnnotator has
    result = run_reeval(annotator, history_path=tmp_path / "h.jsonl", report_path=tmp_path / "r.html", config=ReevalConfig.from_disk(steady_config(tmp_path)), splits={"test": gold})
    assert result.entry["model"] == {"dir": str(model), "hash": model_hash(model)}


def test_config_errors_name_the_key(tmp_path) -> None:
    path = tmp_path / "bad.cfg"
    path.write_text("[gate]\nbaseline = \"latest\"\n\n[gate.max_drop]\nentity_micro_f1 = 0.02\n\n[targets]\nentities_micro_f1 = \"high\"\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        ReevalConfig.from_disk(path)
    message = str(caught.value)
    assert "unknown figure 'entity_micro_f1'" in message and "baseline must be" in message and "entities_micro_f1 must be a number" in message
    with pytest.raises(ConfigError, match="does not exist"):
        ReevalConfig.from_disk(tmp_path / "missing.cfg")


def test_entity_errors_pair_gold_and_predicted_spans() -> None:
    text = "青岛市引进华为集团投资10亿元建设数据中心项目"
    gold = Example("e1", text, [Entity(1, "DISTRICT", 0, 3), Entity(2, "ORG", 5, 9), Entity(3, "MONEY", 11, 15), Entity(4, "PROJECT", 17, 23)])
    predicted = Example(
        "e1",
        text,
        [Entity(1, "DISTRICT", 0, 2), Entity(2, "PROJECT", 5, 9), Entity(3, "MONEY", 11, 15), Entity(5, "INDUSTRY", 17, 19)],
        [Relation(1, 5, 3, "AMOUNT")],
    )
    errors = entity_errors([gold], [predicted])
    kinds = {label: [(e.kind, e.gold, e.predicted) for e in found] for label, found in errors.items()}
    assert kinds["DISTRICT"] == [("boundary", (0, 3, "DISTRICT"), (0, 2, "DISTRICT"))]
    assert kinds["ORG"] == [("wrong label", (5, 9, "ORG"), (5, 9, "PROJECT"))]
    assert kinds["PROJECT"] == [("wrong label", (17, 23, "PROJECT"), (17, 19, "INDUSTRY"))]
    assert "MONEY" not in kinds and "INDUSTRY" not in kinds
