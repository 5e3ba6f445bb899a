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


def test_odd_inputs_are_skipped_one_message_each_in_a_real_process(env):
    """FIFO, link to /dev/zero, a 6-character file, lone surrogates in JSONL and in a question:
    a real `qa` process, each bad input one message, no traceback, nothing hangs."""
    import os
    import re
    import subprocess
    import sys

    tmp, _ = env
    folder = tmp / "odd"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "six.txt").write_text("abcdef", encoding="utf-8")
    (folder / "feed.jsonl").write_text(
        '{"text": "新华社上海6月1日电 上海今年新增绿地面积\\ud8001000公顷。"}\n{"text": "\\udfff\\udfff"}\n',
        encoding="utf-8")
    (folder / "c1.txt").write_text("新华社北京5月31日电 发言人表示\u0093五月份制造业采购经理指数为50.6%\u0094。",
                                   encoding="utf-8")
    index = tmp / "index"
    qa = [sys.executable, "-m", "qa"]
    env_vars = {**os.environ, "XUNDA_CACHE_DIR": str(tmp / "cache"), "COLUMNS": "1000"}
    r = subprocess.run(qa + ["ingest", str(folder), "--index", str(index), "--embedder", "fake"],
                       capture_output=True, text=True, timeout=300, env=env_vars, cwd=ROOT)
    out = " ".join((r.stdout + r.stderr).split())  # however the console wrapped it
    assert r.returncode == 3, out
    assert "Traceback" not in out and "2 documents added" in out
    for name, why in [("pipe.txt", "FIFO"), ("zero.txt", "character device"), ("six.txt", "6 characters"),
                      ("feed.jsonl:2", "unreadable")]:
        assert re.search(re.escape(f"{name}: ") + ".{0,60}" + re.escape(why), out), (name, out)
    ask = qa + ["ask", "--index", str(index), "--embedder", "fake", "--json"]
    # b"\xff" reaches Python as the lone surrogate "\udcff"
    r = subprocess.run(ask + [b"\xff" + "五月份制造业采购经理指数是多少？".encode()],
                       capture_output=True, timeout=300, env=env_vars, cwd=ROOT)
    assert r.returncode == 0, r.stderr.decode()
    assert json.loads(r.stdout)["answer"] == "50.6%"
    r = subprocess.run(ask + ["问" * 10_000], capture_output=True, text=True, timeout=300, env=env_vars, cwd=ROOT)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "10000 characters; at most 500" in " ".join(r.stderr.split())
