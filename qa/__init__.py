"""Xunda (讯答): extractive question answering over Chinese news articles."""
from qa.errors import QAError
from qa.types import Answer, Article, Chunk, Document, Hit, Source

__all__ = ["Assistant", "Answer", "Article", "Chunk", "Document", "Hit", "QAError", "Source"]


def __getattr__(name: str):
    # Lazy so that `import qa` stays cheap (no model, faiss or jieba loaded).
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    raise AttributeError(name)
