"""Question + passage windows for the reader: <s> question </s></s> passage piece </s>.

A passage longer than one window is read in overlapping windows (stride), so every answer lies
whole inside at least one window with context on both sides.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qa.reader.tokenizer import Encoding

BOS, PAD, EOS = 0, 1, 2


@dataclass(frozen=True)
class Window:
    """One window: piece ids, and for its passage pieces their character offsets in the passage."""

    passage: int  # index of the passage in the list read
    ids: tuple[int, ...]
    content_start: int  # index in `ids` of the first passage piece
    char_starts: tuple[int, ...]  # per passage piece, [start, end) in the passage text
    char_ends: tuple[int, ...]


def make_windows(question: Encoding, passages: Sequence[Encoding], max_len: int, max_question: int,
                 overlap: float = 0.4) -> list[Window]:
    """Every passage cut into windows of at most `max_len` pieces that overlap by `overlap`."""
    if max_len < max_question + 8:
        raise ValueError(f"max_len {max_len} leaves no room for a passage after a {max_question}-piece question")
    q_ids = question.ids[:max_question]
    budget = max_len - len(q_ids) - 4
    step = max(1, int(budget * (1.0 - overlap)))
    head = (BOS, *q_ids, EOS, EOS)
    windows: list[Window] = []
    for p_i, enc in enumerate(passages):
        n = len(enc.ids)
        start = 0
        while True:
            end = min(n, start + budget)
            windows.append(Window(p_i, (*head, *enc.ids[start:end], EOS), len(head),
                                  enc.starts[start:end], enc.ends[start:end]))
            if end >= n:
                break
            start += step
    return windows


def pad_batch(windows: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Piece ids padded to the longest window, and each window's length."""
    lengths = np.array([len(w.ids) for w in windows], dtype=np.int64)
    ids = np.full((len(windows), int(lengths.max())), PAD, dtype=np.int64)
    for i, w in enumerate(windows):
        ids[i, : len(w.ids)] = w.ids
    return ids, lengths
