"""Question analysis (expected answer type, wh-word, context words) and follow-up rewriting.

Everything here is general: question words, function words, POS tags and the shape of
a question; nothing names a topic or an entity.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from qa.text import normalize, pos_cut

ANSWER_TYPES = (
    "number", "percent", "money", "quantity", "date", "time", "person", "organization",
    "place", "title", "list", "description", "reason", "yesno", "other",
)

# Function words and question fillers: never keywords, never context words.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 又 把 被 对 于 从 向 为 以 由 将 请问 呢 吗 吧 啊 呀 么 "
    "之 其 这 那 这个 那个 这些 那些 该 有 所 着 过 得 地 等 个 我 你 他 她 它 我们 你们 他们 "
    "请 一下 知道 告诉 到底 究竟 还 那么 the a an of in on at to is are was were be been "
    "do does did for by with from as and or it its this that what which who whom whose when "
    "where why how much many".split()
)

# Chinese question words, most specific first: (regex, answer type or None = decide by head noun).
_ZH_WH: tuple[tuple[str, str | None], ...] = (
    (r"百分之几|百分之多少|多少个百分点|几个百分点|多少%|百分比|占比多少|比例是多少|比重是多少", "percent"),
    (r"多少钱|多少(?:亿|万|千)?(?:元|美元|欧元|日元|英镑)|几(?:亿|万|千)?元", "money"),
    (r"几点钟?|什么时刻|几时几分", "time"),
    (r"多长时间|多久|多长", "quantity"),
    (r"什么时候|什么时间|何时|哪一?年|哪一?个?月|哪一?天|哪一?日|几月几[日号]|几月份?|几号|何年|哪个年代|日期是|哪一?年代|什么日子", "date"),
    # 认为/成为/称为 + 什么 is no 为什么: the 为 belongs to the verb
    (r"(?<![认成作称视定改名列选评划更转])为什么|为何|什么原因|原因是什么|原因|因为什么|何故|怎么会", "reason"),
    (r"是否|是不是|有没有|能不能|能否|会不会|可不可以|吗[？?]?$", "yesno"),
    (r"谁|哪一?位|什么人|哪个人|哪些人", "person"),
    (r"哪里|哪儿|何处|何地|什么地方|哪个地方|在哪(?!里|儿)", "place"),
    (r"哪[一两三四五六七八九十几]?[部本首篇]|什么(?:书|电影|作品|歌曲?|小说|节目|游戏|专辑|剧)", "title"),
    (r"(?:哪|什么)[一两三四五六七八九十几]?(?:个|家|所|支|座)?", None),
    (r"(?:多少|几)", None),
    (r"怎么样|怎样|如何|怎么|什么样的?|做什么|干什么|什么作用|什么意义|什么特点", "description"),
    (r"哪些|哪几", "list"),
)
_ZH_WH_RE = tuple((re.compile(p), t) for p, t in _ZH_WH)

_EN_WH: tuple[tuple[str, str], ...] = (
    (r"\bwhat (?:percentage|share|proportion|rate)\b|\bhow many percent\b", "percent"),
    (r"\bhow much (?:money|did .* cost)|\bwhat (?:price|amount)\b", "money"),
    (r"\bhow (?:many|much)\b", "number"),
    (r"\bwhen\b|\bwhat (?:year|month|day|date)\b", "date"),
    (r"\bwhat time\b", "time"),
    (r"\bwho(?:m|se)?\b|\bwhich (?:[\w-]+ )?(?:reporter|journalist|photographer|person|official|expert|leader|"
     r"minister|director|manager|author|writer|editor|player|scientist|researcher|economist|analyst)\b", "person"),
    (r"\bwhere\b", "place"),
    (r"\bwhy\b", "reason"),
    (r"\bhow\b", "description"),
    (r"\bwhich (?:company|organization|agency|bank|university)\b", "organization"),
    (r"\bwhich (?:province|city|country|region|county|town|district|place)\b", "place"),
    (r"\bwhat (?:is|was|were|are) the [\w\s'-]*(?:index|rate|figure|number|value|total|level)\b", "number"),
    (r"^(?:is|are|was|were|do|does|did|can|will|has|have)\b", "yesno"),
    (r"\bwhat\b|\bwhich\b", "other"),
)
_EN_WH_RE = tuple((re.compile(p), t) for p, t in _EN_WH)

# Head nouns that name a class of things (general lexical categories).
_ORG_HEAD = re.compile(r"(?:公司|集团|出版社|通讯社|机构|部门|单位|组织|企业|大学|学院|学校|银行|医院|协会|委员会|政府|球队|队伍|团队|政党|党派|媒体|报社|电视台|厂商?|品牌|研究所|法院)$")
_PLACE_HEAD = re.compile(r"(?:地方|地区|城市|国家|省份?|市|县|区域?|地点|位置|国|州|岛|山|河流?|湖|村|镇|港口?|机场|车站|场馆|大陆|大洲|海域|流域)$")
_PERSON_HEAD = re.compile(r"(?:人物?|者|员|家|师|长|手|生|士|官|帝|王|后|妃|演员|歌手|作者|导演|主席|总统|教授|学者)$")
_TITLE_HEAD = re.compile(r"(?:书|电影|作品|歌曲?|小说|节目|游戏|专辑|剧|片|杂志|报纸|名称|名字|称号)$")
_MONEY_HEAD = re.compile(r"(?:钱|元|资金|费用?|金额|价格?|价钱|收入|成本|投资|利润|营收|税|工资|薪|款|贷款|补贴|奖金)$")
_PERCENT_HEAD = re.compile(r"(?:率|比例|比重|占比|百分比|增幅|降幅|涨幅|跌幅|增速)$")
_DATE_HEAD = re.compile(r"(?:年|月|日|天|号|年份|月份|时候|时间|时期|年代|世纪|季度|年度|年间|日子|时节)")

# Measure words (classifiers) that follow 多少/几 when a count of things is asked.
CLASSIFIERS = "个家项所名位座条只件台辆种次部批户套间张本株头匹栋幢艘架吨亩场届期支枚颗层"
_CLASSIFIER = re.compile(f"[{CLASSIFIERS}]")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DATE_RE = re.compile(r"([0-9]{2,4}|[零〇一二三四五六七八九]{2,4})年|([0-9]{1,2}|[一二三四五六七八九十]{1,3})月|([0-9]{1,2}|[一二三四五六七八九十]{1,3})[日号]")
# A date the question compares against (较4月, 比2019年) is not the period it asks about.
_COMPARED_WITH = re.compile(r"(?:较|比起?|相比|同比|环比)(?:(?:[0-9]{2,4}|[零〇一二三四五六七八九]{2,4})年)?"
                            r"(?:(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})月份?)?")
_EN_MONTHS = ("january february march april may june july august september october november december").split()


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks for and which of its words should surround the answer."""

    text: str
    normalized: str
    answer_type: str
    wh_word: str
    wh_start: int
    wh_end: int
    left_context: tuple[str, ...]
    right_context: tuple[str, ...]
    keywords: tuple[str, ...]
    lang: str
    date_mentions: tuple[tuple[str, int], ...]  # ("year"|"month"|"day", value)
    focus: tuple[str, ...] = ()  # the common nouns right beside the wh-word: what is asked about


