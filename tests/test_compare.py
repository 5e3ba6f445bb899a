"""`qa eval --compare OLD.json NEW.json`: fixed / broken / changed questions, F1 and EM deltas,
a paired bootstrap interval of the F1 difference, exit 6 on a regression beyond it."""
import json

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.compare import bootstrap_ci, compare_reports, load_report
from qa.errors import EvalSetError

runner = CliRunner()

QUESTIONS = [
    ("q01", "5月份制造业采购经理指数是多少？", ["50.6%"]),
    ("q02", "5月份大型企业PMI是多少？", ["51.2%"]),
    ("q03", "5月份中型企业PMI是多少？", ["50.1%"]),
    ("q04", "PMI比上月回落了多少？", ["0.5个百分点"]),
    ("q05", "数据由哪个部门发布？", ["国家统计局"]),
    ("q06", "西湖位于哪个区？", ["西湖区"]),
    ("q07", "西湖的湖面面积约为多少？", ["6.38平方千米"]),
    ("q08", "西湖文化景观哪一年列入世界遗产名录？", ["2011年"]),
    ("q09", "西湖所在的城市是哪里？", ["杭州市"]),
    ("q10", "5月份小型企业PMI是多少？", []),
]


def question(qid, text, answers, prediction, em=None, f1=None):
    """One question as `qa eval --report` writes it (abstained when prediction is None)."""
    abstained = prediction is None
    if em is None:
        em = float(abstained) if not answers else float(prediction in answers)
    return {"id": qid, "question": text, "prediction": prediction or "", "abstained": abstained,
            "answers": answers, "em": em, "f1": em if f1 is None else f1, "gold_rank": 1, "evidence": "",
            "latency_ms": 12.0, "confidence": 0.8, "rewritten_question": text, "unanswerable": not answers}


def write_report(path, predictions, copies=1):
    """A hand-made report; `copies` repeats the ten questions under new ids (q01-2 ...)."""
    rows = []
    for c in range(copies):
        suffix = f"-{c + 1}" if copies > 1 else ""
        for (qid, text, answers), pred in zip(QUESTIONS, predictions):
            rows.append(question(qid + suffix, text, answers, pred))
    path.write_text(json.dumps({"metrics": {}, "questions": rows}, ensure_ascii=False), "utf-8")
    return path


ALL_RIGHT = ["50.6%", "51.2%", "50.1%", "0.5个百分点", "国家统计局", "西湖区", "6.38平方千米", "2011年", "杭州市", None]


def test_fixed_broken_changed_and_a_noisy_difference(tmp_path):
    old_preds = list(ALL_RIGHT)
    old_preds[2] = "51.2%"          # q03 wrong in OLD
    new_preds = list(ALL_RIGHT)
    new_preds[5] = "浙江省"          # q06 broken
    new_preds[9] = "50.1%"          # q10 (unanswerable) answered: broken
    old = write_report(tmp_path / "old.json", old_preds)
    new = write_report(tmp_path / "new.json", new_preds)
    c = compare_reports(old, new)
    assert [x.id for x in c.fixed] == ["q03"] and [x.id for x in c.broken] == ["q06", "q10"]
    assert c.broken[1].new_prediction == "50.1%" and c.broken[1].old_abstained
    assert c.shared == 10 and c.overall.f1_delta == pytest.approx(-10.0) and c.overall.em_delta == pytest.approx(-10.0)
    assert {g.name: g.questions for g in c.groups} == {"all": 10, "hasans": 9, "noans": 1}
    assert c.ci_low < -10.0 < c.ci_high and c.ci_high >= 0 and not c.regression

    r = runner.invoke(app, ["eval", "--compare", str(old), str(new)])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "fixed (1):" in out and "q03" in out and "51.2% -> 50.1%" in out
    assert "broken (2):" in out and "西湖区" in out and "(abstained) -> 50.1%" in out
    assert "paired bootstrap 95% interval" in out and "2000 resamples" in out


