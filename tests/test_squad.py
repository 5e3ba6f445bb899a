"""SQuAD-like files as real sets ship them: empty questions, SQuAD 2.0 unanswerable items,
odd offsets, duplicate ids; scored with HasAns/NoAns figures, set-aside items in the report."""
import json

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.errors import EvalSetError
from qa.evaluation import evaluate, evaluate_gold_paragraph, gap_text, load_squad, with_load_notes
from qa.squad import read_squad
from qa.types import Answer, SpanPrediction

PMI = ("新华社北京5月31日电 国家统计局31日发布数据，5月份中国制造业采购经理指数（PMI）为50.6%，"
       "比上月回落0.5个百分点。其中，大型企业PMI为51.2%，中型企业PMI为50.1%。")
WEST_LAKE = ("西湖位于浙江省杭州市西湖区，湖面面积约6.38平方千米。2011年6月24日，"
             "杭州西湖文化景观被列入《世界遗产名录》。")


def squad_file(tmp_path, name, pmi_qas, lake_qas, **extra):
    data = {"version": "v1.0", "data": [
        {"title": "统计局发布5月PMI", "paragraphs": [{"id": "PMI", "context": PMI, "qas": pmi_qas}]},
        {"title": "西湖", "paragraphs": [{"id": "LAKE", "context": WEST_LAKE, "qas": lake_qas}]}], **extra}
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def ans(text, start):
    return {"text": text, "answer_start": start}


def trial_file(tmp_path):
    """Like the official CMRC 2018 trial file: some questions are empty strings."""
    return squad_file(tmp_path, "trial.json", [
        {"id": "TRIAL_0_QUERY_0", "question": "5月份制造业采购经理指数是多少？", "answers": [ans("50.6%", PMI.index("50.6%"))]},
        {"id": "TRIAL_0_QUERY_1", "question": "", "answers": [ans("51.2%", PMI.index("51.2%"))]},
        {"id": "TRIAL_0_QUERY_2", "question": "  \u3000", "answers": [ans("0.5个百分点", PMI.index("0.5个"))]},
    ], [
        {"id": "TRIAL_1_QUERY_0", "question": "西湖的湖面面积约为多少？", "answers": [ans("6.38平方千米", 19)]},
        {"id": "TRIAL_1_QUERY_1", "question": "西湖文化景观哪一天列入世界遗产名录？", "answers": [ans("", -1), ans(" ", -1)]},
        {"id": "TRIAL_1_QUERY_2", "answers": [ans("杭州市西湖区", 7)]},
    ])


def squad2_file(tmp_path):
    """SQuAD 2.0 style: is_impossible in several spellings, plausible answers, an odd flag."""
    return squad_file(tmp_path, "squad2.json", [
        {"id": "A1", "question": "5月份中型企业PMI为多少？", "is_impossible": "false", "answers": [ans("50.1%", 60)]},
        {"id": "U1", "question": "5月份小型企业PMI为多少？", "is_impossible": "true", "answers": [],
         "plausible_answers": [ans("50.1%", 60)]},
        {"id": "U2", "question": "6月份制造业PMI为多少？", "is_impossible": "True", "answers": []},
        {"id": "U3", "question": "5月份非制造业PMI为多少？", "is_impossible": 1, "answers": [ans("50.6%", 40)]},
        {"id": "U4", "question": "4月份制造业PMI为多少？", "plausible_answers": [ans("50.6%", 40)]},
    ], [
        {"id": "U5", "question": "西湖的最大水深是多少？", "is_impossible": "1", "answers": []},
        {"id": "U6", "question": "西湖有多少座桥？", "answers": []},
        {"id": "U7", "question": "西湖每年有多少游客？", "is_impossible": True, "answers": []},
        {"id": "A2", "question": "西湖位于哪个区？", "is_impossible": False, "answers": [ans("西湖区", 10)]},
        {"id": "X1", "question": "西湖何时建成？", "is_impossible": "maybe", "answers": []},
    ], version="v2.0")