def cn_number(s: str) -> int | None:
    """Value of a small number written with ASCII digits or Chinese numerals (十二 -> 12)."""
    if s.isdigit():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        t = _CN_DIGITS.get(tens, 1) if tens else 1
        o = _CN_DIGITS.get(ones, 0) if ones else 0
        return t * 10 + o
    if all(c in _CN_DIGITS for c in s):
        return int("".join(str(_CN_DIGITS[c]) for c in s))
    return None


def date_mentions(text: str) -> tuple[tuple[str, int], ...]:
    """("year", 2020) / ("month", 5) / ("day", 31) for every date part written in `text`."""
    out: list[tuple[str, int]] = []
    for m in _DATE_RE.finditer(normalize(text)):
        for kind, g in zip(("year", "month", "day"), m.groups()):
            if g:
                v = cn_number(g)
                if v is not None and (kind != "month" or 1 <= v <= 12) and (kind != "day" or 1 <= v <= 31):
                    out.append((kind, v))
    low = normalize(text)
    for i, name in enumerate(_EN_MONTHS):
        if re.search(rf"\b{name}\b", low):
            out.append(("month", i + 1))
    return tuple(dict.fromkeys(out))


def _is_content(word: str) -> bool:
    return bool(word.strip()) and word not in STOPWORDS and any(c.isalnum() for c in word)


def _lang(text: str) -> str:
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    letters = sum(1 for c in text if c.isascii() and c.isalpha())
    return "en" if letters > 2 * cjk else "zh"


