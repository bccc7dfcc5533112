"""The `entity_relabeler` pipe: re-decides the label of each entity the NER found.

It sits between `ner` and `relation_extractor` and only chooses among `labels` (the
names that the NER confuses: ORG, PROJECT, DISTRICT, INDUSTRY); an entity with another
label, and every span boundary, stays as the NER set it. While training it learns
from the gold entities, so it reads correct spans even while the NER is still poor.
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
from thinc.types import Floats2d

from .gold import set_gold_entities
from .span_label_model import init_span_label_model

DEFAULT_MODEL = """
[model]
@architectures = "pipeline.SpanLabelModel.v1"
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
    "entity_relabeler",
    default_config={"model": Config().from_str(DEFAULT_MODEL)["model"], "labels": DEFAULT_LABELS},
    default_score_weights={},
)
def make_entity_relabeler(nlp: Language, name: str, model: Model, labels: list[str]) -> "EntityRelabeler":
    return EntityRelabeler(nlp.vocab, model, name, labels=labels)


class EntityRelabeler(TrainablePipe):
    def __init__(self, vocab: Vocab, model: Model, name: str = "entity_relabeler", *, labels: list[str] = DEFAULT_LABELS):
        if len(labels) < 2:
            raise ValueError(f"entity_relabeler needs at least two labels to choose from, got {labels}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg: dict[str, Any] = {"labels": list(labels)}
        model.get_ref("span_vectors").attrs["get_spans"] = self.revisable

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    def revisable(self, doc: Doc) -> list[Span]:
        return [ent for ent in doc.ents if ent.label_ in self.cfg["labels"]]

    def predict(self, docs: Iterable[Doc]) -> Floats2d:
        docs = list(docs)
        if not any(self.revisable(doc) for doc in docs):
            return self.model.ops.alloc2f(0, len(self.labels))
        return self.model.predict(docs)

    def set_annotations(self, docs: Iterable[Doc], logits: Floats2d) -> None:
        best = self.model.ops.to_numpy(logits).argmax(axis=1) if len(logits) else []
        row = 0
        for doc in docs:
            ents = []
            for ent in doc.ents:
                if ent.label_ in self.cfg["labels"]:
                    ent = Span(doc, ent.start, ent.end, label=self.labels[int(best[row])])
                    row += 1
                ents.append(ent)
            doc.ents = ents

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
        set_gold_entities(examples)
        docs = [eg.predicted for eg in examples]
        if not any(self.revisable(doc) for doc in docs):
            return losses
        logits, backprop = self.model.begin_update(docs)
        loss, d_logits = self.get_loss(examples, logits)
        backprop(d_logits)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], logits: Floats2d) -> tuple[float, Floats2d]:
        """Softmax cross-entropy against the gold label of each revisable entity."""
        logits_np = self.model.ops.to_numpy(logits)
        truth = np.zeros_like(logits_np)
        row = 0
        for eg in examples:
            for ent in self.revisable(eg.predicted):
                truth[row, self.labels.index(ent.label_)] = 1.0
                row += 1
        shifted = logits_np - logits_np.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        n = max(len(truth), 1)
        loss = -(truth * np.log(probs + 1e-7)).sum() / n
        return float(loss), self.model.ops.asarray2f((probs - truth) / n)

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Language | None = None, labels=None) -> None:
        init_span_label_model(self.model, [eg.reference for eg in islice(get_examples(), 10)], len(self.labels))
