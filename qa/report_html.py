"""An eval report as one self-contained HTML page (`qa eval --html FILE`).

`render_html` is pure: an EvalReport, or the JSON `qa eval --report` writes, in; an HTML
string out. The page needs no network: charts are inline SVG (see qa/report_charts.py), the
only script is a small inline filter for the table of wrong answers, and every piece of
text from the report goes through `html.escape`. Sections: metrics, F1/EM by answer type,
F1/EM by question word, a reliability diagram of confidence, the risk-coverage curve of
abstention, a latency histogram, the wrong answers, and the items that were not scored.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Sequence

from qa import report_charts as charts
from qa.errors import ConfigError, EvalSetError
from qa.metrics import em_score, f1_score

SECTIONS = ("metrics", "by-answer-type", "by-question-word", "reliability", "risk-coverage", "latency",
            "wrong-answers")
CHART_SECTIONS = ("by-answer-type", "by-question-word", "reliability", "risk-coverage", "latency")
MAKE_ONE = "qa eval --html eval/reports/latest.html"

# Interrogatives of Chinese grammar, in the order they decide: a question holding two goes to
# the first group here (为什么 before 什么, 什么时候 before 什么, a date asked with 哪一年 or
# 几月 is 何时). 几 comes late and never as 几乎 ("almost"), 哪 never as 哪怕 ("even if"):
# those are no questions. 称为/认为 + 什么 asks 什么, not 为什么.
_ZH_WORDS: tuple[tuple[str, str], ...] = (
    ("为什么", r"(?<![认成作称视定改名列选评划更转])为什么|为何|何故|为啥|怎么会"),
    ("何时", r"何时|什么时候|什么时间|何年|哪一?年|哪一?个?月|哪一?天|哪一?日|几月|几号|几日|几点|几时"),
    ("谁", r"谁"),
    ("哪", r"哪(?!怕)"),
    ("什么", r"什么|啥"),
    ("多少", r"多少|多久|多长"),
    ("怎么", r"怎么|怎样|如何|怎"),
    ("几", r"几(?!乎)"),
    ("是否", r"是否|是不是|有没有|能否|能不能|会不会|可否|吗\s*[？?]?\s*$"),
)
_EN_WORDS: tuple[tuple[str, str], ...] = (
    ("为什么", r"\bwhy\b"),
    ("何时", r"\bwhen\b|\b(?:what|which) (?:year|month|day|date|time)\b"),
    ("谁", r"\bwho(?:m|se)?\b"),
    ("多少", r"\bhow (?:many|much|long|far|old)\b"),
    ("哪", r"\bwhere\b|\bwhich\b"),
    ("怎么", r"\bhow\b"),
    ("什么", r"\bwhat\b"),
    ("是否", r"^(?:is|are|was|were|do|does|did|can|could|will|would|has|have|had|should)\b"),
)
_ZH_RE = tuple((w, re.compile(p)) for w, p in _ZH_WORDS)
_EN_RE = tuple((w, re.compile(p)) for w, p in _EN_WORDS)
_CJK = re.compile(r"[\u3400-\u9fff]")
GLOSS = {"为什么": "why", "何时": "when", "谁": "who", "哪": "which/where", "什么": "what", "多少": "how many",
         "怎么": "how", "几": "how many", "是否": "yes/no", "其他": "other"}


def question_word(question: str) -> str:
    """The interrogative a question asks with, as one of the groups of GLOSS (an English
    question maps to the Chinese word it translates); "其他" when it has none."""
    text = question.strip()
    table, text = (_ZH_RE, text) if _CJK.search(text) else (_EN_RE, text.lower())
    for word, pattern in table:
        if pattern.search(text):
            return word
    return "其他"


@dataclass(frozen=True)
class Row:
    """One question of a report, as the page shows it; `span` is the answer given or withheld."""

    id: str
    question: str
    prediction: str
    abstained: bool
    answers: tuple[str, ...]
    unanswerable: bool
    em: float
    f1: float
    confidence: float
    latency_ms: float
    evidence: str
    source: str
    answer_type: str
    withheld: str

    @property
    def span(self) -> str:
        return self.withheld if self.abstained else self.prediction

    def span_scores(self) -> tuple[float, float] | None:
        """(EM, F1) of the span as if it were answered; None when there is none."""
        if not self.span:
            return None
        if self.unanswerable or not self.answers:
            return 0.0, 0.0  # answering an unanswerable question is wrong
        return em_score(self.span, self.answers), f1_score(self.span, self.answers)


def report_rows(report: Any) -> tuple[dict, list[Row], list[dict]]:
    """(metrics, rows, items not scored) of an EvalReport or of its JSON; EvalSetError when a
    question lacks what the page needs."""
    data = report.to_json() if hasattr(report, "to_json") else report
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise EvalSetError("not an eval report: expected an object with a 'questions' list, as "
                           "`qa eval --report` writes it")
    rows: list[Row] = []
    for i, q in enumerate(data["questions"]):
        try:
            rows.append(Row(str(q["id"]), str(q.get("question") or ""), str(q.get("prediction") or ""),
                            bool(q.get("abstained")), tuple(str(a) for a in q.get("answers") or ()),
                            bool(q.get("unanswerable")), float(q["em"]), float(q["f1"]),
                            float(q.get("confidence") or 0.0), float(q.get("latency_ms") or 0.0),
                            str(q.get("evidence") or ""), str(q.get("source") or ""),
                            str(q.get("answer_type") or ""), str(q.get("withheld") or "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise EvalSetError(f"report questions[{i}]: {exc!r} ({q!r:.120}); each question needs an "
                               "id and numeric em and f1") from exc
    notes = [dict(n, kind=kind) for kind in ("unscoreable", "renamed", "warnings")
             for n in data.get(kind) or () if isinstance(n, dict)]
    return dict(data.get("metrics") or {}), rows, notes


def wrong_rows(rows: Sequence[Row]) -> list[Row]:
    """The questions not exactly right (EM below 1), worst F1 first, then most confident."""
    return sorted((r for r in rows if r.em < 1.0), key=lambda r: (r.f1, -r.confidence, r.id))


def current_point(rows: Sequence[Row]) -> charts.CoveragePoint | None:
    """Where the report itself sits on the risk-coverage plane: share answered and their F1."""
    answered = [r for r in rows if not r.abstained]
    if not rows:
        return None
    f1 = 100 * sum(r.f1 for r in answered) / len(answered) if answered else 0.0
    lowest = min((r.confidence for r in answered), default=1.0)
    return charts.CoveragePoint(lowest, len(answered) / len(rows), f1)


def render_html(report: Any, title: str = "") -> str:
    """The whole page for `report` (an EvalReport or its JSON), charts inline."""
    metrics, rows, notes = report_rows(report)
    threshold = metrics.get("threshold")
    threshold = float(threshold) if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) else None
    spans = [(r, s) for r in rows if (s := r.span_scores()) is not None]
    by_type = charts.group_scores([(r.answer_type or "(unknown)", r.em, r.f1) for r in rows])
    by_word = charts.group_scores([(f"{w} {GLOSS[w]}", r.em, r.f1) for r in rows
                                   for w in (question_word(r.question),)])
    bins = charts.reliability_bins([(r.confidence, s[0] >= 1.0) for r, s in spans])
    curve = charts.risk_coverage([(r.confidence, s[1]) for r, s in spans], len(rows))
    lat = [r.latency_ms for r in rows]
    wrong = wrong_rows(rows)
    heading = title or "eval report"
    body = [
        f"<h1>讯答 Xunda · {escape(heading)}</h1>",
        _section("metrics", "Metrics", _metrics_table(metrics)),
        _section("by-answer-type", "F1 / EM by answer type",
                 "<p>The answer type the question analysis expected; (unknown) in reports written before "
                 "it was recorded.</p>" + charts.groups_svg("by-type", by_type, "answer type")),
        _section("by-question-word", "F1 / EM by question word",
                 "<p>The interrogative of the question (an English question counts as the word it "
                 "translates).</p>" + charts.groups_svg("by-word", by_word, "question word")),
        _section("reliability", "Reliability of confidence",
                 f"<p>{len(spans)} questions with a span (answered, or withheld by an abstention), binned by "
                 "confidence: the share whose span is exactly right should match the confidence.</p>"
                 + charts.reliability_svg(bins)),
        _section("risk-coverage", "Risk-coverage of abstention",
                 "<p>Answering only the questions whose confidence reaches a threshold t: the share answered "
                 "and the F1 of those answered. The red point is this run"
                 + (f" (threshold {threshold:.3f})" if threshold is not None else "")
                 + ". Spans withheld by abstentions are only known in reports written since they are "
                   "recorded.</p>" + charts.risk_coverage_svg(curve, current_point(rows), threshold)),
        _section("latency", "Latency",
                 "<p>Time to answer each question (with several --workers, answers share the cores).</p>"
                 + charts.latency_svg(lat, _num(metrics.get("latency_p50_ms")), _num(metrics.get("latency_p95_ms")))),
        _section("wrong-answers", f"Wrong answers ({len(wrong)} of {len(rows)})", _wrong_table(wrong)),
    ]
    if notes:
        body.append(_section("not-scored", f"Items not scored or renamed ({len(notes)})", _notes_list(notes)))
    return PAGE.format(title=escape(heading), body="\n".join(body), script=SCRIPT)


def write_html(report: Any, path: str | Path, title: str = "") -> Path:
    """Render `report` and write it to `path` atomically (a reader never sees half a page)."""
    path = Path(path)
    page = render_html(report, title)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # the folder itself is unusable: there is no temporary file either
            pass
        raise ConfigError(f"{path}: cannot write the HTML report ({exc.strerror or exc}); give --html a "
                          "file in a writable folder") from exc
    return path


def default_reports_dir() -> Path:
    """eval/reports of the checkout (or of the current folder when not run from one)."""
    project = Path(__file__).resolve().parents[1]
    return (project if (project / "eval").is_dir() else Path.cwd()) / "eval" / "reports"


def latest_report(folder: str | Path | None = None) -> Path | None:
    """The most recently modified *.html file of `folder` (default eval/reports); None if none."""
    found: list[tuple[float, str, Path]] = []
    for p in Path(folder or default_reports_dir()).glob("*.html"):
        try:
            if p.is_file():
                found.append((p.stat().st_mtime, p.name, p))
        except OSError:  # removed while we looked
            continue
    return max(found)[2] if found else None


# -- pieces of the page -----------------------------------------------------------------------
def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _section(key: str, heading: str, inner: str) -> str:
    return f'<section id="{key}"><h2>{escape(heading)}</h2>\n{inner}\n</section>'


def _metrics_table(metrics: dict) -> str:
    cells = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in metrics.items())
    return f'<table class="metrics">{cells}</table>'


def _wrong_table(wrong: Sequence[Row]) -> str:
    head = ("<tr><th>id</th><th>question</th><th>type / word</th><th>prediction</th><th>gold</th>"
            "<th>F1</th><th>conf.</th><th>evidence</th><th>source</th></tr>")
    lines = []
    for r in wrong:
        if r.abstained:
            pred = "<em>(abstained)</em>" + (f"<br><small>withheld: {escape(r.withheld)}</small>" if r.withheld else "")
        else:
            pred = escape(r.prediction) or "<em>(empty)</em>"
        gold = " / ".join(escape(a) for a in r.answers) if r.answers else "<em>(unanswerable)</em>"
        lines.append(f"<tr><td>{escape(r.id)}</td><td>{escape(r.question)}</td>"
                     f"<td>{escape(r.answer_type or '?')} / {escape(question_word(r.question))}</td>"
                     f"<td>{pred}</td><td>{gold}</td><td>{r.f1:.2f}</td><td>{r.confidence:.2f}</td>"
                     f"<td>{escape(r.evidence)}</td><td>{escape(r.source)}</td></tr>")
    return ('<p><input id="filter" type="search" placeholder="filter: any text of a row (id, question, '
            'answer, evidence…)" size="60"> <span id="shown">' + str(len(wrong)) + "</span> shown</p>"
            f'<table id="wrong" class="rows"><thead>{head}</thead><tbody>{"".join(lines)}</tbody></table>')


def _notes_list(notes: Sequence[dict]) -> str:
    items = "".join(f"<li>{escape(str(n.get('kind')))}: {escape(str(n.get('id')))}: {escape(str(n.get('reason')))}</li>"
                    for n in notes)
    return f"<ul>{items}</ul>"


SCRIPT = """
const box = document.getElementById('filter');
if (box) {
  const rows = Array.from(document.querySelectorAll('#wrong tbody tr'));
  box.addEventListener('input', () => {
    const q = box.value.trim().toLowerCase();
    let n = 0;
    for (const r of rows) {
      const hit = !q || r.textContent.toLowerCase().includes(q);
      r.hidden = !hit;
      n += hit ? 1 : 0;
    }
    document.getElementById('shown').textContent = n;
  });
}
"""

PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 1.5em auto;
       max-width: 1100px; padding: 0 1em; color: #111827; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; border-bottom: 1px solid #e5e7eb; padding-bottom: .2em; }}
section p {{ color: #4b5563; font-size: .92em; }}
svg {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; font-size: .88em; }}
th, td {{ border: 1px solid #e5e7eb; padding: .25em .5em; text-align: left; vertical-align: top; }}
table.metrics th {{ font-weight: normal; color: #4b5563; }}
table.rows td:nth-child(8) {{ max-width: 28em; }}
#filter {{ padding: .3em; font-size: 1em; max-width: 100%; }}
</style></head>
<body>
{body}
<script>{script}</script>
</body></html>
"""