def _head_type(after: str) -> str | None:
    """Answer type from the noun right after a wh-word (哪个公司 -> organization)."""
    words = []
    for w, f in pos_cut(after[:8]) if after else []:
        if not (f.startswith(("n", "q", "m")) or f in ("eng", "j", "l", "b", "vn")):
            break
        words.append(w)
    head = "".join(words) or after[:6]
    for w in words[:2]:
        if _DATE_HEAD.fullmatch(w):  # 月份 is a date; 日本 is not
            return "date"
    for probe in [head] + ([words[0]] if words else []):  # 德国企业 is a firm, not a country
        probe = probe.rstrip("？?。，, ")
        for rx, typ in ((_MONEY_HEAD, "money"), (_PERCENT_HEAD, "percent"), (_ORG_HEAD, "organization"),
                        (_PLACE_HEAD, "place"), (_TITLE_HEAD, "title"), (_PERSON_HEAD, "person")):
            if rx.search(probe):
                return typ
    if not words:  # jieba read the head's modifier as a verb (哪个[出版]集团): any 2-6 character lead
        for n in range(min(len(after), 6), 1, -1):
            for rx, typ in ((_ORG_HEAD, "organization"), (_PLACE_HEAD, "place")):
                if rx.search(after[:n]) and re.fullmatch(r"[\u4e00-\u9fff]+", after[:n]):
                    return typ
    return None


def _zh_type(norm: str) -> tuple[str, int, int]:
    for rx, typ in _ZH_WH_RE:
        m = rx.search(norm)
        if not m or m.end() == m.start():
            continue
        if typ is not None:
            return typ, m.start(), m.end()
        after = norm[m.end():]
        head = _head_type(after)
        wh = m.group()
        if wh.startswith(("多少", "几")):
            if head in ("money", "percent", "date"):
                return head, m.start(), m.end()
            nxt = pos_cut(after[:4])
            if nxt and (nxt[0][1] == "q" or _CLASSIFIER.match(after) or (len(nxt[0][0]) == 1 and nxt[0][1] in ("n", "m"))):
                return "quantity", m.start(), m.end()
            before = norm[: m.start()]
            if _PERCENT_HEAD.search(before.rstrip("是为有达约大概")):
                return "percent", m.start(), m.end()
            if _MONEY_HEAD.search(before.rstrip("是为有达约大概")):
                return "money", m.start(), m.end()
            return "number", m.start(), m.end()
        if head == "title" and re.match(r"名字|姓名", after) and _PERSON_HEAD.search(
                re.sub(r"(?:叫|是|的)+$", "", norm[: m.start()])):
            return "person", m.start(), m.end()  # 负责人叫什么名字: a person's name
        if head:
            return head, m.start(), m.end()
        if re.match(r"[两三四五六七八九十几]", wh[1:2] if wh.startswith("哪") else ""):
            return "list", m.start(), m.end()
        if wh.startswith("什么") and re.match(r"是什么|为什么", norm[m.start() - 1: m.end()]) is None and re.search(r"是$", norm[: m.start()]):
            return "description" if len(norm[m.end():].strip("？?。 ")) == 0 else "other", m.start(), m.end()
        return "other", m.start(), m.end()
    if "《" in norm:
        i = norm.index("《")
        return "title", i, i + 1
    return "other", len(norm), len(norm)


def _en_type(norm: str) -> tuple[str, int, int]:
    for rx, typ in _EN_WH_RE:
        m = rx.search(norm)
        if m:
            return typ, m.start(), m.end()
    return "other", 0, 0


@lru_cache(maxsize=4096)
def analyze_question(question: str) -> QuestionAnalysis:
    """Expected answer type, wh-word span, context words on each side, keywords, dates."""
    norm = normalize(question)
    lang = _lang(norm)
    typ, ws, we = (_en_type if lang == "en" else _zh_type)(norm)
    if lang == "en":
        toks = re.findall(r"[a-z0-9][a-z0-9.%-]*|[\u4e00-\u9fff]+", norm)
        left_words = re.findall(r"[a-z0-9][a-z0-9.%-]*|[\u4e00-\u9fff]+", norm[:ws])
        right_words = re.findall(r"[a-z0-9][a-z0-9.%-]*|[\u4e00-\u9fff]+", norm[we:])
    else:
        toks = [w for w, _ in pos_cut(norm)]
        left_words = [w for w, _ in pos_cut(norm[:ws])] if ws > 0 else []
        right_words = [w for w, _ in pos_cut(norm[we:])] if we < len(norm) else []
    keywords = tuple(dict.fromkeys(w for w in toks if _is_content(w) and not _is_wh(w)))
    return QuestionAnalysis(
        text=question, normalized=norm, answer_type=typ, wh_word=norm[ws:we], wh_start=ws, wh_end=we,
        left_context=tuple(w for w in left_words if _is_content(w) and not _is_wh(w)),
        right_context=tuple(w for w in right_words if _is_content(w) and not _is_wh(w)),
        keywords=keywords, lang=lang, date_mentions=date_mentions(_COMPARED_WITH.sub("", norm)),
        focus=focus_nouns(norm, ws, we) if lang == "zh" else (),
    )


