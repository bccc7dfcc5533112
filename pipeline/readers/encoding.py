"""Decoding bytes of unknown encoding: UTF-8 (with or without BOM), GB18030/GBK, Big5.

Detected, never assumed: strict UTF-8 first (it almost never decodes other encodings by
accident); otherwise charset-normalizer chooses among the Chinese encodings, and the
choice is checked by decoding strictly. Binary data and corrupt UTF-8 are refused with a
reason that says what is wrong and where.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

CHINESE_ENCODINGS = ("gb18030", "big5")
_CONTROL = set(range(0, 32)) - {9, 10, 12, 13, 27}


class UnreadableDocument(ValueError):
    """The bytes cannot be turned into text; the message says why."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b in _CONTROL)
    return controls > max(4, len(sample) // 50)


def _utf8_fault(data: bytes) -> UnicodeDecodeError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return err
    raise AssertionError("valid UTF-8")


def _mostly_utf8(data: bytes) -> bool:
    """Valid UTF-8 apart from a few bytes: corrupt UTF-8 rather than another encoding."""
    decoded = data.decode("utf-8", errors="replace")
    bad = decoded.count("\ufffd")
    multibyte = sum(1 for ch in decoded if ord(ch) > 0x7F and ch != "\ufffd")
    return multibyte >= 4 and bad <= max(2, multibyte // 20)


def decode_bytes(data: bytes) -> Decoded:
    if not data:
        raise UnreadableDocument("empty file")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return Decoded(data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig")
        except UnicodeDecodeError as err:
            raise UnreadableDocument(f"invalid UTF-8 after a UTF-8 BOM at byte {err.start + 3}") from err
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as err:
            raise UnreadableDocument(f"invalid UTF-16 at byte {err.start}") from err
    if looks_binary(data):
        raise UnreadableDocument("binary data, not text")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        err = _utf8_fault(data)
        where = "at the end (the file looks cut off)" if err.start >= len(data) - 3 else f"at byte {err.start}"
        raise UnreadableDocument(f"corrupt UTF-8: invalid byte sequence {where}")
    best = from_bytes(data, cp_isolation=list(CHINESE_ENCODINGS)).best()
    candidates = [best.encoding] if best is not None else []
    candidates += [e for e in CHINESE_ENCODINGS if e not in candidates]
    for encoding in candidates:
        try:
            return Decoded(data.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise UnreadableDocument("not valid text in UTF-8, GB18030/GBK or Big5")
