"""Units grouped into articles: titles placed before or after their body or kept as subheads,
interrupted paragraphs stitched to their continuation, Articles built with their offsets."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

import numpy as np

from qa.segment.signals import (FRAG, PREV, RESUME_FEATURES, SUB, Classifier, SegmenterModel, blank_share,
                                load_model, place_title_lines, resume_row, split_row, title_rows)
from qa.segment.units import (BODY, BYLINE, CAPTION_MAX, CREDIT, DATE_RE, DATELINE, JUMP_IN, JUMP_OUT, KICKER,
                              LABEL_RE, OPEN_END, TITLE, TRAILING_REPORTERS_RE, _core, _Unit, _units,
                              has_blank_lines, is_wrapped, title_runs)
from qa.text import content_hash, ends_sentence, to_simplified
from qa.types import Article, Document, Segment


RESUME_REACH = 80  # units after an interrupted paragraph searched for its continuation
# A paragraph ending on a comma or an opening mark cannot end there, and one opening with a
# comma cannot start a piece: such a junction is taken even below the model's threshold, down to
# this probability (chosen on tuning pages: 0.05 and 0.15 stitch the same, 1,200 CMRC-train pages).
OPEN_END_MIN_PROB = 0.15
INNER_START = "，、；：,;:"  # marks that only go on a sentence already begun
# A paragraph right above a chosen continuation is taken as the resumed part's start down to
# this probability (tuning pages, 1,200 of seed 5: 0.1 / 0.2 / 0.3 / the model's threshold
# stitch 82.1 / 82.4 / 81.5 / 81.2%).
WALK_UP_MIN_PROB = 0.2


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


def _resumptions(units: list[_Unit], model: Classifier, threshold: float, labels: dict[int, int],
                 fragments: dict[int, float] | None = None) -> dict[int, int]:
    """{resuming unit index: interrupted unit index}: paragraphs that stop mid-sentence paired
    with the later plain paragraphs most likely to carry them on, likeliest pairs first (each
    paragraph resumes and is resumed at most once), when likely enough (`threshold`). A body
    fragment (`fragments`: a line read as a sentence cut short) must go on somewhere, so it
    takes its likeliest free candidate whose text shows the sentence going on (see _continues)
    even below the threshold; its pairs weigh the resumption by the chance that the line is a
    fragment at all (`fragments`: unit index -> that probability). A paragraph that ends on a
    comma or an opening mark goes on somewhere too, and one that opens with a comma carries
    something on: see OPEN_END_MIN_PROB."""
    fragments = fragments or {}
    pairs: list[tuple[float, int, int]] = []
    scored: dict[tuple[int, int], float] = {}
    for p, u in enumerate(units):
        if u.kind != BODY or not u.unfinished:
            continue
        cands = [q for q in range(p + 2, min(len(units), p + RESUME_REACH))
                 if units[q].kind == BODY and not units[q].lead and not units[q].caption]
        if cands:
            prob = model.scores(np.asarray([resume_row(units, p, q, labels) for q in cands], dtype=np.float64))
            scored.update({(p, q): float(pr) for pr, q in zip(prob, cands)})
            open_end = _core(u.text).rstrip()[-1:] in OPEN_END
            pairs += [(float(pr), p, q) for pr, q in zip(prob, cands)
                      if pr > threshold or (p in fragments and _continues(units, p, q, labels))
                      or ((open_end or units[q].text.lstrip()[:1] in INNER_START) and pr > OPEN_END_MIN_PROB)]
    out: dict[int, int] = {}
    taken: set[int] = set()
    likely = {pq for pq, pr in scored.items() if pr > min(threshold, WALK_UP_MIN_PROB)}
    # Pairs above the threshold first, then the fragments' below it, each group likeliest first.
    for _, _, p, q in sorted((pr <= threshold, -pr * fragments.get(p, 1.0), p, q) for pr, p, q in pairs):
        # Of consecutive paragraphs that each may carry p on, the resumed part starts at the first:
        # the later one alone would leave the one above it to the interrupting piece. The one
        # above needs less evidence (WALK_UP_MIN_PROB): it is often the broken sentence's short
        # last words, with little vocabulary to share.
        while (p, q - 1) in likely and q - 1 not in out:
            q -= 1
        if p not in taken and q not in out:
            out[q] = p
            taken.add(p)
    return out


def _label_runs(units: list[_Unit], model: Classifier, blank_page: bool, wrapped: bool,
                allow_fragments: bool, fragment_prior: float = 0.0) -> tuple[dict[int, int], dict[int, float]]:
    """{title unit index: PREV, NEXT or SUB} for the title lines of the page, and {index: the
    model's probability of FRAG} of the lines it reads as body fragments (only when
    `allow_fragments`; see place_title_lines for `fragment_prior`)."""
    labels: dict[int, int] = {}
    fragments: dict[int, float] = {}
    for i, j in title_runs(units):
        has_prev = any(u.kind == BODY for u in units[:i])
        has_next = any(u.kind == BODY for u in units[j:])
        rows = title_rows(units, i, j, blank_page, labels, wrapped)
        p_frag = np.exp(model.scores(rows)[:, FRAG])
        placed = place_title_lines(model, rows, has_prev, has_next, allow_fragments, fragment_prior)
        for k, label in zip(range(i, j), placed):
            if label == FRAG:
                fragments[k] = float(p_frag[k - i])
            else:
                labels[k] = label
    return labels, fragments


def merge_fragments(units: list[_Unit], fragments: list[int]) -> tuple[list[_Unit], dict[int, int]]:
    """The units with each fragment line made body text: joined to the body paragraph right
    below it when there is one (a paragraph's first line cut off by a column break), else an
    unfinished paragraph of its own (the sentence broke off: its piece goes on further down);
    and {new index: original index} of those standalone fragments."""
    out: list[_Unit] = []
    standalone: dict[int, int] = {}
    chosen, k = set(fragments), 0
    while k < len(units):
        u = units[k]
        if k not in chosen:
            out.append(u)
            k += 1
            continue
        nxt = units[k + 1] if k + 1 < len(units) else None
        if nxt is not None and nxt.kind == BODY and not nxt.lead and not nxt.caption:
            out.append(replace(nxt, spans=u.spans + nxt.spans, text=u.text + nxt.text, shown=u.shown + nxt.shown,
                               block=u.block))
            k += 2
        else:
            standalone[len(out)] = k
            out.append(replace(u, kind=BODY, unfinished=True))
            k += 1
    return out, standalone


def _continues(units: list[_Unit], p: int, q: int, labels: dict[int, int]) -> bool:
    """True when the text itself shows that unit q carries on unit p's sentence."""
    row = dict(zip(RESUME_FEATURES, resume_row(units, p, q, labels)))
    return bool(row["crosses_word"] or row["junction_word"] or row["after_jump_in"])


def _read_layout(units: list[_Unit], model: SegmenterModel, blank_page: bool,
                 wrapped: bool) -> tuple[list[_Unit], dict[int, int], dict[int, int]]:
    """The page's units with body fragments merged (see merge_fragments), {title unit index:
    PREV, NEXT or SUB} for every title line left, and {resuming unit: interrupted unit}.
    A fragment standing alone must carry on further down (see _resumptions): one that no later
    paragraph resumes was a headline after all, and is placed as one."""
    _, fragments = _label_runs(units, model.titles, blank_page, wrapped, allow_fragments=True,
                               fragment_prior=model.fragment_prior)
    while True:
        merged, standalone = merge_fragments(units, list(fragments))
        labels = _label_runs(merged, model.titles, blank_page, wrapped, allow_fragments=False)[0]
        resumes = _resumptions(merged, model.resume, model.resume_threshold, labels,
                               {new: fragments[k] for new, k in standalone.items()})
        orphans = {k for new, k in standalone.items() if new not in resumes.values()}
        if not orphans:
            return merged, labels, resumes
        fragments = {k: p for k, p in fragments.items() if k not in orphans}


def _place_titles(run: list[_Unit], labels: list[int], resumed: bool, cur: _Draft | None, new) -> _Draft | None:
    """Give each title line of a run where the model put it: to the body above (its headline
    printed after it), to a new article below, or into the running article as a subhead;
    returns the current draft afterwards."""
    for u, label in zip(run, labels):
        running = cur is not None and bool(cur.paras)
        if label == PREV and running and not (resumed and cur.titles):
            cur.titles.append(u.shown)
            cur.ended = True  # its headline closed it: the next paragraph starts another piece
        elif label == SUB and running and not cur.ended:
            cur.paras.append(list(u.spans))
        elif resumed and running and not cur.titles:
            cur.titles.append(u.shown)  # the interrupted piece resumes below: the headline is its own
        else:
            if cur is None or cur.paras or cur.ended:
                cur = new()
            cur.titles.append(u.shown)
    return cur


def _splits(units: list[_Unit], model: Classifier, blank_page: bool, resumes: dict[int, int]) -> set[int]:
    """Body units that start a new piece although nothing but the text says so: the paragraph
    above is body text of another piece (no headline, dateline or blank line decides it)."""
    share = blank_share(units)
    cands = [i for i in range(1, len(units)) if units[i].kind == BODY and units[i - 1].kind == BODY
             and not units[i].lead and not units[i].caption and i not in resumes]
    if not cands:
        return set()
    prob = model.scores(np.asarray([split_row(units, i, blank_page, share) for i in cands], dtype=np.float64))
    return {i for i, p in zip(cands, prob) if p > 0.5}


def _group(units: list[_Unit], resumes: dict[int, int], labels: dict[int, int], splits: set[int]) -> list[_Draft]:
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
        if u.kind in (JUMP_IN, JUMP_OUT):  # page furniture: neither text nor a boundary
            i += 1
            continue
        if u.kind == TITLE:
            j = i
            while j < len(units) and units[j].kind == TITLE:
                j += 1
            cur = _place_titles(units[i:j], [labels[k] for k in range(i, j)], j in resumes, cur, new)
            i = j
            continue
        if i in resumes and resumes[i] in where:
            d, k = where[resumes[i]]
            d.paras[k] += u.spans  # stitched with "": the sentence goes on
            d.ended, cur, where[i] = False, d, (d, k)
        elif u.kind == KICKER:
            if cur is None or cur.paras or cur.kicker:
                cur = new()
            cur.kicker = u.shown
        elif u.kind == BYLINE:
            if cur is None or cur.paras or cur.byline:
                cur = new()
            cur.byline = u.shown
            cur.notes.append((len(cur.paras), u.spans[0]))
        elif u.kind in (DATELINE, CREDIT):
            if cur is None:
                cur = new()
            if u.kind == DATELINE:
                cur.dateline = cur.dateline or u.shown
            else:
                cur.byline, cur.credit = cur.byline or u.shown, True
            cur.notes.append((len(cur.paras), u.spans[0]))
            cur.ended = bool(cur.paras)
        else:
            opens = bool(u.lead) or u.caption
            if cur is None or cur.ended or (opens and (cur.paras or (u.lead and cur.dateline))) or i in splits:
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
    m = TRAILING_REPORTERS_RE.search(to_simplified(doc.text[s:e]))
    if m and m.start() > 0 and ends_sentence(doc.text[s:s + m.start()]):
        byline = byline or doc.text[s + m.start():s + m.end()].strip()[1:-1].strip()
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
    model = load_model()
    blank_page = has_blank_lines(doc.text)
    units, labels, resumes = _read_layout(units, model, blank_page, is_wrapped(doc.text))
    drafts = _group(units, resumes, labels, _splits(units, model.split, blank_page, resumes))
    return [_article(doc, d, len(drafts) == 1) for d in drafts]
