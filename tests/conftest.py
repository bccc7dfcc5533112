"""Shared fixtures: the seed documents and the built models."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
MODELS = ROOT / "models"


def seed_path(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def seed_text(prefix: str) -> str:
    with seed_path(prefix).open(encoding="utf-8", newline="") as handle:
        return handle.read()


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    path = MODELS / "tiny"
    if not (path / "config.json").exists():
        pytest.fail("models/tiny is not built: run `make setup`")
    return path


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    path = MODELS / "base"
    if not (path / "config.json").exists():
        pytest.fail("models/base is not built: run `make setup`")
    return path
