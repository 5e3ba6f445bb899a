"""Learned layout decisions: where a headline line belongs, and which later paragraph resumes an
interrupted one. Each decision weighs several signals (layout cues, sentence completion, topic
continuity between a line and the paragraphs around it) with a logistic model whose weights are
fitted on generated tuning pages (`python bench/fit_segmenter.py`) and shipped in
`qa/models/segmenter.json`; nothing here names words of particular articles.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import ModelFileError
from qa.text import cut, is_cjk, is_word, pos_cut
from qa.segment.units import (BODY, BYLINE, CREDIT, DATELINE, JUMP_IN, JUMP_OUT, KICKER, TITLE,
                              TRAILING_NOTE_RE, _Unit)

MODEL_FILE = Path(__file__).resolve().parents[1] / "models" / "segmenter.json"

# Where a short unpunctuated line goes: after the body above it (headline printed after its
# article), before the body below it (a new article), inside the running article (a subhead), or
# it is no headline at all but body text cut short (the first words of a sentence that an
# interruption or a jump to another page broke off).
PREV, NEXT, SUB, FRAG = 0, 1, 2, 3
TITLE_FEATURES = (
    "prev_overlap", "next_overlap", "overlap_diff", "has_prev_body", "has_next_body",
    "next_opens", "prev_headed", "bodies_overlap", "prev_unfinished", "prev_ended", "blank_before", "blank_after",
    "page_blanks", "first_in_run", "last_in_run", "run_lines", "line_chars",
    "after_body", "has_comma", "opens_function_word", "ends_function_word", "ends_single_char",
    "same_block_as_next_title", "tail_may_be_body",
)
# jieba POS tags (first letter) of words that lean on what follows or precedes them: pronoun,
# preposition, conjunction, auxiliary, adverb, locative; a headline seldom starts or ends so.
FUNCTION_POS = frozenset("rpcudf")
RESUME_FEATURES = (
    "crosses_word", "junction_word", "after_jump_in", "cut_jumps_out", "after_closing", "after_heading",
    "after_finished_body",
    "overlap_article", "overlap_above", "overlap_diff", "distance", "units_between",
)

SPLIT_FEATURES = (
    "blank_between", "blank_share", "prev_unfinished", "prev_closed", "left_right_overlap",
    "head_left_overlap", "head_right_overlap", "overlap_drop", "prev_chars", "head_chars",
)

_TERM_RE = re.compile(r"[\u4e00-\u9fff]|[A-Za-z0-9]+")


def terms(text: str) -> Counter:
    """Character bigrams of the Chinese text and lowercased Latin/digit words: what a headline
    shares with the paragraphs of its own article."""
    tokens = [t.lower() for t in _TERM_RE.findall(text)]
    # Single characters (的, 是, 在 …) are shared by any two paragraphs: only bigrams tell topics.
    grams = Counter(t for t in tokens if len(t) > 1 or not is_cjk(t))
    grams.update(a + b for a, b in zip(tokens, tokens[1:]) if len(a) == 1 and len(b) == 1)
    return grams


def overlap(short: Counter, long: Counter) -> float:
    """Share of `short`'s terms (bigrams and words) that `long` also has, 0..1."""
    total = sum(short.values())
    if not total:
        return 0.0
    return sum(n for t, n in short.items() if t in long) / total


