"""How sure the neural reader is of its best span: a logistic model over the reading's scores
and over how much of the question the answer's sentence states.

The model (qa/models/reader_calibration.json) is fitted by bench/calibrate_reader.py on readings
of the train file only: answerable ones, "gap" ones (the article with the answer's sentences cut:
on topic, fact missing) and off-topic ones. The file names the features it was fitted on, so an
older file with fewer features still loads.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from qa.candidates import conflicts, coverage, fold, keyword_weights
from qa.errors import ModelFileError
from qa.question import QuestionAnalysis
from qa.text import split_sentences
from qa.types import ReaderResult

CALIBRATION = Path(__file__).resolve().parents[1] / "models" / "reader_calibration.json"
# Every feature reading_features computes; a calibration file uses these or a subset of them.
FEATURES = ("margin", "window_margin", "runner_up_gap",
            # The share of the question's keywords (weighted by length) that the answer's sentence
            # and its passage print, and how much better the best-matching sentence of any
            # passage matches: a passage on the topic that lacks the asked fact answers from a
            # sentence that matches the question less than the one that was cut would have.
            "sentence_cover", "passage_cover", "better_sentence",
            # The question names a date part the answer's passage contradicts; the share of the
            # question's numbers the passage does not print.
            "date_conflict", "numbers_missing")


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over `features`, the threshold chosen when fitting them, and the reading
    settings they were fitted under (decoder length penalty, window tokens; None = as trained)."""

    coef: tuple[float, ...]
    intercept: float
    threshold: float
    length_penalty: float = 0.0
    max_len: int | None = None
    # Read the two best passages first and stop there when their reading is at least this
    # confident (None: always read every passage); chosen by bench/ask_speed.py's sweep.
    early_confidence: float | None = None
    features: tuple[str, ...] = FEATURES[:3]

    def confidence(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(c * features[f] for c, f in zip(self.coef, self.features))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def load_calibration(path: Path = CALIBRATION) -> Calibration:
    """The fitted calibration; a ModelFileError naming the file when it is missing or damaged."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        names = tuple(data["features"])
        unknown = [f for f in names if f not in FEATURES]
        if unknown or not names:
            raise ValueError(f"features {unknown or names} are not among {list(FEATURES)}")
        if len(data["coef"]) != len(names):
            raise ValueError(f"{len(data['coef'])} coefficients for {len(names)} features")
        penalty = float(data.get("length_penalty", 0.0))
        if penalty < 0:
            raise ValueError(f"length_penalty {penalty} is negative")
        max_len = data.get("max_len")
        early = data.get("early_confidence")
        if early is not None and not 0.0 <= float(early) <= 1.0:
            raise ValueError(f"early_confidence {early} is not in [0, 1]")
        return Calibration(tuple(float(c) for c in data["coef"]), float(data["intercept"]), float(data["threshold"]),
                           penalty, int(max_len) if max_len is not None else None,
                           float(early) if early is not None else None, names)
    except FileNotFoundError as exc:
        raise ModelFileError(str(path), "the reader calibration file is missing") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(str(path), f"the reader calibration file is damaged ({exc})") from exc


def reading_features(result: ReaderResult, passages: Sequence[str],
                     analysis: QuestionAnalysis) -> dict[str, float]:
    """Every feature of FEATURES for one reading of `passages` (clipped: a logit beyond ±20
    says nothing more); an empty reading gets the values of a clear "no"."""
    clip = lambda x: max(-20.0, min(20.0, x))  # noqa: E731
    if not result.spans:
        return {"margin": -20.0, "window_margin": -20.0, "runner_up_gap": 0.0, "sentence_cover": 0.0,
                "passage_cover": 0.0, "better_sentence": 1.0, "date_conflict": 0.0, "numbers_missing": 1.0}
    best = result.spans[0]
    rival = next((s for s in result.spans[1:] if s.end <= best.start or s.start >= best.end
                  or s.passage != best.passage), None)
    weights = keyword_weights(analysis)
    passage = passages[best.passage]
    start, end = evidence_sentence(passage, best.start, best.end)
    sentence_cover = coverage(weights, fold(passage[start:end]))
    best_cover = max((coverage(weights, fold(p[s:e])) for p in passages for s, e in split_sentences(p)),
                     default=0.0)
    date_conflict, numbers_missing = conflicts(analysis, fold(passage), "")
    return {"margin": clip(result.margin), "window_margin": clip(best.margin),
            "runner_up_gap": clip(best.score - rival.score) if rival else 20.0,
            "sentence_cover": sentence_cover, "passage_cover": coverage(weights, fold(passage)),
            "better_sentence": max(0.0, best_cover - sentence_cover),
            "date_conflict": date_conflict, "numbers_missing": numbers_missing}


def evidence_sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of `text` holding [start, end): from the one where it starts to the one
    where it ends."""
    spans = split_sentences(text)
    first = next((s for s in spans if s[0] <= start < s[1]), (start, end))
    last = next((s for s in spans if s[0] < end <= s[1]), first)
    return min(first[0], start), max(last[1], end)
