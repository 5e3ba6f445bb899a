"""Tests for qa.loading: every format, encoding detection, and every kind of bad input."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.errors import InputError
from qa.loading import LoadResult, exit_code_for, load_file, load_paths, normalize_date
from qa.text import content_hash
from tests.strategies import messy_text

FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # never in loaded text

SIMPLIFIED = (
    "新华社北京6月2日电 记者从国家统计局获悉，今年前四个月，全国规模以上工业企业利润降幅明显收窄。\n\n"
    "专家表示，随着复工复产持续推进，工业生产逐步恢复，企业效益有望继续改善。"
)
SIMPLIFIED_SHORT = "本报讯 昨日，市交通局召开新闻发布会，介绍地铁新线建设进展。"  # ~30 chars
TRADITIONAL = (
    "中央社台北6月2日電 氣象局今天表示，受鋒面影響，各地將有短暫陣雨或雷雨，民眾外出應攜帶雨具。\n\n"
    "氣象專家指出，梅雨季節降雨集中，山區須嚴防坍方與落石，沿海地區也要注意強風。"
)
TRADITIONAL_SHORT = "記者今日在台北報導，行政院會議通過多項法案，將送立法院審議。"

NEWS_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>城市更新项目全面启动_新闻中心_某某网</title>
<meta property="article:published_time" content="2021-03-15T08:30:00+08:00">
<script>var tracker = "统计脚本不应出现";</script><style>.nav{color:red}</style></head>
<body><nav><ul><li><a href="/">首页</a></li><li><a href="/a">国内新闻频道</a></li>
<li><a href="/b">国际新闻频道</a></li><li><a href="/c">体育娱乐频道</a></li></ul></nav>
<div class="main"><article><h1>城市更新项目全面启动</h1>
<p>本报讯 记者从市住房和城乡建设局获悉，今年全市将启动老旧小区改造项目一百二十个，惠及居民约五万户。</p>
<p>据介绍，改造内容包括加装电梯、更新管网、增设停车位和无障碍设施等，预计年底前完成大部分工程。</p>
<p>市民王先生说，小区改造后出行更方便了，希望后续管理也能跟上，让老小区真正焕发新活力。</p>
</article></div>
<footer><p>版权所有 某某网 联系我们 网站地图</p></footer>
<script>document.write("广告代码不应出现");</script></body></html>"""


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def one_error(result: LoadResult, name: str) -> InputError:
    errs = [e for e in result.skipped if Path(e.path).name == name]
    assert len(errs) == 1, result.skipped
    return errs[0]


# ---------------------------------------------------------------- txt / md


def test_txt_utf8_kept_verbatim_with_newlines_normalised(tmp_path):
    p = write(tmp_path / "a.txt", SIMPLIFIED.replace("\n", "\r\n").encode("utf-8"))
    [doc] = load_file(p)
    assert doc.text == SIMPLIFIED
    assert "\n\n" in doc.text  # blank lines (paragraph breaks) survive
    assert doc.kind == "txt" and doc.path == str(p) and doc.title == "" and doc.date == ""
    assert doc.doc_id == content_hash(SIMPLIFIED)


def test_txt_utf8_bom_stripped(tmp_path):
    p = write(tmp_path / "bom.txt", SIMPLIFIED.encode("utf-8-sig"))
    [doc] = load_file(p)
    assert doc.text == SIMPLIFIED and not doc.text.startswith("\ufeff")


@pytest.mark.parametrize(
    "text,encoding",
    [
        (SIMPLIFIED, "gb18030"),
        (SIMPLIFIED, "gbk"),
        (SIMPLIFIED_SHORT, "gb18030"),
        (SIMPLIFIED_SHORT, "gbk"),
        (TRADITIONAL, "big5"),
        (TRADITIONAL_SHORT, "big5"),
        (TRADITIONAL_SHORT, "gb18030"),  # traditional characters saved as GB18030
        (SIMPLIFIED_SHORT, "utf-16"),
    ],
)
def test_txt_legacy_encodings_detected_from_bytes(tmp_path, text, encoding):
    # The extension says nothing about the encoding: it is detected from the bytes.
    p = write(tmp_path / "news.txt", text.encode(encoding))
    [doc] = load_file(p)
    assert doc.text == text


def test_md_loaded_as_is(tmp_path):
    md = "# 标题行\n\n" + SIMPLIFIED
    [doc] = load_file(write(tmp_path / "note.md", md))
    assert doc.kind == "md" and doc.text == md


