"""Checks of what callers pass to `Assistant.ask` and `retrieve`: bounded, repaired text and
well-typed settings, each refused with a ConfigError that names the value and what to do.

Over-long questions are refused rather than cut: an answer to the first 500 characters of a
question may answer something the user did not ask, and the refusal costs no search.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from qa.errors import ConfigError
from qa.textrepair import drop_lone_surrogates, repair_text

MAX_QUESTION_CHARS = 500  # a question or one history turn; news questions are far shorter
# Seconds a question may take before the neural reader stops reading further passages; far
# above a normal question (k=5: well under 1 s on 2 cores), it cuts only k=100 readings on a
# loaded machine. Evaluation runs without one, so its figures do not depend on the machine.
TIME_BUDGET = 10.0
MAX_HISTORY_TURNS = 6  # only the latest earlier questions can be what a follow-up refers to
MAX_K = 100  # passages read per question; more only costs time


def clean_question(question: Any, what: str = "question", limit: int = MAX_QUESTION_CHARS) -> str:
    """`question` repaired (lone surrogates and control characters dropped) and stripped; a
    ConfigError when it is not a string, empty or longer than `limit` characters."""
    if question is None:
        question = ""
    if not isinstance(question, str):
        raise ConfigError(f"{what} is {type(question).__name__} ({_short(question)}): give the text as a string")
    # Measured before repair too, so a huge text is refused without being scanned twice.
    if len(question) > 4 * limit:
        raise _too_long(what, len(question.strip()), limit)
    text = repair_text(drop_lone_surrogates(question)).strip()
    if not text:
        if what == "question":
            raise ConfigError("empty question: type a question about the indexed articles")
        raise ConfigError(f"{what} is empty: leave it out or give the earlier question")
    if len(text) > limit:
        raise _too_long(what, len(text), limit)
    return text


def _too_long(what: str, length: int, limit: int) -> ConfigError:
    todo = ("ask about one fact in a shorter question" if what == "question"
            else "shorten that earlier question or leave it out")
    return ConfigError(f"{what} is {length} characters; at most {limit} are accepted: {todo}")


def clean_history(questions: list[str]) -> list[str]:
    """The last MAX_HISTORY_TURNS earlier questions, each checked like a question."""
    first = max(0, len(questions) - MAX_HISTORY_TURNS)
    return [clean_question(q, f"history item {first + i}") for i, q in enumerate(questions[first:])]


def check_k(k: Any) -> int | None:
    """`k` (passages to read) as an int in [1, MAX_K], or None for the default."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise ConfigError(f"k={_short(k)} ({type(k).__name__}): give the number of passages to read "
                          f"as a whole number from 1 to {MAX_K}")
    if not 1 <= k <= MAX_K:
        raise ConfigError(f"k={k}: give the number of passages to read from 1 to {MAX_K}")
    return int(k)


def check_time_budget(seconds: Any) -> float | None:
    """A per-question time budget in seconds (a finite number > 0), or None for no budget."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, Real) or not math.isfinite(seconds) \
            or seconds <= 0:
        raise ConfigError(f"time budget {_short(seconds)}: give seconds as a number above 0 "
                          "(or None for no budget)")
    return float(seconds)


def check_threshold(threshold: Any) -> float | None:
    """`threshold` (abstention) as a finite float in [0, 1], or None for the default."""
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, Real):
        raise ConfigError(f"threshold={_short(threshold)} ({type(threshold).__name__}): give the "
                          "abstention threshold as a number from 0 to 1")
    value = float(threshold)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"threshold={value}: give the abstention threshold as a number from 0 to 1 "
                          "(higher abstains more often)")
    return value


def _short(value: Any) -> str:
    """A short, printable repr for a message (long values and lone surrogates cannot hurt it)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
