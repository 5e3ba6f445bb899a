"""Page segmentation: split a Document's text into Articles (news pieces and photo captions).

Layout rules only (punctuation, line length, sentence completion, dateline / byline / photo
credit patterns), never words of particular articles. Steps:
1. lines with offsets, grouped into blocks at blank lines;
2. each line classified: title, kicker (■ …), byline, dateline line, photo credit, body;
3. column-break repair: a body line that stops mid-sentence is joined ("") to the next body line;
4. an interrupted paragraph (stops mid-sentence before a title/kicker) is resumed by a later
   paragraph that follows a title/dateline/credit line (a word spanning the junction wins);
5. paragraphs grouped into articles; titles may be printed before or after their body.
Conventions: an article's `title` is all its title lines in page order joined by one space
(a leading label such as 原标题： dropped); title and kicker lines stay out of the text.
Dateline, byline and photo credit lines are copied into their fields AND kept in the text where
printed (readers ask who wrote it, who took the photo, when it was filed): an opening dateline
stays at the start of the first paragraph, a byline/dateline/credit line is its own paragraph,
a trailing （记者…） stays; short subheads stay in the body as paragraphs.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from qa.text import CLOSERS, content_hash, cut, ends_sentence, pos_cut
from qa.types import Article, Document, Segment

TITLE_MAX = 50  # a line longer than this without final punctuation is body text cut by a break
QUESTION_TITLE_MAX = 40  # a short line ending in ？/！ right before a dateline is a title
KICKER_MAX = 30
CAPTION_MAX = 400  # a credited, undated piece up to this length is a photo caption
# jieba POS tags (first letter) a title never ends with: pronoun, preposition, conjunction,
# auxiliary, numeral, classifier, adverb. A line ending so stops mid-sentence.
OPEN_POS = frozenset("rpcumqd")
OPEN_END = "，、,—-“‘「『（(【《"  # a line ending with these stops mid-sentence
PAIRS = ("“”", "‘’", "「」", "『』", "（）", "()", "《》", "【】")
KNOWN_AGENCIES = ("新华社", "中新社", "本报", "本刊", "本台")  # may omit the date: 新华社杭州电

TITLE, KICKER, BYLINE, DATELINE, CREDIT, BODY = "title", "kicker", "byline", "dateline", "credit", "body"

_CJK = "\u4e00-\u9fff"
_NAME = rf"[{_CJK}·]{{2,4}}"
_NAMES = rf"{_NAME}(?:[、，,\s]+{_NAME})*"
_AGENCY = rf"(?P<agency>{'|'.join(KNOWN_AGENCIES)}|[{_CJK}]{{2,6}}?(?:社|网|台))"
_DATE = r"(?:(?P<y>[0-9０-９]{4})年)?(?P<m>[0-9０-９]{1,2})月(?P<d>[0-9０-９]{1,2})日"
_DATELINE = rf"{_AGENCY}(?P<place>[{_CJK}]{{0,8}}?)(?P<date>{_DATE})?[电讯]"
_REPORTERS = r"[(（][^()（）]{0,12}?(?:记者|通讯员|实习生)[^()（）]{0,40}[)）]"

DATELINE_RE = re.compile(_DATELINE)
DATE_RE = re.compile(_DATE)
REPORTERS_RE = re.compile(_REPORTERS)
LEAD_RE = re.compile(rf"{_DATELINE}\s*(?:{_REPORTERS})?\s*")
TRAILING_NOTE_RE = re.compile(r"[(（][^()（）]{0,24}[)）]\s*$")
TRAILING_REPORTERS_RE = re.compile(rf"{_REPORTERS}\s*$")
BYLINE_RE = re.compile(
    rf"(?:[{_CJK}]{{0,6}}(?:社|报|网|台))?(?:特约|见习|实习)?(?:记者|通讯员)\s*{_NAMES}"
    rf"|(?:文|撰文|作者)\s*[/／:：]\s*{_NAMES}"
)
CREDIT_RE = re.compile(
    rf"[(（]?(?:[{_CJK}]{{0,6}}(?:社|报|网|台))?(?:特约)?(?:记者|通讯员)?\s*{_NAMES}\s*(?:摄影?|供图|/摄)[)）]?"
)
CAPTION_RE = re.compile(r"(?:[大小上下左右中组]图|图[一二三四五六七八九十0-9①-⑩]*)[：:]|图为")
KICKER_RE = re.compile(r"[■□●○▲△◆◇★☆▶►◎※]")
LABEL_RE = re.compile(r"^(?:原标题|副标题|主标题|引题|标题)[：:]\s*")


@dataclass(frozen=True)
class _Line:
    start: int  # offsets of the stripped line in the Document text
    end: int
    text: str
    block: int  # index of its blank-line separated block (each line its own when no blanks)


@dataclass(frozen=True)
class _Unit:
    """A classified line, or for body text a paragraph after column-break repair."""

    kind: str
    spans: tuple[tuple[int, int], ...]  # Document slices joined with ""
    text: str
    block: int
    lead: str = ""  # dateline opening the first span (kept in the spans, copied to the field)
    caption: bool = False  # starts with a caption marker (大图：, 图为 …)
    unfinished: bool = False  # the last line stops mid-sentence


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


def _lines(text: str) -> list[_Line]:
    """Non-blank lines stripped of surrounding whitespace, with offsets and block numbers."""
    raw_lines: list[tuple[int, int, bool]] = []
    pos, gap = 0, False
    for raw in text.splitlines(keepends=True):
        body = raw.strip()
        if body:
            start = pos + len(raw) - len(raw.lstrip())
            raw_lines.append((start, start + len(body), gap and bool(raw_lines)))
            gap = False
        else:
            gap = True
        pos += len(raw)
    any_gap = any(g for _, _, g in raw_lines)
    out, block = [], 0
    for i, (s, e, g) in enumerate(raw_lines):
        block = (block + g) if any_gap else i
        out.append(_Line(s, e, text[s:e], block))
    return out


def _core(text: str) -> str:
    """`text` without a trailing note such as （完） or （记者 某某） after a finished sentence."""
    m = TRAILING_NOTE_RE.search(text)
    if m and m.start() > 0 and ends_sentence(text[: m.start()]):
        return text[: m.start()].rstrip()
    return text


def _balanced(text: str) -> bool:
    """True when every paired quote/bracket opened in `text` is closed there."""
    return all(text.count(a) == text.count(b) for a, b in PAIRS)


def _unfinished(text: str) -> bool:
    """True when the line stops mid-sentence: no final punctuation and long, an open pair,
    a 。 inside, a trailing comma/opening mark, or a last word that cannot end a phrase (OPEN_POS)."""
    core = _core(text)
    if ends_sentence(core):
        return False
    if len(core) > TITLE_MAX or core[-1] in OPEN_END or not _balanced(core) or "。" in core:
        return True
    if core[-1] in CLOSERS:
        return False  # a quote or bracket just closed: a phrase can end there (titles often do)
    words = pos_cut(core)
    return bool(words) and words[-1][1][:1] in OPEN_POS


def _lead(text: str) -> int:
    """Length of a dateline (+ reporters in brackets) opening `text`, 0 when none."""
    m = LEAD_RE.match(text)
    if not m or "记者" in m.group("place"):
        return 0
    if m.group("agency") not in KNOWN_AGENCIES and not m.group("date"):
        return 0  # an unknown "…社/网/台" needs a date to be trusted as an agency
    return m.end()


def _is_dateline_line(text: str) -> bool:
    """True for a line that is only a dateline, e.g. （记者某某） 新华社某地5月1日电."""
    rest = REPORTERS_RE.sub("", text).strip()
    return bool(rest) and _lead(rest) == len(rest)


def _kind(text: str, next_text: str | None) -> str:
    """Line class: kicker, dateline, byline, credit, body (sentence text) or title."""
    if KICKER_RE.match(text) and len(text) <= KICKER_MAX:
        return KICKER
    if _is_dateline_line(text):
        return DATELINE
    if CREDIT_RE.fullmatch(text):  # before bylines: 记者某某摄 is a photo credit
        return CREDIT
    if BYLINE_RE.fullmatch(text):
        return BYLINE
    core = _core(text)
    if ends_sentence(core):
        # A short question/exclamation right before a dateline or byline is a headline.
        opens_next = next_text is not None and (_lead(next_text) or BYLINE_RE.fullmatch(next_text))
        ask = core.rstrip(CLOSERS)[-1] in "？！?!"
        return TITLE if ask and opens_next and len(core) <= QUESTION_TITLE_MAX else BODY
    return BODY if _unfinished(text) else TITLE


def _units(text: str) -> list[_Unit]:
    """Classified lines; body lines that stop mid-sentence are joined to the next body line."""
    lines = _lines(text)
    kinds = [_kind(ln.text, lines[i + 1].text if i + 1 < len(lines) else None) for i, ln in enumerate(lines)]
    units: list[_Unit] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if kinds[i] != BODY:
            units.append(_Unit(kinds[i], ((ln.start, ln.end),), ln.text, ln.block))
            i += 1
            continue
        lead = _lead(ln.text)
        spans, body = [(ln.start, ln.end)], ln.text  # the dateline stays in the text as printed
        unfinished = _unfinished(ln.text)

        def joinable(j: int) -> bool:
            nxt = lines[j].text
            return kinds[j] == BODY and not _lead(nxt) and not CAPTION_RE.match(nxt)

        while unfinished and i + 1 < len(lines) and joinable(i + 1):
            i += 1
            spans.append((lines[i].start, lines[i].end))
            body += lines[i].text
            unfinished = _unfinished(lines[i].text)
        units.append(_Unit(BODY, tuple(spans), body, ln.block, ln.text[:lead].strip(),
                           bool(CAPTION_RE.match(ln.text)), unfinished))
        i += 1
    return units


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
