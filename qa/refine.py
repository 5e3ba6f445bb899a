"""Rules of news Chinese applied to the ranker's choice of span (qa/answer.py).

The learned ranker was trained on encyclopaedic text (CMRC, DRCD). News prints a few patterns
it weighs poorly, each handled here by one general rule: a verb glued to a name (赵庆河介绍),
values paired by 分别 (A和B分别为X和Y), a figure framed by the question's own words
(小型企业PMI为[47.9%]), a name printed beside a term the question quotes (安徽“皖事通办”).
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from qa.candidates import FEATURES, LINK_CHARS, clean, common_suffix, tokens
from qa.spans import ENTITY_PATTERNS
from qa.question import CLASSIFIERS, QuestionAnalysis, cn_number
from qa.text import cut

FIGURE_TYPES = ("number", "percent", "money", "quantity")
STRICT_TYPES = FIGURE_TYPES + ("date", "time", "person")  # a span of another kind is a mismatch
SPECIFIC_TYPES = STRICT_TYPES + ("place", "organization")  # types that name the kind of span


INNER_MARGIN = 1.0  # how far below the best score a typed span inside it may rank and still win


def prefer_typed_inner(answer_type: str, X: np.ndarray, cands: list, sents: list,
                       scores: np.ndarray) -> int:
    """Index of the candidate to answer with: the best-scoring one, unless the question names
    a strict kind (person, figure, date) that the best span cannot be, and the best span starts
    with a span of exactly that kind followed by a verb, preposition or particle (赵庆河|介绍,
    宋永峰|说, 刘庆|带着记者…) scoring within INNER_MARGIN: then that span.

    News sentences glue the verb to the span that answers; the scorer, trained on encyclopaedic
    text, often ranks the whole run first. A name that goes on (莱特那·维特莫) is not cut."""
    best = int(np.argmax(scores))
    compat = X[:, FEATURES.index("compat")]
    if answer_type not in STRICT_TYPES or compat[best] > 0:
        return best
    hi, k, s, e, _ = cands[best]
    ss, folded = sents[k][1], sents[k][3]
    starts = {ts + ss: tag for _, tag, ts, _ in tokens(folded)}
    inner = [i for i, c in enumerate(cands)
             if c[0] == hi and c[1] == k and c[2] == s and c[3] < e and compat[i] == 2
             and starts.get(c[3], "x")[:1] in ("v", "p", "u", "d") and scores[i] > scores[best] - INNER_MARGIN]
    return max(inner, key=lambda i: scores[i]) if inner else best


def _span_text(cands: list, sents: list, i: int) -> str:
    """The folded text of candidate i."""
    _, k, st, en, _ = cands[i]
    return sents[k][3][st - sents[k][1]: en - sents[k][1]]


def _best_near(cands: list, scores: np.ndarray, best: int, margin: float, ok, same_sentence: bool = False) -> int:
    """The best-scoring candidate satisfying `ok` in the best one's passage (or sentence) and
    within `margin` below it, else `best`."""
    key = 2 if same_sentence else 1
    near = [i for i in range(len(cands)) if cands[i][:key] == cands[best][:key]
            and scores[i] > scores[best] - margin and ok(i)]
    return max(near, key=lambda i: scores[i]) if near else best


ORG_MARGIN = 2.0  # how far below the best score a named organisation in its sentence may rank


def prefer_named_org(answer_type: str, X: np.ndarray, cands: list, scores: np.ndarray, best: int) -> int:
    """For "which company/organisation" questions: the best span, unless it does not end like an
    organisation name (公司, 集团, 大学 ...) while a span of its sentence that does scores
    within ORG_MARGIN: then that one (a quoted description before 俊富集团 is not the company)."""
    suffix = X[:, FEATURES.index("suffix_class")]
    if answer_type != "organization" or suffix[best] == 2:
        return best
    return _best_near(cands, scores, best, ORG_MARGIN,
                      lambda i: suffix[i] == 2 and cands[i][4] == "organization", same_sentence=True)


HEAD_MARGIN = 1.5  # how far below the best score a span naming the asked noun may rank


def asked_head(qa: QuestionAnalysis) -> str:
    """The noun after 哪 and its measure word (哪栋[楼], 哪次[会议]), or ''."""
    if "哪" not in qa.wh_word[:1] + qa.wh_word[-1:] or qa.lang != "zh":  # 哪栋, 在哪 个镇
        return ""
    after = qa.normalized[qa.wh_end:]
    after = after[1:] if after[:1] and after[0] in CLASSIFIERS else after
    words = cut(after[:6])
    return words[0] if words and re.fullmatch(r"[\u4e00-\u9fff]{1,3}", words[0]) else ""


# Place heads too broad to be named at the end of the answer (哪国: 朝鲜, not 韩国).
_VAGUE_PLACES = ("国", "国家", "地方", "地区", "地", "朝", "里", "儿", "处")


def prefer_named_head(qa: QuestionAnalysis, cands: list, sents: list, scores: np.ndarray, best: int) -> int:
    """For "哪栋楼 / 哪次会议" questions of no specific type: the best span, unless it does not
    end in the asked noun (楼; for a two-character noun either character: 全会 for 会议) while
    a span of the same passage that does scores within HEAD_MARGIN: then that one."""
    head = asked_head(qa)
    if qa.answer_type not in ("other", "place") or not head or qa.answer_type == "place" and head in _VAGUE_PLACES:
        return best

    def names_head(i: int) -> bool:
        span = _span_text(cands, sents, i)
        if cands[i][4] == "clause" or re.search(r"[是为，,、]", span):  # a statement, not a name
            return False
        return len(span) > len(head) and (span.endswith(head) or len(head) == 2 and span[-1] in head)

    return best if names_head(best) else _best_near(cands, scores, best, HEAD_MARGIN, names_head)


LIST_MARGIN = 3.0  # how far below the best score an enumeration of the asked length may rank
_COUNT_ASKED = re.compile(r"哪([两二三四五六七八九])")
_ITEM_SEP = re.compile(r"、|以及|和|与|及")


def prefer_counted_list(qa: QuestionAnalysis, cands: list, sents: list, scores: np.ndarray, best: int) -> int:
    """For "哪两个机构 / 哪三家企业" questions: the best span, unless it does not list that many
    items while a span of the same passage does (A、B; A、B和C), scoring within LIST_MARGIN:
    then the best of those. Items are counted at 、, or at 、 and 和/与/及 (中国物流与采购联合会
    is one name)."""
    m = _COUNT_ASKED.search(qa.normalized)
    if not m:
        return best
    want = cn_number(m.group(1))

    def items(i: int) -> bool:
        span = _span_text(cands, sents, i)
        if "，" in span or "," in span or "。" in span:
            return False
        return want in (span.count("、") + 1, len(_ITEM_SEP.split(span))) and "、" in span + "和与及"

    return best if items(best) else _best_near(cands, scores, best, LIST_MARGIN, items)


_SAYS = re.compile(r"^.*?(?:认为|表示|指出|强调|看来|说)(?=.)")


def copula_object(qa: QuestionAnalysis) -> str:
    """X of "X是什么？" or "什么是X？" (a speaker's "王某说/认为" dropped), else ''."""
    q = qa.normalized.rstrip("？?。 ")
    if qa.wh_word != "什么" or qa.lang != "zh":
        return ""
    if q.endswith("是什么"):
        x = q[: -3]
    elif q[qa.wh_end: qa.wh_end + 1] == "是":
        x = q[qa.wh_end + 1:]
    else:
        return ""
    return clean(_SAYS.sub("", x))


def prefer_copula_subject(qa: QuestionAnalysis, cands: list, sents: list, best: int) -> int:
    """"国家的核心资源是什么？" over a sentence "数据要素是国家的核心资源": the noun phrase
    before 是 (or 为) answers, however the ranker scored it; the longest candidate of that clause
    ending right before the copula. Only when the sentence repeats the whole X (4+ characters)
    after the copula, so "X是Y" sentences are read as before."""
    x = copula_object(qa)
    if len(x) < 4:
        return best
    pick, size = best, 0
    for i, (hi, k, st, en, _) in enumerate(cands):
        ss, folded = sents[k][1], sents[k][3]
        e = en - ss
        if folded[e: e + 1] not in ("是", "为") or not clean(folded[e + 1:]).startswith(x):
            continue
        clause_start = max(folded.rfind(c, 0, e) for c in "，,。；;：:") + 1
        if st - ss >= clause_start and en - st > size and clean(folded[st - ss: e]) not in clean(qa.normalized):
            pick, size = i, en - st
    return pick


FRAME_MARGIN = 3.0  # how far below the chosen span a better-framed one may score
FRAME_MIN = 4  # characters of the question's frame it must repeat


def frame(qa: QuestionAnalysis, folded: str, s: int, e: int) -> tuple[int, int]:
    """(longest common suffix of the question before its wh-word and the sentence before the
    span, longest common prefix of what follows each), in characters, uncapped; punctuation
    dropped and copulas trimmed at the joins (see `adjacency`)."""
    right = clean(qa.normalized[qa.wh_end :]).lstrip(LINK_CHARS)
    span = clean(folded[s:e])
    # the measure word asked for may end the span (多少[家]企业 ~ [61家]企业) or stand in for
    # the one printed (多少[个]工作专班 ~ [10大]工作专班): skip it
    after = clean(folded[e:]).lstrip(LINK_CHARS)
    skip = max((n for n in range(1, 4) if span.endswith(right[:n])), default=0)
    if (not skip and right[:1] and right[0] in CLASSIFIERS and not after.startswith(right[0])
            and span[-1:] and (span[-1] in CLASSIFIERS + "多余大" or span[-1].isdigit())):
        skip = 1
    right = right[skip:]
    post = common_suffix(right[::-1], after[::-1])
    return left_frame(qa, folded[:s]), max((b for b in _word_ends(right) if b <= post), default=0)


_GENERIC_CHANGE = re.compile(r"(?:变化|变动|增减|涨跌|升降|浮动)$")
_SPECIFIC_CHANGE = re.compile(r"(?:上升|下降|回落|回升|增长|减少|提高|降低|上涨|下跌|下滑|增加|扩大|缩小|收窄|加快|放缓)$")


def left_frame(qa: QuestionAnalysis, before: str) -> int:
    """Characters that the question before its wh-word and `before` share at their ends, cut
    back to a whole word of the question (业PMI in 制造业PMI and 中型企业PMI counts as PMI)."""
    left = clean(qa.normalized[: qa.wh_start]).rstrip(LINK_CHARS)
    before = clean(before).rstrip(LINK_CHARS)
    bonus = 0
    generic, specific = _GENERIC_CHANGE.search(left), _SPECIFIC_CHANGE.search(before)
    if generic and specific:  # 比上月变化了多少 ~ 比上月回落[0.2个百分点]: any change verb matches
        left, before, bonus = left[: generic.start()], before[: specific.start()], 2
    n = common_suffix(left, before)
    return max((b for b in _word_ends(left[::-1], reverse=True) if b <= n), default=0) + (bonus if n else 0)


@lru_cache(maxsize=4096)
def _word_ends(text: str, reverse: bool = False) -> tuple[int, ...]:
    """Lengths of the prefixes of `text` that end at a word boundary (of the text read forwards
    when `reverse`, for a reversed string)."""
    words = cut(text[::-1] if reverse else text)
    ends, n = [], 0
    for w in (reversed(words) if reverse else words):
        n += len(w)
        ends.append(n)
    return tuple(ends)


def figure_spans(folded: str, offset: int = 0) -> list[tuple[int, int]]:
    """Non-overlapping figures (percentages, sums, dates, counts) of `folded`, left to right,
    each the longest match at its place, shifted by `offset`."""
    found = sorted(((m.start(), -m.end()) for kind, rx in ENTITY_PATTERNS if kind != "time" for m in rx.finditer(folded)
                    if any(c.isdigit() for c in m.group())))
    out: list[tuple[int, int]] = []
    for s, neg_e in found:
        if not out or s >= out[-1][1]:
            out.append((s, -neg_e))
    return [(s + offset, e + offset) for s, e in out]


_QUOTED = re.compile(r"“([^”]{2,})”|「([^」]{2,})」|‘([^’]{2,})’|《([^》]{2,})》|\"([^\"]{2,})\"")
_QUOTE_MARKS = "“”「」‘’《》\"'"


def quoted_adjacency(qa: QuestionAnalysis, folded: str, s: int, e: int) -> int:
    """Length of a term the question quotes that the sentence prints right next to the span
    (quote marks skipped): 安徽“皖事通办” for “皖事通办”是哪个省的创新经验; else 0."""
    terms = [t for m in _QUOTED.finditer(qa.normalized) for t in m.groups() if t]
    after, before = folded[e:].lstrip(_QUOTE_MARKS), folded[:s].rstrip(_QUOTE_MARKS)
    return max((len(t) for t in terms if after.startswith(t) or before.endswith(t)), default=0)


def named_adjacency(qa: QuestionAnalysis, folded: str, s: int) -> int:
    """Length of a proper name of the question (place, person, organisation) printed right
    before a quoted span: 贵州“[全省通办]” for 贵州探索出的创新经验是什么; else 0."""
    before = folded[:s].rstrip(_QUOTE_MARKS)
    return max((len(w) for w, tag, _, _ in tokens(qa.normalized)
                if len(w) >= 2 and tag.startswith(("nr", "ns", "nt", "nz")) and before.endswith(w)), default=0)


def prefer_exact_frame(qa: QuestionAnalysis, X: np.ndarray, cands: list, sents: list,
                       scores: np.ndarray, best: int) -> int:
    """A candidate of the asked kind framed by the question's own words that frames at least one
    character more than the chosen one, at least FRAME_MIN, scoring within FRAME_MARGIN of it,
    placed elsewhere. For figures and dates the frame is the question up to its wh-word ending
    where the sentence before the span ends (and so on after it): 小型企业PMI为[47.9%] for
    6月份小型企业PMI是多少 over 中型企业PMI为[48.6%]; for names of people, places and
    organisations it is a term the question quotes printed beside the span (`quoted_adjacency`);
    for other questions a quoted span printed right after a name the question holds
    (`named_adjacency`, at least 2 characters)."""
    compat = X[:, FEATURES.index("compat")]
    figure = qa.answer_type in FIGURE_TYPES + ("date",)
    names = qa.answer_type in ("person", "place", "organization")
    if not figure and not names and qa.answer_type not in ("title", "other"):
        return best
    least = FRAME_MIN if figure else 2  # a quoted term or a name is distinctive at 2 characters

    def length(i: int) -> int:
        c = cands[i]
        folded, s, e = sents[c[1]][3], c[2] - sents[c[1]][1], c[3] - sents[c[1]][1]
        if names:
            return quoted_adjacency(qa, folded, s, e)
        if not figure:
            return named_adjacency(qa, folded, s) if c[4] == "quoted" else 0
        pairs = respectively_pairs(folded, s, e)
        if pairs and (pick := resolve_respectively(qa, pairs)) is not None:
            return left_frame(qa, pairs[pick][0])  # the value's own item frames it
        return sum(frame(qa, folded, s, e))
    b = cands[best]
    near = [i for i in np.flatnonzero(scores > scores[best] - FRAME_MARGIN) if compat[i] >= max(compat[best], 1)
            and not (cands[i][:2] == b[:2] and cands[i][2] < b[3] and b[2] < cands[i][3])]  # elsewhere
    have = length(best)
    framed = [(length(i), scores[i], i) for i in near]
    top = max(framed, default=(0, 0.0, best))
    return int(top[2]) if top[0] >= max(least, have + 1) else best


_LIST_SEP = re.compile(r"以及|和|、|与|及|或")
_CLAUSE_END = "，,。；;：:！？!?"


def respectively_pairs(folded: str, s: int, e: int) -> list[tuple[str, tuple[int, int]]]:
    """(item, value span) pairs of the "A和B分别为X和Y" list whose values the span overlaps, in
    the folded sentence; [] when there is none or items and values do not pair up."""
    for m in re.finditer("分别", folded):
        start = max(folded.rfind(c, 0, m.start()) for c in _CLAUSE_END) + 1
        stop = min([i for c in _CLAUSE_END if (i := folded.find(c, m.end())) >= 0] + [len(folded)])
        values = figure_spans(folded[m.end():stop], m.end())
        if len(values) < 2 or e <= values[0][0] or s >= values[-1][1]:
            continue
        items = [x.strip() for x in _LIST_SEP.split(folded[start:m.start()]) if x.strip()]
        if len(items) == len(values):
            return list(zip(items, values))
    return []


def resolve_respectively(qa: QuestionAnalysis, pairs: list[tuple[str, tuple[int, int]]]) -> int | None:
    """Which pair of a 分别 list the question asks about: the item whose own characters (those
    no other item has) the question contains in the largest share; None on a tie."""
    items = [item for item, _ in pairs]
    own = [set(c for c in item if c.isalnum()) - set("".join(items[:i] + items[i + 1:]))
           for i, item in enumerate(items)]
    share = [len(o & set(qa.normalized)) / len(o) if o else 0.0 for o in own]
    top = max(share, default=0.0)
    return share.index(top) if top > 0 and share.count(top) == 1 else None


_LEAD_TAGS = ("d", "p", "c", "u")  # adverbs, prepositions, conjunctions, particles
_TRAIL_WORDS = ("等", "等等", "的", "了")


def trim_function_words(folded: str, s: int, e: int) -> tuple[int, int]:
    """The span without the adverbs, prepositions and particles that open it or the 等/的 that
    closes it (已在[先进材料、…、生物医药]等), when at least two words remain; sentence offsets."""
    inside = [t for t in tokens(folded) if t[2] >= s and t[3] <= e]
    if len(inside) < 3 or inside[0][2] != s or inside[-1][3] != e:
        return s, e
    a, b = 0, len(inside)
    while b - a > 2 and inside[a][1].startswith(_LEAD_TAGS) and inside[a][0] not in "“《「(（":
        a += 1
    while b - a > 2 and inside[b - 1][0] in _TRAIL_WORDS:
        b -= 1
    return inside[a][2], inside[b - 1][3]
