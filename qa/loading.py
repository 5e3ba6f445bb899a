"""Load input files (txt, md, html, jsonl, pdf) into Documents; bad input is skipped, never fatal.

`load_paths` walks files and folders in a deterministic order and collects one
`InputError` per bad file (or per bad JSONL line) while loading everything else.
"""
from __future__ import annotations

import io
import json
import os
import re
import reprlib
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date as _date
from pathlib import Path
from typing import BinaryIO

from qa.decoding import check_text, decode_text, newlines
from qa.errors import InputError
from qa.htmltext import page_text
from qa.text import content_hash
from qa.textrepair import repair_text, unreadable_reason
from qa.types import Document

KINDS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".pdf": "pdf"}
SUPPORTED = ", ".join(sorted(KINDS))
# A bigger file (or a device behind a link) is refused: it would exhaust memory or time.
MAX_FILE_BYTES = 200 * 2**20
PIECE_BYTES = 4 * 2**20  # larger text and JSONL files are read and yielded in pieces

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
    skipped: list[InputError] = []
    docs = tuple(iter_documents(paths, skipped))
    return LoadResult(docs, tuple(skipped))


def iter_documents(paths: Iterable[str | Path], skipped: list[InputError]) -> Iterator[Document]:
    """The Documents of `load_paths`, one file at a time and a large text or JSONL file in pieces
    (so memory does not grow with the input); what is skipped is appended to `skipped`. A file
    that fails after some of its pieces were yielded is in `skipped` without a line number."""
    seen: set[str] = set()
    for given in paths:
        for path in _expand(str(given), skipped):
            key = os.path.realpath(path)
            if key in seen:
                continue
            seen.add(key)
            shown = os.fsencode(path).decode("utf-8", "backslashreplace")
            if shown != path:  # undecodable bytes in the name would reach SQLite as surrogates
                skipped.append(InputError(shown, "the file name is not valid UTF-8; rename the file "
                                                 "(e.g. convmv -f gbk -t utf8) and load it again"))
                continue
            try:
                yield from _file_documents(path, skipped)
            except InputError as err:
                skipped.append(err)
            except Exception as exc:  # a bug on one odd file must not end the run
                skipped.append(InputError(path, f"could not be read ({type(exc).__name__}: "
                                                f"{repair_text(str(exc))}); convert it to .txt"))


def _file_documents(path: str, skipped: list[InputError]) -> Iterator[Document]:
    kind = KINDS.get(Path(path).suffix.lower())
    if kind in ("txt", "md", "jsonl") and _size(path) > PIECE_BYTES:
        yield from _pieces(path, kind, skipped)
    else:
        yield from load_file(path, skipped)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # load_file says why it cannot be read


