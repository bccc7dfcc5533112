"""The re-evaluation report: one self-contained HTML file (reports/reeval.html).

Sections: the gate's verdict; a summary of the headline figures against the baseline
and the previous run; figures over time (plots made with matplotlib's Agg renderer,
embedded as base64 PNG, each with its data as a table); per-label, per-relation-type
and per-record-field P/R/F1 with the change since the previous run; figures on the
examples pulled from doccano (when there are any); the worst errors on the test split,
the gold span beside the predicted one in their context, grouped per label, worst label
first; and the history itself.
"""
from __future__ import annotations

import base64
import html
import io
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..annotations.corpus import Example
from ..fileio import atomic_write_text
from ..schema import ENTITY_LABELS, LABEL_COLOURS, RELATION_COLOURS, RELATION_TYPES
from .records import FIELDS

if TYPE_CHECKING:
    from .reeval import ReevalConfig

Span = tuple[int, int, str]

KIND_ORDER = ("wrong label", "boundary", "missed", "spurious")


# --------------------------------------------------------------------------- figures over time


@dataclass
class Plot:
    slug: str
    title: str
    ylabel: str
    series: dict[str, list[float | None]]
    colours: dict[str, str]
    targets: dict[str, float]
    unit_interval: bool = True


def _get(entry: dict[str, Any], *path: str) -> float | None:
    node: Any = entry
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) else None


def plots_for(entries: Sequence[dict[str, Any]], config: ReevalConfig) -> list[Plot]:
    from .reeval import HEADLINE

    headline = {name: [_get(e, "test", *path.split("."), "f1") for e in entries] for name, path in HEADLINE.values()}
    targets = {HEADLINE[key][0]: float(value) for key, value in config.targets.items()}
    fields = {name: [_get(e, "test", "records", "fields", name, "f1") for e in entries] for name in FIELDS}
    return [
        Plot("headline", "Headline F1 on the test split", "F1", headline, {}, targets),
        Plot("entities", "Entity F1 per label", "F1", {label: [_get(e, "test", "entities", label, "f1") for e in entries] for label in ENTITY_LABELS}, dict(LABEL_COLOURS), {}),
        Plot("relations", "Relation F1 per type", "F1", {rel: [_get(e, "test", "relations", rel, "f1") for e in entries] for rel in RELATION_TYPES}, dict(RELATION_COLOURS), {}),
        Plot("records", "Record field F1", "F1", fields, {}, {}),
        Plot("throughput", "Throughput of the evaluation", "characters per second", {"chars/s": [_get(e, "chars_per_second") for e in entries]}, {}, {}, unit_interval=False),
    ]


def _tick(entry: dict[str, Any]) -> str:
    stamp = str(entry.get("timestamp", ""))
    when = f"{stamp[5:10]}\n{stamp[11:16]}" if len(stamp) >= 16 else stamp
    return f"#{entry['run']}\n{when}" if entry.get("run") else when


