"""The neural reader as the Assistant's answer selector: exact spans with their sentence and
article offsets, calibrated confidence, abstention when the article lacks the fact."""
import json
import math

import pytest

from qa import Assistant
from qa.errors import ConfigError, ModelFileError
from qa.reader.confidence import CALIBRATION, FEATURES, evidence_sentence, load_calibration, reading_features
from qa.question import analyze_question
from qa.store import EmbeddingCache
from qa.types import ReaderResult, SpanPrediction

ARTICLES = {
    "typhoon.txt": "台风“白鹿”登陆福建\n据中央气象台消息，今年第3号台风“白鹿”于8日14时前后在福建省漳州市东山县沿海登陆，"
                   "登陆时中心附近最大风力有12级。受其影响，福建、广东等地出现强降雨，部分航班取消。"
                   "气象专家介绍，“白鹿”将继续向西北方向移动，强度逐渐减弱。\n",
    "harvest.txt": "夏粮再获丰收\n农业农村部12日发布消息，今年全国夏粮总产量达到1.49亿吨，比上年增加1.5%。"
                   "其中小麦产量1.38亿吨，单产每亩达到386公斤。农业农村部种植业管理司司长潘文博表示，"
                   "各地抢抓农时，夏收进度快于往年。\n",
}


def test_evidence_sentence_holds_the_span():
    text = "第一句话。今年夏粮总产量达到1.49亿吨，比上年增加1.5%。第三句。"
    start = text.index("1.49亿吨")
    s, e = evidence_sentence(text, start, start + 6)
    assert text[s:e] == "今年夏粮总产量达到1.49亿吨，比上年增加1.5%。"


def test_features_of_an_empty_reading_say_no():
    feats = reading_features(ReaderResult("谁？", (), float("inf"), 0), [], analyze_question("谁？"))
    assert feats["margin"] == -20.0 and set(feats) == set(FEATURES)


def test_features_tell_the_answers_sentence_from_a_sentence_on_the_topic():
    """With the fact's sentence cut, the best span sits in a sentence that states less of the
    question than another sentence does: that is what the gap features measure."""
    question = "今年全国夏粮总产量是多少？"
    passage = ARTICLES["harvest.txt"].split("\n", 1)[1]
    at = passage.index("1.49亿吨")
    right = ReaderResult(question, (SpanPrediction(0, at, at + 6, "1.49亿吨", 9.0, -3.0),), -3.0, 1)
    on_topic = passage.replace("今年全国夏粮总产量达到1.49亿吨，比上年增加1.5%。", "")
    at = on_topic.index("1.38亿吨")
    wrong = ReaderResult(question, (SpanPrediction(0, at, at + 6, "1.38亿吨", 6.0, -1.0),), -1.0, 1)
    qa = analyze_question(question)
    good, bad = reading_features(right, [passage], qa), reading_features(wrong, [on_topic], qa)
    assert good["sentence_cover"] > bad["sentence_cover"]
    assert good["better_sentence"] == 0.0
    dated = analyze_question("2019年全国夏粮总产量是多少？")
    assert reading_features(right, ["2020年" + passage], dated)["date_conflict"] == 1.0
    assert reading_features(right, [passage], analyze_question("夏粮总产量比2018年增加多少？"))["numbers_missing"] == 1.0


def test_calibration_file_errors(tmp_path):
    with pytest.raises(ModelFileError, match="cal.json.*missing"):
        load_calibration(tmp_path / "cal.json")
    (tmp_path / "cal.json").write_text(json.dumps({"features": ["x"], "coef": [1], "intercept": 0, "threshold": 0.5}))
    with pytest.raises(ModelFileError, match="damaged"):
        load_calibration(tmp_path / "cal.json")


def test_calibration_carries_the_decoders_length_penalty(tmp_path):
    fitted = {"features": list(FEATURES[:3]), "coef": [0.1, 0.5, 0.0], "intercept": -1.0, "threshold": 0.2}
    (tmp_path / "old.json").write_text(json.dumps(fitted))
    assert load_calibration(tmp_path / "old.json").length_penalty == 0.0  # files fitted before the penalty
    (tmp_path / "cal.json").write_text(json.dumps({**fitted, "length_penalty": 0.15}))
    assert load_calibration(tmp_path / "cal.json").length_penalty == 0.15
    (tmp_path / "bad.json").write_text(json.dumps({**fitted, "length_penalty": -1}))
    with pytest.raises(ModelFileError, match="bad.json.*negative"):
        load_calibration(tmp_path / "bad.json")


