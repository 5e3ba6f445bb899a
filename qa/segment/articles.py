"""Units grouped into articles: titles placed before or after their body or kept as subheads,
interrupted paragraphs stitched to their continuation, Articles built with their offsets."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from qa.segment.units import (BODY, BYLINE, CAPTION_MAX, CREDIT, DATE_RE, DATELINE, KICKER, LABEL_RE,
                              TITLE, TRAILING_REPORTERS_RE, _Unit, _units)
from qa.text import content_hash, cut, ends_sentence
from qa.types import Article, Document, Segment


@dataclass
class _Draft:
    # Mutable on purpose: filled while walking the page, frozen into an Article at the end.
    titles: list[str] = field(default_factory=list)
    paras: list[list[tuple[int, int]]] = field(default_factory=list)  # body paragraphs only
    # Byline/dateline/credit lines for the text: (index of the body paragraph printed after it,
    # span). Kept apart from `paras` so that "has a body yet" decisions stay body-only.
    notes: list[tuple[int, tuple[int, int]]] = field(default_factory=list)
    kicker: str = ""
    byline: str = ""
    dateline: str = ""
    caption: bool = False
    credit: bool = False
    ended: bool = False  # an end marker (end dateline, photo credit) closed it


def _crosses(before: str, after: str) -> bool:
    """True when jieba cuts a word across the junction of `before` + `after` (e.g. 这|里有 -> 这里)."""
    tail, head = "".join(before.split())[-4:], "".join(after.split())[:4]
    if not tail or not head:
        return False
    pos = 0
    for word in cut(tail + head):
        if pos < len(tail) < pos + len(word):
            return True
        pos += len(word)
    return False


def _resumptions(units: list[_Unit]) -> dict[int, int]:
    """{resuming unit index: interrupted unit index}. A resumption is a plain body paragraph
    after a title/dateline/credit line; the first whose junction joins a word wins, else the last."""
    out: dict[int, int] = {}
    for p, u in enumerate(units):
        if u.kind != BODY or not u.unfinished:
            continue
        cands = [
            q for q in range(p + 2, len(units))
            if q not in out and units[q].kind == BODY and not units[q].lead
            and not units[q].caption and units[q - 1].kind in (TITLE, DATELINE, CREDIT)
        ]
        if cands:
            crossing = [q for q in cands if _crosses(u.text, units[q].text)]
            out[crossing[0] if crossing else cands[-1]] = p
    return out


def _place_titles(run: list[_Unit], nxt: _Unit | None, resumed: bool,
                  cur: _Draft | None, new) -> _Draft:
    """Give a run of title lines to the article before it (title printed after its body),
    to a new article, or keep them as subheads; returns the current draft afterwards."""
    texts = [u.text for u in run]
    untitled_prev = cur is not None and bool(cur.paras) and not cur.titles
    opens = nxt is not None and not resumed and (
        nxt.kind in (KICKER, BYLINE, DATELINE) or (nxt.kind == BODY and (nxt.lead or nxt.caption)))
    if opens:
        last_block = [u.text for u in run if u.block == run[-1].block]
        if untitled_prev and nxt.kind == KICKER:
            cur.titles += texts  # the kicker opens the next article itself
            return cur
        if untitled_prev and len(last_block) < len(texts):
            # One title per article: earlier blocks close the untitled article above.
            cur.titles += texts[: len(texts) - len(last_block)]
            texts = last_block
    elif nxt is None or resumed or nxt.kind == CREDIT:
        if untitled_prev:
            cur.titles += texts
            return cur
    elif cur is not None and cur.paras and not cur.ended:
        cur.paras += [list(u.spans) for u in run]  # subheads inside a running article
        return cur
    # A header still waiting for its body (kicker, title lines) takes these titles too.
    d = cur if cur is not None and not cur.paras and not cur.ended else new()
    d.titles += texts
    return d


def _group(units: list[_Unit], resumes: dict[int, int]) -> list[_Draft]:
    """Walk the units in page order and collect article drafts."""
    drafts: list[_Draft] = []
    where: dict[int, tuple[_Draft, int]] = {}  # body unit index -> (draft, paragraph index)
    cur: _Draft | None = None

    def new() -> _Draft:
        drafts.append(_Draft())
        return drafts[-1]

    i = 0
    while i < len(units):
        u = units[i]
        if u.kind == TITLE:
            j = i
            while j < len(units) and units[j].kind == TITLE:
                j += 1
            cur = _place_titles(units[i:j], units[j] if j < len(units) else None, j in resumes, cur, new)
            i = j
            continue
        if i in resumes and resumes[i] in where:
            d, k = where[resumes[i]]
            d.paras[k] += u.spans  # stitched with "": the sentence goes on
            d.ended, cur, where[i] = False, d, (d, k)
        elif u.kind == KICKER:
            if cur is None or cur.paras or cur.kicker:
                cur = new()
            cur.kicker = u.text
        elif u.kind == BYLINE:
            if cur is None or cur.paras or cur.byline:
                cur = new()
            cur.byline = u.text
            cur.notes.append((len(cur.paras), u.spans[0]))
        elif u.kind in (DATELINE, CREDIT):
            if cur is None:
                cur = new()
            if u.kind == DATELINE:
                cur.dateline = cur.dateline or u.text
            else:
                cur.byline, cur.credit = cur.byline or u.text, True
            cur.notes.append((len(cur.paras), u.spans[0]))
            cur.ended = bool(cur.paras)
        else:
            opens = bool(u.lead) or u.caption
            if cur is None or cur.ended or (opens and (cur.paras or (u.lead and cur.dateline))):
                cur = new()
            cur.dateline = cur.dateline or u.lead
            cur.caption = cur.caption or (u.caption and not cur.paras)
            cur.paras.append(list(u.spans))
            where[i] = (cur, len(cur.paras) - 1)
        i += 1
    return [d for d in drafts if d.paras]


def _date(dateline: str, doc_date: str) -> str:
    """ISO date from the dateline's 5月31日 (year from it, else from `doc_date`), else `doc_date`."""
    m = DATE_RE.search(unicodedata.normalize("NFKC", dateline)) if dateline else None
    if not m or not (1 <= int(m["m"]) <= 12 and 1 <= int(m["d"]) <= 31):
        return doc_date
    year = m["y"] or (doc_date[:4] if re.match(r"\d{4}", doc_date) else "")
    md = f"{int(m['m']):02d}-{int(m['d']):02d}"
    return f"{year}-{md}" if year else md


