"""Chinese-aware chunks: runs of whole sentences of one article, with overlap."""
from __future__ import annotations

from dataclasses import dataclass

from qa.errors import ConfigError
from qa.text import content_hash, split_sentences
from qa.types import Article, Chunk


@dataclass(frozen=True)
class ChunkConfig:
    """Chunk size and overlap in characters; checked on construction."""

    size: int = 300
    overlap: int = 60

    def __post_init__(self) -> None:
        if self.size < 20:
            raise ConfigError(f"chunk size {self.size} is too small: use at least 20 characters")
        if not 0 <= self.overlap < self.size:
            raise ConfigError(
                f"chunk overlap {self.overlap} must be >= 0 and smaller than the chunk size {self.size}"
            )


def _long_sentence_pieces(start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Windows of at most `size` chars over one over-long sentence, overlapping by `overlap`."""
    step = size - overlap
    pieces = []
    s = start
    while True:
        e = min(s + size, end)
        pieces.append((s, e))
        if e >= end:
            return pieces
        s += step


def chunk_article(article: Article, config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    """Split an article into chunks of whole sentences of about `config.size` characters.

    Consecutive chunks share their last sentences up to `config.overlap` characters.
    A chunk never cuts inside a sentence unless that sentence alone exceeds `config.size`,
    in which case it is cut into overlapping windows. Offsets index `article.text`.
    """
    units: list[tuple[int, int]] = []
    for s, e in split_sentences(article.text):
        if e - s > config.size:
            units.extend(_long_sentence_pieces(s, e, config.size, config.overlap))
        else:
            units.append((s, e))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        # Take sentences while the chunk stays within size (always at least one).
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= config.size:
            j += 1
        spans.append((units[i][0], units[j][1]))
        if j + 1 >= len(units):
            break
        # Next chunk starts with the trailing sentences that fit in the overlap budget.
        k = j + 1
        while k - 1 > i and units[j][1] - units[k - 1][0] <= config.overlap:
            k -= 1
        i = k
    return [
        Chunk(
            chunk_id=content_hash(article.article_id, str(s), str(e)),
            article_id=article.article_id,
            title=article.title,
            text=article.text[s:e],
            start=s,
            end=e,
            position=n,
        )
        for n, (s, e) in enumerate(spans)
    ]
