"""The `span_entities` pipe: finds the entities of its labels by scoring every span.

It sits after `ner` and replaces the NER's entities of `labels` (the names whose
boundaries the NER misses: ORG, PROJECT, DISTRICT, INDUSTRY) with its own; the NER's
other entities (MONEY, DATE, STATUS) stay and take precedence. Each candidate span gets
"no entity" or a label; a span is kept when its probability of being an entity
(1 - P(no entity)) reaches `threshold`, with its most probable label, most probable spans
first, never overlapping a kept one.
"""

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

import numpy as np
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer
from thinc.types import Floats2d, Ints2d

from .span_entity_model import init_span_entity_model

DEFAULT_MODEL = """
[model]
@architectures = "pipeline.SpanEntityModel.v1"
max_width = 20
hidden_width = 128
context = 3
dropout = 0.1

[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""

DEFAULT_LABELS = ["ORG", "PROJECT", "DISTRICT", "INDUSTRY"]


@Language.factory(
    "span_entities",
    default_config={"model": Config().from_str(DEFAULT_MODEL)["model"], "labels": DEFAULT_LABELS, "threshold": 0.5},
    default_score_weights={},
)
def make_span_entities(nlp: Language, name: str, model: Model, labels: list[str], threshold: float) -> "SpanEntities":
    return SpanEntities(nlp.vocab, model, name, labels=labels, threshold=threshold)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class SpanEntities(TrainablePipe):
    def __init__(
        self, vocab: Vocab, model: Model, name: str = "span_entities", *, labels: list[str] = DEFAULT_LABELS, threshold: float = 0.5
    ):
        if not labels:
            raise ValueError("span_entities needs at least one label")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"span_entities threshold must be in (0, 1], got {threshold}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg: dict[str, Any] = {"labels": list(labels), "threshold": float(threshold)}

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    def candidates(self, doc: Doc) -> Ints2d:
        return self.model.get_ref("span_hidden").attrs["get_candidates"](doc)

    def predict(self, docs: Iterable[Doc]) -> Floats2d:
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return self.model.ops.alloc2f(0, len(self.labels) + 1)
        return self.model.predict(docs)

    def probabilities(self, docs: Iterable[Doc], logits: Floats2d) -> list[tuple[Ints2d, np.ndarray]]:
        """Per doc: its candidate spans and their class probabilities (column 0: none)."""
        probs = _softmax(self.model.ops.to_numpy(logits)) if len(logits) else np.zeros((0, len(self.labels) + 1))
        out = []
        row = 0
        for doc in docs:
            spans = self.candidates(doc)
            out.append((spans, probs[row : row + len(spans)]))
            row += len(spans)
        return out

    def set_annotations(self, docs: Iterable[Doc], logits: Floats2d) -> None:
        docs = list(docs)
        for doc, (spans, probs) in zip(docs, self.probabilities(docs, logits)):
            doc.ents = self.decode(doc, spans, probs)

    def decode(self, doc: Doc, spans: Ints2d, probs: np.ndarray) -> list[Span]:
        """The NER's entities of other labels, then the best-scored non-overlapping spans."""
        kept = [ent for ent in doc.ents if ent.label_ not in self.labels]
        taken = np.zeros(len(doc) + 1, dtype=bool)
        for ent in kept:
            taken[ent.start : ent.end] = True
        if not len(probs):
            return kept
        best = 1 + probs[:, 1:].argmax(axis=1)
        entity_prob = 1.0 - probs[:, 0]
        chosen = np.flatnonzero(entity_prob >= self.cfg["threshold"])
        for i in chosen[np.argsort(-entity_prob[chosen], kind="stable")]:
            start, end = int(spans[i, 0]), int(spans[i, 1])
            if not taken[start:end].any():
                taken[start:end] = True
                kept.append(Span(doc, start, end, label=self.labels[best[i] - 1]))
        return sorted(kept, key=lambda span: span.start)

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
        docs = [eg.predicted for eg in examples]
        if not any(len(doc) for doc in docs):
            return losses
        logits, backprop = self.model.begin_update(docs)
        loss, d_logits = self.get_loss(examples, logits)
        backprop(d_logits)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def gold_classes(self, eg: Example) -> np.ndarray:
        """Per candidate of eg.predicted: 0, or 1 + the index of its gold label."""
        doc = eg.predicted
        spans = self.candidates(doc)
        classes = np.zeros(len(spans), dtype="int64")
        gold = []
        for ent in eg.reference.ents:
            if ent.label_ in self.labels:
                span = doc.char_span(ent.start_char, ent.end_char)
                if span is not None:
                    gold.append((span.start * (len(doc) + 1) + span.end, 1 + self.labels.index(ent.label_)))
        if gold and len(spans):
            keys = spans[:, 0] * (len(doc) + 1) + spans[:, 1]
            for key, cls in gold:
                classes[keys == key] = cls
        return classes

    def get_loss(self, examples: Iterable[Example], logits: Floats2d) -> tuple[float, Floats2d]:
        """Softmax cross-entropy of each candidate's class, averaged over the candidates."""
        logits_np = self.model.ops.to_numpy(logits)
        classes = np.concatenate([self.gold_classes(eg) for eg in examples])
        probs = _softmax(logits_np)
        n = max(len(classes), 1)
        truth = np.zeros_like(probs)
        truth[np.arange(len(classes)), classes] = 1.0
        loss = -np.log(probs[np.arange(len(classes)), classes] + 1e-7).sum() / n
        return float(loss), self.model.ops.asarray2f((probs - truth) / n)

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Language | None = None, labels=None) -> None:
        init_span_entity_model(self.model, [eg.reference for eg in islice(get_examples(), 10)], len(self.labels) + 1)
