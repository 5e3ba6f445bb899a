"""The HTML eval report in a real browser (Playwright, Debian's /usr/bin/chromium headless): the
page opens from a file with every chart drawn, its filter box narrows the wrong answers, it
fetches nothing, and the chat UI's report tab (评测报告) shows it. Screenshots go to tests/artifacts/.
"""
from __future__ import annotations

import pytest

from tests.test_report_html import EVIL, hand_made_report
from tests.test_ui_browser import ARGS, ARTIFACTS, CHROMIUM, TIMEOUT_MS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.dialogs, page.requests = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: page.requests.append(r.url))
    yield page
    context.close()


def test_report_file_opens_with_every_chart_and_a_working_filter(page, tmp_path):
    from qa.report_html import CHART_SECTIONS, write_html

    path = write_html(hand_made_report(), tmp_path / "report.html", title="browser check")
    page.goto(path.as_uri(), wait_until="load")
    for key in CHART_SECTIONS:
        chart = page.locator(f"section#{key} svg")
        assert chart.count() == 1, key
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, (key, box)  # drawn, not empty
    assert page.locator("section#risk-coverage svg").text_content().count("threshold 0.100") == 1
    rows = page.locator("#wrong tbody tr")
    assert rows.count() == 3
    page.locator("#filter").fill("withheld")
    assert [r.is_visible() for r in rows.all()] == [False, True, False]
    assert page.locator("#shown").inner_text() == "1"
    page.locator("#filter").fill("")
    assert all(r.is_visible() for r in rows.all())
    assert EVIL in page.locator("#wrong").inner_text()  # markup shown as text, never run
    assert page.evaluate("document.querySelectorAll('img, [onerror]').length") == 0
    assert page.dialogs == [] and page.requests == [path.as_uri()]  # nothing fetched
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "eval_report.png"), full_page=True)


def test_ui_tab_shows_the_latest_report(page, tmp_path):
    from qa.report_html import write_html
    from tests.test_ui import build_seed_assistant, free_port
    from ui.app import build_app, launch

    reports = tmp_path / "reports"
    write_html(hand_made_report(), reports / "latest.html", title="tab check")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
        assistant = build_seed_assistant(tmp_path)
    port = free_port()
    demo = launch(build_app(assistant, reports), port=port, block=False)
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
        page.get_by_role("tab", name="评测报告").click()
        frame = page.frame_locator("#xd-eval-frame")
        frame.locator("h1").get_by_text("tab check").wait_for()
        assert frame.locator("svg").count() == 5
        assert "latest.html" in page.locator("#xd-eval-report").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "eval_report_tab.png"), full_page=True)
        assert page.dialogs == []
    finally:
        demo.close()
