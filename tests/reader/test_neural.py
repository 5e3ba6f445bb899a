"""The shipped reader model answers with exact spans of the passage and says when a passage
lacks the fact; `qa eval --gold-paragraph` scores it."""
import json

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.errors import ConfigError, ModelFileError
from qa.reader.neural import DEFAULT_MODEL, NeuralReader

pytestmark = pytest.mark.reader

PASSAGE = ("据中央气象台消息，今年第3号台风“白鹿”于8日14时前后在福建省漳州市东山县沿海登陆，"
           "登陆时中心附近最大风力有12级。受其影响，福建、广东等地出现强降雨，部分航班取消。"
           "气象专家介绍，“白鹿”将继续向西北方向移动，强度逐渐减弱。")


@pytest.fixture(scope="module")
def reader() -> NeuralReader:
    return NeuralReader()


@pytest.mark.parametrize("question, expected", [
    ("台风白鹿在哪里登陆？", "漳州"),
    ("台风登陆时中心附近最大风力有几级？", "12级"),
    ("白鹿是今年第几号台风？", "3号"),
])
def test_answers_are_exact_spans(reader, question, expected):
    reading = reader.read(question, ["今年夏天雨水偏多。", PASSAGE])
    best = reading.spans[0]
    assert best.passage == 1
    assert PASSAGE[best.start : best.end] == best.text
    assert expected in best.text and len(best.text) <= 20


def test_no_answer_score_drops_when_the_fact_is_missing(reader):
    answerable = reader.read("台风登陆时中心附近最大风力有几级？", [PASSAGE])
    gap = reader.read("台风登陆时中心附近最大风力有几级？",
                      ["受台风影响，福建、广东等地出现强降雨，部分航班取消。气象专家介绍，台风将继续向西北方向移动。"])
    margin = lambda r: r.spans[0].score - r.no_answer  # noqa: E731
    assert margin(answerable) > 0 > margin(gap)


def test_empty_inputs_and_bad_settings(reader):
    assert reader.read("是谁？", []).spans == ()
    assert reader.read("   ", [PASSAGE]).spans == ()
    with pytest.raises(ConfigError, match="max_answer_tokens"):
        NeuralReader(max_answer_tokens=0)
    with pytest.raises(ConfigError, match="length_penalty.*-0.1"):
        NeuralReader(length_penalty=-0.1)


def test_a_reading_is_its_window_logits_decoded(reader):
    question = "台风“白鹿”在哪里登陆？"
    logits = reader.window_logits(question, [PASSAGE])
    assert len(logits.windows) == len(logits.starts) == len(logits.ends) >= 1
    assert reader.decode(question, [PASSAGE], logits) == reader.read(question, [PASSAGE])
    # a heavy length penalty never lengthens the best span
    long, short = reader.read(question, [PASSAGE]).spans[0], reader.decode(question, [PASSAGE], logits, 5.0).spans[0]
    assert len(short.text) <= len(long.text) and PASSAGE[short.start:short.end] == short.text


def test_missing_model_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="nope.npz"):
        NeuralReader(tmp_path / "nope.npz").read("谁？", [PASSAGE])
    assert DEFAULT_MODEL.exists()


def test_eval_gold_paragraph_cli(tmp_path):
    squad = {"data": [{"title": "台风", "paragraphs": [{"context": PASSAGE, "qas": [
        {"id": "q1", "question": "台风登陆时中心附近最大风力有几级？", "answers": [{"text": "12级", "answer_start": PASSAGE.index("12级")}]},
        {"id": "q2", "question": "白鹿是今年第几号台风？", "answers": [{"text": "第3号", "answer_start": PASSAGE.index("第3号")}]}]}]}]}
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    report = tmp_path / "report.json"
    r = CliRunner().invoke(app, ["eval", "--squad", str(path), "--gold-paragraph", "--report", str(report)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["metrics"]["questions"] == 2 and data["metrics"]["f1"] >= 50
    assert {q["id"] for q in data["questions"]} == {"q1", "q2"}
    r = CliRunner().invoke(app, ["eval", "--gold-paragraph"], catch_exceptions=False)
    assert r.exit_code == 1 and "--squad" in r.output


def test_read_until_stops_after_the_first_passages_only_when_told(reader):
    question = "台风登陆时中心附近最大风力有几级？"
    passages = [PASSAGE, "今年夏天雨水偏多。", "部分航班取消。", "气象专家介绍，强度逐渐减弱。"]
    full = reader.read(question, passages)
    seen = []

    def never(reading):
        seen.append(reading.windows)
        return False

    assert reader.read_until(question, passages, never) == full  # the rest read, decoded together
    assert seen == [reader.read(question, passages[:2]).windows]
    early = reader.read_until(question, passages, lambda reading: True)
    assert early == reader.read(question, passages[:2]) and early.windows < full.windows
    assert "12级" in early.spans[0].text and PASSAGE[early.spans[0].start:early.spans[0].end] == early.spans[0].text
    # the answer in a later passage keeps its index among all passages
    late = reader.read_until(question, ["今年夏天雨水偏多。", "部分航班取消。", PASSAGE], never)
    assert late.spans[0].passage == 2 and "12级" in late.spans[0].text
    with pytest.raises(ConfigError, match="first"):
        reader.read_until(question, passages, never, first=0)


def test_past_its_deadline_the_reader_reads_no_further_batch():
    import time

    one_at_a_time = NeuralReader(batch_size=1)
    question = "台风登陆时中心附近最大风力有几级？"
    passages = [PASSAGE, "今年夏天雨水偏多。", "部分航班取消。", "气象专家介绍，强度逐渐减弱。"]
    full = one_at_a_time.read(question, passages)
    assert full.windows == 4
    late = one_at_a_time.read(question, passages, deadline=time.monotonic())
    assert late.windows == 1 and "12级" in late.spans[0].text  # the first batch is always read
    never = one_at_a_time.read_until(question, passages, lambda reading: False, deadline=time.monotonic())
    assert never.windows == 1  # the deadline ends the reading after the first passages
    assert one_at_a_time.read(question, passages, deadline=time.monotonic() + 600) == full
