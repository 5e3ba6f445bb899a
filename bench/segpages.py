"""Synthetic newspaper pages with known article boundaries, for the segmentation benchmark.

Bodies and headlines come from SQuAD-format files (one `data[]` entry = one article); everything
printed around them (datelines, bylines, kickers, captions' credits, jump lines) is generated
from generic characters, never copied from the seed page. Layout choices are random per page
and per article and recorded in `Page.layout`. Truth sentences are character ranges of the page
text; a range may span a column-break newline, never anything else.
"""
from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
# Never mix: `tune` may be fitted on, `heldout` only measured (figures per file).
SPLITS = {"tune": ("cmrc2018/cmrc2018_train.json",),
          "heldout": ("cmrc2018/cmrc2018_dev.json", "drcd/DRCD_dev.json")}
TRADITIONAL_FILES = ("DRCD_dev.json",)  # their pages get traditional-script furniture too

END = "。！？"
CLOSERS = "”’」』）)】》\"'"
SENTENCE_RE = re.compile(rf"[^{END}]+[{END}]+[{re.escape(CLOSERS)}]*")
BODY_MIN, BODY_MAX = 80, 900

# Generic characters only. Given-name and place characters were chosen so that no combination
# spells a name or place printed on the seed page (tests check generated ones against it).
SURNAMES = "王李张刘陈黄赵吴周孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
GIVEN = "华国明芳娜静丽强磊军洋勇艳杰涛超秀英霞刚桂兰辉玉萍红娟云鹏宇浩然欣怡佳琪晨海波宁亮雪梅晓丹春秋松柏林森泽瑶琳颖蕾斌彬鑫凯"
PLACE_A = "安宁丰临永长清青兴华泰嘉德云白凤金宝瑞崇盛富恒"
PLACE_B = "宁丰安源川溪陵城乡塘桥坪岭沟港"
PAPERS = ("晨报", "时报", "商报", "快报", "都市报", "青年报", "法治报", "信息报")
KICKER_A = ("记者", "一线", "民生", "经济", "城市", "乡村", "社会", "文化", "今日")
KICKER_B = ("观察", "调查", "关注", "视点", "聚焦", "纪事", "连线", "速递", "特写")
NUMERALS = "一二三四五六七八"
DATELINE_FORMS = {"none": 20, "本报讯": 12, "XX讯": 8, "XX日报讯": 8, "XX晚报讯": 6, "XX网讯": 6,
                  "新华社M月D日电": 8, "新华社地名M月D日电": 12, "中新社地名M月D日电": 10, "据XX报道": 8}


@dataclass(frozen=True)
class Source:
    """One `data[]` entry of a SQuAD-format file."""

    ref: str  # "file.json#index"
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class TruthArticle:
    """An article (or photo caption) as printed: its body sentences' ranges in the page text."""

    title: str  # headline lines joined by one space; "" for a caption
    kind: str  # "article" or "caption"
    sentences: tuple[tuple[int, int], ...]  # [start, end) in page order; a cut sentence is 2 ranges
    resumed: bool  # printed in two parts with other articles between


@dataclass(frozen=True)
class Page:
    """A generated page: its text, the truth articles in order of first appearance, the choices."""

    text: str
    articles: tuple[TruthArticle, ...]
    layout: dict = field(compare=False)


def sentences(text: str) -> list[str]:
    """Sentences of `text` (whitespace runs collapsed), each ending at 。！？ plus closing quotes;
    a trailing piece without final punctuation is dropped."""
    text = re.sub(r"\s+", " ", text)
    out = [m.group().strip() for m in SENTENCE_RE.finditer(text)]
    return [s for s in out if len(s.rstrip(END + CLOSERS)) >= 2]


@lru_cache(maxsize=8)
def load_sources(path: str) -> tuple[Source, ...]:
    """The entries of a SQuAD-format file that have a title and some text."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    name = Path(path).name
    return tuple(Source(f"{name}#{i}", " ".join(d.get("title", "").split()),
                        tuple(p["context"] for p in d["paragraphs"]))
                 for i, d in enumerate(data) if d.get("title", "").strip() and d["paragraphs"])


def build_pages(split: str, n_pages: int, seed: int) -> list[Page]:
    """`n_pages` pages per file of `split` ("tune" or "heldout"); page i of a file depends only
    on (seed, file, i)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {sorted(SPLITS)}")
    pages = []
    for rel in SPLITS[split]:
        sources = load_sources(str(BENCHMARKS / rel))
        name = Path(rel).name
        script = "traditional" if name in TRADITIONAL_FILES else "simplified"
        pages += [make_page(sources, random.Random(f"{seed}:{name}:{i}"), script, name)
                  for i in range(n_pages)]
    return pages


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