@pytest.mark.parametrize(
    "name,expected",
    [("news_2020-05-31.txt", "2020-05-31"), ("20210102-page1.txt", "2021-01-02"),
     ("2019_12_01.md", "2019-12-01"), ("000_693cfbc8317cc973.txt", ""), ("plain.txt", "")],
)
def test_date_from_file_name(tmp_path, name, expected):
    [doc] = load_file(write(tmp_path / name, SIMPLIFIED_SHORT))
    assert doc.date == expected


def test_doc_id_depends_on_content_not_path(tmp_path):
    [a] = load_file(write(tmp_path / "a.txt", SIMPLIFIED))
    [b] = load_file(write(tmp_path / "sub" / "b.txt", SIMPLIFIED.encode("gb18030")))
    [c] = load_file(write(tmp_path / "c.txt", SIMPLIFIED_SHORT))
    assert a.doc_id == b.doc_id != c.doc_id


# ---------------------------------------------------------------- html


def test_html_news_page_main_text_title_and_date(tmp_path):
    [doc] = load_file(write(tmp_path / "page.html", NEWS_PAGE))
    assert doc.kind == "html"
    assert doc.title == "城市更新项目全面启动"
    assert doc.date == "2021-03-15"
    paras = doc.text.split("\n\n")
    assert len(paras) == 3
    assert paras[0].startswith("本报讯 记者从市住房和城乡建设局获悉")
    assert paras[2].endswith("焕发新活力。")
    for junk in ("统计脚本", "广告代码", "国内新闻频道", "版权所有", "color:red"):
        assert junk not in doc.text
    assert doc.doc_id == content_hash(doc.text)


def test_htm_in_gbk_with_meta_charset(tmp_path):
    page = NEWS_PAGE.replace('charset="utf-8"', 'charset="gbk"')
    [doc] = load_file(write(tmp_path / "page.htm", page.encode("gbk")))
    assert doc.title == "城市更新项目全面启动"
    assert "老旧小区改造项目" in doc.text


def test_html_short_page(tmp_path):
    page = "<html><head><title>短讯</title></head><body><p>今天全市天气晴朗，气温回升。</p></body></html>"
    [doc] = load_file(write(tmp_path / "short.html", page))
    assert doc.text == "今天全市天气晴朗，气温回升。"
    assert doc.title == "短讯"


def test_html_without_text_is_an_input_error(tmp_path):
    # A script-rendered page saved before its text was filled in: only a title and scripts.
    page = "<html><head><title>加载中</title><script>render();</script></head><body><div id=app></div></body></html>"
    with pytest.raises(InputError, match="no article text"):
        load_file(write(tmp_path / "empty.html", page))


# ---------------------------------------------------------------- jsonl


def test_jsonl_good_and_bad_lines(tmp_path):
    lines = [
        json.dumps({"text": SIMPLIFIED, "title": "工业企业利润降幅收窄", "date": "2020/6/2",
                    "url": "http://example.com/1", "source": "新华社"}, ensure_ascii=False),
        "",  # blank lines are ignored
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"title": "没有正文"}, ensure_ascii=False),
        json.dumps({"text": "   "}),
        json.dumps({"text": 42}),
        json.dumps({"text": TRADITIONAL_SHORT, "title": ["not", "a", "string"]}, ensure_ascii=False),
        json.dumps({"text": TRADITIONAL, "date": "2020年5月31日"}, ensure_ascii=False),
    ]
    p = write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")
    result = load_paths([p])
    assert [d.path for d in result.documents] == [f"{p}:1", f"{p}:9"]
    first, last = result.documents
    assert first.text == SIMPLIFIED and first.title == "工业企业利润降幅收窄"
    assert (first.date, first.url, first.source, first.kind) == ("2020-06-02", "http://example.com/1", "新华社", "jsonl")
    assert first.doc_id == content_hash("工业企业利润降幅收窄", SIMPLIFIED)
    assert last.date == "2020-05-31" and last.title == ""
    by_line = {e.line: str(e) for e in result.skipped}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8]
    assert all(e.path == str(p) for e in result.skipped)
    assert "bad JSON" in by_line[3]
    assert "JSON object" in by_line[4]
    assert '"text" is missing' in by_line[5]
    assert '"text" is empty' in by_line[6]
    assert '"text" is a int' in by_line[7]
    assert '"title"' in by_line[8]
    assert by_line[3].startswith(f"{p}:3: ")
    assert exit_code_for(result) == 3


def test_jsonl_load_file_strict_raises_first_bad_line(tmp_path):
    p = write(tmp_path / "feed.jsonl", json.dumps({"text": "好"}) + "\n{oops\n")
    with pytest.raises(InputError) as info:
        load_file(p)
    assert info.value.line == 2
    collected: list[InputError] = []
    assert len(load_file(p, collected)) == 1 and collected[0].line == 2


