"""Chinese text utilities: sentence splitting, traditional->simplified folding, tokens.

Folding (OpenCC t2s) is for matching only; text shown to users is never folded.
"""
from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from functools import lru_cache

# Sentence-final punctuation; closing quotes/brackets right after it stay in the sentence.
SENTENCE_END = "。！？!?；;…"
CLOSERS = "”’」』）)】》\"'"
_SENTENCE_RE = re.compile(
    rf"[^{SENTENCE_END}\n]*(?:[{SENTENCE_END}]+[{re.escape(CLOSERS)}]*|\n|$)"
)

# How Chinese job titles end (general morphology of posts, not a list of people or bodies).
TITLE_END = re.compile(
    r"(?:主任|主席|书记|院长|所长|局长|部长|厅长|市长|省长|县长|区长|镇长|乡长|校长|董事长|董事|总裁|总经理|"
    r"经理|助理|委员|秘书长|会长|理事长|负责人|总监|总编辑|主编|研究员|教授|主管|工程师|行长|社长|厂长|"
    r"队长|馆长|处长|科长|组长|司令员?|大使|总统|总理|首相|发言人|统计师|分析师|创始人|合伙人|首席执行官|"
    r"专家|顾问|干事|参事|领事|代表|议员|法官|检察长|署长|司长|馆员|执行官)$")
TITLE_WORD = re.compile(TITLE_END.pattern.removesuffix("$"))  # a post anywhere in a text

_jieba_lock = threading.Lock()
_opencc_lock = threading.Lock()


def content_hash(*parts: str) -> str:
    """Stable 16-hex-digit id of some text (sha1 over the parts joined by NUL)."""
    h = hashlib.sha1("\x00".join(parts).encode("utf-8"))
    return h.hexdigest()[:16]


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, shifted by `offset`.

    A sentence ends at 。！？!?；;… (a run of them) plus any closing quotes/brackets,
    or at a newline. Surrounding whitespace is excluded; empty sentences are dropped.
    The spans cover every non-space character of `text` exactly once.
    """
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_RE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s + offset, e + offset))
    return spans


def ends_sentence(line: str) -> bool:
    """True when `line` ends like a finished sentence (final punctuation, maybe closers)."""
    stripped = line.rstrip().rstrip(CLOSERS)
    return bool(stripped) and stripped[-1] in SENTENCE_END + "：:"


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese (OpenCC t2s); other text unchanged, same length."""
    if not text:
        return text
    with _opencc_lock:  # the OpenCC converter object is not documented as thread-safe
        out = _t2s().convert(text)
    # t2s is character-for-character in practice; keep offsets safe if it ever is not.
    return out if len(out) == len(text) else text


def normalize(text: str) -> str:
    """Matching form: NFKC (full-width digits/letters to ASCII), lower case, simplified."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def cut(text: str) -> list[str]:
    """jieba words of `text` (precise mode), whitespace tokens removed."""
    jb = _jieba()
    with _jieba_lock:
        words = jb.lcut(text)
    return [w for w in words if w.strip()]


def is_word(text: str) -> bool:
    """True when `text` is a word of jieba's dictionary (with a frequency)."""
    jb = _jieba()
    return bool(jb.dt.FREQ.get(text))


def word_starts(text: str) -> list[int]:
    """Start offsets of the jieba words of `text` (precise mode), whitespace included, so the
    words tile the text: [0, len(w0), len(w0) + len(w1), ...]."""
    jb = _jieba()
    with _jieba_lock:
        words = jb.lcut(text)
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w)
    return starts


def pos_cut(text: str) -> list[tuple[str, str]]:
    """jieba (word, POS tag) pairs of `text`, whitespace tokens removed."""
    _jieba()
    import jieba.posseg as pseg

    with _jieba_lock:
        pairs = [(p.word, p.flag) for p in pseg.lcut(text)]
    return [(w, f) for w, f in pairs if w.strip()]


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"