class _Gen:
    """Generated furniture for one page; remembers every name and place it made up."""

    def __init__(self, rng: random.Random, script: str):
        self.rng, self.script, self.names, self.places = rng, script, [], []

    def tr(self, text: str) -> str:
        return _s2t().convert(text) if self.script == "traditional" and text else text

    def name(self) -> str:
        n = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
        self.names.append(n)
        return n

    def place(self) -> str:
        p = self.rng.choice(PLACE_A) + self.rng.choice(PLACE_B)
        self.places.append(p)
        return p

    def reporters(self) -> str:
        r, sp = self.rng, self.rng.choice(("", " "))
        o, c = r.choice((("（", "）"), ("（", "）"), ("(", ")")))
        inner = r.choice((f"记者{sp}{self.name()}", f"记者{sp}{self.name()}、{self.name()}",
                          f"记者{sp}{self.name()} 通讯员{sp}{self.name()}", f"{r.choice(PAPERS)}记者{sp}{self.name()}"))
        return o + inner + c

    def dateline(self) -> tuple[str, str]:
        """(form, text opening the first paragraph, separator included)."""
        r = self.rng
        form = r.choices(list(DATELINE_FORMS), list(DATELINE_FORMS.values()))[0]
        md = f"{r.randint(1, 12)}月{r.randint(1, 28)}日"
        if form == "none":
            return form, ""
        if form == "据XX报道":
            return form, f"据{r.choice(('新华社', self.place() + '日报', self.place() + '电视台', '本报'))}报道，"
        text = {"本报讯": "本报讯", "XX讯": f"{r.choice(PAPERS)}讯", "XX日报讯": f"{self.place()}日报讯",
                "XX晚报讯": f"{self.place()}晚报讯", "XX网讯": f"{self.place()}网讯",
                "新华社M月D日电": f"新华社{md}电", "新华社地名M月D日电": f"新华社{self.place()}{md}电",
                "中新社地名M月D日电": f"中新社{self.place()}{md}电"}[form]
        if r.random() < 0.45:
            text += self.reporters()
        return form, text + r.choice(("", "", " ", "　"))

    def byline(self) -> str:
        return self.rng.choice((lambda: f"本报记者 {self.name()} {self.name()}", lambda: f"本报记者{self.name()}、{self.name()}",
                                lambda: f"本报记者 {self.name()}", lambda: f"文/{self.name()}", lambda: f"文／{self.name()}",
                                lambda: f"记者 {self.name()} 通讯员 {self.name()}",
                                lambda: f"{self.place()}日报记者 {self.name()}"))()

    def kicker(self) -> str:
        r = self.rng
        word = r.choice(KICKER_A) + r.choice(KICKER_B) if r.random() < 0.6 else f"{r.choice(KICKER_B)}·{r.choice(KICKER_A)}"
        return r.choice("■●") + r.choice(("", " ")) + word


@dataclass
class _Plan:
    # Mutable while a page is planned; rendered once.
    title_lines: list[str]
    paras: list[list[str]]  # body paragraphs as sentences (a cut sentence becomes two pieces)
    kind: str = "article"
    head: str = "before"  # "before" / "after" the body, "" for captions
    kicker: str = ""
    byline: str = ""
    lead: str = ""  # dateline text opening the first paragraph
    trailing: str = ""  # （记者 某某）/（完） after the last sentence
    credit_line: str = ""  # a caption's own credit line; for an article, a closing dateline line
    cut: tuple[int, int] | None = None  # (paragraph, piece) where part 2 starts, for the resumed
    subheads: dict = field(default_factory=dict)  # paragraph index -> subhead lines printed before it
    record: dict = field(default_factory=dict)


def _body(src: Source, rng: random.Random, brief: bool) -> list[list[str]] | None:
    """Body paragraphs as sentence lists: 1-4 source paragraphs cut at a sentence end to at most
    BODY_MAX characters (at least BODY_MIN), or a brief's first two sentences; None if unusable."""
    if brief:
        first = [s for p in src.paragraphs for s in sentences(p)][:2]
        return [first] if len(first) == 2 and 20 <= sum(map(len, first)) <= 300 else None
    paras, total = [], 0
    for p in src.paragraphs[: rng.randint(1, 4)]:
        kept = []
        for s in sentences(p):
            if total + len(s) > BODY_MAX:
                break
            kept.append(s)
            total += len(s)
        if kept:
            paras.append(kept)
        if len(kept) < len(sentences(p)):
            break
    if total < BODY_MIN:
        return None
    if rng.random() < 0.5:  # newspaper paragraphs are short: print a long one as several
        paras = [p[i:i + n] for p in paras for n in [rng.randint(2, 4)] for i in range(0, len(p), n)]
    return paras