def test_jsonl_title_changes_doc_id(tmp_path):
    lines = [json.dumps({"text": SIMPLIFIED_SHORT, "title": t}, ensure_ascii=False) for t in ("甲", "乙")]
    docs = load_file(write(tmp_path / "f.jsonl", "\n".join(lines)))
    assert docs[0].doc_id != docs[1].doc_id


@pytest.mark.parametrize(
    "raw,iso",
    [("2020-05-31", "2020-05-31"), ("2020/5/31", "2020-05-31"), ("2020年5月31日", "2020-05-31"),
     ("2020-05-31T08:30:00+08:00", "2020-05-31"), ("20200531", "2020-05-31"), ("2020年5月", "2020-05"),
     ("2020", "2020"), ("2020-02-30", ""), ("昨天", ""), ("", "")],
)
def test_normalize_date(raw, iso):
    assert normalize_date(raw) == iso


# ---------------------------------------------------------------- pdf


def _make_pdf(path: Path, pages: list[tuple[str, str]]) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    for font in {f for f, _ in pages if f.endswith("-Light")}:
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    c = canvas.Canvas(str(path))
    for font, text in pages:
        c.setFont(font, 12)
        for i, line in enumerate(text.split("\n")):
            c.drawString(72, 750 - 18 * i, line)
        c.showPage()
    c.save()
    return path


def test_pdf_english_text_layer(tmp_path):
    p = _make_pdf(tmp_path / "report.pdf", [("Helvetica", "Quarterly report 2020\nRevenue rose 12.5 percent.")])
    [doc] = load_file(p)
    assert doc.kind == "pdf"
    assert doc.text == "Quarterly report 2020\nRevenue rose 12.5 percent."


def test_pdf_chinese_cid_fonts_pages_joined_by_blank_line(tmp_path):
    p = _make_pdf(tmp_path / "cn_2020-06-02.pdf",
                  [("STSong-Light", SIMPLIFIED_SHORT), ("MSung-Light", TRADITIONAL_SHORT)])
    [doc] = load_file(p)
    assert doc.text == SIMPLIFIED_SHORT + "\n\n" + TRADITIONAL_SHORT
    assert doc.date == "2020-06-02"


def test_pdf_without_text_layer(tmp_path):
    from reportlab.pdfgen import canvas

    p = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(p))
    c.rect(72, 72, 300, 400, fill=1)  # a picture, no text: what a scan looks like to pypdf
    c.showPage()
    c.save()
    with pytest.raises(InputError, match="no text layer.*OCR"):
        load_file(p)


def test_pdf_damaged(tmp_path):
    with pytest.raises(InputError, match="cannot read the PDF"):
        load_file(write(tmp_path / "broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n"))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\r\n\t \n", "empty"),
        ("blank.jsonl", b"\n\n", "empty"),
        ("zero.pdf", b"", "empty"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("controls.txt", bytes(range(1, 9)) * 20, "binary"),
        ("garbled.txt", b"\xff\xfa\xfb" * 30, "encoding.*UTF-8"),
        ("photo.jpg", b"\xff\xd8\xff\xe0", r"unsupported file type '\.jpg'.*\.txt"),
        ("README", b"hello", "unsupported file type '\\(no extension\\)'"),
    ],
)
def test_bad_file_gives_clear_input_error(tmp_path, name, data, expected):
    p = write(tmp_path / name, data)
    with pytest.raises(InputError, match=expected) as info:
        load_file(p)
    assert info.value.path == str(p) and str(info.value).startswith(str(p))


def test_unsupported_extension_names_supported_ones(tmp_path):
    with pytest.raises(InputError) as info:
        load_file(write(tmp_path / "a.docx", b"PK"))
    for ext in (".txt", ".md", ".html", ".htm", ".jsonl", ".pdf"):
        assert ext in info.value.reason


def test_missing_path(tmp_path):
    missing = tmp_path / "nowhere" / "x.txt"
    result = load_paths([missing])
    assert result.documents == ()
    [err] = result.skipped
    assert err.path == str(missing) and "no such file" in err.reason
    assert exit_code_for(result) == 4
    with pytest.raises(InputError, match="no such file"):
        load_file(missing)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    p = write(tmp_path / "secret.txt", SIMPLIFIED)
    original = os.open

    def deny(path, *args, **kwargs):
        if Path(path).name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    write(tmp_path / "ok.txt", SIMPLIFIED_SHORT)
    result = load_paths([tmp_path])
    assert [Path(d.path).name for d in result.documents] == ["ok.txt"]
    assert "permission denied" in one_error(result, "secret.txt").reason


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_chmod(tmp_path):
    p = write(tmp_path / "secret.txt", SIMPLIFIED)
    p.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            load_file(p)
    finally:
        p.chmod(0o644)


