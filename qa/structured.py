"""Answers read from the structure of news text rather than ranked: who wrote a report or took
a photo (the credit line), what post a person holds (the job title printed beside the name),
and the N-th item of a list (一是…二是…).

Each reader returns (hit index, sentence span, answer span, features) in the hit's chunk offsets,
or None to leave the question to the ranked reader (qa/answer.py).
"""
from __future__ import annotations

import re
from typing import Sequence

from qa.candidates import fold, tokens
from qa.text import TITLE_END
from qa.question import QuestionAnalysis, cn_number
from qa.text import normalize, split_sentences
from qa.types import Hit

CREDIT_CONFIDENCE = 0.9  # a printed credit line answering "who wrote / took the photo"
POSITION_CONFIDENCE = 0.8  # a job title printed right beside the person asked about

# Who wrote the report or took the photo: the article's credit line answers, not its body.
_CREDIT_RE = re.compile(
    r"(?:记者|作者|摄影师?|通讯员)(?:是|叫)?(?:谁|哪)|(?:谁|哪[一两几]?位).{0,6}(?:记者|作者|摄影|通讯员|写|拍|摄|采写|撰写|报道)"
    r"|\bwho (?:wrote|reported|took|photographed|shot|authored)\b"
    r"|\bwhich (?:[\w-]+ )?(?:reporters?|journalists?|photographers?|authors?)\b"
    r"|\b(?:reporters?|journalists?|photographers?|authors?) (?:of|behind)\b")
# The names in a credit line: after 记者/通讯员/摄影, up to 摄/报道/a closing bracket.
_CREDIT_NAMES = re.compile(r"(?:记者|通讯员|摄影|作者)[：:\s]*([^()（）：:]+?)\s*(?:摄|报道|[)）]|$)")


def asks_for_credit(qa: QuestionAnalysis) -> bool:
    """True when the question asks who reported, wrote or photographed something."""
    return qa.answer_type in ("person", "list", "other") and bool(_CREDIT_RE.search(normalize(qa.text)))


def credit_names(line: str) -> tuple[int, int] | None:
    """Offsets of the names in a credit line (新华社记者徐昱摄 -> 徐昱), None when it names nobody."""
    m = _CREDIT_NAMES.search(line)
    return m.span(1) if m else None



def read_credit(qa: QuestionAnalysis, hits: Sequence[Hit]):
    """For a question about who reported or photographed: the names of the credit line passage
    (a chunk at position -1, see Assistant) when it names someone, else None."""
    if not hits or hits[0].chunk.position != -1 or not asks_for_credit(qa):
        return None
    span = credit_names(hits[0].chunk.text)
    if span is None:
        return None
    return 0, (0, len(hits[0].chunk.text)), span, {"structure": CREDIT_CONFIDENCE}


# What post someone holds: 担任什么职务, 现任什么职位, "what is X's position".
_POSITION_RE = re.compile(r"(?:什么|哪个|何种?)(?:职务|职位|职称|头衔|官职)|担任什么|任什么职|现任什么|任何职"
                          r"|\bwhat (?:is|was|are|were) [\w\s'’]*?(?:position|title|job|post|role)\b"
                          r"|\bwhat position\b")
_TITLE_TAGS = ("n", "j", "b", "m", "q", "vn", "l", "eng", "a", "f", "s")  # words a title is made of (n: nr, ns, nt too)
_APPOINTED = re.compile(r"(?:担任|出任|兼任|任命为|任|是|为)$")


def asks_for_position(qa: QuestionAnalysis) -> bool:
    """True when the question asks what post (job title) someone holds."""
    return bool(_POSITION_RE.search(normalize(qa.text)))


def _title_before(folded: str, end: int) -> tuple[int, int] | None:
    """The job title that ends at `end` (the run of noun-like words before it, back to
    punctuation or a verb), when it ends like a title."""
    toks = [t for t in tokens(folded) if t[3] <= end]
    if not toks or toks[-1][3] != end:
        return None
    start = end
    for k in range(len(toks) - 1, -1, -1):
        tag = toks[k][1]
        nouny = tag.startswith(_TITLE_TAGS) or len(toks[k][0]) == 1 and tag == "zg"  # 园
        # a verb inside a compound name (中科院|创新|园) stays: nouns on both sides
        inside = (tag.startswith("v") and k > 0 and k + 1 < len(toks) and toks[k + 1][2] == start
                  and toks[k + 1][1].startswith(("n", "zg")) and toks[k - 1][1].startswith(("n", "j")))
        if not (nouny or inside):
            break
        start = toks[k][2]
    return (start, end) if start < end and TITLE_END.search(folded[start:end]) else None


def _title_after(folded: str, start: int) -> tuple[int, int] | None:
    """The job title that starts at `start`: noun-like words up to punctuation or a verb."""
    toks = [t for t in tokens(folded) if t[2] >= start]
    end = start
    for w, tag, s, e in toks:
        if s != end or not (tag.startswith(_TITLE_TAGS) or tag.startswith(("nr", "ns", "nt", "nz"))):
            break
        end = e
        if TITLE_END.search(folded[start:end]):
            return start, end
    return None


