"""Candidate answer spans of one sentence: regex entities (numbers with units, percentages,
money, dates, times), quoted names, organisation names, POS noun phrases, the "holes" between
question words, and clauses. Features for them are computed in qa/candidates.py.
"""
from __future__ import annotations

import re

from qa.text import TITLE_WORD

MAX_SPAN = 40

# Units of measure after a number: a measure word, or a common multi-character unit.
_UNITS = ("周年|个小时|小时|分钟|星期|周岁|多年|余年|多天|平方千米|平方公里|平方米|立方米|千米|公里|公斤|千克|公顷|标准箱|人次|个月|余个|多个|多名|多家|多项|余项|余家|余名|余人|多人"
          "|[人个名家项次种座件台辆吨米年岁天位部届场条所只头株倍册卷集期亩户间栋层票例起大]")  # 大: 十大, 五大领域
_NUM = r"(?:[0-9][0-9,.]*|[零〇一二两三四五六七八九十百千]+(?:点[零一二三四五六七八九]+)?)(?:多|余)?(?:[十百千万亿]+)?"
ENTITY_PATTERNS = (
    ("percent", re.compile(rf"(?:百分之[零一二三四五六七八九十百点.0-9]+|{_NUM}\s*(?:%|‰|个百分点|成))")),
    ("money", re.compile(rf"(?:(?:人民币|美元|港元|欧元)\s*)?{_NUM}\s*(?:[万亿]*(?:元|美元|欧元|日元|英镑|港元|港币|卢布|美金|块钱?))")),
    ("date", re.compile(r"(?:[0-9]{2,4}|[〇零一二三四五六七八九]{2,4})年(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})月(?:(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})[日号])?"
                        r"|(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})月(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})[日号]"
                        r"|(?:公元前?)?(?:[0-9]{2,4}|[〇零一二三四五六七八九]{2,4})年(?:代|初|末|底)?|[0-9一二三四五六七八九十]+世纪(?:[0-9]+年代)?")),
    ("time", re.compile(r"[0-9]{1,2}[:：][0-9]{2}|(?:凌晨|上午|中午|下午|晚上|傍晚)?[0-9一二三四五六七八九十]{1,3}[点时](?:[0-9一二三四五六七八九十]{1,3}分|半)?")),
    ("number", re.compile(rf"(?:约|近|超过|逾|第)?{_NUM}(?:\s*(?:{_UNITS}))?|[0-9][0-9,.]*")),
)
_QUOTES = re.compile(r"《[^《》]{1,30}》|“[^“”]{1,30}”|‘[^‘’]{1,30}’|「[^「」]{1,30}」|『[^『』]{1,30}』|\"[^\"]{1,30}\"")
_PAIRS = ("《》", "“”", "‘’", "「」", "『』", "()", "（）")
PUNCT = set("，,。！？!?；;：:、（）()【】[]《》“”‘’「」『』\"' …—-·/")
CLAUSE_PUNCT = set("，,。！？!?；;：:（）()")
EDGE_STOP = {"的", "是", "为", "了", "在", "于", "和", "与", "及", "也", "都", "就", "被", "把", "对", "将", "由", "并", "而", "其", "即"}
SPEECH = "说讲称道"  # verbs of saying that jieba glues to a name
_NP_TAGS = ("n", "nr", "ns", "nt", "nz", "eng", "j", "b", "m", "q", "vn", "an", "l", "i", "t", "s", "f", "x")


def _split_surname(toks: tuple, a: int) -> bool:
    """Token a is a one-character surname that jieba cut from its given name (胡|飞跃)."""
    w, tag = toks[a][0], toks[a][1]
    return (tag.startswith("nr") and len(w) == 1 and a + 1 < len(toks)
            and 1 <= len(toks[a + 1][0]) <= 2 and toks[a + 1][0] not in PUNCT)


# Organisation names end in one of these; jieba often splits the name before them (俊富|集团,
# 日企岩谷|(中国)|有限公司), so names are also read leftwards from the suffix.
_ORG_SUFFIX = ("公司", "集团", "银行", "研究院", "研究所", "大学", "学院", "医院", "协会")
_ORG_GENERIC = _ORG_SUFFIX + ("有限公司", "有限责任公司", "股份有限公司", "股份公司", "总公司", "分公司")
_NAME_BREAK = ("x", "u", "p", "c", "d", "r", "v", "m", "t", "f")  # tags a name does not cross