# ---------------------------------------------------------------- folders


def _mixed_folder(root: Path) -> None:
    write(root / "b_gbk.txt", SIMPLIFIED.encode("gbk"))
    write(root / "a_big5.txt", TRADITIONAL.encode("big5"))
    write(root / "sub" / "page.html", NEWS_PAGE)
    write(root / "sub" / "deeper" / "feed.jsonl",
          json.dumps({"text": SIMPLIFIED_SHORT}, ensure_ascii=False) + "\n{bad\n")
    write(root / "sub" / "empty.txt", b"")
    write(root / "z_binary.md", b"\x00\x01\x02\x03")
    write(root / "notes.docx", b"PK\x03\x04")
    write(root / ".hidden.txt", SIMPLIFIED)
    write(root / ".git" / "HEAD.txt", SIMPLIFIED)


def test_folder_good_files_loaded_despite_bad_ones(tmp_path):
    _mixed_folder(tmp_path)
    result = load_paths([tmp_path])
    names = [Path(d.path.split(".jsonl:")[0]).name for d in result.documents]
    assert names == ["a_big5.txt", "b_gbk.txt", "feed", "page.html"]
    texts = [d.text for d in result.documents]
    assert texts[0] == TRADITIONAL and texts[1] == SIMPLIFIED and texts[2] == SIMPLIFIED_SHORT
    assert result.documents[2].path == str(tmp_path / "sub" / "deeper" / "feed.jsonl") + ":1"
    assert all(d.path.startswith(str(tmp_path)) for d in result.documents)
    assert len(result.skipped) == 4  # one error per bad file or line, nothing hidden reported
    assert "empty" in one_error(result, "empty.txt").reason
    assert "binary" in one_error(result, "z_binary.md").reason
    assert "unsupported" in one_error(result, "notes.docx").reason
    assert one_error(result, "feed.jsonl").line == 2
    assert not any("hidden" in e.path or ".git" in e.path for e in result.skipped)
    assert exit_code_for(result) == 3


def test_order_is_deterministic_and_files_deduplicated(tmp_path):
    _mixed_folder(tmp_path)
    first = load_paths([tmp_path])
    again = load_paths([str(tmp_path)])
    assert [d.path for d in first.documents] == [d.path for d in again.documents]
    assert [str(e) for e in first.skipped] == [str(e) for e in again.skipped]
    # Given order wins across arguments; a file reached twice is loaded once.
    single = tmp_path / "b_gbk.txt"
    both = load_paths([single, tmp_path])
    assert both.documents[0].path == str(single)
    assert len(both.documents) == len(first.documents)


def test_exit_codes(tmp_path):
    good = write(tmp_path / "good.txt", SIMPLIFIED)
    bad = write(tmp_path / "bad.txt", b"")
    assert exit_code_for(load_paths([good])) == 0
    assert exit_code_for(load_paths([good, bad])) == 3
    assert exit_code_for(load_paths([bad])) == 4
    assert exit_code_for(load_paths([])) == 4


# ---------------------------------------------------------------- repair and odd files


def test_jsonl_lone_surrogate_record_repaired_and_unreadable_one_skipped(tmp_path):
    lines = [
        '{"text": "甲\\ud800乙：今天全市天气晴朗。", "title": "天气\\udfff"}',  # ASCII-escaped lone surrogates
        json.dumps({"text": SIMPLIFIED_SHORT}, ensure_ascii=False),
        '{"text": "\\ud800\\ud800\\ud800甲"}',
        '{"text": "\\u0000\\u0007 \\u001b"}',
        '{"text": "引号\x93内容\x94，正文含有原始控制字符\x07。"}',  # raw controls inside a JSON string
    ]
    p = write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")
    result = load_paths([p])
    assert [d.path for d in result.documents] == [f"{p}:1", f"{p}:2", f"{p}:5"]
    first, second, fifth = result.documents
    assert first.text == "甲\ufffd乙：今天全市天气晴朗。" and first.title == "天气\ufffd"
    assert second.text == SIMPLIFIED_SHORT
    assert fifth.text == "引号“内容”，正文含有原始控制字符。"
    by_line = {e.line: str(e) for e in result.skipped}
    assert sorted(by_line) == [3, 4]
    assert by_line[3].startswith(f"{p}:3: ") and "unreadable: 3 of its 4 characters" in by_line[3]
    assert "no text once control characters are removed" in by_line[4]
    for doc in result.documents:  # nothing left that SQLite or hashing would refuse
        (doc.text + doc.title).encode("utf-8")