def test_trial_file_with_empty_questions_lists_them_and_goes_on(tmp_path):
    loaded = read_squad(trial_file(tmp_path))
    assert [i.id for i in loaded.items] == ["TRIAL_0_QUERY_0", "TRIAL_1_QUERY_0"]
    reasons = {n.id: n.reason for n in loaded.unscoreable}
    assert set(reasons) == {"TRIAL_0_QUERY_1", "TRIAL_0_QUERY_2", "TRIAL_1_QUERY_1", "TRIAL_1_QUERY_2"}
    assert reasons["TRIAL_0_QUERY_1"].endswith("empty question")
    assert "data[0].paragraphs[0].qas[2]" in reasons["TRIAL_0_QUERY_2"]
    assert "answer text is empty" in reasons["TRIAL_1_QUERY_1"]
    assert "'question' is missing" in reasons["TRIAL_1_QUERY_2"]
    assert len(loaded.docs) == 2  # both paragraphs are still indexed


def test_a_question_the_assistant_would_refuse_is_listed_not_fatal(tmp_path):
    long_question = "国家统计局发布的数据中，" * 60 + "制造业PMI是多少？"
    path = squad_file(tmp_path, "long.json", [{"id": "LONG", "question": long_question, "answers": [ans("50.6%", 39)]},
                                              {"id": "OK", "question": "5月PMI是多少？", "answers": [ans("50.6%", 39)]}], [])
    loaded = read_squad(path)
    assert [i.id for i in loaded.items] == ["OK"]
    assert "at most 500" in loaded.unscoreable[0].reason and loaded.unscoreable[0].id == "LONG"


def test_squad2_unanswerable_in_every_spelling(tmp_path):
    loaded = read_squad(squad2_file(tmp_path))
    by_id = {i.id: i for i in loaded.items}
    assert {i for i, it in by_id.items() if it.unanswerable} == {"U1", "U2", "U3", "U4", "U5", "U6", "U7"}
    assert by_id["U3"].answers == ()  # is_impossible wins over answers a converter left behind
    assert by_id["A1"].answers == ("50.1%",) and not by_id["A1"].unanswerable
    assert by_id["A2"].answers == ("西湖区",)
    assert [(n.id, "'is_impossible' is 'maybe'" in n.reason) for n in loaded.unscoreable] == [("X1", True)]


class StubAssistant:
    """Abstains on the questions named; answers the others with a fixed span."""

    def __init__(self, abstain: set[str], answer: dict[str, str]):
        self.abstain, self.answer = abstain, answer

    def ask(self, question, history=()):
        if question in self.abstain:
            return Answer(question, "", 0.1, True, rewritten_question=question)
        return Answer(question, self.answer.get(question, "错误答案"), 0.9, False, rewritten_question=question)

    def retrieve(self, question, k):
        return []


def test_unanswerable_scored_as_official_squad2_and_split_hasans_noans(tmp_path):
    loaded = read_squad(squad2_file(tmp_path))
    q = {i.id: i.question for i in loaded.items}
    # Abstains on U1, U2, U5 (right) and on A2 (wrong); answers U3 (wrong) and A1 correctly.
    assistant = StubAssistant({q["U1"], q["U2"], q["U5"], q["A2"]}, {q["A1"]: "50.1%"})
    report = with_load_notes(evaluate(assistant, loaded.items), loaded)
    scores = {r.id: (r.em, r.f1) for r in report.questions}
    assert scores["U1"] == scores["U2"] == scores["U5"] == (1.0, 1.0)
    assert scores["U3"] == scores["U4"] == scores["U6"] == scores["U7"] == (0.0, 0.0)
    assert scores["A1"] == (1.0, 1.0) and scores["A2"] == (0.0, 0.0)
    m = report.metrics
    assert m["hasans_questions"] == 2 and m["hasans_em"] == 50.0 and m["hasans_f1"] == 50.0
    assert m["noans_questions"] == 7 and m["noans_accuracy"] == pytest.approx(100 * 3 / 7, abs=0.01)
    assert m["em"] == pytest.approx(100 * 4 / 9, abs=0.01) and m["unscoreable"] == 1
    assert report.to_json()["unscoreable"] == [{"id": "X1", "reason": loaded.unscoreable[0].reason}]