def org_names(folded: str, toks: tuple) -> list[tuple[int, int]]:
    """(start, end) of each organisation name: a word ending in an organisation suffix and up
    to four words before it, a parenthesised part included (岩谷(中国)有限公司), stopping at
    punctuation, particles, prepositions, verbs and numbers; every start is a candidate."""
    out = []
    for b, (w, _, _, end) in enumerate(toks):
        if not w.endswith(_ORG_SUFFIX):
            continue
        a, starts = b, [] if w in _ORG_GENERIC else [toks[b][2]]
        while a > 0 and b - a < 6:
            prev, tag = toks[a - 1][0], toks[a - 1][1]
            if prev in ")）":  # a parenthesised part (中国) belongs to the name
                opener = next((j for j in range(a - 2, max(a - 5, -1), -1) if toks[j][0] in "(（"), None)
                if opener is None or opener == 0 or toks[opener - 1][1].startswith(_NAME_BREAK):
                    break
                a = opener
                continue
            # a verb right before the suffix names the trade (浙江|出版|集团); elsewhere it ends the name
            trade = a == b and tag == "v" and len(prev) == 2
            if tag.startswith(_NAME_BREAK) and not tag.startswith("vn") and not trade or prev in PUNCT:
                break
            a -= 1
            starts.append(toks[a][2])
        # 全国大学, 该公司: a determiner makes a description, not a name
        out += [(st, end) for st in starts if end - st <= 20 and folded[st] not in "全各该本此这那其每某"]
    return out


_ITEM_TAGS = ("n", "j", "b", "eng", "l", "vn", "nz")  # words an item of an enumeration is made of
_JOINERS = ("和", "与", "及", "以及")


def enumerations(folded: str, toks: tuple) -> list[tuple[int, int]]:
    """(start, end) of each run of noun-like words holding at least one 、 (A、B和C), from its
    start and from after each 和/与/及 inside it (潍柴与[德国公司、奥地利公司]); after a joiner
    a verb may modify the next noun (中国物流与[采购]联合会)."""
    def item(j: int) -> bool:
        return j < n and toks[j][1].startswith(_ITEM_TAGS)

    out, i, n = [], 0, len(toks)
    while i < n:
        j, starts = i, []
        while item(j) or i < j < n and (toks[j][0] == "、" or toks[j][0] in _JOINERS and (
                item(j + 1) or j + 2 < n and toks[j + 1][1] == "v" and item(j + 2))):
            if toks[j][0] in _JOINERS:
                starts.append(j + 1)
                if not item(j + 1):
                    j += 1  # the verb modifying the next noun
            elif toks[j][0].endswith(_JOINERS) and len(toks[j][0]) > 2:
                starts.append(j + 1)  # jieba glued the joiner to the word before it (潍柴与)
            j += 1
        while j > i and toks[j - 1][0] in ("、",) + _JOINERS:
            j -= 1
        if j > i and any(t[0] == "、" for t in toks[i:j]):
            out += [(toks[a][2], toks[j - 1][3]) for a in [i] + starts
                    if a < j - 1 and any(t[0] == "、" for t in toks[a:j])]
        i = max(j, i + 1)
    return out


# News names a speaker as [post][name][verb of saying] (交通局长黄建国指出): the 2-3 characters
# between a post and such a verb are a name, however jieba tags them (黄|建国 as a|ns).
_SAYING = "说|表示|指出|介绍|认为|强调|称|透露|坦言|告诉|谈到|提到|解释|分析"
_TITLED_NAME = re.compile(rf"(?:{TITLE_WORD.pattern})([\u4e00-\u9fff]{{2,3}}?)(?:{_SAYING})")


def titled_names(folded: str) -> list[tuple[int, int]]:
    """(start, end) of each name printed between a post and a verb of saying."""
    return [m.span(1) for m in _TITLED_NAME.finditer(folded)]


