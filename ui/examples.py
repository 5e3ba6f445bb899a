"""Example questions computed from the indexed articles (nothing hard-coded).

Rule: in an article, take the first clause that states a quantity (a number that is not a
date, time or ordinal), keep the short clauses before it in the same sentence as context,
and replace the number by 多少: "5月份，指数为50.6%，比上月…" -> "5月份，指数为多少？".
Articles without such a clause give "《标题》的主要内容是什么？" when more examples are needed.
"""
from __future__ import annotations

import re
from typing import Iterable

from qa.text import is_cjk, pos_cut, split_sentences
from qa.types import Article

MAX_QUESTION_CHARS = 40  # longer questions do not fit an example button on a phone
MIN_CONTEXT_CJK = 5  # the words before the number must name what is counted
_CLAUSE_END = "，,；;：:"
# A number (ASCII or full-width digits, decimals, thousands commas, percent sign).
_NUMBER = re.compile(r"(?<![0-9A-Za-z.０-９])\d+(?:[.,，]\d+)*\s*[%％]?")
_DATE_UNITS = "年月日时号"  # a number followed by these is a date or time, not a quantity
_APPROX = "多余"  # "20多名", "30余条": the count is approximate
_MARKUP = "<>{}=\\|"
_PAIRS = ("()", "（）", "“”", "‘’", "《》", "[]", "【】", "「」", "『』")


_OPENERS = "".join(pair[0] for pair in _PAIRS)


def _clauses(sentence: str) -> list[str]:
    """`sentence` cut after each clause punctuation mark (the marks stay with their clause)."""
    out, start = [], 0
    for i, ch in enumerate(sentence):
        if ch in _CLAUSE_END:
            out.append(sentence[start:i + 1])
            start = i + 1
    if start < len(sentence):
        out.append(sentence[start:])
    return [c for c in out if c.strip()]


def _balanced(text: str) -> bool:
    """True when every bracket or quote pair in `text` is closed in order."""
    for left, right in _PAIRS:
        depth = 0
        for ch in text:
            depth += (ch == left) - (ch == right)
            if depth < 0:
                return False
        if depth:
            return False
    return True


def _starts_with_preposition(text: str) -> bool:
    """True when `text` opens (after conjunctions/adverbs) with a preposition (jieba POS p:
    比/较/从…), so the clause continues an earlier subject rather than naming one."""
    tags = [tag for _, tag in pos_cut(text)]
    while tags and tags[0][:1] in ("c", "d"):  # 虽/但/也 before the preposition: look past them
        tags.pop(0)
    return bool(tags) and tags[0] == "p"


def _quantity(clause: str) -> re.Match | None:
    """The first number in `clause` that counts something (not a date, time or ordinal)."""
    for m in _NUMBER.finditer(clause):
        after = clause[m.end():m.end() + 1]
        before = clause[max(0, m.start() - 1):m.start()]
        if after and after in _DATE_UNITS or before == "第":
            continue
        if "," in m.group() or "，" in m.group():  # "3，5" lists two numbers: not one quantity
            continue
        return m
    return None


def question_from_sentence(sentence: str) -> str | None:
    """A 多少 question from the first quantity clause of `sentence`, or None when none fits."""
    if any(ch in _MARKUP for ch in sentence):
        return None  # markup or code in the text would make an unreadable question
    clauses = _clauses(sentence.strip())
    for i, clause in enumerate(clauses):
        m = _quantity(clause)
        if m is None:
            continue
        head = clause[:m.start()]
        if head[-1:] in _OPENERS:
            continue  # a number in brackets or quotes is a code or a note, not the news
        if sum(map(is_cjk, head)) < MIN_CONTEXT_CJK or _starts_with_preposition(head):
            continue  # "比上月回落0.2个百分点": the subject is in another clause
        # Keep the unit right after the number (个百分点, 亿元...), up to the next CJK run's end.
        tail = re.match(r"[^\s，,；;：:。！？!?]*", clause[m.end():]).group()
        tail = tail[1:] if tail[:1] in _APPROX else tail  # "20多名" asks 多少名
        tail = re.split(r"[的和与及、]", tail, maxsplit=1)[0] if len(tail) > 6 else tail
        question = head + "多少" + tail
        for prev in reversed(clauses[:i]):  # short context clauses such as "5月份，"
            if len(prev) + len(question) + 1 > MAX_QUESTION_CHARS or _quantity(prev):
                break  # too long, or another quantity that would blur what is asked
            question = prev + question
        question = question.strip().rstrip("，,；;：:。") + "？"
        # A second quantity left in the clause makes it ambiguous ("分别为多少和45.3%").
        if len(question) <= MAX_QUESTION_CHARS + 1 and _balanced(question) \
                and _quantity(head + "多少" + tail) is None:
            return question
    return None


def _body(article: Article) -> str:
    """The article text without a leading dateline (it names place and date, not content)."""
    text = article.text
    if article.dateline and text.startswith(article.dateline):
        text = text[len(article.dateline):]
    return text


def article_question(article: Article) -> str | None:
    """The first 多少 question that a sentence of `article` yields, or None."""
    text = _body(article)
    for start, end in split_sentences(text):
        q = question_from_sentence(text[start:end])
        if q:
            return q
    return None


def example_questions(articles: Iterable[Article], n: int = 6) -> list[str]:
    """Up to `n` distinct example questions, one per article, numbers first, then titles."""
    pool = [a for a in articles if a.kind == "article" and a.text.strip()]
    pool.sort(key=lambda a: -len(a.text))  # long articles hold the news; short ones are notes
    out: list[str] = []
    for article in pool:
        q = article_question(article)
        if q and q not in out:
            out.append(q)
        if len(out) >= n:
            return out
    for article in pool:
        title = " ".join(article.title.split())
        if title and len(title) <= MAX_QUESTION_CHARS - 10:
            q = f"《{title}》的主要内容是什么？"
            if q not in out:
                out.append(q)
        if len(out) >= n:
            break
    return out
