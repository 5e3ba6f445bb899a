"""The neural reader: read a question against passages, return exact spans with scores.

Light constructor, lazy model loading, one typed method (`read`). Thread-safe after loading.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qa.errors import ConfigError
from qa.reader.decode import best_spans, char_span
from qa.reader.windows import Window, make_windows, pad_batch
from qa.text import to_simplified
from qa.types import ReaderResult, SpanPrediction

MODELS = Path(__file__).resolve().parents[1] / "models"
DEFAULT_MODEL = MODELS / "reader-int8.npz"
TRAILING_PUNCT = "。，、；：！？,;:!?"


@dataclass(frozen=True)
class WindowLogits:
    """The network's start and end logits for every window of one reading."""

    windows: tuple[Window, ...]
    starts: tuple[np.ndarray, ...]
    ends: tuple[np.ndarray, ...]


class NeuralReader:
    """Span reader on the bundled e5 backbone (see bench/train_reader.py for its training)."""

    def __init__(self, model_path: str | Path | None = None, *, max_answer_tokens: int = 40,
                 batch_size: int = 16, top: int = 5, overlap: float = 0.4, int8: bool = False, fold: bool = True,
                 length_penalty: float = 0.0, max_len: int | None = None, word_breaks: bool | None = None):
        if max_answer_tokens < 1:
            raise ConfigError(f"max_answer_tokens must be >= 1, got {max_answer_tokens}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if not 0.0 <= overlap < 1.0:
            raise ConfigError(f"overlap must be in [0, 1), got {overlap}")
        if max_len is not None and not 64 <= max_len <= 512:
            raise ConfigError(f"max_len must be in [64, 512] tokens, got {max_len}")
        if length_penalty < 0:
            raise ConfigError(f"length_penalty must be >= 0, got {length_penalty}")
        self.model_path = Path(model_path) if model_path else DEFAULT_MODEL
        # Subtracted per token of span length: CMRC-trained spans run long (whole clauses) where
        # readers want the fact; the shipped value is chosen on held-out train readings.
        self.length_penalty = length_penalty
        # Window length in tokens; None reads windows as long as the model was trained on.
        # Longer windows read a retrieved chunk in one piece (fewer, less overlapping windows).
        self.max_len = max_len
        self.max_answer_tokens = max_answer_tokens
        self.batch_size = batch_size
        self.top = top
        self.overlap = overlap
        # The shipped weights are int8 either way; int8 *matrix products* (activations quantised
        # per call) read about 2x faster but cost about 2 F1 on CMRC dev, so they are opt-in.
        self.int8 = int8
        # The model learnt from simplified text; traditional text is read folded (OpenCC t2s,
        # character for character, so offsets still index the original passage).
        self.fold = fold
        # Pieces bounded by jieba words (see PieceTokenizer); None = as the model was trained.
        self.word_breaks = word_breaks
        self._network = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._network is None:
                from qa.reader.network import ReaderNetwork
                from qa.reader.tokenizer import PieceTokenizer

                network = ReaderNetwork(self.model_path, int8=self.int8)
                trained = network.meta.get("pieces", "sentencepiece") == "words"
                words = trained if self.word_breaks is None else self.word_breaks
                self._tokenizer = PieceTokenizer(network.e5.vocabulary, word_breaks=words)
                self._network = network
        return self._network, self._tokenizer

    def read(self, question: str, passages: Sequence[str], deadline: float | None = None) -> ReaderResult:
        """Spans of `passages` answering `question`, best first (at most `top`); past the
        `deadline` (time.monotonic()) no further windows are read (the first batch always is)."""
        passages = list(passages)
        if not passages or not question.strip():
            return ReaderResult(question, (), float("inf"), 0)
        return self.decode(question, passages, self.window_logits(question, passages, deadline))

    def read_until(self, question: str, passages: Sequence[str], enough: Callable[[ReaderResult], bool],
                   first: int = 2, deadline: float | None = None) -> ReaderResult:
        """Like `read`, but reads the `first` passages alone and stops there when `enough` of
        that reading says so, or the deadline has passed; otherwise reads the rest too and
        decodes all windows together (the first passages are not read twice). Passages are
        expected best first."""
        passages = list(passages)
        if not passages or not question.strip():
            return ReaderResult(question, (), float("inf"), 0)
        if first < 1:
            raise ConfigError(f"first must be >= 1 passage, got {first}")
        head = self.window_logits(question, passages[:first], deadline)
        early = self.decode(question, passages[:first], head)
        if len(passages) <= first or _past(deadline) or enough(early):
            return early
        tail = self.window_logits(question, passages[first:], deadline)
        merged = WindowLogits(head.windows + tuple(replace(w, passage=w.passage + first) for w in tail.windows),
                              head.starts + tail.starts, head.ends + tail.ends)
        return self.decode(question, passages, merged)

    def window_logits(self, question: str, passages: Sequence[str],
                      deadline: float | None = None) -> WindowLogits:
        """Run the network over every question + passage window (the costly half of `read`),
        batch by batch, best passages first; after the `deadline` no further batch is run."""
        network, tokenizer = self._load()
        view = to_simplified if self.fold else (lambda text: text)
        q = tokenizer.encode(view(question))
        encs = [tokenizer.encode(view(p)) for p in passages]
        windows = make_windows(q, encs, self.max_len or network.max_len, network.max_question, self.overlap)
        starts, ends = [], []
        for b in range(0, len(windows), self.batch_size):
            ids, lengths = pad_batch(windows[b : b + self.batch_size])
            s, e = network.logits(ids, lengths)
            starts.extend(s)
            ends.extend(e)
            if _past(deadline):
                break
        return WindowLogits(tuple(windows[: len(starts)]), tuple(starts), tuple(ends))

    def decode(self, question: str, passages: Sequence[str], logits: WindowLogits,
               length_penalty: float | None = None) -> ReaderResult:
        """The best spans of one reading's logits (the cheap half of `read`)."""
        penalty = self.length_penalty if length_penalty is None else length_penalty
        candidates: list[SpanPrediction] = []
        no_answer = float("inf")
        for w, s, e in zip(logits.windows, logits.starts, logits.ends):
            null = float(s[0] + e[0])
            no_answer = min(no_answer, null)
            first = w.content_start
            last = first + len(w.char_starts) - 1
            for span in best_spans(s, e, first, last, self.max_answer_tokens, self.top, penalty):
                a, z = char_span(span.start - first, span.end - first, w.char_starts, w.char_ends)
                text = passages[w.passage][a:z]
                # An answer never ends on the clause's punctuation (the model sometimes takes it).
                stripped = text.strip().rstrip(TRAILING_PUNCT).rstrip()
                if not stripped:
                    continue
                a += len(text) - len(text.lstrip())
                z = a + len(stripped)
                candidates.append(SpanPrediction(w.passage, a, z, stripped, span.score, null))
        best: dict[tuple[int, int, int], SpanPrediction] = {}
        for c in candidates:  # the same span read in two overlapping windows: keep its best reading
            key = (c.passage, c.start, c.end)
            if key not in best or c.score > best[key].score:
                best[key] = c
        ranked = sorted(best.values(), key=lambda c: -c.score)[: self.top]
        return ReaderResult(question, tuple(ranked), no_answer, len(logits.windows))


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline
