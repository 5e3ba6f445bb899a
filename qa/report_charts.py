"""The numbers behind the charts of the HTML eval report, and the charts as inline SVG.

The numbers are pure functions of report rows (tested on their own); the charts are drawn
with matplotlib's object API (no pyplot, so no global figure state and no GUI backend) and
written as SVG text that the page embeds. SVG text is kept as <text> elements (not glyph
paths), so the browser draws Chinese labels with its own fonts and the page stays small.
"""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import Sequence

RELIABILITY_BINS = 10
LATENCY_BINS = 30
BAR_COLORS = ("#2563eb", "#f59e0b")  # F1, EM
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "PingFang SC", "SimHei", "Heiti SC")


@dataclass(frozen=True)
class GroupScore:
    """EM/F1 (0-100) over the questions of one group (an answer type or a question word)."""

    label: str
    questions: int
    em: float
    f1: float


@dataclass(frozen=True)
class ReliabilityBin:
    """Questions whose confidence lies in [low, high): their mean confidence and the share
    whose span is right (EM 1)."""

    low: float
    high: float
    questions: int
    confidence: float
    accuracy: float


@dataclass(frozen=True)
class CoveragePoint:
    """Answering every question whose confidence is at least `threshold`: the share of all
    questions answered and the mean F1 (0-100) of those answered."""

    threshold: float
    coverage: float
    f1: float


def group_scores(rows: Sequence[tuple[str, float, float]]) -> list[GroupScore]:
    """EM/F1 by group from (label, em, f1) rows; largest groups first, then by label."""
    groups: dict[str, list[tuple[float, float]]] = {}
    for label, em, f1 in rows:
        groups.setdefault(label, []).append((em, f1))
    out = [GroupScore(label, len(v), round(100 * sum(e for e, _ in v) / len(v), 2),
                      round(100 * sum(f for _, f in v) / len(v), 2)) for label, v in groups.items()]
    return sorted(out, key=lambda g: (-g.questions, g.label))


def reliability_bins(scored: Sequence[tuple[float, bool]], bins: int = RELIABILITY_BINS) -> list[ReliabilityBin]:
    """Equal-width confidence bins over [0, 1] of (confidence, right) pairs; empty bins left out
    (confidence 1.0 falls in the last bin)."""
    acc: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for conf, right in scored:
        acc[min(bins - 1, max(0, int(conf * bins)))].append((conf, right))
    return [ReliabilityBin(i / bins, (i + 1) / bins, len(b), sum(c for c, _ in b) / len(b),
                           sum(r for _, r in b) / len(b)) for i, b in enumerate(acc) if b]


def calibration_error(bins: Sequence[ReliabilityBin]) -> float:
    """Expected calibration error: the question-weighted mean |accuracy - confidence| of the bins."""
    n = sum(b.questions for b in bins)
    return sum(b.questions * abs(b.accuracy - b.confidence) for b in bins) / n if n else 0.0


def risk_coverage(scored: Sequence[tuple[float, float]], total: int) -> list[CoveragePoint]:
    """The curve of abstention from (confidence, F1 if answered) pairs of the questions that
    have a span, out of `total` questions: one point per distinct confidence, highest first."""
    ordered = sorted(scored, key=lambda p: -p[0])
    points: list[CoveragePoint] = []
    f1_sum = 0.0
    for i, (conf, f1) in enumerate(ordered):
        f1_sum += f1
        if i + 1 == len(ordered) or ordered[i + 1][0] != conf:  # ties enter together
            points.append(CoveragePoint(conf, (i + 1) / max(total, 1), 100 * f1_sum / (i + 1)))
    return points


# -- drawing ----------------------------------------------------------------------------------
def _figure(name: str, width: float, height: float):
    """A figure outside pyplot, and the rc settings every chart is drawn under."""
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    installed = {f.name for f in font_manager.fontManager.ttflist}
    rc = {"svg.fonttype": "none",  # text stays text: the browser's CJK fonts draw it
          "svg.hashsalt": f"xunda-{name}",  # ids differ between the SVGs of one page
          "text.parse_math": False,  # "$" in a label from a report is text, never mathtext
          "font.family": "sans-serif",
          "font.sans-serif": ["DejaVu Sans", *[f for f in CJK_FONTS if f in installed]],
          "font.size": 10, "axes.spines.top": False, "axes.spines.right": False}
    return Figure(figsize=(width, height), layout="constrained"), rc


