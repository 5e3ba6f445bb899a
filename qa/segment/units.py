"""Page lines classified and joined into units: titles, kickers, bylines, datelines, photo
credits and body paragraphs (column breaks repaired). Layout shapes only, never words of
particular articles: a dateline is known by its shape (a source name ending 报/刊/社/网/台 +
讯/电, a place, a date; 据…报道), not by a list of agencies.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qa.text import CLOSERS, ends_sentence, pos_cut, to_simplified

TITLE_MAX = 50  # a line longer than this without final punctuation is body text cut by a break
QUESTION_TITLE_MAX = 40  # a short line ending in ？/！ right before a dateline is a title
KICKER_MAX = 30
# A hard-wrapped column: lines filling the same printed width (± slack: a half-width character
# that did not fit, a closing mark kept on the line) are cut by the width, not by the writer.
COLUMN_SLACK = 2
COLUMN_MIN_LINES = 5
COLUMN_SHARE = 0.3
CAPTION_MAX = 400  # a credited, undated piece up to this length is a photo caption
# jieba POS tags (first letter) a title never ends with: pronoun, preposition, conjunction,
# auxiliary, numeral, classifier, adverb. A line ending so stops mid-sentence.
OPEN_POS = frozenset("rpcumqd")
OPEN_END = "，、,—-“‘「『（(【《"  # a line ending with these stops mid-sentence
PAIRS = ("“”", "‘’", "「」", "『』", "（）", "()", "《》", "【】")
# A source that may omit the date: 本报/本刊/本台 and any name of a paper, agency, site or station
# (…报 …刊 …社 …网 …台), recognised by that shape, never by a list of names: 时报讯, 新华社杭州电.
HOME_SOURCES = ("本报", "本刊", "本台")

TITLE, KICKER, BYLINE, DATELINE, CREDIT, BODY = "title", "kicker", "byline", "dateline", "credit", "body"
JUMP_IN, JUMP_OUT = "jump_in", "jump_out"  # 上接… / 下转… lines: page furniture, kept out of the text

_CJK = "\u4e00-\u9fff"
_NAME = rf"[{_CJK}·]{{2,4}}"
_NAMES = rf"{_NAME}(?:[、，,\s]+{_NAME})*"
_SOURCE = rf"(?:{'|'.join(HOME_SOURCES)}|[{_CJK}]{{1,6}}?(?:报|刊|社|网|台))"
_AGENCY = rf"(?P<agency>《?{_SOURCE}》?)"
_DATE = r"(?:(?P<y>[0-9０-９]{4})年)?(?P<m>[0-9０-９]{1,2})月(?P<d>[0-9０-９]{1,2})日"
# 新华社北京5月31日电 / 本报讯 / 时报讯 / 晨报北京电; 据新华社报道， / 据《某某日报》报道：
_DATELINE = (rf"(?:{_AGENCY}(?P<place>[{_CJK}]{{0,8}}?)(?P<date>{_DATE})?[电讯]"
             rf"|据(?P<cited>《?{_SOURCE}》?[{_CJK}0-9０-９]{{0,10}}?)(?:报道|消息)[，,：:])")
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
# A jump line: the piece goes on (下转第2版, 转A3版) or comes from (上接第1版, 紧接第一版) another page.
JUMP_RE = re.compile(r"[(（]?\s*(?P<way>上接|紧接|接|下转|转)(?:第|本报)?\s*[0-9０-９一二三四五六七八九十A-Za-z]{1,3}\s*版\s*[)）]?")
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
    shown: str = ""  # the text as printed (`text` is its simplified-script view, read by the rules)


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


def _cut_short(core: str) -> bool:
    """True when an unpunctuated line cannot be a headline by its shape: long, an open pair,
    a 。 inside, or a trailing comma/opening mark."""
    return len(core) > TITLE_MAX or core[-1] in OPEN_END or not _balanced(core) or "。" in core


def _open_sentence(text: str) -> bool:
    """True for sentence text (a line read as body) that stops without final punctuation or a
    closing mark: its sentence goes on elsewhere. Captions (图为…) may end bare."""
    core = _core(text).rstrip()
    return bool(core) and not ends_sentence(core) and core[-1] not in CLOSERS and not CAPTION_RE.match(text)


def _unfinished(text: str) -> bool:
    """True when the line stops mid-sentence: no final punctuation and cut short by its shape
    (see _cut_short), or a last word that cannot end a phrase (OPEN_POS)."""
    core = _core(text)
    if ends_sentence(core):
        return False
    if _cut_short(core):
        return True
    if core[-1] in CLOSERS:
        return False  # a quote or bracket just closed: a phrase can end there (titles often do)
    words = pos_cut(core)
    return bool(words) and words[-1][1][:1] in OPEN_POS


def _lead(text: str) -> int:
    """Length of a dateline (+ reporters in brackets) opening `text`, 0 when none."""
    m = LEAD_RE.match(text)
    if not m:
        return 0
    if m.group("cited"):
        return m.end()
    if "记者" in m.group("place"):
        return 0
    agency = m.group("agency").strip("《》")
    told = DATELINE_RE.match(text).group(0).endswith("讯")  # 某某报讯: the shape of a news lead
    if not (told or agency in HOME_SOURCES or agency.endswith("社") or m.group("date")):
        return 0  # "…报/网/台 + place + 电" without a date is too weak a shape to open an article
    return m.end()


def _is_dateline_line(text: str) -> bool:
    """True for a line that is only a dateline, e.g. （记者某某） 新华社某地5月1日电."""
    rest = REPORTERS_RE.sub("", text).strip()
    return bool(rest) and _lead(rest) == len(rest)


def _display_width(text: str) -> int:
    """Columns the text takes when printed: wide (CJK, full-width) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_width(lines: list[_Line]) -> int:
    """The printed width of a hard-wrapped column (text extracted from a newspaper PDF), 0 when
    the page is not wrapped: the width that most lines fill (within COLUMN_SLACK), when they are
    at least COLUMN_MIN_LINES and COLUMN_SHARE of the lines."""
    widths = [_display_width(ln.text) for ln in lines]
    best, count = 0, 0
    for w in set(widths):
        n = sum(w - COLUMN_SLACK <= x <= w for x in widths)
        if n > count or (n == count and w > best):
            best, count = w, n
    return best if count >= max(COLUMN_MIN_LINES, COLUMN_SHARE * len(lines)) else 0


