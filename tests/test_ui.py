"""The chat UI without a browser: HTML rendering and escaping, example questions, upload checks,
auth parsing, and the /chat API driven through gradio_client against an in-process server."""
from __future__ import annotations

import math
import re
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

from qa.errors import ConfigError, InputError
from qa.types import Answer, Chunk, Hit, Source
from ui.app import (MAX_FILE_BYTES, MAX_FILES, api_settings, check_uploads, ingest_uploads, parse_auth,
                    serve, user_turns)
from ui.examples import example_questions, question_from_sentence
from ui.render import (ABSTAIN_TEXT, answer_plain, highlight, render_answer, render_passages,
                       render_report)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>'


# -- shared helpers (also used by test_ui_browser.py) ----------------------------------------
def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_seed_assistant(folder: Path):
    """An Assistant over copies of the seed files in `folder`, with the model-free embedder."""
    from qa.assistant import Assistant
    from qa.embedders import make_embedder

    corpus = folder / "corpus"
    shutil.copytree(SEEDS, corpus)
    return Assistant.build(sorted(corpus.glob("*.txt")), folder / "index", make_embedder("fake"))


@contextmanager
def running_server(folder: Path, make_assistant: Callable[[Path], object] | None = None
                   ) -> Iterator[tuple[str, object]]:
    """Serve the UI in-process on a free port for `make_assistant(folder)` (default: a fresh
    seed index): yields (url, assistant)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XUNDA_CACHE_DIR", str(folder / "cache"))
        mp.delenv("XUNDA_AUTH", raising=False)
        assistant = (make_assistant or build_seed_assistant)(folder)
        port = free_port()
        demo = serve(assistant, host="127.0.0.1", port=port, block=False)
        try:
            yield f"http://127.0.0.1:{port}/", assistant
        finally:
            demo.close()


# -- rendering ---------------------------------------------------------------------------------
def source(**kw) -> Source:
    base = dict(title="某市新建公园开放", paths=("/data/news/公园.txt",), article_id="a1", start=10,
                end=13, score=0.9, date="2024-06-01", dateline="本报讯", passage="公园占地120公顷。")
    base.update(kw)
    return Source(**base)


def test_answer_shows_bold_span_marked_evidence_citation_and_confidence():
    ans = Answer(question="公园占地多少？", text="120公顷", confidence=0.874, abstained=False,
                 evidence="新建公园占地120公顷，今天开放。", sources=(source(),), start=15, end=20,
                 evidence_start=10, evidence_end=26)
    html = render_answer(ans)
    assert "<strong>120公顷</strong>" in html
    assert "新建公园占地<mark>120公顷</mark>，今天开放。" in html
    assert "《某市新建公园开放》" in html and "本报讯" in html and "公园.txt" in html
    assert "/data/news" not in html  # file names only, no server folders
    assert "置信度：87%" in html
    assert "\n\n" not in html  # one HTML block: Markdown must not re-interpret it


def test_rewritten_follow_up_is_shown():
    ans = Answer(question="5月份小型企业PMI是多少？", text="50.8%", confidence=0.8,
                 abstained=False, rewritten_question="5月份小型企业PMI是多少？", sources=(source(),))
    assert "理解为：5月份小型企业PMI是多少？" in render_answer(ans, asked="那小型企业呢？")
    assert "理解为" not in render_answer(ans, asked="5月份小型企业PMI是多少？")


def test_abstention_is_one_line_and_three_short_snippets_with_the_question_words_marked():
    long = ("该市今年计划新建城市公园12座，" * 3 + "其中滨江公园占地120公顷，是全市最大的公园，"
            + "预计明年5月建成开放。" * 4)
    sources = (source(passage=long), source(title="", paths=("/up/无题.txt",), passage="公园绿地面积继续增加。"),
               source(title="第三篇", passage="城市绿道总长达到300公里。"), source(title="第四篇", passage="不显示"))
    ans = Answer(question="滨江公园占地多少公顷？", text="", confidence=0.1, abstained=True, sources=sources)
    html = render_answer(ans)
    assert "已收录的文章中没有这个问题的答案" in html and ABSTAIN_TEXT not in html
    assert html.count("<details") == 3 and "第四篇" not in html  # the closest three only
    summary = html.split("<summary>", 1)[1].split("</summary>", 1)[0]
    visible = re.sub(r"<[^>]+>", "", summary)
    assert len(visible) <= 82 and visible.endswith("…") and "预计明年5月建成开放。预计" not in visible
    # the snippet is where the question's words are, and marks them
    assert re.search("<mark>滨江(公园)?</mark>", summary) and "<mark>占地</mark>" in summary
    assert "《无题.txt》" in html and "无标题" not in html  # an untitled article shows its file
    assert answer_plain(ans) == ABSTAIN_TEXT


def test_article_text_titles_and_file_names_are_escaped():
    evil_src = source(title=EVIL, paths=(f"/tmp/{EVIL}.txt",), dateline=EVIL, passage=EVIL)
    ans = Answer(question="q", text=EVIL, confidence=0.5, abstained=False, evidence="前" + EVIL,
                 sources=(evil_src,), rewritten_question=EVIL)
    chunk = Chunk(chunk_id="c", article_id="a1", title=EVIL, text=EVIL, start=0, end=5, position=0)
    hit = Hit(chunk=chunk, score=0.5, rank=1, title=EVIL, paths=(f"{EVIL}.txt",), dateline=EVIL)
    abstain = Answer(question="q", text="", confidence=0.0, abstained=True, sources=(evil_src,))
    for html in (render_answer(ans), render_answer(abstain), render_passages([hit])):
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_highlight_prefers_the_given_offset_and_falls_back_to_search():
    assert highlight("3个和3个", "3个", 3) == "3个和<mark>3个</mark>"
    assert highlight("共有3个", "3个", 0) == "共有<mark>3个</mark>"
    assert highlight("没有<b>", "5个") == "没有&lt;b&gt;"


def test_upload_report_lists_counts_and_skipped_files_with_reasons():
    from qa.indexer import IngestReport

    report = IngestReport(files=2, documents_added=1, documents_unchanged=0, documents_replaced=0,
                          articles=7, articles_found=2, duplicates_merged=1, chunks=30, embedded=3,
                          skipped=(InputError("/up/坏<文件>.pdf", "the PDF has no text layer (a scan?); "
                                                                 "OCR it first or convert it to .txt"),),
                          seconds=0.4)
    html = render_report(report, ["a.exe：不支持的文件类型"])
    assert "找到文章 2 篇" in html and "合并重复 1 篇" in html
    assert "跳过 2 个文件" in html and "<code>坏&lt;文件&gt;.pdf</code>：PDF 里没有文字层" in html
    assert "OCR" not in html
    assert "a.exe" in html


# -- example questions -------------------------------------------------------------------------
def test_question_from_sentence_asks_for_the_quantity():
    assert question_from_sentence("今年前4个月，全市新增就业岗位1.2万个，同比增长8%。") \
        == "全市新增就业岗位多少万个？"
    assert question_from_sentence("6月3日，江南县共接待游客30多万人次。") == "6月3日，江南县共接待游客多少万人次？"
    # self-contained: a leading connective is dropped, a pronoun or a missing subject makes none
    assert question_from_sentence("也就是说，游客在江南的人均消费近1500元。") == "游客在江南的人均消费多少元？"
    assert question_from_sentence("6月3日，该县共接待游客30多万人次。") is None
    assert question_from_sentence("他们今年共捐款30万元。") is None
    assert question_from_sentence("今年一季度实现进出口总额87.1亿元。") is None
    # no subject of its own ("比上月…"), two numbers, or only dates: no question
    assert question_from_sentence("比上月回落0.2个百分点。") is None
    assert question_from_sentence("甲乙两地气温分别为21℃和25℃。") is None
    assert question_from_sentence("会议于2024年6月3日召开。") is None
    # markup in the text, or a number inside brackets, makes no question
    assert question_from_sentence("通知<script>alert(1)</script>称藏书达52万册。") is None
    assert question_from_sentence("该市“十四五”规划(2021)提出目标。") is None


@pytest.fixture(scope="module")
def seed_assistant(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui_seed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XUNDA_CACHE_DIR", str(folder / "cache"))
        yield build_seed_assistant(folder)


def test_examples_are_whole_questions_the_reader_answers_above_the_threshold(seed_assistant):
    questions = example_questions(seed_assistant, n=6)
    assert len(questions) >= 3 and len(set(questions)) == len(questions)
    texts = [a.text for a in seed_assistant.articles.values()]
    for q in questions:
        assert q.endswith("？") and len(q) <= 41 and "多少" in q
        assert "主要内容" not in q and not q.startswith(("也就是说", "因此", "此外", "同时", "其中"))
        head = q.rstrip("？").split("多少", 1)[0]
        assert any(head.split("，")[-1] in t for t in texts), q  # the words come from an article
        answer = seed_assistant.ask(q)
        assert not answer.abstained and answer.confidence > seed_assistant.threshold, (q, answer)
    assert example_questions(seed_assistant, n=2) == questions[:2]  # deterministic


# -- session helpers, auth, upload checks ------------------------------------------------------
def test_user_turns_reads_gradio6_message_parts_and_skips_bot_turns():
    history = [{"role": "user", "content": [{"type": "text", "text": "5月份大型企业PMI是多少？"}]},
               {"role": "assistant", "content": [{"type": "text", "text": "<div>51.6%</div>"}]},
               {"role": "user", "content": "那小型企业呢？"}]
    assert user_turns(history) == ["5月份大型企业PMI是多少？", "那小型企业呢？"]
    # a question refused when asked (too long, only controls) stays in the chat, not in the turns
    refused = [{"role": "user", "content": "问" * 600}, {"role": "assistant", "content": "太长"},
               {"role": "user", "content": "\x00\x07"}]
    assert user_turns(history + refused) == ["5月份大型企业PMI是多少？", "那小型企业呢？"]


def test_api_settings_keep_defaults_and_pass_bad_values_on_to_be_refused():
    assert api_settings(0, -1.0, "") == {"k": None, "threshold": None, "reader": None}
    assert api_settings(3.0, 0.5, "rules") == {"k": 3, "threshold": 0.5, "reader": "rules"}
    assert api_settings("abc", float("nan"))["k"] == "abc"
    assert math.isnan(api_settings(float("inf"), float("nan"))["threshold"])


def test_parse_auth_needs_user_and_password_and_never_echoes_them():
    assert parse_auth("editor:s3:cret") == ("editor", "s3:cret")
    for bad in ("alice", ":hunter2", "alice:"):
        with pytest.raises(ConfigError) as info:
            parse_auth(bad)
        message = str(info.value)
        assert "user:password" in message and "alice" not in message and "hunter2" not in message


def test_check_uploads_enforces_extension_size_and_count(tmp_path):
    ok = tmp_path / "新闻.txt"
    ok.write_text("某地新闻。", "utf-8")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    empty = tmp_path / "空.md"
    empty.write_bytes(b"")
    big = tmp_path / "big.pdf"
    with open(big, "wb") as f:  # sparse: no 20 MB actually written
        f.truncate(MAX_FILE_BYTES + 1)
    accepted, rejected = check_uploads([str(ok), str(exe), str(empty), str(big)])
    assert accepted == [ok]
    assert [r.split("：")[0] for r in rejected] == ["tool.exe", "空.md", "big.pdf"]
    assert "不支持的文件类型" in rejected[0] and "文件为空" in rejected[1] and "超过上限" in rejected[2]
    many = [str(ok)] * (MAX_FILES + 2)
    accepted, rejected = check_uploads(many)
    assert len(accepted) == MAX_FILES and len(rejected) == 2 and "分批" in rejected[0]


def test_bad_upload_leaves_the_index_working(tmp_path, seed_assistant):
    before = seed_assistant.info().articles
    junk = tmp_path / "坏.pdf"
    junk.write_bytes(b"this is not a pdf at all")
    report, rejected = ingest_uploads(seed_assistant, [str(junk)])
    skipped = (report.skipped if report else ()) + tuple(rejected)
    assert skipped and seed_assistant.info().articles == before
    assert seed_assistant.retrieve("PMI", 1)


def test_upload_with_a_lone_surrogate_record_keeps_the_rest_and_names_the_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    assistant = build_seed_assistant(tmp_path)
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"text": "新华社杭州6月2日电 杭州今年新增公园\\ud80020座。"}\n{"text": "\\udfff\\udfff"}\n'
                    '{"text": "本报讯 宁波港今年前5个月完成集装箱吞吐量1200万标准箱。"}\n', encoding="utf-8")
    report, rejected = ingest_uploads(assistant, [str(feed)])
    assert rejected == [] and report.documents_added == 2
    [err] = report.skipped
    assert err.line == 2 and err.path.endswith("feed.jsonl") and "unreadable" in err.reason
    assert "1200万标准箱" in assistant.retrieve("宁波港集装箱吞吐量", k=1)[0].text


# -- the /chat API ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ui_api")) as (url, assistant):
        yield url, assistant


def test_chat_api_returns_the_answer_text(server):
    from gradio_client import Client

    url, assistant = server
    client = Client(url, verbose=False)
    first = client.predict("5月PMI是多少", api_name="/chat")
    assert isinstance(first, str) and first
    texts = [a.text for a in assistant.articles.values()]
    assert first == ABSTAIN_TEXT or any(first in t for t in texts)
    assert first == answer_plain(assistant.ask("5月PMI是多少"))
    # follow-up: earlier questions go in `history`
    follow = client.predict("那小型企业呢？", ["5月份大型企业PMI是多少？"], api_name="/chat")
    assert follow == answer_plain(assistant.ask("那小型企业呢？", ["5月份大型企业PMI是多少？"]))
    # per-request settings: an impossible threshold makes it abstain
    assert client.predict("5月PMI是多少", None, 3, 1.0, api_name="/chat") == ABSTAIN_TEXT


@pytest.mark.reader
def test_chat_api_switches_to_the_neural_reader(server):
    from gradio_client import Client

    url, assistant = server
    client = Client(url, verbose=False)
    neural = client.predict("5月份小型企业PMI是多少？", None, 0, -1.0, "neural", api_name="/chat")
    assert neural == answer_plain(assistant.ask("5月份小型企业PMI是多少？", reader="neural"))
    record = client.predict("5月份小型企业PMI是多少？", None, 0, -1.0, "neural", api_name="/ask")
    assert record["text"] == neural
    with pytest.raises(Exception, match="reader 'bert'"):
        client.predict("5月PMI是多少", None, 0, -1.0, "bert", api_name="/chat")


def test_ask_api_details_and_concurrent_clients_get_their_own_answers(server):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    url, assistant = server
    record = Client(url, verbose=False).predict("5月PMI是多少", api_name="/ask")
    assert record["text"] == answer_plain(assistant.ask("5月PMI是多少"))
    assert 0.0 <= record["confidence"] <= 1.0 and record["sources"]
    assert all("/" not in f for s in record["sources"] for f in s["files"])
    questions = ["5月PMI是多少", "小型企业PMI为多少？", "新订单指数为多少？", "火星上有几座城市？"]
    expected = [answer_plain(assistant.ask(q)) for q in questions]

    def one(q: str) -> str:
        return Client(url, verbose=False).predict(q, api_name="/chat")

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, questions * 2)) == expected * 2


def test_empty_question_is_a_clear_client_error(server):
    from gradio_client import Client

    with pytest.raises(Exception, match="empty question"):
        Client(server[0], verbose=False).predict("   ", api_name="/chat")


def test_long_question_and_bad_settings_are_clear_client_errors(server):
    import time

    from gradio_client import Client

    client = Client(server[0], verbose=False)
    t0 = time.perf_counter()
    with pytest.raises(Exception, match="question is 10000 characters; at most 500 are accepted"):
        client.predict("问" * 10_000, api_name="/chat")
    assert time.perf_counter() - t0 < 10  # refused before any search (was 20-60 s of CPU)
    with pytest.raises(Exception, match="history is str"):
        client.predict("5月PMI是多少", "5月份大型企业PMI是多少？", api_name="/chat")
    with pytest.raises(Exception, match="k='abc'"):  # (nan cannot travel in JSON; see test_inputs)
        client.predict("5月PMI是多少", None, "abc", api_name="/ask")
    # A lone surrogate escape, as a browser or a hand-written client may send it (gradio_client cannot)
    assert raw_chat(server[0], '"\\ud8005月PMI是多少"') == [client.predict("5月PMI是多少", api_name="/chat")]


def raw_chat(url: str, question_json: str) -> list:
    """POST /chat through Gradio's plain HTTP API with a hand-written JSON body; the result data."""
    import json
    import urllib.request

    body = ('{"data": [%s, null, 0, -1.0, ""]}' % question_json).encode("utf-8")
    req = urllib.request.Request(f"{url}gradio_api/call/chat", data=body,
                                 headers={"Content-Type": "application/json"})
    event_id = json.load(urllib.request.urlopen(req, timeout=30))["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/chat/{event_id}", timeout=60) as stream:
        lines = stream.read().decode("utf-8").splitlines()
    assert "event: complete" in lines, lines
    return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))


