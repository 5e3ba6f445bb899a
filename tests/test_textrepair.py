"""Text repair: C1 quotes and mojibake fixed, lone surrogates and controls never pass, clean text untouched."""
import re

from hypothesis import given, settings

from qa.textrepair import REPLACEMENT, looks_binary, repair_text, unreadable_reason
from tests.strategies import messy_text

FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def test_clean_chinese_text_is_returned_unchanged():
    text = "国家统计局：５月份ＰＭＩ为50.6%，“比上月上升0.2个百分点”……\n\t第二段——《人民日报》·马克·吐温、Élysée、3×4米"
    assert repair_text(text) == text  # full-width forms, curly quotes and Latin-1 letters kept


def test_windows_1252_quotes_read_as_c1_controls_become_curly_quotes():
    assert repair_text("发言人表示\u0093五月份PMI为50.6%\u0094，比上月上升。") == "发言人表示“五月份PMI为50.6%”，比上月上升。"


def test_utf8_read_as_latin1_mojibake_is_repaired():
    assert repair_text("cafÃ© â€œä¸­æ–‡â€\x9d") == "café “中文”"


def test_lone_surrogates_become_replacement_and_controls_are_dropped():
    out = repair_text("甲\ud800乙\x00丙\x07丁\x1b[31m红\x1b[0m\r\n戊\x0c己\udfff")
    assert out == f"甲{REPLACEMENT}乙丙丁红\n戊\n己{REPLACEMENT}"
    out.encode("utf-8")  # never raises


def test_binary_means_many_c0_controls_not_a_few_or_c1():
    assert looks_binary(bytes(range(1, 9)).decode("ascii") * 20)
    assert not looks_binary("新闻" * 100 + "\x07\x08")
    assert not looks_binary("新闻\u0093引号\u0094" * 3)  # C1: repairable Windows-1252 quotes


def test_unreadable_reason():
    assert unreadable_reason("  \n ") == "holds no text once control characters are removed"
    assert "2 of its 3" in unreadable_reason(REPLACEMENT * 2 + "甲")
    assert unreadable_reason("甲乙" + REPLACEMENT) is None


@settings(max_examples=300, deadline=None)
@given(messy_text())
def test_repair_never_lets_controls_or_surrogates_through(text):
    out = repair_text(text)
    assert not FORBIDDEN.search(out)
    out.encode("utf-8")
