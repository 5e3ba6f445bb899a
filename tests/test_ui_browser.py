"""The chat UI in a real browser: Playwright drives Debian's /usr/bin/chromium headless.

Asks a seed question and a follow-up, uploads a new article and asks about it, checks that a
script-injection article shows as text and runs nothing, and saves screenshots (desktop and a
390px phone) under tests/artifacts/. On a new, empty archive: the page says how to start, the
first upload creates the index, an article is removed from the articles tab and its answer
goes, an abstention stays compact on a phone, and the page shows no English.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_ui import running_server
from tests.test_ui_archive import PORT_NEWS, english_words

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Without the background-networking flags Chromium tries to reach Google and is refused here.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"),
]

NEWS = """江南市举办首届茶文化节
新华社杭州6月2日电(记者张明)首届江南茶文化节2日在江南市开幕，来自12个国家和地区的356家茶企参展。
主办方介绍，本届茶文化节为期5天，设有名茶评比、制茶技艺展示等活动，预计接待游客8万人次。
"""

EVIL_NEWS = """某区图书馆发布新规
本报讯 某区图书馆今天发布通知<script>alert(1)</script>，称馆藏图书已达到<img src=x onerror=alert(2)>52万册。
图书馆负责人表示，新规将于下月起施行，读者可凭身份证免费借阅。
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ui_browser")) as (url, assistant):
        yield url, assistant


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    url, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.dialogs = []  # every alert/confirm that fires (none should)
    page.outside = []  # requests leaving this machine (none should: the page works offline)

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: page.outside.append(r.url)
            if not r.url.startswith((url, "data:", "blob:")) else None)
    page.goto(url, wait_until="networkidle")
    yield page
    context.close()


def empty_archive(folder: Path):
    """An Assistant over a new, empty archive folder (its first upload creates the index)."""
    from qa.assistant import Assistant
    from qa.embedders import make_embedder

    return Assistant.open_or_empty(folder / "my-archive", make_embedder("fake"))


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def ask(page, question: str) -> str:
    """Type `question`, press Enter, wait for the finished answer; returns its text."""
    bots = page.locator('#xd-chat [data-testid="bot"]')
    before = bots.count()
    box = page.locator("#xd-question textarea")
    box.fill(question)
    box.press("Enter")
    wait_answers(page, before + 1)
    return bots.nth(before).inner_text()


def wait_answers(page, n: int) -> None:
    """Wait until the chat holds `n` bot messages and the last one is complete."""
    page.wait_for_function(
        """([n]) => {
            const bots = document.querySelectorAll('#xd-chat [data-testid="bot"]');
            if (bots.length < n) return false;
            const t = bots[bots.length - 1].innerText;
            return t.includes('置信度') || t.includes('没有这个问题的答案') || t.includes('⚠')
                || t.includes('还没有收录任何文章');
        }""", arg=[n])


def upload(page, path: Path) -> str:
    """Upload `path` through the page and add it to the index; returns the result line."""
    page.locator("#xd-files input[type=file]").set_input_files(str(path))
    page.locator("#xd-files").get_by_text(path.name[:8]).filter(visible=True).first.wait_for()
    page.locator("#xd-add").click()
    report = page.locator("#xd-report")
    report.get_by_text("已处理").wait_for()
    return report.inner_text()


def test_ask_follow_up_and_upload(page, server, tmp_path):
    _, assistant = server
    first = ask(page, "5月PMI是多少")
    assert "50.6%" in first
    assert "出处" in first and "《" in first and ".txt" in first and "置信度" in first
    page.locator("#xd-chat mark").first.wait_for()  # the span is highlighted in its sentence
    shot(page, "01_answer")

    ask(page, "5月份大型企业PMI是多少？")
    follow = ask(page, "那小型企业呢？")
    assert "置信度" in follow or "没有这个问题的答案" in follow
    assert page.locator('#xd-chat [data-testid="bot"]').count() == 3
    assert "理解为" in follow and "小型企业" in follow  # completed from the earlier question
    shot(page, "02_follow_up")

    # a computed example question asks itself when clicked
    example = page.locator("#xd-examples button").first
    example_text = example.inner_text().strip()
    example.click()
    wait_answers(page, 4)
    assert example_text in page.locator('#xd-chat [data-testid="user"]').last.inner_text()

    # the passages panel shows what was retrieved for the last question
    page.get_by_text("检索到的段落").click()
    page.locator("#xd-passages .xd-hit").first.wait_for()
    assert "得分" in page.locator("#xd-passages").inner_text()

    articles_before = assistant.info().articles
    news = tmp_path / "茶文化节.txt"
    news.write_text(NEWS, "utf-8")
    report = upload(page, news)
    assert "找到文章 1 篇" in report
    assert f"文章：{articles_before + 1}" in page.locator("#xd-stats").inner_text()
    answer = ask(page, "首届江南茶文化节有多少家茶企参展？")
    assert "356" in answer and "江南市举办首届茶文化节" in answer
    shot(page, "03_uploaded_article")

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page is {width}px wide on a 390px phone screen"
    shot(page, "04_phone_390px")
    assert page.dialogs == [] and page.outside == []