def _svg(fig, rc: dict) -> str:
    """The figure as one <svg> element (no XML prolog, no date: the same report, the same page)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # Without a CJK font installed, matplotlib warns while measuring Chinese labels; the
        # browser still draws them (svg.fonttype none), only the layout estimate is rougher.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return re.sub(r"\s*<!--.*?-->\s*", "\n", text[text.index("<svg"):], flags=re.S).strip()


def _no_data(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#6b7280")
    ax.set_xticks([])
    ax.set_yticks([])


def groups_svg(name: str, groups: Sequence[GroupScore], axis_label: str) -> str:
    """Horizontal F1 and EM bars per group, with each group's question count."""
    import matplotlib

    fig, rc = _figure(name, 7.5, 1.4 + 0.42 * max(len(groups), 1))
    with matplotlib.rc_context(rc):
        ax = fig.add_subplot()
        if not groups:
            _no_data(ax, "no questions")
        else:
            ys = range(len(groups))
            ax.barh([y - 0.2 for y in ys], [g.f1 for g in groups], 0.4, label="F1", color=BAR_COLORS[0])
            ax.barh([y + 0.2 for y in ys], [g.em for g in groups], 0.4, label="EM", color=BAR_COLORS[1])
            for y, g in zip(ys, groups):
                ax.text(min(g.f1, 88) + 1, y - 0.2, f"{g.f1:.1f}", va="center", fontsize=8)
            ax.set_yticks(list(ys), [f"{g.label}  (n={g.questions})" for g in groups])
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("score (0-100)")
            ax.set_ylabel(axis_label)
            ax.legend(loc="lower right", fontsize=8)
        return _svg(fig, rc)


def reliability_svg(bins: Sequence[ReliabilityBin]) -> str:
    """Accuracy against mean confidence per bin, beside the diagonal of perfect calibration."""
    import matplotlib

    fig, rc = _figure("reliability", 5.5, 4.6)
    with matplotlib.rc_context(rc):
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], ls="--", color="#9ca3af", label="perfectly calibrated")
        if bins:
            ax.bar([b.low for b in bins], [b.accuracy for b in bins], width=[b.high - b.low for b in bins],
                   align="edge", color=BAR_COLORS[0], alpha=0.35, edgecolor=BAR_COLORS[0], label="accuracy (EM)")
            ax.plot([b.confidence for b in bins], [b.accuracy for b in bins], "o-", color=BAR_COLORS[0])
            for b in bins:
                ax.text((b.low + b.high) / 2, min(b.accuracy, 0.9) + 0.03, str(b.questions), ha="center",
                        fontsize=7, color="#374151")
            ax.set_title(f"expected calibration error {calibration_error(bins):.3f}", fontsize=9)
        else:
            ax.text(0.5, 0.5, "no spans", ha="center", va="center", color="#6b7280")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("confidence")
        ax.set_ylabel("share right (EM 1)")
        ax.legend(loc="upper left", fontsize=8)
        return _svg(fig, rc)


def risk_coverage_svg(points: Sequence[CoveragePoint], current: CoveragePoint | None, threshold: float | None) -> str:
    """F1 of the answered questions against the share answered; the current threshold marked."""
    import matplotlib

    fig, rc = _figure("risk-coverage", 6.5, 4.2)
    with matplotlib.rc_context(rc):
        ax = fig.add_subplot()
        if points:
            ax.step([0.0] + [p.coverage for p in points], [points[0].f1] + [p.f1 for p in points],
                    where="pre", color=BAR_COLORS[0], label="answer when confidence ≥ t")
        else:
            ax.text(0.5, 50, "no spans", ha="center", va="center", color="#6b7280")
        if current is not None:
            label = (f"threshold {threshold:.3f}" if threshold is not None else "as run") + \
                    f": {100 * current.coverage:.1f}% answered, F1 {current.f1:.1f}"
            ax.plot([current.coverage], [current.f1], "o", ms=9, color="#dc2626", label=label)
            ax.axvline(current.coverage, color="#dc2626", ls=":", lw=1)
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 102)
        ax.set_xlabel("coverage (share of questions answered)")
        ax.set_ylabel("F1 of the answered (0-100)")
        if points or current is not None:
            ax.legend(loc="lower left", fontsize=8)
        return _svg(fig, rc)


def latency_svg(latencies_ms: Sequence[float], p50: float | None, p95: float | None) -> str:
    """A histogram of per-question latency with its median and 95th percentile."""
    import matplotlib

    fig, rc = _figure("latency", 6.5, 3.6)
    with matplotlib.rc_context(rc):
        ax = fig.add_subplot()
        if latencies_ms:
            ax.hist(latencies_ms, bins=LATENCY_BINS, color=BAR_COLORS[0], alpha=0.8)
            for value, label, style in ((p50, "p50", "--"), (p95, "p95", ":")):
                if value is not None:
                    ax.axvline(value, color="#dc2626", ls=style, label=f"{label} {value:.0f} ms")
            ax.set_xlabel("latency per question (ms)")
            ax.set_ylabel("questions")
            ax.legend(fontsize=8)
        else:
            _no_data(ax, "no questions")
        return _svg(fig, rc)