def render_png(plot: Plot, entries: Sequence[dict[str, Any]]) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig = Figure(figsize=(8.0, 3.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(1, len(entries) + 1))
    for x, entry in zip(xs, entries):
        if entry.get("gate", {}).get("status") == "failed":
            ax.axvspan(x - 0.4, x + 0.4, color="#d62728", alpha=0.12, linewidth=0)
    for name, values in plot.series.items():
        ys = [math.nan if v is None else v for v in values]
        ax.plot(xs, ys, marker="o", markersize=4, linewidth=1.5, label=name, color=plot.colours.get(name))
    by_value: dict[float, list[str]] = defaultdict(list)
    for name, target in plot.targets.items():
        by_value[target].append(name)
    for target, names in by_value.items():
        ax.axhline(target, linestyle="--", linewidth=0.8, color="#555555")
        ax.annotate(f"target: {', '.join(names)}", (0.5, target), fontsize=7, color="#555555", xytext=(3, 2), textcoords="offset points")
    if plot.unit_interval:
        ax.set_ylim(-0.02, 1.02)
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlim(0.5, len(xs) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _tick(entries[int(x) - 1]) if 1 <= int(x) <= len(entries) and x == int(x) else ""))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(plot.title, fontsize=10)
    ax.set_ylabel(plot.ylabel, fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _plot_section(plot: Plot, entries: Sequence[dict[str, Any]]) -> str:
    image = base64.b64encode(render_png(plot, entries)).decode("ascii")
    names = list(plot.series)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for i, entry in enumerate(entries):
        cells = "".join(f"<td>{_num(plot.series[n][i], plot.unit_interval)}</td>" for n in names)
        rows.append(f"<tr><td>{entry.get('run', i + 1)}</td><td>{html.escape(str(entry.get('timestamp')))}</td><td>{html.escape(_status(entry))}</td>{cells}</tr>")
    return (
        f'<figure id="plot-{plot.slug}"><img alt="{html.escape(plot.title)}" src="data:image/png;base64,{image}">'
        f"<figcaption>{html.escape(plot.title)}; {len(entries)} run(s), failed runs shaded red.</figcaption></figure>\n"
        f'<details><summary>data</summary><table class="plotdata" data-plot="{plot.slug}"><thead><tr><th>run</th><th>time (UTC)</th><th>gate</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )


# --------------------------------------------------------------------------- errors


@dataclass
class SpanError:
    example: Example
    kind: str  # wrong label, boundary, missed, spurious
    gold: Span | None
    predicted: Span | None


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def entity_errors(gold: Sequence[Example], predicted: Sequence[Example]) -> dict[str, list[SpanError]]:
    """Per label: every false negative, paired with the prediction that overlaps it
    (same label: a boundary error; another label: a wrong label), else missed; then every
    remaining false positive (spurious, beside any gold span it overlaps)."""
    by_id = {p.id: p for p in predicted}
    out: dict[str, list[SpanError]] = defaultdict(list)
    for g in gold:
        p = by_id.get(g.id) or Example(g.id, g.text)
        gold_spans = {(e.start, e.end, e.label) for e in g.entities}
        pred_spans = {(e.start, e.end, e.label) for e in p.entities}
        false_pos = sorted(pred_spans - gold_spans)
        used: set[Span] = set()
        for span in sorted(gold_spans - pred_spans):
            overlapping = [q for q in false_pos if q not in used and _overlaps(q, span)]
            same = [q for q in overlapping if q[2] == span[2]]
            match = (same or overlapping or [None])[0]
            if match is not None:
                used.add(match)
            kind = "missed" if match is None else ("boundary" if match[2] == span[2] else "wrong label")
            out[span[2]].append(SpanError(g, kind, span, match))
        for q in false_pos:
            if q not in used:
                beside = next((s for s in sorted(gold_spans) if _overlaps(s, q)), None)
                out[q[2]].append(SpanError(g, "spurious", beside, q))
    return out


def pick_errors(errors: Sequence[SpanError], limit: int) -> list[SpanError]:
    """Up to `limit` errors, taken in turn from each kind so every kind is shown."""
    queues = {kind: [e for e in errors if e.kind == kind] for kind in KIND_ORDER}
    chosen: list[SpanError] = []
    while len(chosen) < limit and any(queues.values()):
        for kind in KIND_ORDER:
            if queues[kind] and len(chosen) < limit:
                chosen.append(queues[kind].pop(0))
    return chosen


def _visible(text: str) -> str:
    return html.escape(text.replace("\r", "").replace("\n", "⏎").replace("\t", " "))


def in_context(text: str, span: Span | None, window: tuple[int, int], css: str) -> str:
    """The window of text with the span marked (and its label), or a dash."""
    if span is None:
        return '<span class="none">—</span>'
    start, end = window
    left = "…" if start > 0 else ""
    right = "…" if end < len(text) else ""
    return (
        f"{left}{_visible(text[start:span[0]])}<mark class=\"{css}\">{_visible(text[span[0]:span[1]])}</mark>"
        f"<sub>{html.escape(span[2])}</sub>{_visible(text[span[1]:end])}{right}"
    )


def _error_row(error: SpanError, context: int) -> str:
    spans = [s for s in (error.gold, error.predicted) if s is not None]
    text = error.example.text
    window = (max(0, min(s[0] for s in spans) - context), min(len(text), max(s[1] for s in spans) + context))
    return (
        f"<tr class=\"{error.kind.replace(' ', '-')}\"><td class=\"id\">{html.escape(error.example.id)}</td><td>{error.kind}</td>"
        f"<td class=\"ctx\">{in_context(text, error.gold, window, 'gold')}</td>"
        f"<td class=\"ctx\">{in_context(text, error.predicted, window, 'pred')}</td></tr>"
    )


def _errors_section(entry: dict[str, Any], gold: Sequence[Example], predicted: Sequence[Example], config: ReevalConfig) -> str:
    context = config.report_setting("context_chars", 30)
    per_label = config.report_setting("errors_per_label", 12)
    errors = entity_errors(gold, predicted)
    labels = sorted((label for label in errors if errors[label]), key=lambda label: (entry["test"]["entities"].get(label, {}).get("f1", 0.0), label))
    parts = [
        "<p>Strict offsets: a span is right only with the same start, end and label. Per label, worst F1 first; "
        "<b>missed</b>: no prediction overlaps the gold span; <b>boundary</b>: an overlapping prediction of the same label; "
        "<b>wrong label</b>: an overlapping prediction of another label; <b>spurious</b>: a prediction no gold span of its label matches "
        f"(the gold column then shows any gold span it overlaps). A wrong-label prediction is listed once, under the gold span's label. {context} characters of context either side; ⏎ is a line break.</p>"
    ]
    for label in labels[: config.report_setting("error_labels", 7)]:
        found = errors[label]
        prf = entry["test"]["entities"].get(label, {})
        counts = ", ".join(f"{sum(1 for e in found if e.kind == k)} {k}" for k in KIND_ORDER if any(e.kind == k for e in found))
        chosen = pick_errors(found, per_label)
        parts.append(
            f'<h3 id="errors-{html.escape(label)}">{html.escape(label)} <small>F1 {prf.get("f1", 0):.3f} · {counts} · {len(chosen)} shown</small></h3>'
            f'<table class="errors" data-label="{html.escape(label)}"><thead><tr><th>example</th><th>error</th><th>gold</th><th>predicted</th></tr></thead>'
            f"<tbody>{''.join(_error_row(e, context) for e in chosen)}</tbody></table>"
        )
    parts.append(_relation_errors_section(entry, gold, predicted, config))
    return "\n".join(parts)


def _relation_tuples(example: Example) -> set[tuple[Span, Span, str]]:
    by_id = example.entity_by_id()
    out = set()
    for r in example.relations:
        if r.head in by_id and r.tail in by_id:
            h, t = by_id[r.head], by_id[r.tail]
            out.add(((h.start, h.end, h.label), (t.start, t.end, t.label), r.type))
    return out


def _relation_cell(example: Example, relation: tuple[Span, Span, str] | None) -> str:
    if relation is None:
        return '<span class="none">—</span>'
    head, tail, _ = relation
    text = example.text
    return f"<mark class=\"head\">{_visible(text[head[0]:head[1]])}</mark> → <mark class=\"tail\">{_visible(text[tail[0]:tail[1]])}</mark><sub>{html.escape(tail[2])}</sub>"


def _relation_errors_section(entry: dict[str, Any], gold: Sequence[Example], predicted: Sequence[Example], config: ReevalConfig) -> str:
    per_type = config.report_setting("relation_errors_per_type", 6)
    by_id = {p.id: p for p in predicted}
    rows: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g in gold:
        p = by_id.get(g.id) or Example(g.id, g.text)
        gold_rels, pred_rels = _relation_tuples(g), _relation_tuples(p)
        false_pos = sorted(pred_rels - gold_rels)
        used: set = set()
        for rel in sorted(gold_rels - pred_rels):
            match = next((q for q in false_pos if q not in used and q[2] == rel[2] and (q[0] == rel[0] or q[1] == rel[1])), None)
            if match is not None:
                used.add(match)
            kind = "missed" if match is None else ("wrong tail" if match[0] == rel[0] else "wrong head")
            counts[rel[2]][kind] += 1
            rows[rel[2]].append(f"<tr><td class=\"id\">{html.escape(g.id)}</td><td>{kind}</td><td>{_relation_cell(g, rel)}</td><td>{_relation_cell(g, match)}</td></tr>")
        for q in false_pos:
            if q not in used:
                counts[q[2]]["spurious"] += 1
                rows[q[2]].append(f"<tr><td class=\"id\">{html.escape(g.id)}</td><td>spurious</td><td>{_relation_cell(g, None)}</td><td>{_relation_cell(g, q)}</td></tr>")
    types = sorted(rows, key=lambda t: (entry["test"]["relations"].get(t, {}).get("f1", 0.0), t))
    parts = ["<h3 id=\"errors-relations\">Relations</h3><p>Head (PROJECT) → tail, per type, worst F1 first; a relation is right only with both spans and the type right.</p>"]
    for rel_type in types:
        f1 = entry["test"]["relations"].get(rel_type, {}).get("f1", 0.0)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts[rel_type].items()))
        shown = rows[rel_type][:per_type]
        parts.append(
            f"<h4>{html.escape(rel_type)} <small>F1 {f1:.3f} · {summary} · {len(shown)} shown</small></h4>"
            f'<table class="errors relation-errors" data-type="{html.escape(rel_type)}"><thead><tr><th>example</th><th>error</th><th>gold</th><th>predicted</th></tr></thead>'
            f"<tbody>{''.join(shown)}</tbody></table>"
        )
    return "\n".join(parts)


