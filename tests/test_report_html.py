"""The HTML eval report: every chart and section, the wrong answers, escaping, the numbers behind
the charts, the question-word groups, atomic writing, the newest report, and `qa eval --html`."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from qa import report_charts as charts
from qa.errors import ConfigError, EvalSetError
from qa.evaluation import EvalReport, LoadNote, QuestionResult
from qa.report_html import (CHART_SECTIONS, SECTIONS, latest_report, question_word, render_html,
                            report_rows, wrong_rows, write_html)

ROOT = Path(__file__).resolve().parents[1]
EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>'


def result(qid: str, question: str, prediction: str, answers: tuple[str, ...], *, conf: float,
           abstained: bool = False, withheld: str = "", answer_type: str = "number",
           latency: float = 40.0, evidence: str = "", unanswerable: bool = False) -> QuestionResult:
    from qa.metrics import em_score, f1_score

    em = float(abstained) if unanswerable else em_score(prediction, answers)
    f1 = float(abstained) if unanswerable else f1_score(prediction, answers)
    return QuestionResult(qid, question, prediction, abstained, answers, em, f1, 1, evidence, latency, conf,
                          question, unanswerable, answer_type=answer_type, withheld=withheld,
                          source="《某报》 a.txt" if prediction or withheld else "")


def hand_made_report() -> EvalReport:
    """Seven questions: 3 right, 1 partly right, 1 wrong with markup everywhere, 1 abstained on
    an answerable question (a right span withheld), 1 unanswerable abstained on (right)."""
    qs = (
        result("r1", "5月PMI是多少？", "50.6%", ("50.6%",), conf=0.95, latency=30.0),
        result("r2", "谁担任主任？", "王明", ("王明",), conf=0.85, answer_type="person", latency=50.0),
        result("r3", "大会于何时开幕？", "6月2日", ("6月2日",), conf=0.75, answer_type="date", latency=70.0),
        result("p1", "为什么推迟开幕？", "天气原因推迟", ("天气原因",), conf=0.65, answer_type="reason",
               evidence="因天气原因推迟开幕。", latency=90.0),
        result("w1<x>", f"{EVIL}哪家公司中标？", f"{EVIL}丙厂", ("乙公司",), conf=0.55,
               answer_type=f"org{EVIL}", evidence=f"证据{EVIL}", latency=110.0),
        result("a1", "How many visitors came?", "", ("8万人次",), conf=0.05, abstained=True,
               withheld="8万人次", latency=130.0),
        result("u1", "火星上有几座城市？", "", (), conf=0.02, abstained=True, unanswerable=True,
               answer_type="quantity", latency=150.0),
    )
    metrics = {"questions": 7, "f1": 60.0, "threshold": 0.1, "latency_p50_ms": 90.0, "latency_p95_ms": 144.0}
    return EvalReport(metrics, qs, unscoreable=(LoadNote("x1", f"empty question {EVIL}"),))


def test_page_holds_every_section_and_one_svg_per_chart():
    page = render_html(hand_made_report(), title="seed <set>")
    for key in SECTIONS:
        assert f'<section id="{key}">' in page
    for key in CHART_SECTIONS:
        section = page.split(f'<section id="{key}">', 1)[1].split("</section>", 1)[0]
        assert section.count("<svg") == 1, key
    assert page.count("<svg") == len(CHART_SECTIONS) == 5
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[:6] == ["Metrics", "F1 / EM by answer type", "F1 / EM by question word",
                            "Reliability of confidence", "Risk-coverage of abstention", "Latency"]
    assert headings[6] == "Wrong answers (3 of 7)" and "not scored" in headings[7]
    assert "seed &lt;set&gt;" in page
    # self-contained: nothing is fetched (no src/href to anything, no external script)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<link" not in page and page.count("<script") == 1


def test_charts_carry_the_groups_and_the_threshold():
    page = render_html(hand_made_report())
    by_word = page.split('<section id="by-question-word">', 1)[1].split("</section>", 1)[0]
    for word in ("多少", "谁", "何时", "为什么", "哪", "几"):
        assert word in by_word
    by_type = page.split('<section id="by-answer-type">', 1)[1].split("</section>", 1)[0]
    assert "person" in by_type and "date" in by_type
    assert "threshold 0.100" in page.split('<section id="risk-coverage">', 1)[1]


def test_wrong_answers_table_holds_exactly_the_wrong_ones_worst_first():
    report = hand_made_report()
    page = render_html(report)
    table = page.split('<table id="wrong"', 1)[1].split("</table>", 1)[0]
    ids = re.findall(r"<tr><td>(.*?)</td>", table)
    assert ids == ["w1&lt;x&gt;", "a1", "p1"]  # F1 0 (more confident first), then the partial one
    assert [r.id for r in wrong_rows(report_rows(report)[1])] == ["w1<x>", "a1", "p1"]
    assert "withheld: 8万人次" in table and "因天气原因推迟开幕。" in table and "《某报》 a.txt" in table
    assert 'id="filter"' in page and "<span id=\"shown\">3</span>" in page


def test_every_text_of_the_report_is_escaped():
    page = render_html(hand_made_report())
    assert "<img" not in page and "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    assert page.count("<script") == 1  # only the page's own filter script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text, in table and list
    assert "empty question &lt;script&gt;" in page


def test_report_json_renders_like_the_report_and_old_reports_still_render():
    report = hand_made_report()
    data = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert render_html(data) == render_html(report)
    for q in data["questions"]:  # a report written before these fields existed
        for key in ("answer_type", "withheld", "source"):
            q.pop(key)
    page = render_html(data)
    assert "(unknown)" in page and page.count("<svg") == 5
    with pytest.raises(EvalSetError, match="questions"):
        render_html({"metrics": {}})
    with pytest.raises(EvalSetError, match=r"questions\[0\]"):
        render_html({"questions": [{"id": "a", "em": "x", "f1": 1}]})


def test_an_empty_report_still_draws_every_chart():
    page = render_html(EvalReport({"questions": 0}, ()))
    assert page.count("<svg") == 5 and "Wrong answers (0 of 0)" in page


def test_chart_numbers():
    groups = charts.group_scores([("a", 1.0, 1.0), ("b", 0.0, 0.5), ("a", 0.0, 0.0)])
    assert groups == [charts.GroupScore("a", 2, 50.0, 50.0), charts.GroupScore("b", 1, 0.0, 50.0)]
    bins = charts.reliability_bins([(0.05, False), (0.95, True), (1.0, False), (0.92, True)])
    assert [(b.low, b.questions) for b in bins] == [(0.0, 1), (0.9, 3)]
    assert bins[1].accuracy == pytest.approx(2 / 3) and bins[1].confidence == pytest.approx((0.95 + 1 + 0.92) / 3)
    assert charts.calibration_error(bins) == pytest.approx((0.05 + 3 * abs(2 / 3 - 2.87 / 3)) / 4)
    curve = charts.risk_coverage([(0.9, 1.0), (0.5, 0.0), (0.5, 1.0), (0.1, 0.0)], total=5)
    assert [(p.threshold, p.coverage, round(p.f1, 2)) for p in curve] == [
        (0.9, 0.2, 100.0), (0.5, 0.6, 66.67), (0.1, 0.8, 50.0)]


@pytest.mark.parametrize("question, word", [
    ("谁是该公司的董事长？", "谁"), ("5月份PMI是多少？", "多少"), ("大会于何时开幕？", "何时"),
    ("工程哪一年完工？", "何时"), ("他几月份到任？", "何时"), ("为什么推迟？", "为什么"),
    ("该节被称为什么？", "什么"), ("在哪个城市举行？", "哪"), ("共有几家企业参展？", "几"),
    ("市场几乎停滞的原因是什么？", "什么"), ("如何申请补贴？", "怎么"), ("他是否出席了会议？", "是否"),
    ("会议已经结束了吗？", "是否"), ("请介绍一下背景。", "其他"), ("Who is the chairman of the group?", "谁"),
    ("How many visitors came?", "多少"), ("When did it open?", "何时"), ("What is the PMI?", "什么"),
])
def test_question_word(question, word):
    assert question_word(question) == word


def test_write_html_is_atomic_and_says_what_to_do_when_it_cannot(tmp_path):
    out = write_html(hand_made_report(), tmp_path / "reports" / "latest.html", "t")
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["latest.html"]  # no temporary file left
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="--html"):
        write_html(hand_made_report(), blocker / "r.html")


def test_latest_report_is_the_newest_html_file(tmp_path):
    assert latest_report(tmp_path) is None
    old, new = tmp_path / "b_old.html", tmp_path / "a_new.html"
    for p, when in ((old, 1_000_000), (new, 2_000_000)):
        p.write_text("<html></html>")
        os.utime(p, (when, when))
    (tmp_path / "notes.json").write_text("{}")
    assert latest_report(tmp_path) == new


def test_cli_eval_writes_the_html_report_with_two_workers(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from qa.cli import app

    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(ROOT / "seeds", tmp_path / "corpus")
    runner = CliRunner()
    index = tmp_path / "index"
    assert runner.invoke(app, ["ingest", str(tmp_path / "corpus"), "--index", str(index), "--embedder",
                               "fake"]).exit_code == 0
    eval_set = tmp_path / "set.jsonl"
    rows = [{"id": "q1", "question": "5月份制造业采购经理指数为多少？", "answers": ["50.6%"]},
            {"id": "q2", "question": "6月份火星移民人数是多少？", "answers": [], "unanswerable": True}]
    eval_set.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    html, report = tmp_path / "out" / "r.html", tmp_path / "r.json"
    r = runner.invoke(app, ["eval", "--set", str(eval_set), "--index", str(index), "--embedder", "fake",
                            "--workers", "2", "--html", str(html), "--report", str(report)])
    assert r.exit_code == 0, r.output
    assert "HTML report written" in r.output and html.read_text("utf-8").count("<svg") == 5
    data = json.loads(report.read_text("utf-8"))
    assert data["metrics"]["workers"] == 2 and "threshold" in data["metrics"]
    assert {"answer_type", "withheld", "source"} <= set(data["questions"][0])
    r = runner.invoke(app, ["eval", "--set", str(eval_set), "--index", str(index), "--embedder", "fake",
                            "--workers", "0"])
    assert r.exit_code == 1 and "workers=0" in r.output