def _paragraphs(d: _Draft) -> list[list[tuple[int, int]]]:
    """Body paragraphs with the note lines (byline, dateline, credit) put back in page order:
    a note recorded before body paragraph k precedes it; later notes close the article."""
    out: list[list[tuple[int, int]]] = []
    for k, para in enumerate(d.paras):
        out += [[span] for at, span in d.notes if at == k]
        out.append(list(para))
    out += [[span] for at, span in d.notes if at >= len(d.paras)]
    return out


def _article(doc: Document, d: _Draft, single: bool) -> Article:
    """Freeze a draft: build the text (notes included) and its Segments; a trailing （记者…）
    stays in the text and is copied into byline when there is none."""
    paras = _paragraphs(d)
    byline = d.byline
    s, e = d.paras[-1][-1]
    m = TRAILING_REPORTERS_RE.search(doc.text, s, e)
    if m and m.start() > s and ends_sentence(doc.text[s:m.start()]):
        byline = byline or m.group()[1:-1].strip()
    segments, parts, pos = [], [], 0
    for p in paras:
        if segments:
            pos += 1  # the "\n" paragraph break
        for s, e in p:
            segments.append(Segment(start=s, end=e, text_start=pos))
            pos += e - s
        parts.append("".join(doc.text[s:e] for s, e in p))
    text = "\n".join(parts)
    title = " ".join(LABEL_RE.sub("", t) for t in d.titles).strip() or (doc.title if single else "")
    body_len = sum(e - s for p in d.paras for s, e in p)  # notes do not make a piece longer
    caption = d.caption or (d.credit and not d.dateline and body_len <= CAPTION_MAX)
    return Article(
        article_id=content_hash(title, text), doc_id=doc.doc_id, path=doc.path, title=title,
        text=text, segments=tuple(segments), dateline=d.dateline, byline=byline, kicker=d.kicker,
        date=_date(d.dateline, doc.date), kind="caption" if caption else "article", sources=(doc.path,),
    )


def segment_page(doc: Document) -> list[Article]:
    """Split `doc.text` into Articles in page order (one for a clean single article, [] if blank).

    Each Article's text is Document slices joined by "" (repaired column break) or "\\n"."""
    units = _units(doc.text)
    drafts = _group(units, _resumptions(units))
    return [_article(doc, d, len(drafts) == 1) for d in drafts]
