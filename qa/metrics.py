"""Scores: the official CMRC 2018 EM/F1, retrieval recall@k / MRR, percentiles, abstention.

EM/F1 follow the official evaluation script `cmrc2018_evaluate.py` (ymcui/cmrc2018,
squad-style-data/ and eval/ versions, v5): the same `sp_char` punctuation list, the same
CJK range [\\u4e00-\\u9fa5], lower() + strip(), EM on the punctuation-stripped string,
F1 on the longest common *contiguous* token run. The one deliberate difference: the
official script tokenizes runs of non-CJK text with `nltk.word_tokenize`; `_word_tokens`
is a dependency-free equivalent for what answers contain (words, numbers such as 50.6 or
1,000 kept whole, English clitics split, every other symbol one token).
All scores are fractions in 0..1; reports multiply EM/F1 by 100 as CMRC does.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from qa.errors import ConfigError

# The official script's list, verbatim and in order. '……' is a two-character string, so
# the official per-character test never matches it: a lone '…' is NOT punctuation there,
# and neither are ASCII , . ! ? % ( ) " ' nor the opening quote ‘ — kept faithfully.
SP_CHAR: tuple[str, ...] = (
    "-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=",
    "，", "。", "：", "？", "！", "“", "”", "；", "’", "《", "》", "……", "·", "、",
    "「", "」", "（", "）", "－", "～", "『", "』",
)
_SP_SET = frozenset(SP_CHAR)
_CJK_RE = re.compile(r"[\u4e00-\u9fa5]")  # the official range (basic CJK block only)

# nltk.word_tokenize (Treebank) behaviour on the short runs answers contain: inner periods
# stay ("50.6", "u.s."; only a run-final period is split off), commas stay only between digits ("1,000"), "..." and "--" are one
# token, "n't" and 's/'re/'ve/'ll/'d/'m are split off, any other symbol is a token of its own.
_WORD_RE = re.compile(
    r"\.\.\.|--|n't\b|'(?:s|re|ve|ll|d|m)\b"
    r"|\w+?(?=n't\b)"
    r"|\w+(?:(?:\.|(?<=\d),(?=\d))\w+)*(?:\.(?=\s+\S))?"
    r"|\S"
)


def _word_tokens(run: str) -> list[str]:
    """Tokens of a non-CJK run, like nltk.word_tokenize (words, numbers, single symbols)."""
    return _WORD_RE.findall(run)


def mixed_segmentation(text: str, rm_punc: bool = False) -> list[str]:
    """Official CMRC tokens: lower+strip; CJK chars and SP_CHAR one per token; runs of
    other chars word-tokenized. With rm_punc, SP_CHAR chars are skipped (not separators)."""
    text = str(text).lower().strip()
    out: list[str] = []
    run = ""
    for ch in text:
        if rm_punc and ch in _SP_SET:
            continue  # official: skipped without closing the current run
        if _CJK_RE.match(ch) or ch in _SP_SET:
            if run:
                out.extend(_word_tokens(run))
                run = ""
            out.append(ch)
        else:
            run += ch
    if run:
        out.extend(_word_tokens(run))
    return out


def remove_punctuation(text: str) -> str:
    """Official EM normal form: lower+strip, every SP_CHAR character dropped (spaces kept)."""
    return "".join(ch for ch in str(text).lower().strip() if ch not in _SP_SET)


def _lcs_len(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common contiguous run of tokens of a and b."""
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


def em_score(prediction: str, answers: Sequence[str]) -> float:
    """1.0 if remove_punctuation(prediction) equals that of any gold answer, else 0.0
    (0.0 when `answers` is empty)."""
    pred = remove_punctuation(prediction)
    return 1.0 if any(remove_punctuation(a) == pred for a in answers) else 0.0


def f1_score(prediction: str, answers: Sequence[str]) -> float:
    """Max over gold answers of 2PR/(P+R), P = lcs/len(pred), R = lcs/len(gold), tokens from
    mixed_segmentation(rm_punc=True), lcs = longest common contiguous run; 0 if lcs is 0."""
    pred = mixed_segmentation(prediction, rm_punc=True)
    best = 0.0
    for ans in answers:
        gold = mixed_segmentation(ans, rm_punc=True)
        lcs = _lcs_len(gold, pred)
        if lcs == 0:
            continue
        p, r = lcs / len(pred), lcs / len(gold)
        best = max(best, 2 * p * r / (p + r))
    return best


def _check_ranks(ranks: Sequence[int | None]) -> None:
    for i, r in enumerate(ranks):
        if r is not None and (isinstance(r, bool) or not isinstance(r, int) or r < 1):
            raise ConfigError(f"rank {r!r} at position {i}: ranks are 1-based ints or None "
                              "(not found); fix the caller that computed them")


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose gold rank (1-based, None = not found) is <= k; 0.0 if none."""
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"k={k!r} for recall@k: give a whole number >= 1")
    _check_ranks(ranks)
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank: mean of 1/rank, None counting 0; 0.0 for no questions."""
    _check_ranks(ranks)
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation (numpy's default method)."""
    if len(values) == 0:
        raise ConfigError("percentile of no values: measure at least one value first")
    if not 0 <= q <= 100:
        raise ConfigError(f"percentile q={q!r}: give a number between 0 and 100")
    return float(np.percentile(np.asarray(values, dtype=float), q))


def abstention_scores(abstained: Sequence[bool], unanswerable: Sequence[bool]) -> tuple[float, float]:
    """(precision, recall) of abstaining as a detector of unanswerable questions:
    P = |abstained & unanswerable| / |abstained|, R = same / |unanswerable|; 0/0 gives 0.0."""
    if len(abstained) != len(unanswerable):
        raise ConfigError(f"abstention_scores: {len(abstained)} abstention flags but "
                          f"{len(unanswerable)} unanswerable flags; pass one of each per question")
    both = sum(1 for a, u in zip(abstained, unanswerable) if a and u)
    n_abs = sum(1 for a in abstained if a)
    n_un = sum(1 for u in unanswerable if u)
    return (both / n_abs if n_abs else 0.0, both / n_un if n_un else 0.0)
