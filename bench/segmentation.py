"""How well qa.segment.segment_page splits generated newspaper pages into articles.

    python bench/segmentation.py --split tune|heldout [--pages 300] [--seed 0]
        [--report eval/reports/segmentation_SPLIT.json] [--show K]

Pages come from bench/segpages.py: bodies and headlines of SQuAD-format articles laid out as a
printed page (datelines, bylines, kickers, captions, column breaks, headlines after bodies, an
article interrupted and resumed, briefs), `--pages` per source file. `tune` is CMRC 2018 train
(fit on it); `heldout` is CMRC 2018 dev and DRCD dev, reported per file and overall (never fit).
Each truth sentence gets the predicted article covering most of it; from those labels:
boundary precision/recall/F1 between consecutive sentences, B-cubed F1 of sentences to
articles, headline accuracy, resumed articles stitched, captions found, and pages per second
(segment calls only). Per-layout rows show where it fails; `--show K` prints the K worst pages.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import machine  # noqa: E402
from segpages import SPLITS, Page, TruthArticle, build_pages  # noqa: E402
from qa.text import content_hash  # noqa: E402
from qa.types import Article, Document  # noqa: E402

PAGE_GROUPS: tuple[tuple[str, Callable[[dict], bool]], ...] = (
    ("blank lines everywhere", lambda L: L.get("blank") == "all"),
    ("blank lines between articles only", lambda L: L.get("blank") == "articles"),
    ("no blank lines", lambda L: L.get("blank") == "none"),
    ("column breaks", lambda L: L.get("wrap", 0) > 0),
    ("no column breaks", lambda L: L.get("wrap", 0) == 0),
    ("no blank lines + column breaks", lambda L: L.get("blank") == "none" and L.get("wrap", 0) > 0),
    ("indented paragraphs", lambda L: L.get("indent", False)),
    ("resumed article", lambda L: L.get("resumed") is not None),
    ("resumed, no jump line", lambda L: L.get("cue") == "none"),
    ("resumed, with jump lines", lambda L: L.get("cue") in ("line", "jump")),
    ("headline after a body", lambda L: any(a.get("head") == "after" for a in L.get("articles", ()))),
    ("two-line headline", lambda L: any(a.get("two_line") for a in L.get("articles", ()))),
    ("kicker", lambda L: any(a.get("kicker") for a in L.get("articles", ()))),
    ("byline line", lambda L: any(a.get("byline") for a in L.get("articles", ()))),
    ("photo caption", lambda L: any(a.get("kind") == "caption" for a in L.get("articles", ()))),
    ("briefs in a row", lambda L: L.get("brief_run", 0) > 1),
)
ARTICLE_GROUPS: tuple[tuple[str, Callable[[dict], bool]], ...] = (
    ("headline before body", lambda a: a.get("head") == "before" and not a.get("brief")),
    ("headline after body", lambda a: a.get("head") == "after"),
    ("two-line headline", lambda a: a.get("two_line", False)),
    ("kicker", lambda a: a.get("kicker", False)),
    ("byline line", lambda a: a.get("byline", False)),
    ("trailing note", lambda a: a.get("trailing", False)),
    ("brief", lambda a: a.get("brief", False)),
    ("resumed", lambda a: a.get("resumed", False)),
)


@dataclass(frozen=True)
class PageScore:
    """Counts for one page, summed by `aggregate`."""

    sentences: int
    true_boundaries: int
    predicted_boundaries: int
    correct_boundaries: int
    bcubed_precision_sum: float
    bcubed_recall_sum: float
    headline_ok: tuple[bool | None, ...]  # per truth article; None for a caption
    caption_ok: tuple[bool | None, ...]  # per truth article; None for an article
    stitched: tuple[bool, ...]  # per resumed truth article


@dataclass(frozen=True)
class Scores:
    """Micro-averaged figures over some pages (0-1; None where nothing to count)."""

    pages: int
    sentences: int
    boundary_precision: float
    boundary_recall: float
    boundary_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    headlines: int
    headline_accuracy: float | None
    resumed: int
    resumed_stitched: float | None
    captions: int
    caption_accuracy: float | None


@dataclass(frozen=True)
class SegmentationReport:
    """Overall, per-file and per-layout scores of one run, plus the per-page counts."""

    split: str
    seed: int | None
    pages: int
    pages_per_second: float
    pages_per_second_by_file: dict[str, float]
    overall: Scores
    per_file: dict[str, Scores]
    by_layout: dict[str, Scores]
    headline_by_article: dict[str, tuple[int, float]]  # group -> (articles, accuracy)
    page_scores: tuple[PageScore, ...] = field(repr=False)

    def to_json(self, extra: dict | None = None) -> str:
        """The report as JSON (per-page counts left out), with `extra` keys first."""
        body = {k: v for k, v in asdict(self).items() if k != "page_scores"}
        return json.dumps({**(extra or {}), **body}, ensure_ascii=False, indent=1)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def predicted_labels(text: str, truth: Sequence[TruthArticle], predicted: Sequence[Article]) -> list[list[int]]:
    """Per truth article, per sentence: the index of the predicted article whose segments cover
    most of the sentence's non-space characters (first on ties), -1 when none covers any."""
    nonspace = [0]  # prefix counts, so that a line break inside a range never counts
    for ch in text:
        nonspace.append(nonspace[-1] + (not ch.isspace()))
    spans = [[(s.start, s.end) for s in a.segments] for a in predicted]
    out = []
    for t in truth:
        labels = []
        for s, e in t.sentences:
            best, best_n = -1, 0
            for k, segs in enumerate(spans):
                n = sum(nonspace[min(e, b)] - nonspace[max(s, a)] for a, b in segs if a < e and b > s)
                if n > best_n:
                    best, best_n = k, n
            labels.append(best)
        out.append(labels)
    return out