def _full(text: str, column: int) -> bool:
    """True for a line that fills the column: the text goes on in the next line."""
    return column > 0 and abs(_display_width(text) - column) <= COLUMN_SLACK and not ends_sentence(_core(text))


def _jumps_out(text: str) -> bool:
    """True for a jump line saying the text above goes on elsewhere (下转第2版)."""
    jump = JUMP_RE.fullmatch(text)
    return jump is not None and jump["way"] in ("下转", "转")


def _kind(text: str, next_text: str | None, full: bool = False) -> str:
    """Line class: kicker, dateline, byline, credit, body (sentence text) or title; a line that
    fills a wrapped column is body text, never a title."""
    if KICKER_RE.match(text) and len(text) <= KICKER_MAX:
        return KICKER
    if JUMP_RE.fullmatch(text):
        return JUMP_OUT if _jumps_out(text) else JUMP_IN
    if _is_dateline_line(text):
        return DATELINE
    if CREDIT_RE.fullmatch(text):  # before bylines: 记者某某摄 is a photo credit
        return CREDIT
    if BYLINE_RE.fullmatch(text):
        return BYLINE
    if _lead(text):
        return BODY  # a line opening with a dateline starts a report's text, never a headline
    core = _core(text)
    if next_text is not None and _jumps_out(next_text) and not ends_sentence(core):
        return BODY  # a 下转 line follows the text it carries on elsewhere: never a headline
    if ends_sentence(core):
        # A short question/exclamation right before a dateline or byline is a headline.
        opens_next = next_text is not None and (_lead(next_text) or BYLINE_RE.fullmatch(next_text))
        ask = core.rstrip(CLOSERS)[-1] in "？！?!"
        return TITLE if ask and opens_next and len(core) <= QUESTION_TITLE_MAX else BODY
    # A short line whose last word leans on what follows (…的, …和, a number) may still be a
    # headline (一季度增长5.3%): it stays a title line here and the learned model decides
    # whether it is body text cut short (signals.FRAG).
    return BODY if full or _cut_short(core) else TITLE


