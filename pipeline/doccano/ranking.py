"""`annotate push --select N`: which unlabelled paragraphs annotators should see first.

Each candidate gets an uncertainty score, higher meaning less sure, and the N highest go
first. The score comes from the annotator itself when it has one: the trained model's
`uncertainty(text)`, from its entity and relation margins. The weak pre-annotator has no
margins, so for it (and any annotator without `uncertainty`) the score is how much of its
own output it could not resolve:

    unresolved / (signals + 1)

where signals are its PROJECT, STATUS and MONEY spans (the mentions a project record is
built from; MONEY only in a paragraph that also has a PROJECT or STATUS span, since
amounts alone are mostly budgets and GDP) and unresolved counts the PROJECT spans with no
relation at all plus the STATUS and MONEY spans no relation attaches to a project. A
paragraph full of stage words and amounts the linker could not place ranks high; one with
nothing project-like scores 0; the +1 lets several unresolved mentions outrank a single
one. Ties go to the paragraph with more signals, then to the smaller id, so the order is
deterministic.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..records.build import RelationRef, SpanRef
from .documents import Candidate


def _signals(entities: Sequence[SpanRef]) -> list[int]:
    """Indices of the signal spans."""
    project_like = any(e.label in ("PROJECT", "STATUS") for e in entities)
    return [
        i for i, e in enumerate(entities) if e.label in ("PROJECT", "STATUS") or (e.label == "MONEY" and project_like)
    ]


def weak_uncertainty(entities: Sequence[SpanRef], relations: Sequence[RelationRef]) -> float:
    linked_heads = {r.head for r in relations}
    linked_tails = {r.tail for r in relations}
    signals = _signals(entities)
    unresolved = sum(
        (i not in linked_heads) if entities[i].label == "PROJECT" else (i not in linked_tails) for i in signals
    )
    return unresolved / (len(signals) + 1)


def uncertainty(annotator: Any, text: str) -> tuple[float, int]:
    """(score, signals) for one text: the annotator's own score when it has one."""
    own = getattr(annotator, "uncertainty", None)
    if callable(own):
        return float(own(text)), 0
    entities, relations = annotator.annotate(text)
    return weak_uncertainty(entities, relations), len(_signals(entities))


def rank(
    candidates: Sequence[Candidate], annotator: Any, on_progress: Callable[[Candidate], None] | None = None
) -> list[tuple[float, Candidate]]:
    """Candidates with their scores, the least certain first."""
    scored = []
    for cand in candidates:
        score, signals = uncertainty(annotator, cand.text)
        scored.append((score, signals, cand))
        if on_progress:
            on_progress(cand)
    scored.sort(key=lambda item: (-item[0], -item[1], item[2].id))
    return [(score, cand) for score, _, cand in scored]
