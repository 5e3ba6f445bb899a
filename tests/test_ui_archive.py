"""The chat for a user's own archive, without a browser: starting on an empty folder, the first
upload creating the index, the articles panel (search, remove), Chinese messages for skipped
files and refused questions, and no English in the served page (its Gradio config)."""
from __future__ import annotations

import html
import json
import re
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import gradio as gr
import pytest

from qa.errors import ConfigError, IndexBusyError, IndexStoreError
from tests.test_ui import build_seed_assistant, free_port
from ui import strings as S
from ui.app import build_app, serve
from ui.articles import article_rows, file_choices, remove_file, search_rows
from ui.render import render_report
from ui.uploads import ingest_uploads

NEWS = """江南市举办首届茶文化节
新华社杭州6月2日电(记者张明)首届江南茶文化节2日在江南市开幕，来自12个国家和地区的356家茶企参展。
主办方介绍，本届茶文化节为期5天，设有名茶评比、制茶技艺展示等活动，预计接待游客8万人次。
"""
PORT_NEWS = """宁波港集装箱吞吐量创新高
本报讯 宁波舟山港今年前5个月完成集装箱吞吐量1200万标准箱，同比增长9.6%。
港口负责人表示，新开通的12条国际航线带动了外贸集装箱运输。
"""
# ASCII words a Chinese page may show: format names and units (file names, code and the model
# name are taken out before the scan; words printed in the user's own articles are allowed too).
ALLOWED_WORDS = {"UTF-8", "UTF", "GB18030", "Big5", "MB", "JSON", "PDF", "HTML"}


def english_words(fragment: str, allowed: set[str] = frozenset()) -> list[str]:
    """ASCII words in the visible text of an HTML fragment, outside <code>, file names and
    `allowed`."""
    text = re.sub(r"<code>.*?</code>", " ", fragment, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"[\w.\-]*\.(?:txt|md|html?|jsonl|pdf)\b", " ", text)  # file names and extensions
    words = re.findall(r"[A-Za-z][A-Za-z0-9\-]*", text)
    return [w for w in words if len(w) > 1 and w not in ALLOWED_WORDS and w not in allowed]


def page_texts(config: dict) -> list[str]:
    """Every text the page shows from a Gradio config: title, labels, placeholders, button and
    HTML values, choice labels, table headers and cells, example questions."""
    out = [config.get("title", "")]
    for c in config["components"]:
        if c.get("type") in ("api", "state", "form"):
            continue
        props = c.get("props", {})
        out += [props.get(k) for k in ("label", "placeholder", "info") if isinstance(props.get(k), str)]
        value = props.get("value")
        if c["type"] in ("html", "markdown", "button", "textbox") and isinstance(value, str):
            out.append(value)
        if c["type"] == "dataframe" and isinstance(value, dict):
            out += [str(cell) for row in value.get("data", []) for cell in row] + value.get("headers", [])
        out += [str(choice[0]) for choice in props.get("choices") or []]
        out += [str(cell) for row in props.get("samples") or [] for cell in row]
        out += [str(h) for h in props.get("headers") or []]
    return [t for t in out if t]


