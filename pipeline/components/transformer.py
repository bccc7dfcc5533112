"""The backbone inside spaCy: a spacy-transformers model whose lower layers stay frozen,
and a span getter that windows long documents at sentence ends.

Only the top `trainable_layers` encoder layers learn. On 2 CPU cores that cuts the
backward pass to a third, and what fine-tuning changes stays small enough to commit
(the rest is rebuilt from models/base at load, see `pipeline.model.package`).
"""

from collections.abc import Callable, Iterable

import torch
from spacy.tokens import Doc, Span
from spacy.util import registry
from spacy_transformers.data_classes import WordpieceBatch
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.layers.transformer_model import init as init_transformer
from thinc.api import Model
from thinc.types import Floats2d
from transformers.modeling_outputs import BaseModelOutput, ModelOutput

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
    group_rows: int = 8,
) -> Model:
    """spacy-transformers' TransformerModel; after the weights load, only the top
    `trainable_layers` encoder layers keep requires_grad (embeddings stay frozen).
    With cache_frozen_layers, training runs the frozen part once per distinct window
    (`pipeline.components.frozen_cache`). The windows of a batch run in groups of
    `group_rows` windows of similar length (`length_bucketed`)."""
    model = TransformerModel(name, get_spans, tokenizer_config, transformer_config)
    model.attrs["trainable_layers"] = trainable_layers
    length_bucketed(model.layers[0], group_rows)

    def init(model: Model, X=None, Y=None) -> None:
        init_transformer(model, X, Y)
        hf = model.transformer
        freeze_lower_layers(hf, trainable_layers)
        n_frozen = hf.config.num_hidden_layers - trainable_layers
        if cache_frozen_layers and n_frozen > 0:
            FrozenLayerCache(hf, n_frozen, model.tokenizer.pad_token_id).install()

    model.init = init
    return model


def length_bucketed(encoder: Model, rows: int) -> None:
    """Make the encoder layer run a batch in groups of `rows` windows sorted by length.

    spacy-transformers pads every window of a batch to the longest one. A document's last
    window is usually short, and a training batch mixes long windows with short sentences,
    so much of the encoder's work went into padding. Each group is padded only to its own
    longest window and the outputs are put back in order, so what comes out is the same
    batch; in training, each group's backward pass gets its slice of the gradient."""
    forward = encoder._func

    def bucketed_forward(layer: Model, wordpieces: WordpieceBatch, is_train: bool):
        if len(wordpieces) <= rows:
            return forward(layer, wordpieces, is_train)
        order = sorted(range(len(wordpieces)), key=wordpieces.lengths.__getitem__)
        groups = [order[first : first + rows] for first in range(0, len(order), rows)]
        hidden: torch.Tensor | None = None
        backprops = []
        for group in groups:
            width = max(wordpieces.lengths[row] for row in group)
            output, backprop_group = forward(layer, _select(wordpieces, group, width), is_train)
            states = output.last_hidden_state.detach()
            if hidden is None:
                hidden = states.new_zeros((len(wordpieces), wordpieces.input_ids.shape[1], states.shape[-1]))
            hidden[group, :width] = states
            backprops.append((group, width, backprop_group))

        def backprop(d_output: ModelOutput) -> list:
            # the gradient of the only output, last_hidden_state (spacy-transformers names it output_0)
            (d_hidden,) = d_output.values()
            for group, width, backprop_group in backprops:
                backprop_group(ModelOutput(output_0=d_hidden[group, :width]))
            return []

        # only the hidden states go on: per-group extras (the pooler) are not used
        return BaseModelOutput(last_hidden_state=hidden), backprop

    encoder._func = bucketed_forward


def _select(wordpieces: WordpieceBatch, rows: list[int], width: int) -> WordpieceBatch:
    return WordpieceBatch(
        strings=[wordpieces.strings[row] for row in rows],
        input_ids=wordpieces.input_ids[rows, :width],
        attention_mask=wordpieces.attention_mask[rows, :width],
        lengths=[wordpieces.lengths[row] for row in rows],
        token_type_ids=None if wordpieces.token_type_ids is None else wordpieces.token_type_ids[rows, :width],
    )


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


@registry.architectures("pipeline.TransformerWithChars.v1")
def transformer_with_chars(transformer: Model[list[Doc], list[Floats2d]], chars: Model[list[Doc], list[Floats2d]]) -> Model[list[Doc], list[Floats2d]]:
    """Each token's transformer vector next to a small character embedding with local context.

    Our tokens are characters and a sentencepiece piece often spans two or three of them,
    so the transformer gives 美 and 元 of 美元 the same vector; the NER then cannot tell
    where inside a piece an entity ends. The character vectors tell the characters apart."""
    return Model("transformer_with_chars", _with_chars_forward, init=_with_chars_init, layers=[transformer, chars], dims={"nO": None})


def _with_chars_init(model: Model, X=None, Y=None) -> None:
    for layer in model.layers:
        layer.initialize(X=X)
    widths = [layer.get_dim("nO") if layer.has_dim("nO") else None for layer in model.layers]
    if all(widths):
        model.set_dim("nO", sum(widths))


def _with_chars_forward(model: Model, docs: list[Doc], is_train: bool):
    transformer, chars = model.layers
    first, backprop_first = transformer(docs, is_train)
    second, backprop_second = chars(docs, is_train)
    widths = [a.shape[1] for a in first[:1]]
    outputs = [model.ops.xp.hstack((a, b)) for a, b in zip(first, second)]

    def backprop(d_outputs: list[Floats2d]) -> list[Doc]:
        width = widths[0] if widths else 0
        backprop_first([d[:, :width] for d in d_outputs])
        backprop_second([d[:, width:] for d in d_outputs])
        return docs  # inputs are Docs: nothing to pass further down

    return outputs, backprop