def test_offsets_are_only_hints_and_missing_answers_are_warned(tmp_path):
    f = squad_file(tmp_path, "offsets.json", [
        {"id": "O1", "question": "5月份制造业PMI是多少？", "answers": [ans("50.6%", PMI.index("50.6%") + 1)]},
        {"id": "O2", "question": "大型企业PMI是多少？", "answers": [ans("51.2%", -1), ans("51.2", -1)]},
        {"id": "O3", "question": "数据由哪个部门发布？", "answers": [{"text": "国家 统计局"}]},
        {"id": "O4", "question": "谁发布了数据？", "answers": [ans("中国人民银行", -1)]},
    ], [
        {"id": "O5", "question": "西湖哪一年被列入世界遗产名录？", "answers": [ans("2011年", 9999)]},
    ])
    loaded = read_squad(f)
    assert [i.id for i in loaded.items] == ["O1", "O2", "O3", "O4", "O5"] and not loaded.unscoreable
    assert loaded.items[1].answers == ("51.2%", "51.2")
    # "国家 统计局" differs from the context only by a space: not worth a warning
    assert [n.id for n in loaded.warnings] == ["O4"]


def test_duplicate_ids_are_kept_and_renamed(tmp_path):
    f = squad_file(tmp_path, "dups.json", [
        {"id": "Q1", "question": "5月份制造业PMI是多少？", "answers": [ans("50.6%", 40)]},
        {"id": "Q1", "question": "大型企业PMI是多少？", "answers": [ans("51.2%", 70)]},
        {"question": "中型企业PMI是多少？", "answers": [ans("50.1%", 80)]},
    ], [{"id": "Q1", "question": "西湖位于哪个区？", "answers": [ans("西湖区", 10)]}])
    data = json.loads(f.read_text("utf-8"))
    data["data"][1]["paragraphs"][0]["id"] = "PMI"  # two paragraphs under one id
    f.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    loaded = read_squad(f)
    assert [i.id for i in loaded.items] == ["Q1", "Q1#2", "data[0].paragraphs[0].qas[2]", "Q1#3"]
    assert [n.id for n in loaded.renamed] == ["Q1#2", "data[0].paragraphs[0].qas[2]", "Q1#3"]
    assert "duplicate id 'Q1'" in loaded.renamed[0].reason
    paths = [d.path for d, _ in loaded.docs]
    assert len(set(paths)) == 2 and loaded.items[3].gold_paths == (paths[1],)


def test_other_shapes_real_sets_ship(tmp_path):
    # Hugging Face flat rows as JSON Lines, answers as {"text": [...]}
    rows = [{"id": "H1", "title": "西湖", "context": WEST_LAKE, "question": "西湖位于哪个区？",
             "answers": {"text": ["西湖区"], "answer_start": [10]}},
            {"id": "H2", "title": "西湖", "context": WEST_LAKE, "question": "西湖有几座岛？",
             "answers": {"text": [], "answer_start": []}}]
    f = tmp_path / "rows.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    loaded = read_squad(f)
    assert [(i.id, i.answers, i.unanswerable) for i in loaded.items] == [("H1", ("西湖区",), False), ("H2", (), True)]
    assert len(loaded.docs) == 1
    # the original CMRC 2018 format: a bare list, context_text / query_text / query_id, string answers
    cmrc = [{"context_id": "C1", "title": "西湖", "context_text": WEST_LAKE,
             "qas": [{"query_id": "C1_Q1", "query_text": "西湖位于哪个区？", "answers": ["西湖区", "杭州市西湖区"]}]}]
    f = tmp_path / "cmrc_orig.json"
    f.write_text("\ufeff" + json.dumps(cmrc, ensure_ascii=False), "utf-8")  # with a BOM
    (item,) = read_squad(f).items
    assert item.id == "C1_Q1" and item.answers == ("西湖区", "杭州市西湖区") and item.gold_paths == ("cmrc_orig.json#C1",)


