"""Text repair at the door: what loading and questions let through is clean Unicode text.

Mojibake and Windows-1252 quotes mis-decoded as C1 controls (U+0093/U+0094, common in scraped
news) are repaired with ftfy; lone surrogates become U+FFFD and other control characters are
dropped (newline and tab kept), so none reaches SQLite, hashing or a tokenizer.
"""
from __future__ import annotations

import re
from functools import lru_cache

REPLACEMENT = "\ufffd"
# Lines holding any of these go through ftfy: C0/C1 controls (not tab or newline), lone
# surrogates, Unicode line separators and U+00C0-U+00FF, which every UTF-8-read-as-Latin-1
# mojibake contains. Clean Chinese text matches none, so big files are not slowed down.
_SUSPECT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00c0-\u00ff\u2028\u2029\ud800-\udfff]")
# What may never pass, whatever ftfy did: control characters and surrogates.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_AS_NEWLINE = "\r\x0b\x0c\x1c\x1d\x1e\x85"  # line, page and record separators
# Real binary data that decodes without NUL bytes shows itself by C0 control bytes; a few
# stray ones are repaired, more than this share of the characters means "not text".
_C0 = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
BINARY_SHARE = 0.05
# A record or file whose repaired text is mostly U+FFFD cannot be read back.
UNREADABLE_SHARE = 0.5


@lru_cache(maxsize=1)
def _ftfy():
    import ftfy

    # Chinese text keeps its full-width punctuation, curly quotes and HTML-looking text:
    # only repairs of broken decoding are wanted, not ftfy's cosmetic normalisations.
    config = ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=False, fix_character_width=False,
                                  fix_latin_ligatures=False, normalization=None, explain=False)
    return ftfy.fix_text, config


def _forbidden(m: re.Match) -> str:
    ch = m.group()
    if ch in _AS_NEWLINE:
        return "\n"
    return REPLACEMENT if "\ud800" <= ch <= "\udfff" else ""


def _fix_line(line: str) -> str:
    fix_text, config = _ftfy()
    try:
        line = fix_text(line, config)
    except Exception:  # ftfy is a heuristic: on any surprise keep the line, still cleaned below
        pass
    return _FORBIDDEN.sub(_forbidden, line)


def repair_text(text: str) -> str:
    """`text` with mojibake and C1-control quotes repaired (ftfy), lone surrogates as U+FFFD and
    other control characters dropped (\\r, \\f, \\v become \\n; \\n and \\t kept)."""
    if not _SUSPECT.search(text):
        return text
    text = text.replace("\r\n", "\n")
    # ftfy works line by line anyway; fixing only suspect lines keeps clean text untouched.
    return "\n".join(_fix_line(ln) if _SUSPECT.search(ln) else ln for ln in text.split("\n"))


def drop_lone_surrogates(text: str) -> str:
    """`text` with surrogate pairs joined and lone surrogates removed (for questions, where a
    U+FFFD in their place would only disturb matching)."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


def looks_binary(text: str) -> bool:
    """True when C0 control characters (not whitespace) are more than a few and over 5% of it."""
    controls = len(_C0.findall(text))
    return controls > max(2, len(text) * BINARY_SHARE)


def unreadable_reason(text: str) -> str | None:
    """Why repaired `text` holds no usable text (blank, or mostly U+FFFD), else None."""
    if not text.strip():
        return "holds no text once control characters are removed"
    broken = text.count(REPLACEMENT)
    if broken:
        visible = len("".join(text.split()))
        if broken > visible * UNREADABLE_SHARE:
            return (f"is unreadable: {broken} of its {visible} characters are broken "
                    "(lone surrogates or undecodable bytes)")
    return None