def _subtitle(paras: list[list[str]], rng: random.Random) -> str:
    """A clause of the body (6-24 characters) as a subtitle line, sometimes led by ——; or ""."""
    clauses = [c.strip() for p in paras for s in p for c in re.split(r"[，；：、]", s.rstrip(END + CLOSERS))]
    clauses = [c for c in clauses if 6 <= len(c) <= 24 and not re.search(r"[“”‘’「」『』（）()《》\s]", c)]
    return (rng.choice(("", "", "——")) + rng.choice(clauses)) if clauses else ""


def _headline(title: str, paras: list[list[str]], rng: random.Random) -> str:
    """A headline as news pages print them: the source's title (a name) in some pieces; in
    others a clause of the lead, two clauses joined by ，, or the name + ： + a clause."""
    clauses = [c.strip() for s in paras[0] for c in re.split(r"[，；：]", s.rstrip(END + CLOSERS))]
    clauses = [c for c in clauses if 6 <= len(c) <= 22 and all(c.count(a) == c.count(b) for a, b in ("“”", "（）", "《》"))
               and not re.search(r"[「」『』()\s]", c)]
    style = rng.choices(("name", "clause", "two", "named"), (40, 25, 20, 15))[0]
    if style == "name" or not clauses:
        return title
    first = rng.choice(clauses)
    if style == "clause":
        return first
    if style == "named":
        return f"{title}：{first}" if len(title) + len(first) <= 30 else first
    second = rng.choice(clauses)
    return f"{first}，{second}" if second != first and len(first) + len(second) <= 30 else first


def _subhead(para: list[str], rng: random.Random) -> str:
    """A 4-14 character phrase of the paragraph's words (no punctuation), or ""."""
    import jieba

    words = [w for w in jieba.lcut("".join(para)) if re.fullmatch(r"[\u4e00-\u9fffA-Za-z0-9]+", w)]
    if len(words) < 3:
        return ""
    at = rng.randrange(len(words) - 2)
    phrase = "".join(words[at:at + rng.randint(2, 4)])
    return phrase if 4 <= len(phrase) <= 14 else ""


def _plan_article(src: Source, paras: list[list[str]], gen: _Gen, brief: bool) -> _Plan:
    r, rec = gen.rng, {"source": src.ref, "kind": "article", "brief": brief, "resumed": False}
    # DRCD's titles are simplified: print them as the page
    plan = _Plan([gen.tr(_headline(src.title, paras, r) if not brief else src.title)], paras, record=rec)
    rec["dateline"], lead = gen.dateline()
    plan.lead = gen.tr(lead)
    if rec["dateline"].endswith("日电") and not brief and r.random() < 0.25:
        # Some pages print an agency's dateline as a line of its own after the text:
        # （记者 某某） 新华社某地5月31日电
        core = re.sub(r"[（(][^（()）]*[)）]", "", lead).strip()
        plan.lead, plan.credit_line = "", gen.tr(f"{gen.reporters()} {core}")
        rec["dateline_at_end"] = True
    if not brief:
        plan.head = "after" if r.random() < 0.25 else "before"
        sub = _subtitle(paras, r) if r.random() < 0.2 else ""
        plan.title_lines += [sub] if sub else []
        plan.kicker = gen.tr(gen.kicker()) if r.random() < 0.15 else ""  # tops the piece, headline before or after
        plan.byline = gen.tr(gen.byline()) if r.random() < 0.25 else ""
        plan.trailing = gen.tr(r.choice((lambda: f"（记者 {gen.name()}）", lambda: "（完）", lambda: "(完)",
                                         lambda: f"（本报记者 {gen.name()}）"))()) if r.random() < 0.2 else ""
    if not brief and len(paras) >= 3 and r.random() < 0.3:
        # Subheads: a short line (or two) before a later paragraph, taken from that paragraph, as
        # long reports print them; they stay inside the article.
        for k in sorted(r.sample(range(1, len(paras)), min(len(paras) - 1, r.choice((1, 1, 2))))):
            lines = [_subhead(paras[k], r) for _ in range(r.choice((1, 1, 1, 2)))]
            lines = [t for t in dict.fromkeys(lines) if t]
            if lines:
                plan.subheads[k] = [gen.tr(t) for t in lines]
    rec.update(head=plan.head, two_line=len(plan.title_lines) > 1, subheads=len(plan.subheads), kicker=bool(plan.kicker),
               byline=bool(plan.byline), trailing=bool(plan.trailing))
    return plan