def focus_nouns(norm: str, ws: int, we: int) -> tuple[str, ...]:
    """The common noun (2+ characters, no digits) nearest the wh-word on each side, within its
    clause: 注册用户 in 平台有多少注册用户, 总经理 in 潍柴集团总经理是谁. Names are left out:
    they say which thing, the focus says which fact of it."""
    left = re.split(r"[，,；;：:、]", norm[:ws])[-1]
    right = re.split(r"[，,；;：:、？?。！!]", norm[we:])[0]

    def nouns(text: str) -> list[str]:
        return [w for w, f in pos_cut(text) if len(w) >= 2 and f[:1] in ("n", "j")
                and f[:2] not in ("nr", "ns", "nt", "nz") and not re.search(r"[0-9]", w)]

    return tuple(dict.fromkeys(nouns(left)[-1:] + nouns(right)[:1]))


def _is_wh(word: str) -> bool:
    return bool(re.fullmatch(r"多少|几|什么|哪|哪里|哪些|哪个|谁|何时|如何|怎么|怎样|为什么|为何|是否|哪儿|哪一|多久|多长|多大|多高|多远|几个|哪位", word))


# ---------------------------------------------------------------- follow-up rewriting

_LEAD_RE = re.compile(r"^(?:那么|那|还有|另外|以及|而|再问一下|再问)[，,、]?")
_TAIL_RE = re.compile(r"(?:的情况|情况|又如何|怎么样|如何|呢)*[？?。！!\s]*$")
_PRONOUN_RE = re.compile(r"^(?:它们|他们|她们|它|他|她|其|该(?=[\u4e00-\u9fff]{1,3}[市省县区国公司])|这里|那里|当地)")
_ENTITY_TAGS = ("nr", "ns", "nt", "nz")


def _last_question(history: Sequence[str]) -> str:
    for h in reversed(history):
        if h and (re.search(r"[？?]\s*$", h) or _zh_type(normalize(h))[0] != "other" or "什么" in h):
            return h
    return history[-1] if history else ""


def _subject(prev_tags: list[tuple[str, str]]) -> str:
    """The words of a question before its first verb/wh-word (its subject or topic)."""
    out: list[str] = []
    for k, (w, f) in enumerate(prev_tags):
        nxt = prev_tags[k + 1][1] if k + 1 < len(prev_tags) else ""
        if w in ("至", "到", "-", "~") and out and nxt.startswith(("m", "t")):
            out.append(w)  # a period (1月至4月) opens the topic; its 至 is no preposition
            continue
        if f.startswith(("v", "p", "d", "r", "c", "u")) or _is_wh(w) or f == "x" and not w.isalnum():
            break
        out.append(w)
    return "".join(out)


def _copula_subject(prev: str) -> str:
    """X of a question "X是/为 wh-word？" (the whole noun phrase, verbs inside it included:
    采购经理指数), else ''."""
    norm = normalize(prev)
    typ, ws, we = _zh_type(norm)
    if typ == "other" and ws == len(norm) or norm[we:].strip("？?。 ") or ws < 2:
        return ""
    return prev[: ws - 1] if norm[ws - 1] in "是为" else ""