def test_auth_from_env_guards_page_and_api(tmp_path, seed_assistant):
    import urllib.error
    import urllib.request

    from gradio_client import Client

    port = free_port()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XUNDA_AUTH", "editor:s3cret")
        demo = serve(seed_assistant, port=port, block=False)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception):
            Client(url, verbose=False).predict("5月PMI是多少", api_name="/chat")
        with pytest.raises(Exception):
            Client(url, auth=("editor", "wrong"), verbose=False)
        ok = Client(url, auth=("editor", "s3cret"), verbose=False)
        assert ok.predict("5月PMI是多少", api_name="/chat")
        with pytest.raises(urllib.error.HTTPError) as info:  # the app config needs a login
            urllib.request.urlopen(url + "config")
        assert info.value.code == 401
    finally:
        demo.close()


def test_server_binds_localhost_by_default(server):
    import inspect

    url, _ = server
    assert url.startswith("http://127.0.0.1:")
    params = inspect.signature(serve).parameters
    assert params["host"].default == "127.0.0.1" and params["share"].default is False


# -- the eval report tab --------------------------------------------------------------------------
def eval_tab_html(demo) -> str:
    """The value the "Eval report" tab's HTML component is built with."""
    (component,) = [c for c in demo.config["components"] if c.get("props", {}).get("elem_id") == "xd-eval-report"]
    return component["props"]["value"]


def test_eval_report_tab_shows_the_newest_report_or_how_to_make_one(tmp_path, seed_assistant):
    import html
    import os

    from qa.evaluation import EvalReport
    from qa.report_html import write_html
    from ui.app import build_app

    tabs = [c["props"].get("label") for c in build_app(seed_assistant, tmp_path).config["components"]
            if c.get("type") == "tabitem"]
    assert "评测报告" in tabs
    assert "qa eval --html eval/reports/latest.html" in eval_tab_html(build_app(seed_assistant, tmp_path))
    old = tmp_path / "old.html"
    old.write_text("<p>old report</p>", "utf-8")
    os.utime(old, (1_000_000, 1_000_000))
    write_html(EvalReport({"f1": 12.5}, ()), tmp_path / "latest.html", title=f"newest {EVIL}")
    shown = eval_tab_html(build_app(seed_assistant, tmp_path))
    assert "latest.html" in shown and 'sandbox="allow-scripts"' in shown and "old report" not in shown
    frame = html.unescape(shown.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert frame.count("<svg") == 5 and "newest &lt;script&gt;" in frame
    assert "<script>alert" not in frame and "<script" not in shown  # escaped twice over: text only
