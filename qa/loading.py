"""Load input files (txt, md, html, jsonl, pdf) into Documents; bad input is skipped, never fatal.

`load_paths` walks files and folders in a deterministic order and collects one
`InputError` per bad file (or per bad JSONL line) while loading everything else.
"""
from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as _date
from functools import lru_cache
from pathlib import Path

from qa.errors import InputError
from qa.text import content_hash
from qa.types import Document

KINDS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".pdf": "pdf"}
SUPPORTED = ", ".join(sorted(KINDS))
_SAVE_UTF8 = "save it as UTF-8 text and load it again"
# An encoding guess is accepted only when this share of its characters look like real text.
_MIN_PLAUSIBLE = 0.8

# Dates: 2020-05-31, 2020/5/31, 2020.5.31, 2020年5月31日, ISO datetimes; month/day optional.
_DATE_RE = re.compile(r"^\s*(\d{4})(?!\d)(?:\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?)?")
# A date inside a file name: 2020-05-31, 2020_05_31, 20200531 (not part of a longer number).
_NAME_DATE_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_.]?(\d\d)[-_.]?(\d\d)(?!\d)")


@dataclass(frozen=True)
class LoadResult:
    """Everything loaded, plus one InputError per skipped file or JSONL line."""

    documents: tuple[Document, ...]
    skipped: tuple[InputError, ...]


def exit_code_for(result: LoadResult) -> int:
    """Process exit code for a load: 0 everything loaded, 3 some inputs skipped, 4 nothing loaded."""
    if not result.documents:
        return 4
    return 3 if result.skipped else 0


def load_paths(paths: Iterable[str | Path]) -> LoadResult:
    """Load files and folders (recursively, sorted, hidden entries skipped) in the order given.

    A file reached twice (e.g. a folder and a file inside it) is loaded once.
    """
    docs: list[Document] = []
    skipped: list[InputError] = []
    seen: set[str] = set()
    for given in paths:
        for path in _expand(str(given), skipped):
            key = os.path.realpath(path)
            if key in seen:
                continue
            seen.add(key)
            try:
                docs.extend(load_file(path, skipped))
            except InputError as err:
                skipped.append(err)
    return LoadResult(tuple(docs), tuple(skipped))


def _expand(given: str, skipped: list[InputError]) -> list[str]:
    """The files under `given` (itself when it is a file), sorted; hidden names are skipped."""
    if os.path.isfile(given):
        return [given]
    if not os.path.isdir(given):
        skipped.append(InputError(given, "no such file or folder; check the path"))
        return []
    found: list[str] = []
    for root, dirs, files in os.walk(given, onerror=lambda e: skipped.append(
            InputError(e.filename or given, f"cannot list folder ({e.strerror}); check its permissions"))):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in files if not f.startswith("."))
    # Sort by path parts so "a/b.txt" < "a-c.txt" does not depend on separator ordering.
    return sorted(found, key=lambda p: Path(p).parts)


def load_file(path: str | Path, skipped: list[InputError] | None = None) -> list[Document]:
    """The Documents of one file; raises InputError when the file cannot be used.

    Bad JSONL lines are appended to `skipped` when it is given, else the first one is raised.
    """
    path = str(path)
    kind = KINDS.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError(path, f"unsupported file type {Path(path).suffix or '(no extension)'!r}; "
                               f"supported: {SUPPORTED} (convert it to .txt)")
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file; check the path") from None
    except PermissionError:
        raise InputError(path, "permission denied; make the file readable (chmod +r)") from None
    except OSError as e:
        raise InputError(path, f"cannot read the file ({e.strerror or e}); check it") from None
    if not data.strip():
        raise InputError(path, "the file is empty; add text or remove it")
    if kind == "pdf":
        return [_pdf(path, data)]
    if kind == "html":
        return [_html(path, data)]
    text = _check_text(path, _decode(path, data))
    if kind == "jsonl":
        return _jsonl(path, text, skipped)
    return [Document(content_hash(text), path, text, kind, date=_name_date(path))]