def test_calibration_uses_the_features_its_file_names(tmp_path):
    older = {"features": list(FEATURES[:3]), "coef": [0.1, 0.5, 0.0], "intercept": -1.0, "threshold": 0.2}
    (tmp_path / "old.json").write_text(json.dumps(older))
    calibration = load_calibration(tmp_path / "old.json")
    feats = dict.fromkeys(FEATURES, 0.0) | {"margin": 2.0, "window_margin": 2.0, "sentence_cover": 100.0}
    assert calibration.confidence(feats) == pytest.approx(1 / (1 + math.exp(-(-1.0 + 0.2 + 1.0))))
    (tmp_path / "short.json").write_text(json.dumps({**older, "coef": [0.1]}))
    with pytest.raises(ModelFileError, match="1 coefficients for 3 features"):
        load_calibration(tmp_path / "short.json")


def test_unknown_reader_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="reader 'bert'"):
        Assistant(tmp_path, reader="bert")


@pytest.fixture(scope="module")
def neural(tmp_path_factory):
    from qa.embedders import FakeEmbedder

    tmp = tmp_path_factory.mktemp("neural")
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.build([corpus], tmp / "index", FakeEmbedder(), cache=EmbeddingCache(tmp / "cache.sqlite"),
                           reader="neural")


@pytest.mark.reader
@pytest.mark.parametrize("question, expected", [
    ("今年夏粮总产量是多少？", "1.49亿吨"),
    ("台风白鹿登陆时中心附近最大风力有几级？", "12级"),
    ("种植业管理司司长是谁？", "潘文博"),
])
def test_neural_answers_are_checkable_spans(neural, question, expected):
    a = neural.ask(question)
    assert not a.abstained and expected in a.text
    article = neural.article(a.sources[0].article_id)
    assert article.text[a.start : a.end] == a.text
    assert article.text[a.evidence_start : a.evidence_end] == a.evidence and a.text in a.evidence
    assert 0.0 <= a.confidence <= 1.0 and a.confidence >= neural.threshold


@pytest.mark.reader
def test_neural_follow_up_is_rewritten_and_answered(neural):
    b = neural.ask("那小麦产量呢？", history=["今年夏粮总产量是多少？"])
    assert b.rewritten_question != "那小麦产量呢？" and "小麦" in b.rewritten_question
    assert not b.abstained and "1.38亿吨" in b.text


@pytest.mark.reader
def test_neural_abstains_when_the_article_lacks_the_fact(neural):
    # on topic (the typhoon article is retrieved) but it prints no death toll
    a = neural.ask("台风白鹿造成多少人死亡？")
    assert a.abstained and a.text == "" and a.sources


@pytest.mark.reader
def test_reader_switch_per_question_and_from_the_cli(neural, tmp_path):
    from typer.testing import CliRunner

    from qa.cli import app

    rules = neural.ask("今年夏粮总产量是多少？", reader="rules")
    assert rules.text and neural.ask("今年夏粮总产量是多少？").text == "1.49亿吨"
    with pytest.raises(ConfigError, match="reader 'bert'"):
        neural.ask("今年夏粮总产量是多少？", reader="bert")
    r = CliRunner().invoke(app, ["ask", "今年夏粮总产量是多少？", "--index", str(neural.index_dir),
                                 "--embedder", "fake", "--reader", "neural", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["answer"] == "1.49亿吨"


@pytest.mark.reader
def test_english_question_read_through_its_chinese_bridge(neural):
    a = neural.ask("How many levels was the maximum wind force of typhoon Bailu when it made landfall?")
    assert not a.abstained and "12级" in a.text


def test_calibration_carries_the_early_stop_confidence(tmp_path):
    data = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({**data, "early_confidence": 0.8}), encoding="utf-8")
    assert load_calibration(path).early_confidence == 0.8
    path.write_text(json.dumps({**data, "early_confidence": 1.5}), encoding="utf-8")
    with pytest.raises(ModelFileError, match="early_confidence 1.5"):
        load_calibration(path)
    path.write_text(json.dumps({k: v for k, v in data.items() if k != "early_confidence"}), encoding="utf-8")
    assert load_calibration(path).early_confidence is None  # older files read every passage


@pytest.mark.reader
def test_a_question_past_its_time_budget_is_answered_from_what_was_read(neural):
    from qa.errors import ConfigError

    hurried = Assistant.open(neural.index_dir, neural.embedder, reader="neural", time_budget=1e-6)
    a = hurried.ask("台风白鹿登陆时中心附近最大风力有几级？", k=20)
    assert "12级" in a.text  # the best passages come first, and the first batch is always read
    assert a.text == neural.ask("台风白鹿登陆时中心附近最大风力有几级？", k=2).text
    with pytest.raises(ConfigError, match="time budget"):
        Assistant.open(neural.index_dir, neural.embedder, time_budget=0)