def score_page(page: Page, predicted: Sequence[Article]) -> PageScore:
    """Boundary and B-cubed counts, headline, caption and stitching outcomes for one page."""
    labels = predicted_labels(page.text, page.articles, predicted)
    flat = sorted((r[0], t, lab) for t, art in enumerate(page.articles)
                  for r, lab in zip(art.sentences, labels[t]))
    true_b = pred_b = correct = 0
    for (_, t1, l1), (_, t2, l2) in zip(flat, flat[1:]):
        is_true, is_pred = t1 != t2, l1 != l2 or l1 == -1 or l2 == -1
        true_b, pred_b, correct = true_b + is_true, pred_b + is_pred, correct + (is_true and is_pred)
    # B-cubed: an unlabelled sentence is a cluster of its own.
    keys = [(t, lab if lab >= 0 else (-1, i)) for i, (_, t, lab) in enumerate(flat)]
    truth_n, pred_n, both_n = Counter(t for t, _ in keys), Counter(p for _, p in keys), Counter(keys)
    bp = sum(both_n[k] / pred_n[k[1]] for k in keys)
    br = sum(both_n[k] / truth_n[k[0]] for k in keys)
    heads, caps, stitched = [], [], []
    for art, labs in zip(page.articles, labels):
        counts = Counter(lab for lab in labs if lab >= 0)
        major = predicted[counts.most_common(1)[0][0]] if counts else None
        if art.kind == "caption":
            heads.append(None)
            caps.append(major is not None and major.kind == "caption")
        else:
            heads.append(major is not None and " ".join(major.title.split()) == " ".join(art.title.split()))
            caps.append(None)
        if art.resumed:
            stitched.append(len(set(labs)) == 1 and labs[0] >= 0)
    return PageScore(len(flat), true_b, pred_b, correct, bp, br, tuple(heads), tuple(caps), tuple(stitched))


