"""Two saved `qa eval --report` files of one set, compared question by question.

A question is *right* when its EM is 1 (an unanswerable one: when it was abstained on, as the
official SQuAD 2.0 script scores it). *Fixed*: wrong in OLD, right in NEW; *broken*: the
reverse; *changed*: another prediction (or abstention) with the same rightness. The F1/EM
deltas are over the questions both reports hold, overall and split HasAns/NoAns. The
confidence interval of the F1 difference is a paired bootstrap: the shared questions
resampled with replacement `resamples` times with a fixed seed (the same two reports always
give the same interval), the mean per-question F1 difference of each resample, and its
2.5th and 97.5th percentiles. NEW is a regression when the whole interval lies below 0.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.errors import ConfigError, EvalSetError

RESAMPLES = 2000
SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class ReportRow:
    """The fields of one question of a saved report that a comparison needs."""

    id: str
    question: str
    prediction: str
    abstained: bool
    answers: tuple[str, ...]
    em: float
    f1: float
    unanswerable: bool


@dataclass(frozen=True)
class QuestionChange:
    """One shared question whose prediction or score differs between the two reports."""

    id: str
    question: str
    answers: tuple[str, ...]
    unanswerable: bool
    old_prediction: str
    new_prediction: str
    old_abstained: bool
    new_abstained: bool
    old_em: float
    new_em: float
    old_f1: float
    new_f1: float


@dataclass(frozen=True)
class GroupDelta:
    """EM/F1 (0-100) of OLD and NEW over a group of shared questions (all, hasans, noans)."""

    name: str
    questions: int
    old_em: float
    new_em: float
    old_f1: float
    new_f1: float
    em_delta: float
    f1_delta: float


@dataclass(frozen=True)
class Comparison:
    """Everything `qa eval --compare` prints; `regression` is the exit-6 verdict."""

    old: str
    new: str
    shared: int
    only_old: tuple[str, ...]
    only_new: tuple[str, ...]
    groups: tuple[GroupDelta, ...]
    ci_low: float
    ci_high: float
    confidence: float
    resamples: int
    seed: int
    regression: bool
    fixed: tuple[QuestionChange, ...]
    broken: tuple[QuestionChange, ...]
    changed: tuple[QuestionChange, ...]
    question_differs: tuple[str, ...]

    @property
    def overall(self) -> GroupDelta:
        return self.groups[0]

    def to_json(self) -> dict:
        """The comparison as plain JSON types (what `--compare --json` prints)."""
        return asdict(self)


def load_report(path: str | Path) -> list[ReportRow]:
    """The questions of a report written by `qa eval --report`; EvalSetError names the file,
    the question and the field when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise EvalSetError(f"{path}: cannot read the report ({exc.strerror or exc}); check the path") from exc
    except ValueError as exc:
        raise EvalSetError(f"{path}: not valid JSON ({exc}); give a file written by `qa eval --report`") from exc
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        raise EvalSetError(f"{path}: no 'questions' list: not a report written by `qa eval --report`")
    rows: list[ReportRow] = []
    seen: set[str] = set()
    for i, q in enumerate(questions):
        where = f"{path}: questions[{i}]"
        if not isinstance(q, dict):
            raise EvalSetError(f"{where}: expected an object")
        if not isinstance(q.get("id"), (str, int)) or isinstance(q.get("id"), bool):
            raise EvalSetError(f"{where}: field 'id' must be a string")
        qid = str(q["id"])
        if qid in seen:
            raise EvalSetError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        for key in ("em", "f1"):
            v = q.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise EvalSetError(f"{where} (id {qid!r}): field {key!r} must be a number, got {v!r}")
        answers = q.get("answers") or ()
        rows.append(ReportRow(qid, str(q.get("question", "")), str(q.get("prediction") or ""),
                              bool(q.get("abstained", False)), tuple(map(str, answers)),
                              float(q["em"]), float(q["f1"]), bool(q.get("unanswerable", False))))
    return rows