def test_clear_regression_exits_6_and_json_lists_everything(tmp_path):
    worse = list(ALL_RIGHT)
    for i in (0, 1, 4, 6):
        worse[i] = "不知道"
    old = write_report(tmp_path / "old.json", ALL_RIGHT, copies=4)
    new = write_report(tmp_path / "new.json", worse, copies=4)
    r = runner.invoke(app, ["eval", "--compare", str(old), str(new)])
    assert r.exit_code == 6, r.output
    assert "broken (16):" in r.output and "regression" in r.output

    r = runner.invoke(app, ["eval", "--compare", str(old), str(new), "--json"])
    assert r.exit_code == 6
    data = json.loads(r.stdout)
    assert data["regression"] is True and data["ci_high"] < 0 and data["shared"] == 40
    assert len(data["broken"]) == 16 and data["fixed"] == [] and data["groups"][0]["f1_delta"] == -40.0
    assert data["resamples"] == 2000 and data["seed"] == 0

    # the same two reports the other way round: an improvement, exit 0
    r = runner.invoke(app, ["eval", "--compare", str(new), str(old)])
    assert r.exit_code == 0 and "fixed (16):" in r.output and "better beyond the interval" in r.output


def test_partial_credit_and_reports_that_only_partly_overlap(tmp_path):
    old = write_report(tmp_path / "old.json", ALL_RIGHT)
    rows = json.loads(old.read_text("utf-8"))["questions"][:5]
    rows[0] = question("q01", QUESTIONS[0][1], ["50.6%"], "50.6%左右", em=0.0, f1=0.8)
    rows[3] = {**rows[3], "prediction": "0.5个百分点。"}  # same EM and F1, another string
    rows.append(question("q99", "新增的问题？", ["答案"], "答案"))
    new = tmp_path / "new.json"
    new.write_text(json.dumps({"questions": rows}, ensure_ascii=False), "utf-8")
    c = compare_reports(old, new)
    assert c.shared == 5 and c.only_new == ("q99",) and len(c.only_old) == 5
    assert [x.id for x in c.broken] == ["q01"] and [x.id for x in c.changed] == ["q04"]
    assert c.overall.f1_delta == pytest.approx(-4.0) and c.overall.em_delta == pytest.approx(-20.0)


def test_bootstrap_is_seeded_and_exact_for_constant_differences():
    diffs = [0.0, -1.0, 0.5, 0.0, 0.0, -0.2, 0.1, 0.0]
    assert bootstrap_ci(diffs) == bootstrap_ci(diffs)
    lo, hi = bootstrap_ci(diffs)
    assert lo < sum(diffs) / len(diffs) < hi
    assert bootstrap_ci([-0.25] * 30) == pytest.approx((-0.25, -0.25))


def test_bad_reports_are_clear_errors(tmp_path):
    old = write_report(tmp_path / "old.json", ALL_RIGHT)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"questions": [question("DEV_0_QUERY_0", "问题？", ["甲"], "甲")]}), "utf-8")
    with pytest.raises(EvalSetError, match="share no question id"):
        compare_reports(old, other)
    r = runner.invoke(app, ["eval", "--compare", str(old), str(other)])
    message = " ".join(r.output.split())  # rich wraps long messages
    assert r.exit_code == 1 and "share no question id" in message and "Traceback" not in message

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"questions": [{"id": "q01", "f1": "high", "em": 1}]}), "utf-8")
    with pytest.raises(EvalSetError, match=r"broken.json: questions\[0\] \(id 'q01'\): field 'f1'"):
        load_report(broken)
    broken.write_text(json.dumps({"metrics": {"f1": 50}}), "utf-8")
    with pytest.raises(EvalSetError, match="no 'questions' list"):
        load_report(broken)
    r = runner.invoke(app, ["eval", "--compare", str(old), str(old), "--squad", str(old)])
    assert r.exit_code == 1 and "runs no questions" in " ".join(r.output.split())


def test_compare_reads_reports_written_by_qa_eval(tmp_path, monkeypatch):
    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    data = {"data": [{"title": "西湖", "paragraphs": [{"id": "P1", "context": "西湖位于浙江省杭州市西湖区，湖面面积约6.38平方千米。",
                                                       "qas": [{"id": "Q1", "question": "西湖位于哪个区？",
                                                                "answers": [{"text": "西湖区", "answer_start": 10}]},
                                                               {"id": "Q2", "question": "西湖有多深？", "is_impossible": "true",
                                                                "answers": []}]}]}]}
    squad = tmp_path / "lake.json"
    squad.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    for name in ("a.json", "b.json"):
        r = runner.invoke(app, ["eval", "--squad", str(squad), "--embedder", "fake", "--report", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json"])
    assert r.exit_code == 0, r.output
    c = json.loads(r.stdout)
    assert c["shared"] == 2 and c["fixed"] == c["broken"] == c["changed"] == []
    assert c["ci_low"] == c["ci_high"] == 0.0