def _plan_caption(src: Source, gen: _Gen) -> _Plan | None:
    """A photo caption 图为……。 with an inline （记者 某某 摄） or a credit line of its own."""
    r = gen.rng
    cands = [s for p in src.paragraphs for s in sentences(p) if 12 <= len(s) <= 70 and "<" not in s]
    if not cands:
        return None
    text = gen.tr(r.choice(("图为", "图为", "图：", "上图："))) + r.choice(cands)
    credit = r.choice((lambda: f"新华社记者 {gen.name()} 摄", lambda: f"本报记者 {gen.name()} 摄",
                       lambda: f"{gen.name()} 摄", lambda: f"记者{gen.name()}摄"))()
    inline = r.random() < 0.5
    plan = _Plan([], [[text]], kind="caption", head="", record={
        "source": src.ref, "kind": "caption", "caption": text, "credit": "inline" if inline else "line",
        "brief": False, "resumed": False, "dateline": "none", "head": ""})
    if inline:
        plan.trailing = gen.tr(f"（{credit}）")
    else:
        plan.credit_line = gen.tr(credit)
    return plan


def _cut(plan: _Plan, rng: random.Random) -> bool:
    """Cut one body sentence mid-sentence (never at its end) into two pieces; False if none fits."""
    spots = [(i, j) for i, p in enumerate(plan.paras) for j, s in enumerate(p) if len(s) >= 10]
    if not spots:
        return False
    i, j = rng.choice(spots)
    s = plan.paras[i][j]
    at = [c for c in range(3, len(s) - 3) if s[c - 1] not in END + CLOSERS and not s[c - 1].isspace()
          and not s[c].isspace() and s[c] not in CLOSERS]
    if not at:
        return False
    c = rng.choice(at)
    plan.paras[i][j:j + 1] = [s[:c], s[c:]]
    plan.cut = (i, j + 1)
    return True


def _parts(plan: _Plan, gen: _Gen, cue: str) -> list[list[tuple]]:
    """The article's printed units, as one part (or two when resumed). A unit is ("line", text),
    ("heading", text) (kicker, title or subhead line) or ("para", prefix, pieces, suffix, continued)."""
    head = [("heading", t) for t in plan.title_lines]
    kicker = [("heading", plan.kicker)] if plan.kicker else []  # tops the piece wherever its headline is
    paras = [["para", "", list(p), "", False, plan.subheads.get(k, [])] for k, p in enumerate(plan.paras)]
    if paras:
        paras[0][1], paras[-1][3] = plan.lead, plan.trailing
    part1, part2 = paras, []
    if plan.cut:
        i, j = plan.cut
        tail = ["para", "", paras[i][2][j:], paras[i][3], True, []]
        paras[i][2], paras[i][3] = paras[i][2][:j], ""
        part1, part2 = paras[: i + 1], [tail] + paras[i + 1:]

    def printed(ps: list[list]) -> list[tuple]:
        return [u for p in ps for u in [("heading", t) for t in p[5]] + [tuple(p[:5])]]

    units = printed(part1)
    if plan.byline:
        units.insert(0, ("line", plan.byline))
    units = kicker + (head if plan.head == "before" else []) + units
    n = gen.rng.choice(NUMERALS)
    if part2:
        units += [("line", gen.tr(f"（下转第{n}版）"))] if cue == "jump" else []
        rest = ([("line", gen.tr(f"（上接第{n}版）"))] if cue in ("line", "jump") else []) + printed(part2)
        parts = [units, rest]
    else:
        parts = [units]
    parts[-1] += ([("line", plan.credit_line)] if plan.credit_line else []) + (head if plan.head == "after" else [])
    return parts


# Kinsoku: a printed line never starts with these; a column keeps them on the line before.
NO_LINE_START = "，。、；：？！）」』”’》】〉…,.;:?!)]%"


