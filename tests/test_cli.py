"""The `qa` command line: ingest, info, ask --json, remove, eval gate, errors without tracebacks."""
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    return tmp_path, corpus


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_ingest_info_ask_json_remove(env):
    tmp, corpus = env
    index = tmp / "index"
    r = run("ingest", corpus, "--index", index, "--embedder", "fake")
    assert r.exit_code == 0, r.output
    assert "6 articles" in r.output and "1 duplicates merged" in r.output and "chunks" in r.output

    r = run("info", "--index", index, "--json")
    info = json.loads(r.output)
    assert info["documents"] == 2 and info["chunks"] > 0 and info["embedder"].startswith("fake")

    r = run("ask", "5月份制造业采购经理指数是多少？", "--index", index, "--embedder", "fake", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {"answer", "confidence", "abstained", "evidence", "sources"} <= set(data)
    assert data["answer"] == data["text"]
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["sources"] and data["sources"][0]["paths"]

    r = run("ask", "5月份制造业采购经理指数是多少？", "--index", index, "--embedder", "fake")
    assert r.exit_code == 0 and "出处" in r.output or "未在" in r.output

    r = run("remove", corpus / "001_8498c6a55c9d4c5e.txt", "--index", index, "--embedder", "fake")
    assert r.exit_code == 0 and "removed 1 files" in r.output
    assert json.loads(run("info", "--index", index, "--json").output)["documents"] == 1


def test_ingest_exit_codes_say_what_was_skipped(env):
    tmp, _ = env
    folder = tmp / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("新华社上海6月1日电 上海今年新增绿地面积1000公顷。", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    r = runner.invoke(app, ["ingest", str(folder), "--index", str(tmp / "i"), "--embedder", "fake"])
    assert r.exit_code == 3
    assert "empty.txt" in r.output and "photo.png" in r.output and "1 documents added" in r.output
    only_bad = tmp / "bad"
    only_bad.mkdir()
    (only_bad / "empty.txt").write_bytes(b"")
    r = runner.invoke(app, ["ingest", str(only_bad), "--index", str(tmp / "j"), "--embedder", "fake"])
    assert r.exit_code == 4


def test_user_errors_are_messages_not_tracebacks(env):
    tmp, _ = env
    r = runner.invoke(app, ["info", "--index", str(tmp / "missing")])
    assert r.exit_code == 1 and "qa ingest" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["ask", "问题", "--index", str(tmp / "missing"), "--embedder", "nope"])
    assert r.exit_code == 1 and "nope" in r.output and "Traceback" not in r.output


def test_eval_report_and_gate(env):
    tmp, corpus = env
    index = tmp / "index"
    run("ingest", corpus, "--index", index, "--embedder", "fake")
    eval_set = tmp / "set.jsonl"
    rows = [
        {"id": "q1", "question": "5月份制造业采购经理指数为多少？", "answers": ["50.6%"]},
        {"id": "q2", "question": "那非制造业呢？", "answers": ["x"], "history": ["5月份制造业采购经理指数为多少？"]},
        {"id": "q3", "question": "6月份火星移民人数是多少？", "answers": [], "unanswerable": True},
    ]
    eval_set.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    report = tmp / "report.json"
    r = runner.invoke(app, ["eval", "--set", str(eval_set), "--index", str(index), "--embedder",
                            "fake", "--report", str(report), "--min-f1", "0"])
    assert r.exit_code == 0, r.output
    data = json.loads(report.read_text("utf-8"))
    assert {"em", "f1", "latency_p50_ms", "latency_p95_ms", "recall@1", "mrr"} <= set(data["metrics"])
    assert [q["id"] for q in data["questions"]] == ["q1", "q2", "q3"]
    assert {"id", "question", "prediction", "abstained", "answers", "em", "f1", "gold_rank",
            "evidence", "latency_ms"} <= set(data["questions"][0])
    r = runner.invoke(app, ["eval", "--set", str(eval_set), "--index", str(index), "--embedder",
                            "fake", "--min-f1", "101"])
    assert r.exit_code == 5 and "below" in r.output
    bad = tmp / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "answers": ["x"]}\n{"id": 3}\n', "utf-8")
    r = runner.invoke(app, ["eval", "--set", str(bad), "--index", str(index), "--embedder", "fake"])
    assert r.exit_code == 1 and "bad.jsonl:2" in r.output


def test_chat_keeps_history_for_follow_ups(env):
    tmp, corpus = env
    index = tmp / "index"
    run("ingest", corpus, "--index", index, "--embedder", "fake")
    r = runner.invoke(app, ["chat", "--index", str(index), "--embedder", "fake"],
                      input="5月份大型企业PMI是多少？\n那小型企业呢？\n\n")
    assert r.exit_code == 0, r.output
    assert "理解为：5月份小型企业PMI是多少？" in r.output.replace("\n", "")