@dataclass(frozen=True)
class Classifier:
    """A (multinomial) logistic model over named features, optionally on top of small hidden
    ReLU layers (a multilayer perceptron) that let features combine."""

    features: tuple[str, ...]
    weights: np.ndarray  # (classes, inputs); one row for a binary model
    bias: np.ndarray  # (classes,)
    mean: np.ndarray  # standardisation of the features, fitted with the weights
    scale: np.ndarray
    hidden: tuple[tuple[np.ndarray, np.ndarray], ...] = ()  # (weights (in, out), bias (out,)) per layer

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Class log-probabilities (multinomial) or P(yes) (binary) for feature rows."""
        x = (rows - self.mean) / self.scale
        for w, b in self.hidden:
            x = np.maximum(x @ w + b, 0.0)
        z = x @ self.weights.T + self.bias
        if self.weights.shape[0] == 1:
            return 1.0 / (1.0 + np.exp(-z[:, 0]))
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def to_json(self) -> dict:
        return {"features": list(self.features), "weights": self.weights.round(6).tolist(),
                "bias": self.bias.round(6).tolist(), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(),
                "hidden": [{"weights": w.round(6).tolist(), "bias": b.round(6).tolist()} for w, b in self.hidden]}

    @classmethod
    def from_json(cls, data: dict, expected: tuple[str, ...], where: str) -> "Classifier":
        if tuple(data["features"]) != expected:
            raise ModelFileError(where, f"features {data['features']} differ from this code's {list(expected)}; "
                                        "refit with python bench/fit_segmenter.py --write")
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("weights", "bias", "mean", "scale")]
        hidden = tuple((np.asarray(layer["weights"], dtype=np.float64), np.asarray(layer["bias"], dtype=np.float64))
                       for layer in data.get("hidden", ()))
        return cls(tuple(data["features"]), *arrays, hidden=hidden)


@dataclass(frozen=True)
class SegmenterModel:
    titles: Classifier  # 4 classes: PREV, NEXT, SUB, FRAG
    split: Classifier  # binary: does a new piece start between two adjacent paragraphs
    resume: Classifier  # binary: does this later paragraph resume the interrupted one
    resume_threshold: float  # the likeliest candidate resumes it when its probability is above this
    # Log-odds added to "body text cut short" for the line right after body text: a fragment
    # that no later paragraph carries on reverts to a headline, so leaning to it costs little.
    fragment_prior: float = 0.0


@lru_cache(maxsize=4)
def load_model(path: str = str(MODEL_FILE)) -> SegmenterModel:
    """The shipped decision weights; a clear error naming the file when missing or damaged."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return SegmenterModel(Classifier.from_json(data["titles"], TITLE_FEATURES, path),
                              Classifier.from_json(data["split"], SPLIT_FEATURES, path),
                              Classifier.from_json(data["resume"], RESUME_FEATURES, path),
                              float(data["resume_threshold"]), float(data["fragment_prior"]))
    except FileNotFoundError as exc:
        raise ModelFileError(path, "the segmentation weights are missing; reinstall, or refit with "
                                   "python bench/fit_segmenter.py --write") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(path, f"the segmentation weights are damaged ({type(exc).__name__}: {exc})") from exc


def _body_text(units: list[_Unit], indices: list[int]) -> Counter:
    return terms("".join(units[k].text for k in indices))


def _body_before(units: list[_Unit], i: int) -> tuple[list[int], int]:
    """Body units of the stretch above unit i (back to a title/kicker line, or to a paragraph
    opening with a dateline), nearest last, and the index of the unit above that stretch (-1 at
    the top of the page; the opening paragraph itself when one starts it)."""
    found, k = [], i - 1
    while k >= 0 and units[k].kind not in (TITLE, KICKER):
        if units[k].kind == BODY:
            found.append(k)
            if units[k].lead or units[k].caption:
                return found[::-1], k
        k -= 1
    return found[::-1], k


def _body_after(units: list[_Unit], j: int) -> list[int]:
    """Body units of the stretch below unit j-1, down to the next title line or the next
    paragraph opening another piece with a dateline."""
    found, k = [], j
    while k < len(units) and units[k].kind != TITLE:
        if units[k].kind == BODY:
            if found and (units[k].lead or units[k].caption):
                break
            found.append(k)
        k += 1
    return found


def opens_article(u: _Unit | None) -> bool:
    """True for a unit that starts a piece by its shape: a kicker, byline or dateline line, or a
    paragraph opening with a dateline or a caption marker."""
    return u is not None and (u.kind in (KICKER, BYLINE, DATELINE) or (u.kind == BODY and bool(u.lead or u.caption)))