def test_script_injection_article_shows_as_text_and_runs_nothing(page, tmp_path):
    evil = tmp_path / "注入<img src=x onerror=alert(3)>.txt"
    evil.write_text(EVIL_NEWS, "utf-8")
    report = upload(page, evil)
    answer = ask(page, "某区图书馆馆藏图书达到多少万册？")
    page.get_by_text("检索到的段落").click()
    passages = page.locator("#xd-passages")
    passages.locator(".xd-hit").first.wait_for()
    shown = answer + passages.inner_text()
    assert "<script>alert(1)</script>" in shown  # the markup is visible as text
    assert "<img src=x onerror=alert(2)>" in shown
    assert "onerror" in report or "注入" in report or "已处理" in report
    page.wait_for_timeout(500)  # give any injected handler a chance to fire
    injected = page.evaluate("""() => ({
        handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length,
        images: document.querySelectorAll('img[src="x"]').length,
        scripts: Array.from(document.scripts).filter(s => s.textContent.includes('alert(')).length,
    })""")
    assert injected == {"handlers": 0, "images": 0, "scripts": 0}
    assert page.dialogs == []
    shot(page, "05_injection_as_text")


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ui_browser_empty"), empty_archive) as (url, assistant):
        yield url, assistant


def visible_english(page) -> set[str]:
    """ASCII words in the page's visible text outside code, file names and the model name
    (the footer is Gradio's own, translated by Gradio)."""
    body = page.evaluate("""() => {
        const clone = document.body.cloneNode(true);
        clone.querySelectorAll('footer, code, script, style').forEach(e => e.remove());
        return clone.innerHTML;
    }""")
    return set(english_words(body, {"fake", "hash-256", "fake:hash-256"}))


def test_new_archive_upload_ask_remove_and_compact_abstention_on_a_phone(browser, empty_server, tmp_path):
    url, assistant = empty_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url, wait_until="networkidle")
    assert "还没有收录文章" in page.locator("#xd-welcome").inner_text()
    assert "还没有收录任何文章" in ask(page, "首届江南茶文化节有多少家茶企参展？")
    assert visible_english(page) == set()
    shot(page, "06_new_archive")

    tea, port = tmp_path / "茶文化节.txt", tmp_path / "宁波港.txt"
    tea.write_text(NEWS, "utf-8")
    port.write_text(PORT_NEWS, "utf-8")
    assert "找到文章 1 篇" in upload(page, tea)
    assert "找到文章 1 篇" in upload(page, port)
    page.locator("#xd-welcome").wait_for(state="hidden")
    assert "356" in ask(page, "首届江南茶文化节有多少家茶企参展？")
    assert "1200万标准箱" in ask(page, "宁波舟山港前5个月完成集装箱吞吐量多少？")

    page.get_by_role("tab", name="已收录的文章").click()
    search = page.locator("#xd-article-search").locator("textarea, input").first
    search.fill("宁波")
    page.locator("#xd-article-count").get_by_text("显示 1 篇").wait_for()
    assert "宁波港集装箱吞吐量创新高" in page.locator("#xd-articles").inner_text()
    # Gradio renders each cell twice (a hidden copy measures widths): click the one shown.
    page.locator("#xd-articles").get_by_text("宁波港集装箱吞吐量创新高").filter(visible=True).first.click()
    chosen = page.locator("#xd-remove-file").locator("input").first
    page.wait_for_function("() => document.querySelector('#xd-remove-file input').value.includes('宁波港.txt')")
    assert "宁波港.txt" in chosen.input_value()
    page.locator("#xd-remove").click()
    page.locator("#xd-removed").get_by_text("已删除 宁波港.txt").wait_for()
    shot(page, "07_article_removed")
    assert len(assistant.articles) == 1

    page.get_by_role("tab", name="问答").click()
    gone = ask(page, "宁波舟山港前5个月完成集装箱吞吐量多少？")
    assert "没有这个问题的答案" in gone and "置信度" not in gone

    page.set_viewport_size({"width": 390, "height": 844})
    abstain = ask(page, "火星上有几座城市？")
    assert "没有这个问题的答案" in abstain
    last = page.locator('#xd-chat [data-testid="bot"]').last
    last.locator("details").first.wait_for()  # the snippets render after the message's first line
    assert 1 <= last.locator("details").count() <= 3
    height = last.bounding_box()["height"]
    assert height < 844, f"the abstention is {height}px high: more than a phone screen"
    last.locator("summary").first.click()  # a snippet opens to its whole passage
    last.locator("details[open] .xd-passage").first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page is {width}px wide on a 390px phone screen"
    shot(page, "08_abstention_phone")
    assert visible_english(page) == set() and dialogs == []
    context.close()
