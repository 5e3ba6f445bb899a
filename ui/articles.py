"""The articles panel: which articles are indexed (title, dateline, file, passages), a search
over them, and removing the file an article came from.

Removal goes through `Assistant.remove`, so it takes the index's write lock like `qa remove`
and switches to the new generation atomically; a busy index is refused with a message.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.types import Article
from ui import strings as S

log = logging.getLogger(__name__)

UPLOAD_DIR = "uploads"  # under the index folder: uploaded files stay readable for re-ingest
SHOWN_ROWS = 200  # rows in the table at once; the search narrows a larger archive


@dataclass(frozen=True)
class ArticleRow:
    """One indexed article as the panel lists it."""

    title: str
    when: str
    files: tuple[str, ...]  # the input files (absolute paths) it was read from
    chunks: int

    def cells(self) -> list:
        names = "、".join(S.file_name(f) for f in self.files)
        return [self.title or S.NO_TITLE, self.when, names, self.chunks]


def source_file(path: str) -> str:
    """The input file of an article's stored source path: a JSONL record's FILE:LINE -> FILE."""
    m = re.fullmatch(r"(.+\.jsonl):\d+", path, re.IGNORECASE)
    return os.path.abspath(m.group(1) if m else path)


def article_files(article: Article) -> tuple[str, ...]:
    """The input files an article was seen in, without repeats, in order."""
    return tuple(dict.fromkeys(source_file(p) for p in (article.sources or (article.path,))))


def article_rows(assistant) -> list[ArticleRow]:
    """Every indexed article (captions left out), by file then title."""
    counts = assistant.chunk_counts()
    rows = [ArticleRow(a.title, a.dateline or a.date, article_files(a), counts.get(a.article_id, 0))
            for a in assistant.articles.values() if a.kind == "article"]
    return sorted(rows, key=lambda r: (r.files, r.title))


def search_rows(rows: list[ArticleRow], query: str) -> list[ArticleRow]:
    """The rows whose title, dateline or file names contain every word of `query`."""
    words = (query or "").lower().split()
    if not words:
        return rows
    return [r for r in rows
            if all(w in " ".join((r.title, r.when, *map(S.file_name, r.files))).lower() for w in words)]


def table_value(rows: list[ArticleRow]) -> dict:
    """The Dataframe value for `rows` (headers always shown, even with no rows)."""
    return {"headers": S.ARTICLES_HEADERS, "data": [r.cells() for r in rows[:SHOWN_ROWS]]}


def count_line(total: int, shown: int, query: str) -> str:
    """The line above the table: how many articles there are and are shown, or why none."""
    if not total:
        return S.ARTICLES_NONE
    if not shown:
        return S.ARTICLES_NO_MATCH.format(query=query.strip())
    return S.ARTICLES_COUNT.format(total=total, shown=min(shown, SHOWN_ROWS))


def file_choices(assistant) -> list[tuple[str, str]]:
    """(label, absolute path) of every file that holds indexed articles, by name."""
    per_file: dict[str, int] = {}
    for row in article_rows(assistant):
        for f in row.files:
            per_file[f] = per_file.get(f, 0) + 1
    return sorted(((S.FILE_CHOICE.format(name=S.file_name(f), articles=n), f)
                   for f, n in per_file.items()), key=lambda c: c[0])


def remove_file(assistant, path: str | None) -> tuple[bool, str]:
    """Drop `path` (one of file_choices) from the index: (removed, Chinese message).

    An uploaded copy under the index's uploads/ folder is deleted too, so the same file can be
    uploaded again; a file the user ingested from elsewhere is never touched."""
    if not path:
        return False, S.REMOVE_NONE
    known = dict((f, label) for label, f in file_choices(assistant))
    name = S.file_name(path)
    if path not in known:  # a stale page, or a path that was never offered
        return False, S.REMOVE_UNKNOWN.format(name=name)
    articles = sum(1 for r in article_rows(assistant) if path in r.files)
    try:
        assistant.remove([path])
    except QAError as exc:
        return False, f"{name}：{S.error_zh(exc)}"
    uploads = (Path(assistant.index_dir) / UPLOAD_DIR).resolve()
    copy = Path(path).resolve()
    if copy.is_relative_to(uploads) and copy.parent != uploads:  # ROOT/uploads/<hash>/<name>
        copy.unlink(missing_ok=True)
        try:  # the folder is shared by same-content files of other names: kept while they are
            copy.parent.rmdir()
        except OSError:
            pass
    left = sum(1 for a in assistant.articles.values() if a.kind == "article")
    return True, S.REMOVED.format(name=name, articles=articles, left=left)