def _headed(units: list[_Unit], i: int, placed: dict[int, int]) -> bool:
    """True when the body running above unit i sits under a headline of its own: walking up
    past its paragraphs and subheads we meet title lines placed before a body.
    A paragraph opening with a dateline is headed only by a headline right above it; a jump
    line (上接…) leaves it unknown (False): the text may carry on another piece."""
    k = i - 1
    while k >= 0:
        u = units[k]
        if u.kind == KICKER:
            return False  # a section label tops the piece, but its headline may come after it
        if u.kind == TITLE:
            if placed.get(k) == SUB:
                k -= 1
                continue
            return placed.get(k) == NEXT
        if u.kind in (JUMP_IN, DATELINE, CREDIT):
            return False  # a jump line, or a closing dateline/credit line ending the piece above
        if u.kind == BODY and (u.lead or u.caption):  # the piece opens here: headed if a head tops it
            k -= 1
            while k >= 0 and units[k].kind == BYLINE:
                k -= 1
            return k >= 0 and units[k].kind == TITLE and placed.get(k) == NEXT
        k -= 1
    return False


def title_rows(units: list[_Unit], i: int, j: int, blank_page: bool, placed: dict[int, int],
               wrapped: bool = False) -> np.ndarray:
    """Feature rows (TITLE_FEATURES) of the title lines units[i:j], one per line; `placed` holds
    the labels of the title lines above (decided first: the page is read top down). The last
    line of a run may be body text cut short unless a plain paragraph follows on a page that is
    not hard-wrapped (`wrapped`): only a column break puts a paragraph's first words on a line
    of their own."""
    before, head = _body_before(units, i)
    after = _body_after(units, j)
    prev_terms, next_terms = _body_text(units, before[-4:]), _body_text(units, after[:3])
    last = units[i - 1] if i > 0 else None
    prev_headed = _headed(units, i, placed)
    continuity = overlap(_body_text(units, after[:1]), prev_terms)
    rows = []
    for k in range(i, j):
        line = terms(units[k].text)
        p, n = overlap(line, prev_terms), overlap(line, next_terms)
        words = pos_cut(units[k].text)
        rows.append([
            p, n, n - p, float(bool(before)), float(bool(after)),
            float(opens_article(units[j] if j < len(units) else None)), float(prev_headed), continuity,
            float(last is not None and last.kind == BODY and last.unfinished),
            float(last is not None and last.kind in (CREDIT, DATELINE)),
            float(blank_page and k > 0 and units[k - 1].block != units[k].block),
            float(blank_page and k + 1 < len(units) and units[k + 1].block != units[k].block),
            float(blank_page), float(k == i), float(k == j - 1), float(j - i), math.log1p(len(units[k].text)),
            float(k == i and last is not None and last.kind == BODY), float(any(c in units[k].text for c in "，,、；")),
            float(bool(words) and words[0][1][:1] in FUNCTION_POS),
            float(bool(words) and words[-1][1][:1] in FUNCTION_POS),
            # A sentence cut at a column's or page's end often leaves half a word: one character.
            float(bool(words) and len(words[-1][0]) == 1 and is_cjk(words[-1][0])),
            # On a page with blank lines, title lines printed without one between them form one block.
            float(blank_page and k + 1 < j and units[k + 1].block == units[k].block),
            float(k == j - 1 and (j == len(units) or units[j].kind != BODY or bool(units[j].lead) or wrapped)),
        ])
    return np.asarray(rows, dtype=np.float64)


def place_title_lines(model: Classifier, rows: np.ndarray, has_prev: bool, has_next: bool,
                      fragments: bool = True, fragment_prior: float = 0.0) -> list[int]:
    """A label per line of a title run: the first line, right after body text, and the last
    line (see title_rows) may be body fragments (FRAG, when `fragments`); between them lines may
    close the body above (PREV), the rest all open the body below (NEXT) or all stay in the
    running article (SUB); the most likely such labelling under the model, the first line's
    FRAG score raised by `fragment_prior` when it follows body text."""
    logp = model.scores(rows).copy()
    # A body under a headline of its own takes no second one (one headline per piece).
    may_close = has_prev and not rows[0, TITLE_FEATURES.index("prev_headed")]
    n = len(rows)
    heads = (0, 1) if fragments and rows[0, TITLE_FEATURES.index("after_body")] else (0,)
    if heads == (0, 1):
        logp[0, FRAG] += fragment_prior
    tails = (0, 1) if fragments and rows[-1, TITLE_FEATURES.index("tail_may_be_body")] else (0,)
    best, labels = -np.inf, [NEXT] * n
    for f in heads:
        for t in tails:
            m = n - f - t  # lines left for headline labels
            if m < 0:
                continue
            for a in range(m + 1):
                if a and not may_close:
                    break
                for rest in (NEXT, SUB):
                    if a < m and (not has_next or (rest == SUB and not has_prev)):
                        continue
                    score = (logp[:f, FRAG].sum() + logp[f:f + a, PREV].sum() + logp[f + a:n - t, rest].sum()
                             + logp[n - t:, FRAG].sum())
                    if score > best:
                        best, labels = score, [FRAG] * f + [PREV] * a + [rest] * (m - a) + [FRAG] * t
                    if a == m:
                        break
    return labels


