"""Eval sets and SQuAD files: loading, gold ranks, summary metrics, open-domain squad runs."""
import json

import pytest

from qa.errors import EvalSetError
from qa.evaluation import (EvalItem, QuestionResult, evaluate, gold_rank, load_eval_set,
                           load_squad, squad_index, summarize)
from qa.store import EmbeddingCache

SQUAD = {
    "version": "v1",
    "data": [
        {"title": "长江大桥", "paragraphs": [{
            "id": "P1",
            "context": "南京长江大桥是长江上第一座由中国自行设计和建造的双层式铁路、公路两用桥梁，于1968年12月29日建成通车。",
            "qas": [{"id": "Q1", "question": "南京长江大桥于哪一年建成通车？",
                     "answers": [{"text": "1968年12月29日", "answer_start": 43},
                                 {"text": "1968年", "answer_start": 43}]}]}]},
        {"title": "西湖", "paragraphs": [{
            "id": "P2",
            "context": "西湖位于浙江省杭州市西湖区，湖面面积约6.38平方千米，2011年被列入世界遗产名录。",
            "qas": [{"id": "Q2", "question": "西湖的湖面面积约为多少？",
                     "answers": [{"text": "6.38平方千米", "answer_start": 19}]}]}]},
    ],
}


class _Hit:
    def __init__(self, article_id, paths, text=""):
        self.article_id, self.paths, self.text = article_id, paths, text


def test_gold_rank_counts_distinct_articles():
    hits = [_Hit("a", ("x#1",)), _Hit("a", ("x#1",)), _Hit("b", ("x#2",), "答案在此")]
    assert gold_rank(hits, ["x#2"]) == 2
    assert gold_rank(hits, ["x#9"]) is None
    assert gold_rank(hits, [], answers=["答案"]) == 2


def test_load_squad_pools_paragraphs_with_titles(tmp_path):
    f = tmp_path / "mini.json"
    f.write_text(json.dumps(SQUAD, ensure_ascii=False), "utf-8")
    docs, items = load_squad(f)
    assert len(docs) == 2 and len(items) == 2
    doc, (article,) = docs[0]
    assert article.title == "长江大桥" and article.text == doc.text
    assert items[0].answers == ("1968年12月29日", "1968年") and items[0].gold_paths == ("mini.json#P1",)
    f.write_text("{not json", "utf-8")
    with pytest.raises(EvalSetError, match="mini.json"):
        load_squad(f)


