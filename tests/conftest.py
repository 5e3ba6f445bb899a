"""Shared pytest fixtures (keep this file small; module-specific fixtures live in their tests)."""
from __future__ import annotations

import pytest

from qa.embedders import FakeEmbedder


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    """A deterministic model-free embedder (hashed character 1-2-grams, dim 256)."""
    return FakeEmbedder()