def _balanced(span: str) -> bool:
    """False when the span opens a quote or bracket it does not close, or closes one it did not
    open (千里马’担任 cut out of ‘千里马’担任): such a span is never an answer as written."""
    depth = {p: 0 for p in _PAIRS}
    for c in span:
        for p in _PAIRS:
            if c == p[0]:
                depth[p] += 1
            elif c == p[1]:
                depth[p] -= 1
                if depth[p] < 0:
                    return False
    return not any(depth.values())


def sentence_spans(folded: str, toks: tuple, matched: list[bool], *, lists: bool = False) -> list[tuple[int, int, str, bool]]:
    """Candidate (start, end, kind, is_hole) spans of one folded sentence; enumerations (A、B和C)
    only when `lists` (the question asks for several things: elsewhere the ranker, trained
    without them, overrates them)."""
    seen: dict[tuple[int, int], tuple[str, bool]] = {}

    def add(s: int, e: int, kind: str, hole: bool = False) -> None:
        while s < e and (folded[s] in PUNCT or folded[s].isspace()) and folded[s] not in "《“「『(（":
            s += 1
        while e > s and (folded[e - 1] in PUNCT or folded[e - 1].isspace()) and folded[e - 1] not in "》”」』)）%":
            e -= 1
        if 0 < e - s <= MAX_SPAN and (s, e) not in seen and _balanced(folded[s:e]):
            seen[(s, e)] = (kind, hole)
        elif (s, e) in seen and hole:
            seen[(s, e)] = (seen[(s, e)][0], True)

    for kind, rx in ENTITY_PATTERNS:
        for m in rx.finditer(folded):
            if any(c.isdigit() or c in "零〇一二两三四五六七八九十百千" for c in m.group()):
                add(m.start(), m.end(), kind)
    for s, e in org_names(folded, toks):
        add(s, e, "organization")
    for s, e in titled_names(folded):
        add(s, e, "person")
    for s, e in enumerations(folded, toks) if lists else ():
        add(s, e, "np")
    for m in _QUOTES.finditer(folded):
        add(m.start(), m.end(), "quoted")
        add(m.start() + 1, m.end() - 1, "quoted")
    n = len(toks)
    # noun-phrase runs and their sub-runs (up to 4 tokens)
    i = 0
    while i < n:
        if not toks[i][1].startswith(_NP_TAGS) or toks[i][0] in PUNCT:
            i += 1
            continue
        j = i
        while j < n and toks[j][1].startswith(_NP_TAGS) and toks[j][0] not in PUNCT:
            j += 1
        for a in range(i, j):
            for b in range(a + 1, min(j, a + 4) + 1):
                if _split_surname(toks, b - 1):
                    continue  # 负责人胡 | 飞跃: a run may not end inside a name
                last = toks[b - 1][1]
                kind = "person" if last.startswith("nr") else "place" if last.startswith("ns") else "organization" if last.startswith("nt") else "np"
                add(toks[a][2], toks[b - 1][3], kind)
        if j - i > 4:
            add(toks[i][2], toks[j - 1][3], "np")
        i = j
    # person names jieba splits: surname + given name (胡|飞跃); `tokens` unglues name + 说
    for a, (w, tag, ts, te) in enumerate(toks):
        if _split_surname(toks, a):
            nxt = toks[a + 1][0]
            add(ts, toks[a + 1][3] - (1 if len(nxt) == 2 and nxt[-1] in SPEECH else 0), "person")
    # holes: runs of tokens that are not question words, within a clause
    i = 0
    while i < n:
        if matched[i] or toks[i][0] in CLAUSE_PUNCT:
            i += 1
            continue
        j = i
        while j < n and not matched[j] and toks[j][0] not in CLAUSE_PUNCT:
            j += 1
        a, b = i, j
        while a < b and toks[a][0] in EDGE_STOP:
            a += 1
        while b > a and toks[b - 1][0] in EDGE_STOP:
            b -= 1
        if a < b:
            add(toks[a][2], toks[b - 1][3], "hole", True)
        i = j
    # clauses
    s = 0
    for k, c in enumerate(folded + "，"):
        if c in CLAUSE_PUNCT:
            if k > s:
                add(s, k, "clause")
            s = k + 1
    return [(s, e, k, h) for (s, e), (k, h) in seen.items()]