def read_position(qa: QuestionAnalysis, hits: Sequence[Hit]):
    """For "X担任什么职务": the job title printed beside X -- right before the name (国家电子政务
    专家委员会主任王钦敏), after X担任/任命为, or after the organisation the question names
    (长三角先进材料研究院的[副院长]) -- in the first sentence of the hits that has one."""
    if not asks_for_position(qa):
        return None
    subjects = [w for w, tag, _, _ in tokens(qa.normalized) if len(w) >= 2 and tag.startswith("nr")]
    bodies, run = [], ""  # runs of noun-like words naming an organisation (长三角先进材料研究院)
    for w, tag, _, _ in tokens(qa.normalized) + (("", "x", 0, 0),):
        if tag.startswith(_TITLE_TAGS) and not tag.startswith("nr") and not _POSITION_RE.search(w + "什么"):
            run += w
            continue
        if len(run) >= 4:
            bodies.append(run)
        run = ""
    found = _find_position(hits, bodies, subjects, by_body=True) if bodies else None
    return found or _find_position(hits, bodies, subjects, by_body=False)


def _find_position(hits: Sequence[Hit], bodies: list[str], subjects: list[str], by_body: bool):
    """The first title of the hits printed after one of `bodies` (by_body) or beside one of
    `subjects` (the person's names)."""
    for hi, h in enumerate(hits):
        for ss, se in split_sentences(h.chunk.text):
            folded = fold(h.chunk.text[ss:se])
            for name in ([] if by_body else subjects):
                for m in re.finditer(re.escape(name), folded):
                    span = _title_before(folded, m.start())
                    if span is None and _APPOINTED.search(folded[m.end():m.end() + 4]):
                        rest = folded[m.end():m.end() + 4]
                        span = _title_after(folded, m.end() + len(rest) - len(rest.lstrip("担任出兼命为是")))
                    if span:
                        return hi, (ss, se), (ss + span[0], ss + span[1]), {"structure": POSITION_CONFIDENCE}
            for body in (bodies if by_body else []):
                for m in re.finditer(re.escape(body) + "的?", folded):
                    span = _title_after(folded, m.end())
                    if span:
                        return hi, (ss, se), (ss + span[0], ss + span[1]), {"structure": POSITION_CONFIDENCE}
    return None


ORDINAL_CONFIDENCE = 0.8  # the N-th item of a list introduced with the noun asked about
_ORDINAL_Q = re.compile(r"第([一二三四五六七八九十]|[1-9])(?:个|项|条|点|大|方面的?)?([\u4e00-\u9fff]{2,8}?)(?:是什么|是哪|有哪|指什么|[？?]|$)")
_ITEM_END = "。；;\n"
_ITEM_AT = r"(?:^|(?<=[。；;：:\n]))\s*"  # a list item's marker opens a clause


def _stitched(hits: Sequence[Hit]) -> list[tuple[str, list[tuple[int, int]]]]:
    """Per article, the text of its retrieved chunks joined where they touch or overlap, with
    (hit index, offset of the chunk in that text) for each chunk."""
    out = []
    by_article: dict[str, list[int]] = {}
    for hi, h in enumerate(hits):
        by_article.setdefault(h.chunk.article_id, []).append(hi)
    for his in by_article.values():
        his.sort(key=lambda i: hits[i].chunk.start)
        text, base, parts = "", None, []
        for i in his:
            c = hits[i].chunk
            if base is not None and c.start > base + len(text):  # a gap: start a new piece
                out.append((text, parts))
                text, base, parts = "", None, []
            if base is None:
                base = c.start
            text = text[: c.start - base] + c.text if c.start - base + len(c.text) > len(text) else text
            parts.append((i, c.start - base))
        out.append((text, parts))
    return out


def _intro(folded: str, first: int) -> str:
    """The sentence that opens a list starting at `first` (…如下创新特点： before 一是)."""
    head = folded[:first].rstrip(" \n：:。；;")
    return head[max(head.rfind(c) for c in "。！？!?\n") + 1:]


def read_ordinal(qa: QuestionAnalysis, hits: Sequence[Hit]):
    """"第四个创新特点是什么": the fourth item of a list the article introduces with the noun
    asked about (…如下创新特点：一是…。二是…), from after its marker (四是) to the end of its
    clause. The sentence right before the list's opening (一是) must hold the noun."""
    m = _ORDINAL_Q.search(qa.normalized) if qa.lang == "zh" else None
    n = (int(m.group(1)) if m.group(1).isdigit() else cn_number(m.group(1))) if m else None
    if not n or not 1 <= n <= 10:
        return None
    noun = m.group(2)
    marker = "一二三四五六七八九十"[n - 1] + "是"
    for text, parts in _stitched(hits):
        folded = fold(text)
        for mk in re.finditer(_ITEM_AT + marker, folded):
            first = max((x.start() for x in re.finditer(_ITEM_AT + "一是", folded[: mk.end()])), default=-1)
            if first < 0 or noun[-2:] not in _intro(folded, first):
                continue
            a, start = mk.end(), mk.end() - len(marker)
            b = min((i for i in (folded.find(c, a) for c in _ITEM_END) if i > a), default=len(folded))
            for hi, off in parts:  # the chunk holding the whole item
                if off <= start and b <= off + len(hits[hi].chunk.text):
                    end = min(b + 1, off + len(hits[hi].chunk.text))
                    return hi, (start - off, end - off), (a - off, b - off), {"structure": ORDINAL_CONFIDENCE}
    return None


def read_structure(qa: QuestionAnalysis, hits: Sequence[Hit]):
    """The first structural reading that applies (credit line, job title, N-th list item), else None."""
    return read_credit(qa, hits) or read_position(qa, hits) or read_ordinal(qa, hits)
