"""Bytes to text: the encoding detected from the bytes (UTF-8/16, GB18030, Big5, others), and
the check that decoded "text" is not binary data."""
from __future__ import annotations

from functools import lru_cache

from qa.errors import InputError
from qa.textrepair import looks_binary

_SAVE_UTF8 = "save it as UTF-8 text and load it again"
# An encoding guess is accepted only when this share of its characters look like real text.
_MIN_PLAUSIBLE = 0.8


def decode_text(path: str, data: bytes) -> str:
    """Text of `data` with the encoding detected from the bytes; newlines normalised to \\n."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return newlines(data.decode("utf-16"))
        except UnicodeDecodeError:
            raise InputError(path, f"broken UTF-16 text; {_SAVE_UTF8}") from None
    if b"\x00" in data:
        raise InputError(path, "binary file (contains NUL bytes), not text; convert it to .txt")
    try:
        return newlines(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    # Legacy Chinese encodings often decode each other's bytes without error, so decode
    # strictly with each and keep the one whose characters look most like real text.
    best, best_score = None, 0.0
    for enc in ("gb18030", "big5", "big5hkscs"):
        try:
            cand = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _plausibility(cand)
        if score > best_score:
            best, best_score = cand, score
    if best is None or best_score < _MIN_PLAUSIBLE:
        guess = _charset_normalizer_guess(data)
        if guess is not None:
            best, best_score = guess, _plausibility(guess)
    if best is None or best_score < _MIN_PLAUSIBLE:
        raise InputError(path, f"cannot tell the text encoding (not UTF-8, GB18030 or Big5); {_SAVE_UTF8}")
    return newlines(best)


def check_text(path: str, text: str) -> str:
    """`text` unless control characters show it is binary data that happened to decode.

    C1 controls do not count: they are Windows-1252 quotes mis-decoded, repaired later."""
    if looks_binary(text):
        raise InputError(path, "binary file (control characters), not text; convert it to .txt")
    return text


def _charset_normalizer_guess(data: bytes) -> str | None:
    """charset-normalizer's best decoding, when it finds one with little mess."""
    from charset_normalizer import from_bytes

    match = from_bytes(data).best()
    return str(match) if match is not None and match.chaos < 0.1 else None


@lru_cache(maxsize=1)
def _common_hanzi() -> frozenset[str]:
    """The frequent characters of the standards: GB2312 level 1 and Big5 level 1."""
    chars: set[str] = set()
    trail = list(range(0xA1, 0xFF))
    for lead in range(0xB0, 0xD8):  # GB2312 level 1: rows 16-55
        chars.update(bytes(b for t in trail for b in (lead, t)).decode("gb2312", "ignore"))
    trail5 = list(range(0x40, 0x7F)) + trail
    for lead in range(0xA4, 0xC7):  # Big5 frequent characters: A440-C67E
        chars.update(bytes(b for t in trail5 for b in (lead, t)).decode("big5", "ignore"))
    return frozenset(c for c in chars if c.isprintable())


def _plausibility(text: str) -> float:
    """Share of non-space characters that are ASCII, CJK/general punctuation or common hanzi."""
    common = _common_hanzi()
    chars = [c for c in text[:20000] if not c.isspace()]  # a sample suffices; keeps big files fast
    if not chars:
        return 0.0
    good = sum(1 for c in chars if c < "\x7f" and c.isprintable() or "\u2000" <= c <= "\u206f"
               or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" or c in common)
    return good / len(chars)


def newlines(text: str) -> str:
    """\r\n and lone \r become \n; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