def test_c1_control_quotes_are_repaired_not_refused_as_binary(tmp_path):
    news = "新华社北京5月31日电 国家统计局发言人表示\u0093五月份制造业采购经理指数为50.6%\u0094，比上月上升0.2个百分点。"
    [doc] = load_file(write(tmp_path / "scraped.txt", news))
    assert doc.text == news.replace("\u0093", "“").replace("\u0094", "”")


def test_a_few_stray_controls_are_dropped_many_mean_binary(tmp_path):
    [doc] = load_file(write(tmp_path / "stray.txt", SIMPLIFIED.replace("。", "。\x08", 1) + "\x1a"))
    assert doc.text == SIMPLIFIED
    with pytest.raises(InputError, match="binary"):
        load_file(write(tmp_path / "controls.md", "正文" + "\x01\x02\x03" * 20))


def test_fifo_is_skipped_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    write(tmp_path / "ok.txt", SIMPLIFIED_SHORT)
    result = load_paths([tmp_path])  # would block forever if the FIFO were opened for reading
    assert [Path(d.path).name for d in result.documents] == ["ok.txt"]
    assert "FIFO" in one_error(result, "pipe.txt").reason
    [err] = load_paths([fifo]).skipped  # given directly too
    assert "not a regular file" in err.reason


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_link_to_a_device_is_skipped_not_read(tmp_path):
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    result = load_paths([tmp_path])
    assert result.documents == ()
    assert "character device, not a regular file" in one_error(result, "zero.txt").reason


def test_file_over_the_size_cap_is_skipped(tmp_path, monkeypatch):
    import qa.loading

    monkeypatch.setattr(qa.loading, "MAX_FILE_BYTES", 1000)
    write(tmp_path / "big.txt", SIMPLIFIED * 20)
    write(tmp_path / "small.txt", SIMPLIFIED_SHORT)
    result = load_paths([tmp_path])
    assert [Path(d.path).name for d in result.documents] == ["small.txt"]
    assert "are not read: split it" in one_error(result, "big.txt").reason


def test_deeply_nested_html_text_is_still_extracted(tmp_path):
    body = "<div>" * 5000 + "<p>本报讯 今天全市天气晴朗，气温回升到二十五度。</p>" + "</div>" * 5000
    page = f"<html><head><title>深层页面</title><script>var x = '<p>脚本</p>';</script></head><body>{body}</body></html>"
    [doc] = load_file(write(tmp_path / "deep.html", page))
    assert doc.text == "本报讯 今天全市天气晴朗，气温回升到二十五度。" and doc.title == "深层页面"


def test_file_name_that_is_not_utf8_is_skipped_with_a_printable_name(tmp_path):
    write(tmp_path / os.fsdecode(b"bad\xffname.txt"), SIMPLIFIED_SHORT)
    [err] = load_paths([tmp_path]).skipped
    assert err.path == str(tmp_path / "bad\\xffname.txt") and "not valid UTF-8; rename" in err.reason
    str(err).encode("utf-8")


def test_linked_file_keeps_the_path_given(tmp_path):
    target = write(tmp_path / "elsewhere" / "real.txt", SIMPLIFIED_SHORT)
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "link.txt").symlink_to(target)
    [doc] = load_paths([tmp_path / "feed"]).documents
    assert doc.path == str(tmp_path / "feed" / "link.txt")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), messy_text().map(lambda t: t.encode("utf-8", "surrogatepass"))),
       ext=st.sampled_from([".txt", ".md", ".html", ".jsonl"]))
def test_fuzz_loaders_raise_only_input_errors_and_yield_clean_text(tmp_path, data, ext):
    p = tmp_path / f"fuzz{ext}"
    p.write_bytes(data)
    result = load_paths([p])  # never raises
    assert all(isinstance(e, InputError) for e in result.skipped)
    for doc in result.documents:
        for text in (doc.text, doc.title, doc.url, doc.source):
            assert not FORBIDDEN.search(text)
            text.encode("utf-8")
        assert doc.text.strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.fixed_dictionaries({"text": messy_text(120)}, optional={"title": messy_text(20)}),
                        min_size=1, max_size=4))
def test_fuzz_jsonl_records_with_any_escapes(tmp_path, records):
    p = tmp_path / "fuzz.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="ascii")  # \\uXXXX escapes
    result = load_paths([p])
    assert len(result.documents) + len(result.skipped) == len(records)  # one outcome per record
    for doc in result.documents:
        assert not FORBIDDEN.search(doc.text + doc.title)
        content_hash(doc.title, doc.text)
