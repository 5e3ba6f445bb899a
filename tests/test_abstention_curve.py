"""The abstention-curve bench: readings built like the calibration's, and the curve's shares."""
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import abstention_curve  # noqa: E402
import calibrate_reader  # noqa: E402

CONTEXTS = [
    "今年全国夏粮总产量达到1.49亿吨，比上年增加1.5%。其中小麦产量1.38亿吨，单产每亩达到386公斤。"
    "农业农村部种植业管理司负责人表示，各地抢抓农时，夏收进度快于往年，机收率超过九成。",
    "今年全国早稻总产量达到2800万吨，比上年略减。各地加强田间管理，病虫害发生轻于往年。",
    "台风“白鹿”于8日在福建省漳州市东山县沿海登陆，登陆时中心附近最大风力有12级。",
]


def test_product_readings_cut_the_fact_and_keep_the_topic():
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2)).fit_transform(CONTEXTS)
    qa = {"question": "今年全国夏粮总产量是多少？", "answers": [{"text": "1.49亿吨"}]}
    readings = {kind: ps for kind, _, ps in calibrate_reader.product_readings(CONTEXTS, tfidf, 0, qa)}
    assert set(readings) == {"answerable", "off-topic", "gap"}
    assert any("1.49亿吨" in p for p in readings["answerable"])
    assert not any("1.49亿吨" in p for p in readings["gap"] + readings["off-topic"])
    assert any("小麦产量1.38亿吨" in p for p in readings["gap"])  # the article's other sentences stay
    assert any("早稻" in p for p in readings["off-topic"])  # the most similar other paragraph first


def test_curve_counts_abstentions_per_kind():
    conf = np.array([0.9, 0.4, 0.05, 0.3, 0.01, 0.02])
    kinds = np.array(["answerable", "answerable", "answerable", "gap", "gap", "off-topic"])
    f1 = np.array([1.0, 0.5, 1.0, 0.0, 0.0, 0.0])
    low, high = abstention_curve.curve(conf, kinds, f1, [0.03, 0.5])
    assert low["abstain_answerable"] == 0.0 and low["abstain_gap"] == 0.5
    assert low["abstain_off-topic"] == 1.0 and low["answerable_f1"] == round(250 / 3, 2)
    assert high["abstain_answerable"] == round(2 / 3, 4) and high["abstain_gap"] == 1.0
    assert high["answerable_f1"] == round(100 / 3, 2)


def test_other_period_question_asks_of_a_period_the_paragraph_does_not_report():
    context = "2019年全国夏粮总产量达到1.42亿吨；5月份制造业PMI为50.6%，6月份为50.9%。"
    assert calibrate_reader.other_period_question("2019年全国夏粮总产量是多少？", context) == "2020年全国夏粮总产量是多少？"
    assert calibrate_reader.other_period_question("5月份制造业PMI是多少？", context) == "4月份制造业PMI是多少？"
    assert calibrate_reader.other_period_question("2018年夏粮总产量是多少？", context) is None  # not the paragraph's
    assert calibrate_reader.other_period_question("夏粮总产量是多少？", context) is None


def test_product_readings_add_the_other_period_reading():
    contexts = ["2019年全国夏粮总产量达到1.42亿吨，比上年增加1.5%。其中小麦产量1.31亿吨，单产每亩达到380公斤。"
                "农业农村部负责人表示，各地抢抓农时，夏收进度快于往年，机收率超过九成。", *CONTEXTS[1:]]
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2)).fit_transform(contexts)
    qa = {"question": "2019年全国夏粮总产量是多少？", "answers": [{"text": "1.42亿吨"}]}
    readings = {kind: (q, ps) for kind, q, ps in calibrate_reader.product_readings(contexts, tfidf, 0, qa)}
    assert readings["other-period"][0] == "2020年全国夏粮总产量是多少？"
    assert readings["other-period"][1] == readings["answerable"][1]
