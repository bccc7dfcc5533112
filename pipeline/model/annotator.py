"""The fine-tuned pipeline as an annotator for `make extract`, evaluation and doccano.

Documents of any length are cut at sentence ends into chunks the pipeline reads in
batches; entity and relation offsets are moved back to the whole document. The model
reads `model_view(text)`, which has the same length as the text, so offsets need no map.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.tokens import Doc

from ..records.build import RelationRef, SpanRef
from ..text.normalise import model_view
from ..text.windows import windows
from .package import FINETUNED_DIR, load_finetuned

CHUNK_CHARS = 2000


class ModelAnnotator:
    name = "finetuned-model"

    def __init__(self, model_dir: Path | None = None, base_dir: Path | None = None, batch_size: int = 32):
        self.model_dir = Path(model_dir or FINETUNED_DIR)
        self.nlp = load_finetuned(self.model_dir, base_dir)
        self.batch_size = batch_size

    def annotate(self, text: str) -> tuple[list[SpanRef], list[RelationRef]]:
        return next(self.annotate_many([text]))

    def annotate_many(self, texts: Iterable[str]) -> Iterator[tuple[list[SpanRef], list[RelationRef]]]:
        """Annotations per text, in order; chunks of all texts share batches."""
        texts = list(texts)
        chunks: list[tuple[int, int, str]] = []  # (text index, offset, chunk)
        for i, text in enumerate(texts):
            view = model_view(text)
            for start, end in windows(view, max_chars=CHUNK_CHARS, overlap=0) if view.strip() else []:
                chunks.append((i, start, view[start:end]))
        per_text: list[list[tuple[int, Doc]]] = [[] for _ in texts]
        # chunks of similar length share a batch: less padding in the transformer
        order = sorted(range(len(chunks)), key=lambda k: len(chunks[k][2]))
        docs = self.nlp.pipe((chunks[k][2] for k in order), batch_size=self.batch_size)
        for k, doc in zip(order, docs):
            i, offset, _ = chunks[k]
            per_text[i].append((offset, doc))
        for parts in per_text:
            parts.sort(key=lambda part: part[0])
        for text, parts in zip(texts, per_text):
            yield self._merge(text, parts)

    @staticmethod
    def _merge(text: str, parts: list[tuple[int, Doc]]) -> tuple[list[SpanRef], list[RelationRef]]:
        entities: list[SpanRef] = []
        index: dict[tuple[int, int], int] = {}
        relations: list[RelationRef] = []
        for offset, doc in parts:
            for span in doc.ents:
                start, end = span.start_char + offset, span.end_char + offset
                index[(start, end)] = len(entities)
                entities.append(SpanRef(start, end, span.label_, text[start:end]))
            for rel in doc.user_data.get("relations", []):
                head = index.get((rel["head"][0] + offset, rel["head"][1] + offset))
                tail = index.get((rel["tail"][0] + offset, rel["tail"][1] + offset))
                if head is not None and tail is not None:
                    relations.append(RelationRef(head, tail, rel["type"]))
        return entities, relations

    def uncertainty(self, text: str) -> float:
        """How unsure the model is about a document, for choosing what to annotate next:
        the mean closeness of its candidate relations' probabilities to their type's
        threshold (1 = on the threshold, 0 = far from it), plus a share for entities
        the relation step could not attach (a PROJECT with no relation)."""
        relation = self.nlp.get_pipe("relation_extractor")
        thresholds = dict(relation.thresholds)
        with relation.keeping_every_candidate():
            docs = list(self.nlp.pipe(chunk for chunk in [model_view(text)] if chunk.strip()))
        closeness = []
        unattached = 0
        projects = 0
        for doc in docs:
            linked = set()
            for rel in doc.user_data.get("relations", []):
                t = thresholds[rel["type"]]
                margin = abs(rel["score"] - t) / max(t, 1 - t)
                closeness.append(1.0 - margin)
                if rel["score"] >= t:
                    linked.add(tuple(rel["head"]))
            for span in doc.ents:
                if span.label_ == "PROJECT":
                    projects += 1
                    unattached += (span.start_char, span.end_char) not in linked
        relation_part = sum(closeness) / len(closeness) if closeness else 1.0
        entity_part = unattached / projects if projects else 1.0
        return round(0.7 * relation_part + 0.3 * entity_part, 4)