def _wide(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _render_para(prefix: str, pieces: list[str], suffix: str, width: int) -> tuple[str, list[tuple[int, int]]]:
    """Paragraph text and each piece's range. With width > 0 it is hard-wrapped as a printed
    column `width` Chinese characters wide: lines break by printed width (a half-width digit or
    letter takes half a character), and punctuation that may not open a line stays on the line
    before it (so that line runs one character over), as text extracted from a newspaper PDF."""
    raw, spans, pos = prefix + "".join(pieces) + suffix, [], len(prefix)
    for p in pieces:
        spans.append((pos, pos + len(p)))
        pos += len(p)
    if not width:
        return raw, spans
    columns, out, at, used = 2 * width, [], [], 0
    for ch in raw:
        w = _wide(ch)
        if used and used + w > columns and ch not in NO_LINE_START:
            out.append("\n")
            used = 0
        at.append(len(out))
        out.append(ch)
        used += w
    text = "".join(out)
    # A range ends after its last character (a newline after it stays outside).
    return text, [(at[s], at[e - 1] + 1) for s, e in spans]


def make_page(sources: tuple[Source, ...], rng: random.Random, script: str = "simplified", file: str = "") -> Page:
    """One page of 3-7 articles (plus captions) laid out with random choices, all in `layout`."""
    gen = _Gen(rng, script)
    layout = {"file": file, "script": script, "blank": rng.choices(("all", "articles", "none"), (45, 35, 20))[0],
              "wrap": rng.randint(18, 30) if rng.random() < 0.35 else 0, "indent": rng.random() < 0.3,
              "resumed": None, "cue": "", "brief_run": 0}
    # Where blank lines separate paragraphs, most pages still print a headline block (kicker,
    # title lines) or a pair of subhead lines together, without a blank line between them.
    layout["tight_heads"] = layout["blank"] == "all" and rng.random() < 0.6
    n = rng.randint(3, 7)
    briefs = [rng.random() < 0.1 for _ in range(n)]
    if rng.random() < 0.3:
        run = rng.randint(2, 3)
        at = rng.randint(0, max(0, n - run))
        briefs[at:at + run] = [True] * len(briefs[at:at + run])
        layout["brief_run"] = run
    plans, titles = [], set()
    while len(plans) < n:
        src = rng.choice(sources)
        body = _body(src, rng, briefs[len(plans)]) if src.title not in titles else None
        if body:
            titles.add(src.title)
            plans.append(_plan_article(src, body, gen, briefs[len(plans)]))
    for _ in range(rng.choice((0, 0, 1, 1, 2)) if rng.random() < 0.5 else 0):
        cap = _plan_caption(rng.choice(sources), gen)
        if cap:
            plans.insert(rng.randint(0, len(plans)), cap)
    order = [(k, 0) for k in range(len(plans))]
    cands = [k for k, p in enumerate(plans[:-1]) if p.kind == "article" and not p.record["brief"]]
    if cands and rng.random() < 0.3:
        k = rng.choice(cands)
        if _cut(plans[k], rng):
            between = min(rng.choice((1, 1, 2)), len(plans) - k - 1)
            order.insert(k + 1 + between, (k, 1))
            layout["resumed"], layout["cue"] = k, rng.choices(("none", "line", "jump"), (50, 30, 20))[0]
            plans[k].record["resumed"] = True
    parts = [_parts(p, gen, layout["cue"]) for p in plans]
    # Render: units of one part are separated by a newline (a blank line too when blank="all"),
    # parts of different articles by a blank line unless blank="none".
    text, ranges, prev = "", [[] for _ in plans], None
    for k, part in order:
        last_kind = None
        for unit in parts[k][part]:
            if prev is not None:
                same = prev == (k, part)
                tight = same and layout["tight_heads"] and unit[0] == last_kind == "heading"
                blank = layout["blank"] == "all" or (not same and layout["blank"] == "articles")
                text += "\n\n" if blank and not tight else "\n"
            prev, last_kind = (k, part), unit[0]
            if unit[0] == "heading":
                text += unit[1]
                continue
            if unit[0] == "line":
                text += unit[1]
                continue
            _, prefix, pieces, suffix, continued = unit
            indent = "　　" if layout["indent"] and not continued else ""
            body, spans = _render_para(indent + prefix, pieces, suffix, layout["wrap"])
            for (s, e), piece in zip(spans, pieces):
                assert body[s:e].replace("\n", "") == piece, (body[s:e], piece)
                ranges[k].append((len(text) + s, len(text) + e))
            text += body
    text += "\n"
    for k, p in enumerate(plans):  # the printed article text is exactly its source sentences, in order
        assert "".join(text[s:e].replace("\n", "") for s, e in ranges[k]) == "".join(map("".join, p.paras))
    layout["articles"] = [p.record for p in plans]
    layout["names"], layout["places"] = sorted(set(gen.names)), sorted(set(gen.places))
    truth = tuple(TruthArticle(" ".join(p.title_lines), p.kind, tuple(ranges[k]), p.record["resumed"])
                  for k, p in enumerate(plans))
    return Page(text, truth, layout)
