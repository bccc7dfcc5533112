"""The backbone inside spaCy: a spacy-transformers model whose lower layers stay frozen,
and a span getter that windows long documents at sentence ends.

Only the top `trainable_layers` encoder layers learn. On 2 CPU cores that cuts the
backward pass to a third, and what fine-tuning changes stays small enough to commit
(the rest is rebuilt from models/base at load, see `pipeline.model.package`).
"""

from collections.abc import Callable, Iterable

from spacy.tokens import Doc, Span
from spacy.util import registry
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.layers.transformer_model import init as init_transformer
from thinc.api import Model

from ..text.windows import windows
from .frozen_cache import FrozenLayerCache


def trainable_parameter_names(transformer, trainable_layers: int) -> list[str]:
    """Names of the parameters that fine-tuning may change: the top encoder layers."""
    n_layers = transformer.config.num_hidden_layers
    first = max(0, n_layers - trainable_layers)
    prefixes = tuple(f"encoder.layer.{i}." for i in range(first, n_layers))
    return [name for name, _ in transformer.named_parameters() if name.startswith(prefixes)]


def freeze_lower_layers(transformer, trainable_layers: int) -> None:
    trainable = set(trainable_parameter_names(transformer, trainable_layers))
    for name, param in transformer.named_parameters():
        param.requires_grad = name in trainable


@registry.architectures("pipeline.PartiallyFrozenTransformer.v1")
def partially_frozen_transformer(
    name: str,
    get_spans: Callable,
    trainable_layers: int,
    cache_frozen_layers: bool = False,
    tokenizer_config: dict = {},  # noqa: B006 - spaCy passes config dicts
    transformer_config: dict = {},  # noqa: B006
) -> Model:
    """spacy-transformers' TransformerModel; after the weights load, only the top
    `trainable_layers` encoder layers keep requires_grad (embeddings stay frozen).
    With cache_frozen_layers, training runs the frozen part once per distinct window
    (`pipeline.components.frozen_cache`)."""
    model = TransformerModel(name, get_spans, tokenizer_config, transformer_config)
    model.attrs["trainable_layers"] = trainable_layers

    def init(model: Model, X=None, Y=None) -> None:
        init_transformer(model, X, Y)
        hf = model.transformer
        freeze_lower_layers(hf, trainable_layers)
        n_frozen = hf.config.num_hidden_layers - trainable_layers
        if cache_frozen_layers and n_frozen > 0:
            FrozenLayerCache(hf, n_frozen, model.tokenizer.pad_token_id).install()

    model.init = init
    return model


def sentence_window_spans(docs: Iterable[Doc], max_chars: int, overlap: int) -> list[list[Span]]:
    spans: list[list[Span]] = []
    for doc in docs:
        doc_spans = []
        for start, end in windows(doc.text, max_chars=max_chars, overlap=overlap):
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is not None and len(span):
                doc_spans.append(span)
        if not doc_spans and len(doc):
            doc_spans.append(doc[:])
        spans.append(doc_spans)
    return spans


@registry.span_getters("pipeline.sentence_windows.v1")
def configure_sentence_windows(max_chars: int = 400, overlap: int = 80) -> Callable[[Iterable[Doc]], list[list[Span]]]:
    """Windows of at most max_chars characters ending at sentence ends, overlapping by
    about `overlap` characters (the same windows `make bench` times the backbone on)."""

    def get_spans(docs: Iterable[Doc]) -> list[list[Span]]:
        return sentence_window_spans(docs, max_chars, overlap)

    return get_spans