# --------------------------------------------------------------------------- tables


def _num(value: float | None, unit_interval: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.3f}" if unit_interval else f"{value:,.0f}"


def _delta(new: float | None, old: float | None, unit_interval: bool = True) -> str:
    if new is None or old is None:
        return '<td class="delta">—</td>'
    change = new - old
    css = "up" if change > 1e-9 else ("down" if change < -1e-9 else "same")
    text = f"{change:+.3f}" if unit_interval else f"{change:+,.0f}"
    return f'<td class="delta {css}">{text}</td>'


def _status(entry: dict[str, Any] | None) -> str:
    return str((entry or {}).get("gate", {}).get("status", "?"))


def _prf_table(title: str, current: dict[str, Any], previous: dict[str, Any] | None, rows: Sequence[tuple[str, str]], kind: str) -> str:
    """rows: (display name, path into the test figures)."""
    from .reeval import lookup

    body = []
    for name, path in rows:
        try:
            now = lookup(current, path)
        except KeyError:
            continue
        try:
            before = lookup(previous, path) if previous else None
        except KeyError:
            before = None
        cells = "".join(f"<td>{now[k]:.3f}</td>{_delta(now[k], before.get(k) if isinstance(before, dict) else None)}" for k in ("p", "r", "f1"))
        body.append(
            f"<tr><td>{html.escape(name)}</td><td>{now['support']}</td>{cells}<td>{now['tp']}</td><td>{now['fp']}</td><td>{now['fn']}</td></tr>"
        )
    return (
        f"<h3>{html.escape(title)}</h3><table class=\"prf\" data-kind=\"{kind}\"><thead><tr><th></th><th>support</th>"
        "<th>P</th><th>ΔP</th><th>R</th><th>ΔR</th><th>F1</th><th>ΔF1</th><th>tp</th><th>fp</th><th>fn</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def per_label_tables(current: dict[str, Any], previous: dict[str, Any] | None) -> str:
    return "\n".join(
        [
            _prf_table("Entities", current, previous, [(label, f"entities.{label}") for label in ENTITY_LABELS] + [("micro", "entities_micro")], "entities"),
            _prf_table("Relations", current, previous, [(rel, f"relations.{rel}") for rel in RELATION_TYPES] + [("micro", "relations_micro")], "relations"),
            _prf_table(
                "Records",
                current,
                previous,
                [("projects", "records.projects")] + [(name, f"records.fields.{name}") for name in FIELDS] + [("all fields", "records.fields_micro")],
                "records",
            ),
        ]
    )


def _summary_table(entry: dict[str, Any], baseline: dict[str, Any] | None, previous: dict[str, Any] | None) -> str:
    from .reeval import HEADLINE, lookup

    failed = {f["figure"] for f in entry["gate"].get("failures", [])}
    warned = {w["figure"] for w in entry["gate"].get("warnings", [])}
    rows = []
    figures = [(name, path + ".f1", True) for name, path in HEADLINE.values()] + [("throughput (chars/s)", "chars_per_second", False)]
    for name, path, unit in figures:
        def value(e: dict[str, Any] | None, path: str = path) -> float | None:
            if e is None:
                return None
            try:
                return float(lookup(e["test"], path))
            except (KeyError, TypeError, ValueError):
                return None

        now, base, prev = value(entry), value(baseline), value(previous)
        state = "fail" if name in failed else ("warn" if name in warned else "ok")
        rows.append(
            f"<tr class=\"{state}\"><td>{html.escape(name)}</td><td>{_num(base, unit)}</td><td>{_num(prev, unit)}</td><td><b>{_num(now, unit)}</b></td>"
            f"{_delta(now, base, unit)}{_delta(now, prev, unit)}<td>{state}</td></tr>"
        )
    return (
        '<table class="summary"><thead><tr><th>figure</th><th>baseline</th><th>previous run</th><th>now</th>'
        f"<th>change since baseline</th><th>change since previous</th><th>gate</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _history_table(entries: Sequence[dict[str, Any]]) -> str:
    rows = []
    for i, e in enumerate(reversed(entries)):
        model = (e.get("model") or {}).get("hash") or "—"
        git = (e.get("git") or {}).get("commit") or "—"
        rows.append(
            f"<tr class=\"{html.escape(_status(e))}\"><td>{e.get('run', len(entries) - i)}</td><td>{html.escape(str(e.get('timestamp')))}</td><td>{html.escape(str(e.get('annotator')))}</td>"
            f"<td><code>{html.escape(model[:12])}</code></td><td><code>{html.escape(git[:10])}</code></td>"
            f"<td>{_num(_get(e, 'test', 'entities_micro', 'f1'))}</td><td>{_num(_get(e, 'test', 'relations_micro', 'f1'))}</td>"
            f"<td>{_num(_get(e, 'test', 'records', 'fields_micro', 'f1'))}</td><td>{_num(_get(e, 'chars_per_second'), False)}</td>"
            f"<td>{html.escape(_status(e))}</td></tr>"
        )
    return (
        '<table class="history"><thead><tr><th>run</th><th>time (UTC)</th><th>annotator</th><th>model</th><th>commit</th><th>entity F1</th>'
        f"<th>relation F1</th><th>fields F1</th><th>chars/s</th><th>gate</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _pulled_section(entry: dict[str, Any]) -> str:
    pulled = entry.get("pulled")
    if not pulled:
        return ""
    count = entry.get("data", {}).get("pulled_examples", 0)
    return (
        '<h2 id="pulled">Examples pulled from doccano</h2>'
        f"<p>{count} example(s) merged by <code>annotate pull</code> (origin <code>doccano:…</code>) outside the test split. "
        "Reported, not gated: the set grows from run to run. Pulled training examples are seen by the next <code>make train</code>.</p>"
        + per_label_tables(pulled, None)
    )


# --------------------------------------------------------------------------- the page

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em} small{color:#666;font-weight:normal}
table{border-collapse:collapse;margin:.5em 0 1em} th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f5f5f5} td:first-child,th:first-child{text-align:left} td.ctx,td.id{text-align:left} table.errors th,table.errors td{text-align:left} td.ctx{font-family:"Noto Sans CJK SC",sans-serif;max-width:480px}
.gate{padding:.8em 1em;border-radius:6px;margin:1em 0} .gate.passed,.gate.first{background:#e8f5e9;border:1px solid #66bb6a}
.gate.failed{background:#ffebee;border:1px solid #e53935} .gate.accepted{background:#fff8e1;border:1px solid #ffb300}
tr.fail td{background:#ffebee} tr.warn td{background:#fff8e1} tr.failed td{color:#b71c1c}
td.delta.up{color:#2e7d32} td.delta.down{color:#c62828} td.delta.same{color:#999}
mark.gold{background:#c8e6c9} mark.pred{background:#ffcdd2} mark.head{background:#fce4ec} mark.tail{background:#e3f2fd}
sub{font-size:70%;color:#555;margin-left:1px} .none{color:#aaa} figure{margin:1em 0} figure img{max-width:100%}
figcaption{color:#666;font-size:90%} nav a{margin-right:1em} code{font-size:90%} dl.meta dt{float:left;clear:left;width:11em;color:#666} dl.meta dd{margin-left:11em}
"""


def _meta(entry: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    model = entry.get("model") or {}
    data = entry.get("data") or {}
    git = entry.get("git") or {}
    rows = [
        ("run (UTC)", entry["timestamp"]),
        ("annotator", entry["annotator"]),
        ("model", f"{model.get('dir') or '—'} · sha256 {model.get('hash') or '—'}"),
        ("data", f"test split: {data.get('test_examples')} examples, {data.get('test_chars', 0):,} characters · sha256 {data.get('hash')}"),
        ("pulled examples", str(data.get("pulled_examples", 0))),
        ("git commit", f"{git.get('commit') or '—'}{' (uncommitted changes)' if git.get('dirty') else ''}"),
        ("baseline", f"run {baseline.get('run')} of {baseline['timestamp']} ({entry['gate'].get('rule')})" if baseline else "none: the first run of this annotator"),
    ]
    return '<dl class="meta">' + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows) + "</dl>"


def _gate_box(entry: dict[str, Any]) -> str:
    gate = entry["gate"]
    status = gate["status"]
    headline = {
        "first": "PASSED: the first run of this annotator; nothing to compare with yet",
        "passed": "PASSED: no tracked figure fell beyond its tolerance",
        "failed": "FAILED: tracked figures fell beyond their tolerance",
        "accepted": "ACCEPTED: figures fell beyond tolerance, accepted as the new baseline (--accept)",
    }[status]
    items = [f"<li class=\"fail\">{html.escape(f['message'])}</li>" for f in gate.get("failures", [])]
    items += [f"<li class=\"warn\">warning: {html.escape(w['message'])}</li>" for w in gate.get("warnings", [])]
    items += [f"<li>note: {html.escape(n)}</li>" for n in gate.get("notes", [])]
    return f'<div class="gate {status}"><b>Gate {headline}</b>' + (f"<ul>{''.join(items)}</ul>" if items else "") + "</div>"


def render_report(
    history: Sequence[dict[str, Any]],
    entry: dict[str, Any],
    gold: Sequence[Example],
    predicted: Sequence[Example],
    config: ReevalConfig,
) -> str:
    from .reeval import choose_baseline, same_annotator

    runs = same_annotator(history, entry["annotator"])
    earlier = runs[:-1] if runs and runs[-1] is entry else runs
    previous = earlier[-1] if earlier else None
    baseline_ref = entry["gate"].get("baseline")
    baseline = next((e for e in reversed(earlier) if baseline_ref and e.get("run") == baseline_ref.get("run")), None)
    if baseline is None and baseline_ref:
        baseline = choose_baseline(earlier, entry["annotator"], entry["gate"].get("rule", "last_passed"))
    plots = "\n".join(_plot_section(plot, runs) for plot in plots_for(runs, config))
    sections = [
        f"<h1>Re-evaluation report <small>{html.escape(entry['timestamp'])}</small></h1>",
        '<nav><a href="#summary">summary</a><a href="#over-time">over time</a><a href="#per-label">per label</a>'
        + ('<a href="#pulled">pulled</a>' if entry.get("pulled") else "")
        + '<a href="#errors">worst errors</a><a href="#history">history</a></nav>',
        _gate_box(entry),
        _meta(entry, baseline),
        '<h2 id="summary">Summary</h2>',
        _summary_table(entry, baseline, previous),
        f'<h2 id="over-time">Figures over time <small>{len(runs)} run(s) of {html.escape(entry["annotator"])}</small></h2>',
        plots,
        f'<h2 id="per-label">Per label <small>changes since the previous run{" (" + html.escape(previous["timestamp"]) + ")" if previous else ": none yet"}</small></h2>',
        per_label_tables(entry["test"], previous["test"] if previous else None),
        _pulled_section(entry),
        '<h2 id="errors">Worst errors on the test split</h2>',
        _errors_section(entry, gold, predicted, config),
        f'<h2 id="history">History <small>{len(history)} entries, newest first</small></h2>',
        _history_table(history),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Re-evaluation {html.escape(entry['timestamp'])}: {html.escape(entry['gate']['status'])}</title>"
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(s for s in sections if s) + "\n</body></html>\n"
    )


def keep_copy(report_path: Path, entry: dict[str, Any], keep: int) -> Path | None:
    """A dated copy of the report in `<stem>-archive/` beside it (`reeval-run0012-
    20260101T023000Z.html`); only the newest `keep` copies stay. None when keep is 0."""
    report_path = Path(report_path)
    if keep <= 0:
        return None
    folder = report_path.parent / f"{report_path.stem}-archive"
    stamp = str(entry["timestamp"]).replace("-", "").replace(":", "")
    copy = folder / f"{report_path.stem}-run{int(entry.get('run') or 0):04d}-{stamp}{report_path.suffix}"
    atomic_write_text(copy, report_path.read_text(encoding="utf-8"))
    pattern = re.compile(re.escape(report_path.stem) + r"-run(\d+)-")

    def run_of(path: Path) -> int:
        match = pattern.match(path.name)
        return int(match.group(1)) if match else -1

    copies = sorted((p for p in folder.iterdir() if run_of(p) >= 0), key=lambda p: (run_of(p), p.name))
    for old in copies[:-keep]:
        old.unlink()
    return copy


def write_report(
    path: Path,
    history: Sequence[dict[str, Any]],
    entry: dict[str, Any],
    gold: Sequence[Example],
    predicted: Sequence[Example],
    config: ReevalConfig,
) -> Path:
    """Render and write the report atomically; returns its path."""
    atomic_write_text(Path(path), render_report(history, entry, gold, predicted, config))
    return Path(path)