def _units(text: str) -> list[_Unit]:
    """Classified lines; body lines that stop mid-sentence are joined to the next body line.
    Traditional script is read through its simplified view (報訊 as 报讯; OpenCC, character for
    character, so offsets hold); units keep the printed text in `shown`."""
    printed, text = text, to_simplified(text)
    lines = _lines(text)
    column = _column_width(lines)
    full = [_full(ln.text, column) for ln in lines]
    kinds = [_kind(ln.text, lines[i + 1].text if i + 1 < len(lines) else None, full[i])
             for i, ln in enumerate(lines)]
    for i in range(1, len(lines)):
        if kinds[i] == TITLE and full[i - 1] and kinds[i - 1] == BODY:
            kinds[i] = BODY  # a line filling the column goes on in the next line: its last words
    units: list[_Unit] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if kinds[i] != BODY:
            units.append(_Unit(kinds[i], ((ln.start, ln.end),), ln.text, ln.block,
                               shown=printed[ln.start:ln.end]))
            i += 1
            continue
        lead = _lead(ln.text)
        spans, body = [(ln.start, ln.end)], ln.text  # the dateline stays in the text as printed
        unfinished = full[i] or _unfinished(ln.text) or bool(lead and _open_sentence(ln.text))

        def joinable(j: int) -> bool:
            nxt = lines[j].text
            return kinds[j] == BODY and not _lead(nxt) and not CAPTION_RE.match(nxt)

        while unfinished and i + 1 < len(lines) and joinable(i + 1):
            i += 1
            spans.append((lines[i].start, lines[i].end))
            body += lines[i].text
            unfinished = full[i] or _unfinished(lines[i].text)
        if len(spans) > 1 and not ends_sentence(_core(lines[i].text)):
            unfinished = True  # a column's text that stops without final punctuation goes on elsewhere
        if i + 1 < len(lines) and kinds[i + 1] == JUMP_OUT and not ends_sentence(_core(lines[i].text)):
            unfinished = True  # the sentence goes on where the jump line sends the reader
        units.append(_Unit(BODY, tuple(spans), body, ln.block, printed[ln.start:ln.start + lead].strip(),
                           bool(CAPTION_RE.match(ln.text)), unfinished, "".join(printed[a:b] for a, b in spans)))
        i += 1
    return units


def title_runs(units: list[_Unit]) -> list[tuple[int, int]]:
    """(start, end) of each run of consecutive title lines, in page order."""
    runs, i = [], 0
    while i < len(units):
        if units[i].kind != TITLE:
            i += 1
            continue
        j = i
        while j < len(units) and units[j].kind == TITLE:
            j += 1
        runs.append((i, j))
        i = j
    return runs


def is_wrapped(text: str) -> bool:
    """True for a hard-wrapped page: most lines fill one printed width (see _column_width)."""
    return _column_width(_lines(to_simplified(text))) > 0


def has_blank_lines(text: str) -> bool:
    """True when blank lines separate some of the page's text (else every line is its own block)."""
    return re.search(r"\S[^\S\n]*\n(?:[^\S\n]*\n)+[^\S\n]*\S", text) is not None