def test_unreadable_files_name_file_and_field(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"data": "oops"}', "utf-8")
    with pytest.raises(EvalSetError, match=r"bad.json: field 'data' must be a list"):
        read_squad(f)
    f.write_text('{\n "data": [\n  {"paragraphs": [}\n ]\n}', "utf-8")
    with pytest.raises(EvalSetError, match=r"bad.json: not valid JSON \(line 3 column"):
        read_squad(f)
    f.write_text('{"version": "1"}', "utf-8")
    with pytest.raises(EvalSetError, match="no field 'data'"):
        read_squad(f)
    f.write_text(json.dumps({"data": [{"paragraphs": [{"context": "", "qas": [{"id": "E1", "question": "问？"}]}]}]}),
                 "utf-8")
    with pytest.raises(EvalSetError, match=r"bad.json: no question that can be scored.*data\[0\]\.paragraphs\[0\].*'context'"):
        read_squad(f)
    with pytest.raises(EvalSetError, match="missing.json: cannot read"):
        read_squad(tmp_path / "missing.json")


class StubReader:
    """Reads the first answer-looking figure of the passage (a '%' span), else nothing."""

    def read(self, question, passages):
        import re
        from types import SimpleNamespace

        m = re.search(r"\d+\.\d+%", passages[0])
        spans = [SpanPrediction(0, m.start(), m.end(), m.group(), 5.0, 1.0)] if m else []
        return SimpleNamespace(spans=spans, margin=4.0)


def test_gold_paragraph_eval_and_gap_text_use_the_robust_loader(tmp_path):
    docs, items = load_squad(trial_file(tmp_path))
    paragraphs = {d.path: d.text for d, _ in docs}
    report = evaluate_gold_paragraph(StubReader(), paragraphs, items)
    assert [(q.id, q.prediction, q.em) for q in report.questions] == [
        ("TRIAL_0_QUERY_0", "50.6%", 1.0), ("TRIAL_1_QUERY_0", "", 0.0)]
    gap = gap_text(paragraphs[items[0].gold_paths[0]], items[0].answers)
    assert "50.6%" not in gap and "51.2%" in gap


runner = CliRunner()


def test_cli_eval_squad_runs_to_the_end_and_reports_set_aside_items(tmp_path, monkeypatch):
    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    f = trial_file(tmp_path)
    report = tmp_path / "report.json"
    r = runner.invoke(app, ["eval", "--squad", str(f), "--embedder", "fake", "--report", str(report)])
    assert r.exit_code == 0, r.output
    assert "unscoreable (not asked): 4" in r.output and "TRIAL_0_QUERY_1" in r.output
    data = json.loads(report.read_text("utf-8"))
    assert [q["id"] for q in data["questions"]] == ["TRIAL_0_QUERY_0", "TRIAL_1_QUERY_0"]
    assert sorted(n["id"] for n in data["unscoreable"]) == ["TRIAL_0_QUERY_1", "TRIAL_0_QUERY_2",
                                                             "TRIAL_1_QUERY_1", "TRIAL_1_QUERY_2"]
    assert data["metrics"]["unscoreable"] == 4 and data["metrics"]["hasans_questions"] == 2
    assert data["metrics"]["noans_questions"] == 0 and "noans_accuracy" not in data["metrics"]

    r = runner.invoke(app, ["eval", "--squad", str(squad2_file(tmp_path)), "--embedder", "fake",
                            "--report", str(report)])
    assert r.exit_code == 0, r.output
    data = json.loads(report.read_text("utf-8"))
    m = data["metrics"]
    assert m["questions"] == 9 and m["hasans_questions"] == 2 and m["noans_questions"] == 7
    assert 0 <= m["noans_accuracy"] <= 100 and m["unscoreable"] == 1
    noans = [q for q in data["questions"] if q["unanswerable"]]
    assert all(q["em"] == q["f1"] == float(q["abstained"]) for q in noans)
