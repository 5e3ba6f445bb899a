"""From the reader's spans to the product's Answer: the best span of the retrieved passages,
the sentence holding it, its place in the article, and a calibrated confidence.

The confidence is a logistic model of the reading's scores (qa/models/reader_calibration.json,
fitted by bench/calibrate_reader.py on readings of the train file only); the product abstains
below a threshold, by default the calibration's own.
"""
from __future__ import annotations

from typing import Sequence

from qa.answer import hit_source
from qa.question import QuestionAnalysis, analyze_question
from qa.reader.confidence import Calibration, evidence_sentence, reading_features
from qa.text import is_cjk
from qa.types import Answer, Hit

EARLY_PASSAGES = 2  # passages read before the early stop may end the reading


def reader_question(question: str, analysis: QuestionAnalysis | None) -> str:
    """What the network reads: an English question bridged to Chinese reads as its Chinese words."""
    if analysis is not None and analysis.lang == "en" and any(is_cjk(ch) for ch in analysis.normalized):
        return analysis.normalized
    return question


def neural_answer(question: str, hits: Sequence[Hit], reader, calibration: Calibration, *,
                  threshold: float, rewritten_question: str = "",
                  analysis: QuestionAnalysis | None = None, deadline: float | None = None) -> Answer:
    """The reader's best span over the hits as an Answer, or an abstention with the closest
    passages; past the `deadline` (time.monotonic()) passages not yet read are left unread."""
    hits = tuple(hits)
    asked = reader_question(rewritten_question or question, analysis)
    passages = [h.chunk.text for h in hits]
    # The analysis of the question searched for (an English one carries its Chinese bridge words).
    asked_analysis = analysis or analyze_question(asked)

    def confidence(reading, read: Sequence[str]) -> float:
        return calibration.confidence(reading_features(reading, read, asked_analysis))

    if calibration.early_confidence is None:
        result = reader.read(asked, passages, deadline)
    else:
        early = calibration.early_confidence
        result = reader.read_until(asked, passages, first=EARLY_PASSAGES, deadline=deadline,
                                   enough=lambda reading: confidence(reading, passages[:EARLY_PASSAGES]) >= early)
    conf = confidence(result, passages)
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