def _expand(given: str, skipped: list[InputError]) -> list[str]:
    """The files under `given` (itself when it is a file), sorted; hidden names are skipped."""
    if os.path.isfile(given):
        return [given]
    if os.path.exists(given) and not os.path.isdir(given):
        return [given]  # a FIFO, device or socket: load_file says why it is skipped
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
        data = _read_bytes(path)
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
    text = check_text(path, decode_text(path, data))
    if kind == "jsonl":
        return _jsonl(path, text, skipped)
    text = repair_text(text)
    reason = unreadable_reason(text)
    if reason:
        raise InputError(path, f"the file {reason}; save it as UTF-8 text and load it again")
    return [Document(content_hash(text), path, text, kind, date=_name_date(path))]


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _open_checked(path: str) -> BinaryIO:
    """A regular file (a link is followed) of at most MAX_FILE_BYTES, open for reading; InputError else."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    f = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        f.close()
        what = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "not a regular file")
        raise InputError(path, f"{what}, not a regular file; only regular files are read "
                               "(copy the text into a file)")
    if st.st_size > MAX_FILE_BYTES:
        f.close()
        raise _too_big(path, st.st_size)
    return f


def _read_bytes(path: str) -> bytes:
    """The bytes of a regular file (a link is followed) of at most MAX_FILE_BYTES; InputError else."""
    with _open_checked(path) as f:
        size = os.fstat(f.fileno()).st_size
        # Bounded (a file may grow while it is read), and no larger than the file needs.
        data = f.read(min(size, MAX_FILE_BYTES) + 1)
        if len(data) > size:
            data += f.read(MAX_FILE_BYTES + 1 - len(data))
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(path, len(data))
    return data


def _pieces(path: str, kind: str, skipped: list[InputError]) -> Iterator[Document]:
    """A large text file as one Document per piece of about PIECE_BYTES cut at a blank line
    (articles are not cut where a blank line separates them), a large JSONL file as its
    records, piece by piece. A UTF-16 file (BOM) is read whole: newline bytes are not
    boundaries there."""
    with _open_checked(path) as f:
        if f.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            f.seek(0)
            yield from load_file(path, skipped)
            return
        f.seek(0)
        line = 1
        for data in _byte_pieces(f, kind):
            if not data.strip():
                line += data.count(b"\n")
                continue
            text = check_text(path, decode_text(path, data))
            if kind == "jsonl":
                yield from _jsonl(path, text, skipped, first_line=line)
            else:
                text = repair_text(text)
                if reason := unreadable_reason(text):
                    raise InputError(path, f"the file {reason}; save it as UTF-8 text and load it again")
                yield Document(content_hash(text), path, text, kind, date=_name_date(path))
            line += data.count(b"\n")


def _byte_pieces(f: BinaryIO, kind: str) -> Iterator[bytes]:
    """Blocks of about PIECE_BYTES ending after a newline: a newline byte is never inside a
    character in UTF-8, GB18030 or Big5. Text is cut where articles part: after the last two
    blank lines in a row, else after a blank line that does not follow a short line (a title
    is printed above its body with a blank line between)."""
    rest = b""
    total = 0
    while block := f.read(PIECE_BYTES):
        total += len(block)
        if total > MAX_FILE_BYTES:
            raise _too_big(str(f.name), total)
        data = rest + block
        cut = -1 if kind == "jsonl" else _article_break(data)
        if cut < 0:
            cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        yield data[: cut + 1]
        rest = data[cut + 1 :]
    if rest:
        yield rest


TITLE_BYTES = 90  # a line this short before a blank line may be a title (30 CJK characters)
_TWO_BLANK = re.compile(rb"\n(?:[ \t\r]*\n){2,}")
_ONE_BLANK = re.compile(rb"\n[ \t\r]*\n")


def _article_break(data: bytes) -> int:
    """Index of the newline ending the last likely article in `data`, or -1."""
    gaps = [m.start() for m in _TWO_BLANK.finditer(data)]
    if gaps:
        return gaps[-1]
    for gap in reversed([m.start() for m in _ONE_BLANK.finditer(data)]):
        line = data[data.rfind(b"\n", 0, gap) + 1 : gap].strip()
        if len(line) > TITLE_BYTES:  # a body's last line, not a title above its body
            return gap
    return -1


def _too_big(path: str, size: int) -> InputError:
    return InputError(path, f"the file is {size / 2**20:.0f} MB; files over {MAX_FILE_BYTES // 2**20} MB "
                            "are not read: split it into smaller files")


def _html(path: str, data: bytes) -> Document:
    """Main article text of a web page (trafilatura), paragraphs separated by a blank line."""
    if b"\x00" in data:
        raise InputError(path, "binary file (contains NUL bytes), not HTML; save the page as HTML text")
    import trafilatura

    try:
        ex = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    except Exception:  # e.g. a page nested too deeply for its tree: the fallbacks below read it
        ex = None

    def meta(name: str) -> str:  # trafilatura returns None (no result) or None-valued fields
        value = getattr(ex, name, None)
        return repair_text(value).strip() if isinstance(value, str) else ""

    title, raw = meta("title"), meta("text")
    paras = [p.strip() for p in newlines(raw).split("\n") if p.strip()]
    if not paras:
        title_fb, paras = page_text(data, lambda: _html_source(path, data))
        title = title or repair_text(title_fb).strip()
        paras = [p for p in (repair_text(p).strip() for p in paras) if p]
    if paras and title and " ".join(paras[0].split()) == " ".join(title.split()):
        paras = paras[1:]  # the <h1> repeated as first line; the title is kept in Document.title
    if not paras:
        raise InputError(path, "no article text found in the page; save the article as .txt")
    text = "\n\n".join(paras)
    reason = unreadable_reason(text)
    if reason:
        raise InputError(path, f"the page text {reason}; save the article as UTF-8 .txt")
    return Document(content_hash(text), path, text, "html", title=title, date=normalize_date(meta("date")),
                    url=meta("url"), source=meta("sitename"))


def _html_source(path: str, data: bytes) -> str | None:
    """The page as text for the tag-stripping fallback, or None when its encoding is unclear."""
    try:
        return decode_text(path, data)
    except InputError:
        return None


def _jsonl(path: str, text: str, skipped: list[InputError] | None,
           first_line: int = 1) -> list[Document]:
    """One Document per JSONL line: required "text", optional "title", "date", "url", "source"."""
    docs: list[Document] = []
    for lineno, line in enumerate(text.split("\n"), start=first_line):
        if not line.strip():
            continue
        try:
            docs.append(_record(path, lineno, line))
        except InputError as err:
            if skipped is None:
                raise
            skipped.append(err)
        except Exception as exc:  # a bug on one odd record must not lose the others
            err = InputError(path, f"record could not be read ({type(exc).__name__}); fix or remove the line",
                             lineno)
            if skipped is None:
                raise err from None
            skipped.append(err)
    return docs


def _record(path: str, lineno: int, line: str) -> Document:
    try:
        rec = json.loads(line, strict=False)  # raw control characters in strings are repaired below
    except json.JSONDecodeError as e:
        reason = f"bad JSON ({e.msg} at column {e.colno}); fix or remove the line"
        raise InputError(path, reason, lineno) from None
    except RecursionError:
        raise InputError(path, "bad JSON (nested too deeply); fix or remove the line", lineno) from None
    if not isinstance(rec, dict):
        raise InputError(path, f"expected a JSON object, got {type(rec).__name__}; "
                               'write one {"text": ...} object per line', lineno)
    body = rec.get("text")
    if not isinstance(body, str) or not body.strip():
        what = "missing" if body is None else "empty" if isinstance(body, str) else f"a {type(body).__name__}"
        reason = f'field "text" is {what}; give the article text as a non-empty string'
        raise InputError(path, reason, lineno)
    # Lone surrogate escapes ("\\ud800") and control characters are legal JSON but not text.
    body = repair_text(newlines(body))
    reason = unreadable_reason(body)
    if reason:
        raise InputError(path, f'field "text" {reason}; fix the record or remove the line', lineno)
    fields: dict[str, str] = {}
    for name in ("title", "date", "url", "source"):
        value = rec.get(name)
        if value is not None and not isinstance(value, str):
            raise InputError(path, f'field "{name}" is a {type(value).__name__} ({reprlib.repr(value)}); '
                                   "give it as a string or leave it out", lineno)
        fields[name] = repair_text(value or "").strip()
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
        pages = [repair_text(newlines(p.extract_text() or "")).strip() for p in reader.pages]
    except InputError:
        raise
    except Exception as e:  # pypdf raises many types on damaged files
        reason = f"cannot read the PDF ({type(e).__name__}: {e}); re-export it or convert it to .txt"
        raise InputError(path, reason) from None
    text = "\n\n".join(p for p in pages if p)
    if not text:
        raise InputError(path, "the PDF has no text layer (a scan?); OCR it first or convert it to .txt")
    reason = unreadable_reason(text)
    if reason:
        raise InputError(path, f"the PDF's text layer {reason}; OCR it or convert it to .txt")
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
