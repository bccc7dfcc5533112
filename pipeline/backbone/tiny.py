"""A tiny randomly initialised BERT with the real tokenizer, for fast tests of every step.

Same tokenizer files as the backbone it is built beside, so tokenisation, alignment and
windowing behave exactly as with the real model; 2 layers of hidden size 64, so a few
training steps take seconds on a CPU.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

TOKENIZER_FILES = ("sentencepiece.bpe.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def build_tiny(tokenizer_dir: Path, out_dir: Path, hidden: int = 64, layers: int = 2, heads: int = 2, seed: int = 0) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    tokenizer_dir, out_dir = Path(tokenizer_dir), Path(out_dir)
    vocab_size = json.loads((tokenizer_dir / "config.json").read_text(encoding="utf-8"))["vocab_size"]
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 4,
        max_position_embeddings=512,
        type_vocab_size=2,
        pad_token_id=1,
        tokenizer_class="XLMRobertaTokenizer",
    )
    torch.manual_seed(seed)
    model = BertModel(config)
    staging = out_dir.with_name(out_dir.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    model.save_pretrained(str(staging), safe_serialization=True)
    for name in TOKENIZER_FILES:
        shutil.copy2(tokenizer_dir / name, staging / name)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    return out_dir