def test_squad_run_end_to_end_with_fake_embedder(tmp_path, fake_embedder):
    from qa import Assistant

    f = tmp_path / "mini.json"
    f.write_text(json.dumps(SQUAD, ensure_ascii=False), "utf-8")
    root, items, build_s = squad_index(f, fake_embedder, cache_root=tmp_path / "cache")
    again, _, _ = squad_index(f, fake_embedder, cache_root=tmp_path / "cache")
    assert again == root  # cached by content
    assistant = Assistant.open(root, fake_embedder, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    report = evaluate(assistant, items, build_seconds=build_s)
    m = report.metrics
    assert m["questions"] == 2 and m["recall@1"] == 1.0 and m["mrr"] == 1.0
    assert 0 <= m["f1"] <= 100 and m["index_build_s"] >= 0
    assert [q.id for q in report.questions] == ["Q1", "Q2"]


def test_summary_scores_unanswerable_by_abstention():
    def r(i, f1, abstained, unanswerable=False, rank=1):
        return QuestionResult(i, "q", "" if abstained else "p", abstained, () if unanswerable else ("p",),
                              f1, f1, rank, "", 10.0 * (1 + len(i)), 0.5, "q", unanswerable)

    m = summarize([r("a", 1.0, False), r("bb", 0.0, True), r("ccc", 1.0, True, True, None)])
    assert m["f1"] == pytest.approx(66.67) and m["answerable_f1"] == 50.0
    assert m["abstention_precision"] == 0.5 and m["abstention_recall"] == 1.0
    assert m["abstained_answerable"] == 0.5 and m["latency_p50_ms"] == 30.0


def test_eval_set_errors_name_file_line_and_field(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text('{"id": "a", "question": "q", "answers": []}\n', "utf-8")
    with pytest.raises(EvalSetError, match=r"s.jsonl:1.*answers"):
        load_eval_set(f)
    f.write_text('{"id": "a", "question": "q", "answers": ["x"]}\n{"id": "a", "question": "q", "answers": ["y"]}\n', "utf-8")
    with pytest.raises(EvalSetError, match=r"s.jsonl:2.*duplicate"):
        load_eval_set(f)
    f.write_text('{"id": "a", "question": "q", "answers": [], "unanswerable": true, "history": ["h"]}\n', "utf-8")
    assert load_eval_set(f) == [EvalItem("a", "q", (), ("h",), True)]


def seed_items() -> list:
    """16 seed questions and 8 unanswerable ones (abstentions to check)."""
    from pathlib import Path

    items = load_eval_set(Path(__file__).resolve().parents[1] / "eval" / "seeds_qa.jsonl")
    return items[:16] + [i for i in items if i.unanswerable][:8]


@pytest.fixture(scope="module")
def seed_assistant(tmp_path_factory):
    """An Assistant over the seed articles with the model-free embedder."""
    import shutil
    from pathlib import Path

    from qa import Assistant
    from qa.embedders import FakeEmbedder

    folder = tmp_path_factory.mktemp("eval_seed")
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", folder / "corpus")
    return Assistant.build(sorted((folder / "corpus").glob("*.txt")), folder / "index", FakeEmbedder(),
                           cache=EmbeddingCache(folder / "cache.sqlite"))


def test_two_workers_give_the_same_results_as_one_in_order(seed_assistant):
    items = seed_items()
    calls: list[tuple[int, int]] = []
    one = evaluate(seed_assistant, items, workers=1)
    two = evaluate(seed_assistant, items, workers=2, progress=lambda done, total: calls.append((done, total)))

    def outcome(report):
        return [(q.id, q.prediction, q.abstained, q.confidence, q.em, q.f1, q.gold_rank, q.evidence, q.withheld,
                 q.answer_type, q.source) for q in report.questions]

    assert outcome(two) == outcome(one) and [q.id for q in two.questions] == [i.id for i in items]
    assert calls == [(n, len(items)) for n in range(1, len(items) + 1)]
    assert {k: v for k, v in two.metrics.items() if "latency" not in k and k != "workers"} == \
        {k: v for k, v in one.metrics.items() if "latency" not in k and k != "workers"}
    assert (one.metrics["workers"], two.metrics["workers"]) == (1, 2)
    assert one.metrics["threshold"] == round(seed_assistant.threshold, 4)


def test_workers_are_processes_reopening_the_assistant_or_threads_when_it_cannot_be(seed_assistant):
    from qa import Assistant
    from qa.embedders import FakeEmbedder

    spec = seed_assistant.worker_spec()
    assert spec is not None and spec.embedder == "fake:256" and spec.threshold == seed_assistant.threshold
    reopened = spec.open()
    question = "5月PMI是多少"
    assert reopened.ask(question) == seed_assistant.ask(question)
    # an embedder a spec string cannot rebuild: the two workers are threads over this assistant
    custom = FakeEmbedder()
    custom.spec = None
    same_index = Assistant.open(seed_assistant.index_dir, custom)
    assert same_index.worker_spec() is None
    items = seed_items()[:12]
    threads, processes = evaluate(same_index, items, workers=2), evaluate(seed_assistant, items, workers=2)
    assert [(q.prediction, q.confidence) for q in threads.questions] == \
        [(q.prediction, q.confidence) for q in processes.questions]


def test_eval_decides_abstention_as_ask_does_and_keeps_the_withheld_span(seed_assistant):
    items = seed_items()
    report = evaluate(seed_assistant, items, workers=2)
    for item, q in zip(items, report.questions):
        direct = seed_assistant.ask(item.question, list(item.history))
        assert (q.prediction, q.abstained) == ("" if direct.abstained else direct.text, direct.abstained)
        assert q.answer_type == direct.answer_type
        if not q.abstained:
            assert q.withheld == "" and q.evidence == direct.evidence
    held = [q for q in report.questions if q.withheld]
    assert held and all(q.abstained and q.confidence < seed_assistant.threshold for q in held)


def test_workers_must_be_a_whole_number_of_one_or_more(seed_assistant):
    from qa.errors import ConfigError

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="--workers"):
            evaluate(seed_assistant, [], workers=bad)