def _decode(path: str, data: bytes) -> str:
    """Text of `data` with the encoding detected from the bytes; newlines normalised to \\n."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _newlines(data.decode("utf-16"))
        except UnicodeDecodeError:
            raise InputError(path, f"broken UTF-16 text; {_SAVE_UTF8}") from None
    if b"\x00" in data:
        raise InputError(path, "binary file (contains NUL bytes), not text; convert it to .txt")
    try:
        return _newlines(data.decode("utf-8-sig"))
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
    return _newlines(best)


def _check_text(path: str, text: str) -> str:
    """`text` unless control characters show it is binary data that happened to decode."""
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\f\v" or "\x7f" <= c <= "\x9f")
    if controls > max(2, len(text) // 100):
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


def _newlines(text: str) -> str:
    """\r\n and lone \r become \n; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _html(path: str, data: bytes) -> Document:
    """Main article text of a web page (trafilatura), paragraphs separated by a blank line."""
    if b"\x00" in data:
        raise InputError(path, "binary file (contains NUL bytes), not HTML; save the page as HTML text")
    import trafilatura

    ex = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)

    def meta(name: str) -> str:  # trafilatura returns None (no result) or None-valued fields
        return (getattr(ex, name, None) or "").strip()

    title, raw = meta("title"), meta("text")
    paras = [p.strip() for p in _newlines(raw).split("\n") if p.strip()]
    if not paras:
        title_fb, paras = _html_fallback(data)
        title = title or title_fb
    if paras and title and " ".join(paras[0].split()) == " ".join(title.split()):
        paras = paras[1:]  # the <h1> repeated as first line; the title is kept in Document.title
    if not paras:
        raise InputError(path, "no article text found in the page; save the article as .txt")
    text = "\n\n".join(paras)
    return Document(content_hash(text), path, text, "html", title=title, date=normalize_date(meta("date")),
                    url=meta("url"), source=meta("sitename"))


def _html_fallback(data: bytes) -> tuple[str, list[str]]:
    """Title and text lines of <body> without scripts, styles and navigation (lxml)."""
    import lxml.html

    try:
        root = lxml.html.fromstring(data)
    except Exception:  # lxml raises several types on junk; the caller reports "no text"
        return "", []
    for el in root.xpath("//script|//style|//noscript|//nav|//header|//footer|//aside|//form"):
        el.drop_tree()
    title = " ".join((root.findtext(".//title") or "").split())
    body = root.find(".//body")
    text = (body if body is not None else root).text_content()
    return title, [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip() != title]


def _jsonl(path: str, text: str, skipped: list[InputError] | None) -> list[Document]:
    """One Document per JSONL line: required "text", optional "title", "date", "url", "source"."""
    docs: list[Document] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            docs.append(_record(path, lineno, line))
        except InputError as err:
            if skipped is None:
                raise
            skipped.append(err)
    return docs


def _record(path: str, lineno: int, line: str) -> Document:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        reason = f"bad JSON ({e.msg} at column {e.colno}); fix or remove the line"
        raise InputError(path, reason, lineno) from None
    if not isinstance(rec, dict):
        raise InputError(path, f"expected a JSON object, got {type(rec).__name__}; "
                               'write one {"text": ...} object per line', lineno)
    body = rec.get("text")
    if not isinstance(body, str) or not body.strip():
        what = "missing" if body is None else "empty" if isinstance(body, str) else f"a {type(body).__name__}"
        reason = f'field "text" is {what}; give the article text as a non-empty string'
        raise InputError(path, reason, lineno)
    fields: dict[str, str] = {}
    for name in ("title", "date", "url", "source"):
        value = rec.get(name)
        if value is not None and not isinstance(value, str):
            raise InputError(path, f'field "{name}" is a {type(value).__name__} ({value!r}); '
                                   "give it as a string or leave it out", lineno)
        fields[name] = (value or "").strip()
    body = _newlines(body)
    return Document(content_hash(fields["title"], body), f"{path}:{lineno}", body, "jsonl",
                    title=fields["title"], date=normalize_date(fields["date"]),
                    url=fields["url"], source=fields["source"])


def _pdf(path: str, data: bytes) -> Document:
    """The text layer of a PDF (pypdf), pages joined by a blank line."""
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(path, "the PDF is password-protected; save an unprotected copy")
        pages = [_newlines(p.extract_text() or "").strip() for p in reader.pages]
    except InputError:
        raise
    except Exception as e:  # pypdf raises many types on damaged files
        reason = f"cannot read the PDF ({type(e).__name__}: {e}); re-export it or convert it to .txt"
        raise InputError(path, reason) from None
    text = "\n\n".join(p for p in pages if p)
    if not text:
        raise InputError(path, "the PDF has no text layer (a scan?); OCR it first or convert it to .txt")
    return Document(content_hash(text), path, text, "pdf", date=_name_date(path))


def normalize_date(value: str) -> str:
    """ISO form (YYYY-MM-DD, YYYY-MM or YYYY) of e.g. 2020/5/31, 2020年5月31日, 20200531; "" if invalid."""
    value = (value or "").strip()
    if re.fullmatch(r"(?:19|20)\d{6}", value):  # compact 20200531
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    m = _DATE_RE.match(value)
    if not m:
        return ""
    y, mo, d = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        _date(y, mo, d)
    except ValueError:
        return ""
    if m[3]:
        return f"{y:04d}-{mo:02d}-{d:02d}"
    return f"{y:04d}-{mo:02d}" if m[2] else f"{y:04d}"


def _name_date(path: str) -> str:
    """The date in a file name (2020-05-31, 20200531, ...) in ISO form, or ""."""
    for m in _NAME_DATE_RE.finditer(Path(path).name):
        iso = normalize_date(f"{m[1]}-{m[2]}-{m[3]}")
        if iso:
            return iso
    return ""