def handler(demo, name: str):
    """The Python function behind one of the page's events (they are private to the API)."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def last_reply(respond, question: str, history=None, k=5, threshold=0.02) -> str:
    """The finished bot message `respond` streams for `question`."""
    *_, (chat, _, _) = respond(question, history or [], k, threshold)
    return chat[-1]["content"]


def no_progress(*_args, **_kw) -> None:
    """A stand-in for gr.Progress outside a request."""


@contextmanager
def served(assistant) -> Iterator[str]:
    port = free_port()
    demo = serve(assistant, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture
def empty_assistant(tmp_path, monkeypatch):
    from qa.assistant import Assistant
    from qa.embedders import make_embedder

    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("XUNDA_AUTH", raising=False)
    return Assistant.open_or_empty(tmp_path / "my-archive", make_embedder("fake"))


# -- an empty archive ----------------------------------------------------------------------------
def test_missing_folder_starts_empty_and_the_first_upload_creates_the_index(tmp_path, empty_assistant):
    archive = tmp_path / "my-archive"
    assert not archive.exists()  # nothing is written before the first upload
    assert empty_assistant.articles == {} and empty_assistant.info().articles == 0
    demo = build_app(empty_assistant)
    welcome = next(c for c in demo.config["components"] if c.get("props", {}).get("elem_id") == "xd-welcome")
    assert welcome["props"]["visible"] is True and "还没有收录文章" in welcome["props"]["value"]
    respond = handler(demo, "respond")
    assert S.ASK_BEFORE_ARTICLES in last_reply(respond, "首届江南茶文化节有多少家茶企参展？")
    assert empty_assistant.ask("首届江南茶文化节有多少家茶企参展？").abstained  # the API abstains

    news = tmp_path / "茶文化节.txt"
    news.write_text(NEWS, "utf-8")
    result = handler(demo, "add_files")([str(news)], "", progress=no_progress)
    assert "找到文章 1 篇" in result[0] and (archive / "manifest.json").exists()
    assert result[2]["visible"] is False  # the welcome notice goes
    assert "356" in last_reply(respond, "首届江南茶文化节有多少家茶企参展？")


def test_empty_folder_opens_but_a_folder_of_other_files_is_refused(tmp_path, fake_embedder):
    from qa.assistant import Assistant
    from qa.cli import open_assistant

    (tmp_path / "empty").mkdir()
    assert Assistant.open_or_empty(tmp_path / "empty", fake_embedder).articles == {}
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "稿件.txt").write_text("不是索引", "utf-8")
    with pytest.raises(IndexStoreError, match="not an index and not empty"):
        Assistant.open_or_empty(tmp_path / "notes", fake_embedder)
    # `qa serve --index NEW` opens an empty archive; other commands still want an index
    assert open_assistant(tmp_path / "new", "fake", empty_ok=True).articles == {}
    with pytest.raises(IndexStoreError, match="not an index"):
        open_assistant(tmp_path / "new2", "fake")


# -- the articles panel ----------------------------------------------------------------------------
def test_articles_are_listed_searchable_and_removed_with_their_file(tmp_path, empty_assistant):
    tea, port = tmp_path / "茶文化节.txt", tmp_path / "宁波港.txt"
    tea.write_text(NEWS, "utf-8")
    port.write_text(PORT_NEWS, "utf-8")
    report, rejected = ingest_uploads(empty_assistant, [str(tea), str(port)])
    assert rejected == [] and report.articles == 2
    rows = article_rows(empty_assistant)
    assert {r.title for r in rows} == {"江南市举办首届茶文化节", "宁波港集装箱吞吐量创新高"}
    assert all(r.chunks >= 1 for r in rows)
    assert any("新华社杭州6月2日电" in r.when for r in rows)
    assert [r.title for r in search_rows(rows, "宁波")] == ["宁波港集装箱吞吐量创新高"]
    assert [r.title for r in search_rows(rows, "茶文化节.txt")] == ["江南市举办首届茶文化节"]
    assert search_rows(rows, "火星") == []

    assert "1200万标准箱" in empty_assistant.ask("宁波舟山港前5个月完成集装箱吞吐量多少？").evidence
    (port_file,) = [f for label, f in file_choices(empty_assistant) if "宁波港.txt" in label]
    removed, message = remove_file(empty_assistant, port_file)
    assert removed and "已删除 宁波港.txt（1 篇文章）" in message and "现有文章 1 篇" in message
    assert not Path(port_file).exists()  # the uploaded copy goes with it
    gone = empty_assistant.ask("宁波舟山港前5个月完成集装箱吞吐量多少？")
    assert gone.abstained and "宁波" not in "".join(r.title for r in article_rows(empty_assistant))
    assert remove_file(empty_assistant, port_file) == (False, S.REMOVE_UNKNOWN.format(name="宁波港.txt"))
    assert remove_file(empty_assistant, None) == (False, S.REMOVE_NONE)


def test_remove_from_the_page_refreshes_table_examples_and_statistics(tmp_path, empty_assistant):
    tea = tmp_path / "茶文化节.txt"
    tea.write_text(NEWS, "utf-8")
    demo = build_app(empty_assistant)
    handler(demo, "add_files")([str(tea)], "", progress=no_progress)
    (path,) = [f for _, f in file_choices(empty_assistant)]
    # clicking a row of the (searched) table offers its file for removal
    picked = handler(demo, "pick")("茶文化", gr.SelectData(None, {"index": [0, 1], "value": ""}))
    assert picked.value == path
    assert handler(demo, "search")("火星")[1] == S.ARTICLES_NO_MATCH.format(query="火星")
    notice, welcome, stats, _examples, table, counts, chosen = handler(demo, "remove")(path, "")
    assert "已删除 茶文化节.txt" in notice and "文章：0" in stats and welcome["visible"] is True
    assert table["data"] == [] and counts == S.ARTICLES_NONE and chosen.choices == []


def test_a_busy_index_is_refused_in_chinese(tmp_path, empty_assistant, monkeypatch):
    tea = tmp_path / "茶文化节.txt"
    tea.write_text(NEWS, "utf-8")
    ingest_uploads(empty_assistant, [str(tea)])

    def busy(*_a, **_kw):
        raise IndexBusyError("index busy: another writer (pid 4242) is writing x; wait or use --wait")

    monkeypatch.setattr(empty_assistant, "remove", busy)
    (path,) = [f for _, f in file_choices(empty_assistant)]
    removed, message = remove_file(empty_assistant, path)
    assert not removed and "索引正忙" in message and "4242" in message and not english_words(message)


# -- Chinese messages ------------------------------------------------------------------------------
def test_skipped_uploads_are_named_with_a_chinese_reason_and_what_to_do(tmp_path, empty_assistant):
    files = {
        "扫描件.txt": b"\x00\x01\x02binary",
        "控制符.txt": "新闻\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10".encode("utf-8"),
        "短.txt": "abcdef".encode("utf-8"),
        "坏.pdf": b"%PDF-1.4 this is not a pdf",
        "网页.html": b"<html>\x00</html>",
        "feed.jsonl": '{"title": "无正文"}\nnot json\n[1, 2]\n{"text": 5}\n'.encode("utf-8"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    report, rejected = ingest_uploads(empty_assistant, [str(tmp_path / n) for n in files])
    shown = render_report(report, rejected)
    for error in report.skipped:
        assert S.reason_zh(error.reason), error.reason  # every reason is known
    assert "<code>扫描件.txt</code>：是二进制文件，不是文本；请把文章另存为 .txt" in shown
    assert "<code>控制符.txt</code>：是二进制文件" in shown
    assert "<code>坏.pdf</code>：PDF 无法读取" in shown
    assert "<code>feed.jsonl 第 1 行</code>：这一行没有正文" in shown
    assert "<code>feed.jsonl 第 2 行</code>：这一行不是有效的 JSON" in shown
    assert "<code>短.txt</code>" in shown
    assert english_words(shown) == [], shown


def test_refused_questions_are_explained_in_chinese(seed_assistant_demo):
    respond = handler(seed_assistant_demo, "respond")
    long = last_reply(respond, "问" * 600)
    assert "问题有 600 个字，最多接受 500 个字" in long and "xd-error" in long
    assert english_words(long) == []
    assert S.error_zh(ConfigError("k=0: give the number of passages to read from 1 to 100")) \
        == "每次检索的段落数应是 1 到 100 的整数"


@pytest.fixture(scope="module")
def seed_assistant_demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui_archive")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XUNDA_CACHE_DIR", str(folder / "cache"))
        mp.delenv("XUNDA_AUTH", raising=False)
        assistant = build_seed_assistant(folder)
        yield build_app(assistant, folder / "reports")


def test_abstention_in_the_chat_shows_three_snippets(seed_assistant_demo):
    reply = last_reply(handler(seed_assistant_demo, "respond"), "火星上有几座城市？", threshold=1.0)
    assert "已收录的文章中没有这个问题的答案" in reply
    assert 1 <= reply.count("<details") <= 3 and "无标题" not in reply


# -- the served page -------------------------------------------------------------------------------
@pytest.mark.parametrize("archive", ["seed", "empty"])
def test_the_served_page_has_no_english_for_a_chinese_user(archive, tmp_path, monkeypatch):
    from qa.assistant import Assistant
    from qa.embedders import make_embedder

    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("XUNDA_AUTH", raising=False)
    assistant = (build_seed_assistant(tmp_path) if archive == "seed"
                 else Assistant.open_or_empty(tmp_path / "new", make_embedder("fake")))
    content = {w for a in assistant.articles.values() for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]*", a.text + a.title)}
    with served(assistant) as url:
        config = json.load(urllib.request.urlopen(url + "config", timeout=30))
    texts = page_texts(config)
    assert any("讯答" in t for t in texts) and any("已收录的文章" in t for t in texts)
    found = {w for t in texts for w in english_words(t, content | {assistant.embedder.id})}
    assert found == set(), found
