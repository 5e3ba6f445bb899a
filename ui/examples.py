"""Example questions computed from the indexed articles (nothing hard-coded), each one the
current reader answers: candidates are generated, asked, and only the answered ones shown.

Rule: in an article, take a clause that states a quantity (a number that is not a date, time
or ordinal), keep the short clauses before it in the same sentence as context, and replace
the number by 多少: "5月份，指数为50.6%，比上月…" -> "5月份，指数为多少？". A question must stand
on its own: a leading connective (也就是说、因此) is dropped, and one whose subject is a pronoun
or a deictic word (该县、本届、其中) or is missing (比上月…, 共接待…) is not asked.
"""
from __future__ import annotations

import logging
import re
from typing import Iterable, Iterator

from qa.errors import QAError
from qa.text import is_cjk, pos_cut, split_sentences
from qa.types import Article

log = logging.getLogger(__name__)

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
# Discourse connectives that tie a clause to the sentence before it; dropped from the front.
_CONNECTIVES = ("也就是说", "换句话说", "与此同时", "另一方面", "相比之下", "具体来看", "具体而言",
                "据悉", "据了解", "据介绍", "据统计", "数据显示", "统计显示", "记者了解到", "记者获悉", "因此", "因而", "所以", "于是", "此外", "另外",
                "同时", "而且", "并且", "但是", "不过", "然而", "总之", "对此", "为此", "其次",
                "首先", "最后", "而", "但", "并", "且", "也", "还", "又", "即")
_DEICTIC = "该此这那其本他她它"  # a pronoun or "this/that/its" word points at an earlier sentence
_PERSONAL = {"我", "我们", "你", "你们", "您", "咱们", "大家", "他", "她", "它", "他们", "她们", "它们"}
_SETTING_TAGS = ("t", "m", "f", "q")  # time and number words before the subject: 今年一季度
_SUBJECT_TAGS = ("n", "eng", "j", "l", "i", "b", "s", "vn", "nz", "nr", "ns", "nt")
_APPROX_BEFORE = ("将近", "大约", "超过", "近", "约", "逾", "超")  # "近多少元" reads oddly
_REPORTING = ("显示", "表示", "介绍", "了解到", "获悉", "指出", "称", "说")
_LIST_NUMBER = re.compile(r"\d+\s*[大强]")  # "10大工作专班和多少个…" would ask two things
# The reader must be sure of an example's answer, not only above the abstention threshold: a
# shown example that is answered hesitantly teaches users to distrust right answers.
MIN_EXAMPLE_CONFIDENCE = 0.6
CANDIDATES_PER_ARTICLE = 4  # questions tried per article before moving on
MAX_ASKED = 40  # questions asked to choose examples: bounds the cost on a large archive


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


def _drop_connectives(text: str) -> str:
    """`text` without leading discourse connectives (and the comma after them)."""
    while True:
        stripped = text.lstrip("，,；;：: ")
        for word in _CONNECTIVES:
            if stripped.startswith(word):
                stripped = stripped[len(word):]
                break
        else:
            return stripped
        text = stripped


def stands_alone(question: str) -> bool:
    """True when `question` names its own subject: no pronoun or deictic word (该县、本届、其中、
    他们) and a clause that does not open with a verb, adverb or preposition."""
    tags = [(w, t) for w, t in pos_cut(question) if t != "x"]
    if any(t == "r" and w[0] in _DEICTIC or w in _PERSONAL for w, t in tags):
        return False
    # The clause that asks must open with its subject, after any time words ("今年一季度实现…"
    # and "最近收到…" say whose figure only in an earlier sentence).
    head = question.rstrip("？").split("，")[-1]
    first = next((t for w, t in pos_cut(head) if t != "x" and t[:1] not in _SETTING_TAGS
                  and not w.isdigit()), "")
    return first.startswith(_SUBJECT_TAGS) or first == "r"


def _quantity(clause: str) -> re.Match | None:
    """The first number in `clause` that counts something (not a date, time or ordinal)."""
    for m in _NUMBER.finditer(clause):
        after = clause[m.end():m.end() + 1]
        before = clause[max(0, m.start() - 1):m.start()]
        if after and after in _DATE_UNITS + "大强" or before == "第":  # 十大工程 names a list
            continue
        if "," in m.group() or "，" in m.group():  # "3，5" lists two numbers: not one quantity
            continue
        return m
    return None


def question_from_sentence(sentence: str) -> str | None:
    """A 多少 question from the first quantity clause of `sentence`, or None when none fits."""
    found = sentence_question(sentence)
    return found[0] if found else None


def sentence_question(sentence: str) -> tuple[str, str] | None:
    """(question, the number it asks for) from the first quantity clause of `sentence` that
    makes a self-contained question, or None."""
    if any(ch in _MARKUP for ch in sentence):
        return None  # markup or code in the text would make an unreadable question
    clauses = _clauses(_drop_connectives(sentence.strip()))
    for i, clause in enumerate(clauses):
        m = _quantity(clause)
        if m is None:
            continue
        head = clause[:m.start()]
        for word in _APPROX_BEFORE:
            if head.endswith(word) and len(head) > len(word):
                head = head[:-len(word)]
                break
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
            if prev.rstrip("，,：: ").endswith(_REPORTING):
                break  # "数据显示，" frames the fact, it is not part of it
            question = prev + question
        question = _drop_connectives(question.strip()).rstrip("，,；;：:。") + "？"
        # A second quantity left in the clause makes it ambiguous ("分别为多少和45.3%").
        if len(question) <= MAX_QUESTION_CHARS + 1 and _balanced(question) \
                and _quantity(head + "多少" + tail) is None and not _LIST_NUMBER.search(head) \
                and stands_alone(question):
            return question, m.group().strip()
    return None


def _body(article: Article) -> str:
    """The article text without a leading dateline (it names place and date, not content)."""
    text = article.text
    if article.dateline and text.startswith(article.dateline):
        text = text[len(article.dateline):]
    return text


def article_questions(article: Article) -> Iterator[tuple[str, str]]:
    """(question, number asked for) for the sentences of `article` that make one, in order."""
    text = _body(article)
    for start, end in split_sentences(text):
        found = sentence_question(text[start:end])
        if found:
            yield found


def candidate_pool(articles: Iterable[Article]) -> list[Article]:
    """The articles to draw examples from, long ones first (short ones are notes and captions)."""
    pool = [a for a in articles if a.kind == "article" and a.text.strip()]
    return sorted(pool, key=lambda a: -len(a.text))


def answered(assistant, question: str, number: str) -> bool:
    """True when the assistant answers `question` with confidence at or above its threshold (and
    MIN_EXAMPLE_CONFIDENCE), and its answer holds the number the question was made from."""
    try:
        answer = assistant.ask(question)
    except QAError:
        return False
    return (not answer.abstained and answer.confidence >= max(assistant.threshold, MIN_EXAMPLE_CONFIDENCE)
            and number in answer.text)


def example_questions(assistant, n: int = 6) -> list[str]:
    """Up to `n` distinct example questions, at most one per article, each answered by
    `assistant` above its abstention threshold; [] for an empty index."""
    out: list[str] = []
    asked = 0
    for article in candidate_pool(assistant.articles.values()):
        for question, number in list(article_questions(article))[:CANDIDATES_PER_ARTICLE]:
            if question in out or asked >= MAX_ASKED:
                continue
            asked += 1
            if answered(assistant, question, number):
                out.append(question)
                break
        if len(out) >= n or asked >= MAX_ASKED:
            break
    log.info("%d example questions from %d asked", len(out), asked)
    return out