def _same_kind_span(prev: str, prev_tags: list[tuple[str, str]], phrase: str) -> tuple[int, int] | None:
    """Where in `prev` the phrase of the same kind as `phrase` is (same head word, else same POS)."""
    tags = pos_cut(phrase)
    if not tags:
        return None
    offs, pos = [], 0
    for w, _ in prev_tags:
        i = prev.find(w, pos)
        offs.append((i, i + len(w)))
        pos = i + len(w)
    head_w, head_f = tags[-1]
    # 1. A date part replaces the same date part (6月 for 5月份).
    pd, qd = date_mentions(prev), date_mentions(phrase)
    if qd:
        kind = qd[0][0]
        suffix = {"year": "年", "month": "月", "day": "[日号]"}[kind]
        m = re.search(rf"(?:[0-9]{{1,4}}|[零〇一二三四五六七八九十两]{{1,4}}){suffix}份?", prev)
        if m and any(k == kind for k, _ in pd):
            return m.span()
    # 2. Same head word: "小型企业" replaces "大型企业" in "...大型企业PMI..."
    for k, (w, f) in enumerate(prev_tags):
        if w == phrase or _is_wh(w) or w in STOPWORDS:
            continue
        if w == head_w or (len(w) >= 2 and phrase.endswith(w)):
            n_mod = max(len(tags) - 1, 1 if len(phrase) > len(w) else 0)
        elif len(head_w) >= 2 and len(w) > len(head_w) and w.endswith(head_w):
            return offs[k]  # one jieba word holding modifier + head ("大型超市")
        elif len(head_w) > 2 and len(w) > 2 and w[-2:] == head_w[-2:]:
            return offs[k]  # one jieba word holding modifier + head on both sides
        else:
            continue
        j = k
        while n_mod and j > 0 and k - j < n_mod and prev_tags[j - 1][1].startswith(("a", "b", "n", "m", "q", "vn", "j")):
            j -= 1
        return (offs[j][0], offs[k][1])
    # 3. Same POS class, preferring shared characters (进口 for 出口), else the subject noun.
    cls = head_f[:2] if head_f.startswith(("nr", "ns", "nt", "nz")) else head_f[:1]
    best, best_score = None, -1.0
    for k, (w, f) in enumerate(prev_tags):
        if _is_wh(w) or not f.startswith(cls) or w in STOPWORDS:
            continue
        # ties go to the noun after the wh-word (多少家[重点实验室]): what was counted
        after_wh = any(_is_wh(x) for x, _ in prev_tags[:k])
        score = len(set(w) & set(phrase)) + (0.5 if f == head_f else 0.0) + (0.25 if after_wh else 0.0)
        if score > best_score:
            best, best_score = k, score
    if best is None:
        return None
    a = b = best
    if len(tags) >= 2 and cls == "n":  # a compound replaces the whole compound (专业研究所)
        while a > 0 and prev_tags[a - 1][1] in ("n", "b") and not _is_wh(prev_tags[a - 1][0]):
            a -= 1
        while b + 1 < len(prev_tags) and prev_tags[b + 1][1] in ("n", "b") and not _is_wh(prev_tags[b + 1][0]):
            b += 1
    return offs[a][0], offs[b][1]


def rewrite_question(question: str, history: Sequence[str]) -> str:
    """Resolve a follow-up ("那小型企业呢？", "减免了多少社保费用？") against the last question.

    A contrast follow-up (leading 那/那么/还有 or trailing 呢, no wh-word) replaces the phrase
    of the same kind in the last question; a question with a wh-word but no subject gets the
    last question's subject; a leading pronoun is replaced by it. Others are returned unchanged.
    """
    q = question.strip()
    if not history or not q:
        return question
    prev = _last_question(history).strip()
    if not prev:
        return question
    norm = normalize(q)
    has_wh = _zh_type(norm)[0] != "other" or bool(re.search(r"什么|哪", norm))
    lead = _LEAD_RE.match(q)
    tail_ne = re.search(r"呢[？?。\s]*$", q)
    prev_tags = pos_cut(prev)
    if (lead or tail_ne) and not has_wh:
        core = _TAIL_RE.sub("", q[lead.end() if lead else 0:]).strip(" ，,")
        if not core:
            return question
        span = _same_kind_span(prev, prev_tags, core)
        if span is None:
            return question
        return prev[: span[0]] + core + prev[span[1]:]
    subject = _copula_subject(prev) or _subject(prev_tags)
    if not subject or not has_wh or not any(f.startswith(_ENTITY_TAGS) and w in subject for w, f in prev_tags):
        return question
    body = q[lead.end():] if lead else q
    pm = _PRONOUN_RE.match(body)
    if pm:
        return subject + body[pm.end():]
    tags = pos_cut(body)
    if not tags or any(f.startswith(_ENTITY_TAGS) for _, f in tags):
        return question
    # No named entity of its own: the question is about the last question's subject.
    return subject + body
