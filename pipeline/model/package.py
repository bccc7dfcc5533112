"""The committed model: only what fine-tuning changed, rebuilt on models/base at load.

`export_finetuned` writes a spaCy pipeline directory without the transformer's weights:
config.cfg, meta.json, the tokenizer, vocab, the `ner`, `span_entities` and
`relation_extractor` pipes,
and `transformer/delta.safetensors` with the fine-tuned encoder layers in float16
(a few MB instead of the 129 MB backbone). `load_finetuned` builds the pipeline from
that config, loads models/base into the transformer, overwrites the fine-tuned layers
and then reads the other pipes. Exporting rounds the in-memory weights to the stored
precision, so the exported pipeline predicts exactly what the loaded one does.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import spacy
import srsly
import torch
from safetensors.torch import load_file, save_file
from spacy.language import Language

from ..backbone.build import MODELS_DIR
from ..components.transformer import trainable_parameter_names

FINETUNED_DIR = MODELS_DIR / "finetuned"
DELTA_FILE = "delta.safetensors"
DELTA_META = "delta.json"


class ModelNotFound(FileNotFoundError):
    pass


def _transformer(nlp: Language):
    return nlp.get_pipe("transformer").model


def export_finetuned(nlp: Language, out_dir: Path, dtype: str = "float16") -> Path:
    """Write the small pipeline directory; replaces out_dir atomically."""
    from .. import components  # noqa: F401  (registers our architectures and factories)

    out_dir = Path(out_dir)
    model = _transformer(nlp)
    hf = model.transformer
    names = trainable_parameter_names(hf, model.attrs.get("trainable_layers", hf.config.num_hidden_layers))
    torch_dtype = getattr(torch, dtype)
    params = dict(hf.named_parameters())
    delta = {}
    with torch.no_grad():
        for name in names:
            stored = params[name].detach().to(torch_dtype).contiguous()
            params[name].data = stored.to(params[name].dtype)
            delta[name] = stored
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp, exclude=["transformer"])
    (tmp / "transformer").mkdir(exist_ok=True)
    srsly.write_json(tmp / "transformer" / "cfg", nlp.get_pipe("transformer").cfg)
    save_file(delta, str(tmp / "transformer" / DELTA_FILE))
    srsly.write_json(
        tmp / "transformer" / DELTA_META,
        {"base": "models/base", "dtype": dtype, "parameters": len(delta), "layers": model.attrs.get("trainable_layers")},
    )
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir


def load_finetuned(model_dir: Path | None = None, base_dir: Path | None = None) -> Language:
    """The full pipeline: config and pipes from model_dir, the encoder from base_dir."""
    from .. import components  # noqa: F401  (registers our architectures and factories)

    model_dir = Path(model_dir or FINETUNED_DIR)
    delta_path = model_dir / "transformer" / DELTA_FILE
    if not (model_dir / "config.cfg").exists() or not delta_path.exists():
        raise ModelNotFound(f"no fine-tuned model in {model_dir} (run `make train`)")
    base_dir = Path(base_dir or MODELS_DIR / "base").resolve()
    if not (base_dir / "config.json").exists():
        raise ModelNotFound(f"backbone {base_dir} is not built (run `make setup`)")
    config = spacy.util.load_config(model_dir / "config.cfg", interpolate=False)
    config["paths"]["base"] = str(base_dir)
    config["components"]["transformer"]["model"]["name"] = str(base_dir)
    nlp = spacy.util.load_model_from_config(config, auto_fill=False, validate=True)
    model = _transformer(nlp)
    model.initialize()
    hf = model.transformer
    delta = load_file(str(delta_path))
    params = dict(hf.named_parameters())
    unknown = sorted(set(delta) - set(params))
    if unknown:
        raise ValueError(f"{delta_path}: parameters not in the backbone: {unknown[:3]}")
    with torch.no_grad():
        for name, value in delta.items():
            params[name].data = value.to(params[name].dtype)
    hf.eval()
    nlp.from_disk(model_dir, exclude=["transformer"])
    return nlp


def model_files(model_dir: Path | None = None) -> dict[str, int]:
    """Relative path -> size in bytes, for the model card and the re-evaluation hash."""
    model_dir = Path(model_dir or FINETUNED_DIR)
    return {str(p.relative_to(model_dir)): p.stat().st_size for p in sorted(model_dir.rglob("*")) if p.is_file()}


def read_meta(model_dir: Path | None = None) -> dict:
    path = Path(model_dir or FINETUNED_DIR) / "meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