def aggregate(scores: Sequence[PageScore]) -> Scores:
    """Micro-averaged Scores over pages (boundaries summed, B-cubed over all sentences)."""
    n = sum(s.sentences for s in scores)
    true_b, pred_b = sum(s.true_boundaries for s in scores), sum(s.predicted_boundaries for s in scores)
    correct = sum(s.correct_boundaries for s in scores)
    bp = correct / pred_b if pred_b else 1.0
    br = correct / true_b if true_b else 1.0
    cp = sum(s.bcubed_precision_sum for s in scores) / n if n else 1.0
    cr = sum(s.bcubed_recall_sum for s in scores) / n if n else 1.0
    heads = [h for s in scores for h in s.headline_ok if h is not None]
    caps = [c for s in scores for c in s.caption_ok if c is not None]
    stitched = [x for s in scores for x in s.stitched]

    def share(xs: list[bool]) -> float | None:
        return round(sum(xs) / len(xs), 4) if xs else None

    return Scores(len(scores), n, round(bp, 4), round(br, 4), round(_f1(bp, br), 4), round(cp, 4), round(cr, 4),
                  round(_f1(cp, cr), 4), len(heads), share(heads), len(stitched), share(stitched),
                  len(caps), share(caps))


def score(pages: Sequence[Page], predictions: Sequence[Sequence[Article]], seconds: Sequence[float] = (),
          split: str = "", seed: int | None = None) -> SegmentationReport:
    """The report for pages and their predicted articles (`seconds`: time spent segmenting each)."""
    per_page = tuple(score_page(p, pred) for p, pred in zip(pages, predictions, strict=True))
    files = sorted({p.layout.get("file", "") for p in pages})
    per_file = {f: aggregate([s for p, s in zip(pages, per_page) if p.layout.get("file", "") == f]) for f in files}

    def speed(chosen: list[float]) -> float:
        return round(len(chosen) / sum(chosen), 2) if chosen and sum(chosen) else 0.0

    timed = list(zip(pages, seconds))
    by_file = {f: speed([t for p, t in timed if p.layout.get("file", "") == f]) for f in files}
    by_layout = {}
    for name, test in PAGE_GROUPS:
        chosen = [s for p, s in zip(pages, per_page) if test(p.layout)]
        if chosen:
            by_layout[name] = aggregate(chosen)
    groups = list(ARTICLE_GROUPS) + [
        (f"dateline {form}", lambda a, form=form: a.get("dateline") == form)
        for form in sorted({a.get("dateline", "none") for p in pages for a in p.layout.get("articles", ()) if a.get("kind") == "article"})]
    by_article = {}
    for name, test in groups:
        oks = [ok for p, s in zip(pages, per_page) for a, ok in zip(p.layout.get("articles", ()), s.headline_ok)
               if ok is not None and test(a)]
        if oks:
            by_article[name] = (len(oks), round(sum(oks) / len(oks), 4))
    return SegmentationReport(split, seed, len(pages), speed(list(seconds)), by_file if seconds else {},
                              aggregate(per_page), per_file, by_layout, by_article, per_page)


def page_document(page: Page, i: int = 0) -> Document:
    """The Document a loader would make of the page text."""
    return Document(doc_id=content_hash(page.text), path=f"page{i:04d}.txt", text=page.text, kind="txt")


def evaluate(pages: Sequence[Page], segment_fn: Callable[[Document], list[Article]],
             split: str = "", seed: int | None = None) -> SegmentationReport:
    """Segment every page with `segment_fn` (timing only those calls) and score the result."""
    docs = [page_document(p, i) for i, p in enumerate(pages)]
    if docs:
        segment_fn(docs[0])  # warm-up, untimed: the first call loads the jieba dictionary
    predictions, seconds = [], []
    for doc in docs:
        t0 = time.perf_counter()
        predictions.append(segment_fn(doc))
        seconds.append(time.perf_counter() - t0)
    return score(pages, predictions, seconds, split, seed)