def resume_row(units: list[_Unit], p: int, q: int, labels: dict[int, int]) -> list[float]:
    """RESUME_FEATURES of unit q resuming the interrupted paragraph p (q > p + 1); `labels` are
    the page's title-line labels (a headline closing the piece above q says a piece ended)."""
    before = units[q - 1]
    head = terms(units[q].text[:120])
    own, _ = _body_before(units, p + 1)
    above, _ = _body_before(units, q)
    o_article, o_above = overlap(head, _body_text(units, own[-4:])), overlap(head, _body_text(units, above[-4:]))
    closing = (before.kind == TITLE and labels.get(q - 1) == PREV) or before.kind in (CREDIT, DATELINE)
    return [
        float(crosses_word(units[p].text, units[q].text)),
        float(junction_word(units[p].text, units[q].text)),
        float(before.kind == JUMP_IN),
        float(p + 1 < len(units) and units[p + 1].kind == JUMP_OUT),
        float(closing),
        float(before.kind == TITLE and labels.get(q - 1) in (NEXT, SUB)),  # a headline or subhead opens it
        float(before.kind == BODY and not before.unfinished),
        o_article, o_above, o_article - o_above, math.log(q - p),
        float(sum(u.kind == BODY for u in units[p + 1:q])),
    ]


def crosses_word(before: str, after: str) -> bool:
    """True when jieba cuts a word across the junction of `before` + `after` (e.g. 这|里有 -> 这里)."""
    tail, head = "".join(before.split())[-4:], "".join(after.split())[:4]
    if not tail or not head:
        return False
    pos = 0
    for word in cut(tail + head):
        if pos < len(tail) < pos + len(word):
            return True
        pos += len(word)
    return False


def junction_word(before: str, after: str) -> bool:
    """True when the characters either side of the junction spell a dictionary word together
    (1-2 characters from each side): a sentence cut inside a word."""
    tail, head = "".join(before.split())[-2:], "".join(after.split())[:2]
    if not tail or not head:
        return False
    return any(is_word(tail[-a:] + head[:b]) for a in (1, 2) for b in (1, 2) if a <= len(tail) and b <= len(head))


def blank_share(units: list[_Unit]) -> float:
    """Share of adjacent paragraph pairs that a blank line separates: on a page where every
    paragraph is blank-separated a blank line says nothing; where few are, it marks a new piece."""
    pairs = [(a, b) for a, b in zip(units, units[1:]) if a.kind == BODY and b.kind == BODY]
    return sum(a.block != b.block for a, b in pairs) / len(pairs) if pairs else 0.0


def split_row(units: list[_Unit], i: int, blank_page: bool, share: float) -> list[float]:
    """SPLIT_FEATURES of the junction between body units i-1 and i (TextTiling-style: the
    vocabulary shared across the junction, against within each side)."""
    a, b = units[i - 1], units[i]
    left, _ = _body_before(units, i)
    right = [i] + _body_after(units, i + 1)[:2] if not units[i].lead else [i]
    left_terms, right_terms = _body_text(units, left[-3:]), _body_text(units, right)
    head = terms(b.text[:120])
    tail_after = _body_text(units, right[1:])
    lr = overlap(head, left_terms)
    return [
        float(blank_page and a.block != b.block), share, float(a.unfinished),
        float(_closed(a.text)), overlap(right_terms, left_terms), lr, overlap(head, tail_after) if right[1:] else lr,
        (overlap(head, tail_after) if right[1:] else lr) - lr, math.log1p(len(a.text)), math.log1p(len(b.text)),
    ]


def _closed(text: str) -> bool:
    """True when a paragraph ends with a closing note: （完）, （记者 某某） and the like."""
    return TRAILING_NOTE_RE.search(text) is not None
