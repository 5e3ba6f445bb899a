"""Bounded, repaired and well-typed arguments of Assistant.ask, each refused with a clear ConfigError."""
import pytest

from qa.errors import ConfigError
from qa.inputs import (MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, check_k, check_threshold, check_time_budget,
                       clean_history, clean_question)


def test_question_is_repaired_and_stripped():
    assert clean_question("  \ud8005月PMI\u0093是多少\x07？\udfff ") == "5月PMI“是多少？"
    assert clean_question("笑\ud83d\ude00？") == "笑\U0001f600？"  # a surrogate pair is joined, not dropped
    assert clean_question("字" * MAX_QUESTION_CHARS) == "字" * MAX_QUESTION_CHARS
    assert clean_question("字" * 800, limit=1000) == "字" * 800  # retrieve() takes rewritten follow-ups


@pytest.mark.parametrize("question,message", [
    ("字" * (MAX_QUESTION_CHARS + 1), f"question is {MAX_QUESTION_CHARS + 1} characters; at most 500"),
    ("字" * 10_000, "question is 10000 characters; at most 500 are accepted: ask about one fact"),
    ("  ", "empty question"),
    ("\x00\x07", "empty question"),
    (None, "empty question"),
    (42, r"question is int \(42\): give the text as a string"),
])
def test_bad_questions_are_refused_with_what_to_do(question, message):
    with pytest.raises(ConfigError, match=message):
        clean_question(question)


def test_history_keeps_the_last_turns_and_names_a_bad_one():
    turns = [f"问题{i}？" for i in range(10)]
    assert clean_history(turns) == turns[-MAX_HISTORY_TURNS:]
    assert clean_history([]) == []
    # an over-long turn older than the last MAX_HISTORY_TURNS is never read
    assert clean_history(["字" * 900] + turns) == turns[-MAX_HISTORY_TURNS:]
    with pytest.raises(ConfigError, match="history item 5 is 900 characters.*shorten"):
        clean_history(turns[:5] + ["字" * 900])


@pytest.mark.parametrize("k", [1, 5, 100])
def test_k_accepted(k):
    assert check_k(k) == k


@pytest.mark.parametrize("k,message", [
    ("abc", r"k='abc' \(str\)"), (2.5, r"k=2.5 \(float\)"), (True, r"k=True \(bool\)"),
    (0, "k=0"), (-3, "k=-3"), (101, "k=101: .* from 1 to 100"),
])
def test_bad_k_refused(k, message):
    with pytest.raises(ConfigError, match=message):
        check_k(k)


def test_threshold_checked():
    assert check_threshold(None) is None and check_threshold(0) == 0.0 and check_threshold(1) == 1.0
    for bad, message in [(float("nan"), "threshold=nan"), (float("inf"), "threshold=inf"),
                         (-0.1, "threshold=-0.1"), (1.5, "threshold=1.5"), ("0.5", r"threshold='0.5' \(str\)"),
                         (False, r"threshold=False \(bool\)")]:
        with pytest.raises(ConfigError, match=message):
            check_threshold(bad)


def test_time_budget_checked():
    assert check_time_budget(None) is None and check_time_budget(2) == 2.0
    for bad in (0, -1.0, float("nan"), float("inf"), "5", True):
        with pytest.raises(ConfigError, match="time budget"):
            check_time_budget(bad)