def _pct(x: float | None) -> str:
    return "   -" if x is None else f"{100 * x:5.1f}"


def print_report(r: SegmentationReport) -> None:
    """The figures as a table: overall, per file, per layout, headline accuracy per article kind."""
    speeds = "  ".join(f"{f} {v}" for f, v in r.pages_per_second_by_file.items()) if len(r.per_file) > 1 else ""
    print(f"split {r.split}  pages {r.pages}  seed {r.seed}  {r.pages_per_second} pages/s (segment calls only)"
          + (f"  [{speeds}]" if speeds else ""))
    print(f"{'':38s} pages sents  bndP  bndR bndF1   B3P   B3R  B3F1  head stitch  capt")
    rows = [("overall", r.overall)] + [(f"file {f}", s) for f, s in r.per_file.items()]
    rows += [("-- layout: " + name, s) for name, s in r.by_layout.items()]
    for name, s in rows:
        print(f"{name[:38]:38s} {s.pages:5d} {s.sentences:5d} {_pct(s.boundary_precision)} {_pct(s.boundary_recall)}"
              f" {_pct(s.boundary_f1)} {_pct(s.bcubed_precision)} {_pct(s.bcubed_recall)} {_pct(s.bcubed_f1)}"
              f" {_pct(s.headline_accuracy)} {_pct(s.resumed_stitched)}  {_pct(s.caption_accuracy)}")
    print("headline accuracy by article layout (articles, %):")
    for name, (n, acc) in r.headline_by_article.items():
        print(f"  {name:36s} {n:5d} {_pct(acc)}")


def show_worst(pages: Sequence[Page], r: SegmentationReport, segment_fn, k: int) -> None:
    """Print the k pages with the lowest B-cubed F1: layout, truth articles (with the predicted
    label of each sentence) and predicted articles."""
    worst = sorted(range(len(pages)), key=lambda i: (aggregate([r.page_scores[i]]).bcubed_f1,
                                                      aggregate([r.page_scores[i]]).boundary_f1))[:k]
    for i in worst:
        page, s = pages[i], aggregate([r.page_scores[i]])
        pred = segment_fn(page_document(page, i))
        brief = {key: v for key, v in page.layout.items() if key not in ("articles", "names", "places")}
        print(f"\n=== page {i}  B3 F1 {_pct(s.bcubed_f1)}  boundary F1 {_pct(s.boundary_f1)}  {brief}")
        for t, (art, labs, rec) in enumerate(zip(page.articles, predicted_labels(page.text, page.articles, pred),
                                                 page.layout["articles"])):
            flags = [f for f in ("brief", "resumed", "kicker", "two_line", "byline") if rec.get(f)]
            print(f"  T{t} [{art.kind}] {art.title!r} head={rec.get('head') or '-'} dateline={rec.get('dateline')} "
                  f"{' '.join(flags)} -> {' '.join(map(str, labs))}")
        for k2, a in enumerate(pred):
            print(f"  P{k2} [{a.kind}] {a.title!r}  ({len(a.text)} chars)")


def write_report(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv=None) -> None:
    from qa.segment import segment_page

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=sorted(SPLITS), required=True)
    ap.add_argument("--pages", type=int, default=300, help="pages per source file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--report", type=Path, default=None)
    ap.add_argument("--show", type=int, default=0, metavar="K")
    args = ap.parse_args(argv)
    pages = build_pages(args.split, args.pages, args.seed)
    report = evaluate(pages, segment_page, args.split, args.seed)
    print_report(report)
    if args.show:
        show_worst(pages, report, segment_page, args.show)
    info = machine()
    path = args.report or ROOT / "eval" / "reports" / f"segmentation_{args.split}.json"
    write_report(path, report.to_json({"bench": "segmentation", "pages_per_file": args.pages,
                                       "commit": info["commit"], "machine": info}))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
