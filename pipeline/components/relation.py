"""The `relation_extractor` pipe: links each PROJECT to its amount, district, stage,
investor, industry and date.

Predictions go to `doc.user_data["relations"]` in the same form the corpus uses for gold
relations (head and tail as character offsets, plus the score), so they are stored
with the Doc (DocBin keeps user_data) and `doc_to_example` turns a predicted Doc back
into a corpus example. Thresholds are per relation type, tuned on dev after training
(`pipeline.model.thresholds`) and saved in the pipe's cfg.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

import numpy as np
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer
from thinc.types import Floats2d

from ..annotations.docbin import RELATIONS_KEY
from ..evaluation.metrics import PRF, Scores
from ..schema import RELATION_TYPES, TAIL_LABEL_TO_RELATION
from .gold import set_gold_entities
from .relation_model import init_relation_model

DEFAULT_MODEL = """
[model]
@architectures = "pipeline.RelationModel.v1"
hidden_width = 256
dropout = 0.1

[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"

[model.get_candidates]
@misc = "pipeline.project_pairs.v1"
max_gap = 250
"""


def _key(span: Span) -> tuple[int, int]:
    return span.start_char, span.end_char


def _gold_keys(doc: Doc) -> set[tuple[str, tuple[int, int], tuple[int, int]]]:
    return {(r["type"], tuple(r["head"]), tuple(r["tail"])) for r in doc.user_data.get(RELATIONS_KEY, [])}


def score_relations(examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
    """Strict relation P/R/F1: type and both arguments' offsets must match."""
    per_type = {t: PRF() for t in RELATION_TYPES}
    for eg in examples:
        gold = _gold_keys(eg.reference)
        pred = _gold_keys(eg.predicted)
        for rel_type, prf in per_type.items():
            prf.add({k for k in gold if k[0] == rel_type}, {k for k in pred if k[0] == rel_type})
    micro = Scores.micro(per_type)
    return {
        "rel_micro_p": micro.precision,
        "rel_micro_r": micro.recall,
        "rel_micro_f": micro.f1,
        "rel_per_type": {t: {"p": prf.precision, "r": prf.recall, "f": prf.f1} for t, prf in per_type.items()},
    }


Scored = tuple[Span, Span, str, float]
LIST_SEPARATORS = ("、", "和", "及", "以及", "与")


def project_lists(doc: Doc, separators: Sequence[str]) -> list[list[Span]]:
    """Runs of two or more PROJECT entities joined only by a list separator (`A、B和C`)."""
    runs: list[list[Span]] = []
    run: list[Span] = []
    for ent in doc.ents:
        if ent.label_ != "PROJECT":
            run = []
            continue
        if run and doc.text[run[-1].end_char : ent.start_char] in separators:
            run.append(ent)
        else:
            run = [ent]
            runs.append(run)
    return [run for run in runs if len(run) > 1]


def share_within_lists(doc: Doc, scored: list[Scored], types: Sequence[str], separators: Sequence[str]) -> list[Scored]:
    """Projects listed together share their stage, date and place (guidelines section 2):
    each member's score for a tail of a shared type becomes the best score any member of
    its list has for that tail. Taking the best score rather than a yes/no keeps
    thresholding after this step the same as sharing what passed the threshold."""
    lists = project_lists(doc, separators)
    if not lists or not types:
        return scored
    best: dict[tuple[tuple[int, int], tuple[int, int], str], Scored] = {(_key(h), _key(t), r): (h, t, r, p) for h, t, r, p in scored}
    for members in lists:
        tails: dict[tuple[tuple[int, int], str], tuple[Span, float]] = {}
        member_keys = {_key(m) for m in members}
        for head, tail, rel_type, p in scored:
            if rel_type in types and _key(head) in member_keys:
                key = (_key(tail), rel_type)
                if key not in tails or p > tails[key][1]:
                    tails[key] = (tail, p)
        for (tail_key, rel_type), (tail, p) in tails.items():
            for member in members:
                key = (_key(member), tail_key, rel_type)
                if key not in best or best[key][3] < p:
                    best[key] = (member, tail, rel_type, p)
    return list(best.values())


@Language.factory(
    "relation_extractor",
    default_config={
        "model": Config().from_str(DEFAULT_MODEL)["model"],
        "threshold": 0.5,
        "use_gold_ents": True,
        "shared_in_lists": [],
        "list_separators": list(LIST_SEPARATORS),
    },
    default_score_weights={"rel_micro_f": 1.0, "rel_micro_p": None, "rel_micro_r": None},
)
def make_relation_extractor(
    nlp: Language,
    name: str,
    model: Model,
    threshold: float,
    use_gold_ents: bool,
    shared_in_lists: list[str],
    list_separators: list[str],
) -> "RelationExtractor":
    return RelationExtractor(
        nlp.vocab,
        model,
        name,
        threshold=threshold,
        use_gold_ents=use_gold_ents,
        shared_in_lists=shared_in_lists,
        list_separators=list_separators,
    )


class RelationExtractor(TrainablePipe):
    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "relation_extractor",
        *,
        threshold: float = 0.5,
        use_gold_ents: bool = True,
        shared_in_lists: Sequence[str] = (),
        list_separators: Sequence[str] = LIST_SEPARATORS,
    ):
        unknown = set(shared_in_lists) - set(RELATION_TYPES)
        if unknown:
            raise ValueError(f"shared_in_lists names unknown relation types {sorted(unknown)}; known: {RELATION_TYPES}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg: dict[str, Any] = {
            "labels": list(RELATION_TYPES),
            "thresholds": {t: threshold for t in RELATION_TYPES},
            "use_gold_ents": use_gold_ents,
            "shared_in_lists": list(shared_in_lists),
            "list_separators": list(list_separators),
        }

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def thresholds(self) -> dict[str, float]:
        return self.cfg["thresholds"]

    @contextmanager
    def keeping_every_candidate(self) -> Iterator[None]:
        """Within the block, every scored candidate pair is annotated (all thresholds 0),
        for tuning thresholds and measuring how unsure the model is."""
        saved = dict(self.thresholds)
        self.cfg["thresholds"] = {t: 0.0 for t in saved}
        try:
            yield
        finally:
            self.cfg["thresholds"] = saved

    def candidates(self, doc: Doc) -> list[tuple[Span, Span]]:
        return self.model.attrs["get_candidates"](doc)

    def predict(self, docs: Iterable[Doc]) -> Floats2d:
        docs = list(docs)
        if not any(doc.ents for doc in docs):
            return self.model.ops.alloc2f(0, len(self.labels))
        return self.model.predict(docs)

    def probabilities(self, docs: list[Doc], logits: Floats2d) -> list[list[tuple[Span, Span, str, float]]]:
        """Each doc's candidate pairs with their type and probability."""
        logits = self.model.ops.to_numpy(logits)
        out = []
        row = 0
        for doc in docs:
            scored = []
            for head, tail in self.candidates(doc) if len(logits) else []:
                rel_type = TAIL_LABEL_TO_RELATION[tail.label_]
                logit = float(logits[row, self.labels.index(rel_type)])
                scored.append((head, tail, rel_type, float(1.0 / (1.0 + np.exp(-logit)))))
                row += 1
            out.append(scored)
        return out

    def set_annotations(self, docs: Iterable[Doc], logits: Floats2d) -> None:
        docs = list(docs)
        for doc, scored in zip(docs, self.probabilities(docs, logits)):
            scored = share_within_lists(doc, scored, self.cfg.get("shared_in_lists", []), self.cfg.get("list_separators", []))
            doc.user_data[RELATIONS_KEY] = [
                {"type": rel_type, "head": list(_key(head)), "tail": list(_key(tail)), "score": round(p, 4)}
                for head, tail, rel_type, p in scored
                if p >= self.thresholds[rel_type]
            ]

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optimizer | None = None,
        losses: dict[str, float] | None = None,
    ) -> dict[str, float]:
        examples = list(examples)
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        if self.cfg["use_gold_ents"]:
            set_gold_entities(examples)
        docs = [eg.predicted for eg in examples]
        if not any(doc.ents for doc in docs):
            return losses
        logits, backprop = self.model.begin_update(docs)
        loss, d_logits = self.get_loss(examples, logits)
        backprop(d_logits)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], logits: Floats2d) -> tuple[float, Floats2d]:
        """Binary cross-entropy on each pair's own type column (the tail's label fixes it)."""
        logits_np = self.model.ops.to_numpy(logits)
        truth = np.zeros_like(logits_np)
        mask = np.zeros_like(logits_np)
        row = 0
        for eg in examples:
            gold = _gold_keys(eg.reference)
            for head, tail in self.candidates(eg.predicted):
                rel_type = TAIL_LABEL_TO_RELATION[tail.label_]
                col = self.labels.index(rel_type)
                mask[row, col] = 1.0
                truth[row, col] = float((rel_type, _key(head), _key(tail)) in gold)
                row += 1
        probs = 1.0 / (1.0 + np.exp(-logits_np))
        n = max(mask.sum(), 1.0)
        eps = 1e-7
        loss = -(mask * (truth * np.log(probs + eps) + (1 - truth) * np.log(1 - probs + eps))).sum() / n
        d_logits = (probs - truth) * mask / n
        return float(loss), self.model.ops.asarray2f(d_logits)

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Language | None = None, labels=None) -> None:
        init_relation_model(self.model, [eg.reference for eg in islice(get_examples(), 10)])

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        return score_relations(examples, **kwargs)