def bootstrap_ci(diffs: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED,
                 confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile interval of the mean of `diffs` over `resamples` resamples with replacement
    (numpy's PCG64 with `seed`: the same input always gives the same interval)."""
    if resamples < 1:
        raise ConfigError(f"resamples={resamples!r}: give a whole number >= 1")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence={confidence!r}: give a number between 0 and 1")
    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        raise ConfigError("bootstrap of no differences: compare at least one question")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, 2_000_000 // d.size)  # bounded memory for large sets: ~16 MB of indices at a time
    for start in range(0, resamples, step):
        stop = min(resamples, start + step)
        means[start:stop] = d[rng.integers(0, d.size, size=(stop - start, d.size))].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def compare(old: Sequence[ReportRow], new: Sequence[ReportRow], *, old_name: str = "OLD", new_name: str = "NEW",
            resamples: int = RESAMPLES, seed: int = SEED, confidence: float = CONFIDENCE) -> Comparison:
    """Compare two reports' questions over the ids they share (in NEW's order); EvalSetError
    when they share none (not reports of the same set)."""
    old_by_id = {r.id: r for r in old}
    new_ids = {r.id for r in new}
    pairs = [(old_by_id[r.id], r) for r in new if r.id in old_by_id]
    if not pairs:
        def sample(rows: Sequence[ReportRow]) -> str:
            return ", ".join(repr(r.id) for r in list(rows)[:3]) or "none"

        raise EvalSetError(f"{old_name} and {new_name} share no question id ({len(old)} questions, e.g. "
                           f"{sample(old)}; {len(new)} questions, e.g. {sample(new)}): --compare needs two "
                           "reports of the same set")
    diffs = [n.f1 - o.f1 for o, n in pairs]
    lo, hi = bootstrap_ci(diffs, resamples, seed, confidence)
    fixed, broken, changed = [], [], []
    for o, n in pairs:
        change = QuestionChange(n.id, n.question, n.answers, n.unanswerable, o.prediction, n.prediction,
                                o.abstained, n.abstained, o.em, n.em, o.f1, n.f1)
        right_old, right_new = o.em >= 1.0, n.em >= 1.0
        if right_new and not right_old:
            fixed.append(change)
        elif right_old and not right_new:
            broken.append(change)
        elif (o.prediction, o.abstained, o.f1) != (n.prediction, n.abstained, n.f1):
            changed.append(change)
    changed.sort(key=lambda c: (c.new_f1 - c.old_f1, c.id))  # the worst changes first
    groups = [_group("all", pairs)]
    for name, want in (("hasans", False), ("noans", True)):
        members = [(o, n) for o, n in pairs if n.unanswerable == want]
        if members:
            groups.append(_group(name, members))
    return Comparison(
        old=old_name, new=new_name, shared=len(pairs),
        only_old=tuple(r.id for r in old if r.id not in new_ids),
        only_new=tuple(r.id for r in new if r.id not in old_by_id),
        groups=tuple(groups), ci_low=round(100 * lo, 2), ci_high=round(100 * hi, 2), confidence=confidence,
        resamples=resamples, seed=seed, regression=hi < 0, fixed=tuple(fixed), broken=tuple(broken),
        changed=tuple(changed),
        question_differs=tuple(o.id for o, n in pairs if o.question and n.question and o.question != n.question))


def compare_reports(old: str | Path, new: str | Path, **kwargs) -> Comparison:
    """Load two saved reports and compare them (see `compare` for the options)."""
    return compare(load_report(old), load_report(new), old_name=str(old), new_name=str(new), **kwargs)


def _group(name: str, pairs: Sequence[tuple[ReportRow, ReportRow]]) -> GroupDelta:
    n = len(pairs)
    old_em = 100 * sum(o.em for o, _ in pairs) / n
    new_em = 100 * sum(x.em for _, x in pairs) / n
    old_f1 = 100 * sum(o.f1 for o, _ in pairs) / n
    new_f1 = 100 * sum(x.f1 for _, x in pairs) / n
    return GroupDelta(name, n, round(old_em, 2), round(new_em, 2), round(old_f1, 2), round(new_f1, 2),
                      round(new_em - old_em, 2), round(new_f1 - old_f1, 2))


def render_text(c: Comparison, changed_limit: int | None = None) -> list[str]:
    """The comparison as plain lines for a terminal: summary, interval, verdict, then the
    fixed and broken questions in full and the first `changed_limit` changed ones."""
    names = {"all": "overall", "hasans": "HasAns", "noans": "NoAns"}
    lines = [f"{c.old} -> {c.new}: {c.shared} shared questions"
             + (f" ({len(c.only_old)} only in OLD, {len(c.only_new)} only in NEW, not compared)"
                if c.only_old or c.only_new else "")]
    for g in c.groups:
        lines.append(f"  {names.get(g.name, g.name):<8} {g.questions:>5} questions  F1 {g.old_f1:.2f} -> "
                     f"{g.new_f1:.2f} ({g.f1_delta:+.2f})  EM {g.old_em:.2f} -> {g.new_em:.2f} ({g.em_delta:+.2f})")
    lines.append(f"F1 difference, paired bootstrap {round(100 * c.confidence)}% interval: "
                 f"[{c.ci_low:+.2f}, {c.ci_high:+.2f}] ({c.resamples} resamples, seed {c.seed})")
    if c.regression:
        lines.append("verdict: NEW is worse beyond the interval (regression)")
    elif c.ci_low > 0:
        lines.append("verdict: NEW is better beyond the interval")
    else:
        lines.append("verdict: no difference beyond the interval")
    if c.question_differs:
        lines.append(f"warning: {len(c.question_differs)} shared ids hold another question text "
                     f"(e.g. {c.question_differs[0]!r}); are these reports of the same set?")
    shown = {"fixed": c.fixed, "broken": c.broken,
             "changed": c.changed if changed_limit is None else c.changed[:changed_limit]}
    for label, rows in shown.items():
        total = len(getattr(c, label))
        lines.append(f"{label} ({total}):")
        lines.extend(_change_line(x) for x in rows)
        if len(rows) < total:
            lines.append(f"  ... and {total - len(rows)} more (--json lists them all)")
    return lines


def _change_line(x: QuestionChange) -> str:
    def shown(pred: str, abstained: bool) -> str:
        return "(abstained)" if abstained else pred or "(empty)"

    gold = " / ".join(x.answers) or "(unanswerable)"
    return (f"  {x.id} {x.question}  {shown(x.old_prediction, x.old_abstained)} -> "
            f"{shown(x.new_prediction, x.new_abstained)}  f1 {x.old_f1:.2f} -> {x.new_f1:.2f} | gold: {gold}")
