"""From the reader's spans to the product's Answer: the best span of the retrieved passages,
the sentence holding it, its place in the article, and a calibrated confidence.

The confidence is a logistic model of the reading's scores (qa/models/reader_calibration.json,
fitted by bench/calibrate_reader.py on readings of the train file only); the product abstains
below a threshold, by default the calibration's own.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from qa.answer import hit_source
from qa.errors import ModelFileError
from qa.question import QuestionAnalysis
from qa.text import is_cjk, split_sentences
from qa.types import Answer, Hit, ReaderResult

CALIBRATION = Path(__file__).resolve().parents[1] / "models" / "reader_calibration.json"
FEATURES = ("margin", "window_margin", "runner_up_gap")


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over FEATURES, the threshold chosen when fitting them, and the reading
    settings they were fitted under (decoder length penalty, window tokens; None = as trained)."""

    coef: tuple[float, ...]
    intercept: float
    threshold: float
    length_penalty: float = 0.0
    max_len: int | None = None
    # Read the two best passages first and stop there when their reading is at least this
    # confident (None: always read every passage); chosen by bench/ask_speed.py's sweep.
    early_confidence: float | None = None

    def confidence(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(c * features[f] for c, f in zip(self.coef, FEATURES))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def load_calibration(path: Path = CALIBRATION) -> Calibration:
    """The fitted calibration; a ModelFileError naming the file when it is missing or damaged."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"features {data['features']} are not {list(FEATURES)}")
        penalty = float(data.get("length_penalty", 0.0))
        if penalty < 0:
            raise ValueError(f"length_penalty {penalty} is negative")
        max_len = data.get("max_len")
        early = data.get("early_confidence")
        if early is not None and not 0.0 <= float(early) <= 1.0:
            raise ValueError(f"early_confidence {early} is not in [0, 1]")
        return Calibration(tuple(float(c) for c in data["coef"]), float(data["intercept"]), float(data["threshold"]),
                           penalty, int(max_len) if max_len is not None else None,
                           float(early) if early is not None else None)
    except FileNotFoundError as exc:
        raise ModelFileError(str(path), "the reader calibration file is missing") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(str(path), f"the reader calibration file is damaged ({exc})") from exc


def reading_features(result: ReaderResult) -> dict[str, float]:
    """Scores the confidence is computed from (clipped: a logit beyond ±20 says nothing more)."""
    clip = lambda x: max(-20.0, min(20.0, x))  # noqa: E731
    if not result.spans:
        return {"margin": -20.0, "window_margin": -20.0, "runner_up_gap": 0.0}
    best = result.spans[0]
    rival = next((s for s in result.spans[1:] if s.end <= best.start or s.start >= best.end
                  or s.passage != best.passage), None)
    return {"margin": clip(result.margin), "window_margin": clip(best.margin),
            "runner_up_gap": clip(best.score - rival.score) if rival else 20.0}


def reader_question(question: str, analysis: QuestionAnalysis | None) -> str:
    """What the network reads: an English question bridged to Chinese reads as its Chinese words."""
    if analysis is not None and analysis.lang == "en" and any(is_cjk(ch) for ch in analysis.normalized):
        return analysis.normalized
    return question


def neural_answer(question: str, hits: Sequence[Hit], reader, calibration: Calibration, *,
                  threshold: float, rewritten_question: str = "",
                  analysis: QuestionAnalysis | None = None) -> Answer:
    """The reader's best span over the hits as an Answer, or an abstention with the closest passages."""
    hits = tuple(hits)
    asked = reader_question(rewritten_question or question, analysis)
    passages = [h.chunk.text for h in hits]
    if calibration.early_confidence is None:
        result = reader.read(asked, passages)
    else:
        early = calibration.early_confidence
        result = reader.read_until(asked, passages,
                                   lambda reading: calibration.confidence(reading_features(reading)) >= early)
    conf = calibration.confidence(reading_features(result))
    answer_type = analysis.answer_type if analysis else ""
    if not result.spans or conf < threshold:
        return Answer(question=question, text="", confidence=conf, abstained=True,
                      sources=tuple(hit_source(h, h.chunk.start, h.chunk.end) for h in hits),
                      rewritten_question=rewritten_question, answer_type=answer_type, hits=hits)
    best = result.spans[0]
    h = hits[best.passage]
    ss, se = evidence_sentence(h.chunk.text, best.start, best.end)
    base = h.chunk.start
    others = tuple(hit_source(x, x.chunk.start, x.chunk.end) for j, x in enumerate(hits) if j != best.passage)
    return Answer(
        question=question, text=best.text, confidence=conf, abstained=False,
        evidence=h.chunk.text[ss:se], sources=(hit_source(h, base + best.start, base + best.end),) + others,
        rewritten_question=rewritten_question, start=base + best.start, end=base + best.end,
        evidence_start=base + ss, evidence_end=base + se, date=h.date, answer_type=answer_type, hits=hits)


def evidence_sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of `text` holding [start, end): from the one where it starts to the one
    where it ends."""
    spans = split_sentences(text)
    first = next((s for s in spans if s[0] <= start < s[1]), (start, end))
    last = next((s for s in spans if s[0] < end <= s[1]), first)
    return min(first[0], start), max(last[1], end)
