"""Evaluation: eval sets (JSONL) and SQuAD-format files scored with the official CMRC metric.

An eval set line: {"id", "question", "answers": [...], "history"?: [...], "unanswerable"?: bool}.
A SQuAD file is answered open-domain: all its paragraphs pooled into one index (cached by
content), every question asked without its paragraph. SQuAD-like files are read by
`qa.squad.read_squad`, which lists the items it cannot score instead of failing on them.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Sequence

from qa.errors import ConfigError, EvalSetError
from qa.metrics import (abstention_scores, em_score, f1_score, mrr, percentile, recall_at_k)
from qa.text import content_hash
from qa.types import Article, Document

RECALL_DEPTH = 10


@dataclass(frozen=True)
class EvalItem:
    """One question of an eval set; `gold_paths` name the paragraph(s) holding the answer."""

    id: str
    question: str
    answers: tuple[str, ...]
    history: tuple[str, ...] = ()
    unanswerable: bool = False
    gold_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadNote:
    """An item of a set that was set aside, renamed or looks wrong, and why (for the report)."""

    id: str
    reason: str


@dataclass(frozen=True)
class QuestionResult:
    """One question asked. `withheld` is the span an abstention held back ("" when the
    reader found none; old reports lack it), `source` the answering article's title and
    file(s), `answer_type` the type the question analysis expected ("" in old reports)."""

    id: str
    question: str
    prediction: str
    abstained: bool
    answers: tuple[str, ...]
    em: float
    f1: float
    gold_rank: int | None
    evidence: str
    latency_ms: float
    confidence: float
    rewritten_question: str
    unanswerable: bool = False
    answer_type: str = ""
    withheld: str = ""
    source: str = ""


@dataclass(frozen=True)
class EvalReport:
    """Metrics, one result per question asked, and the load notes of the set (SQuAD files)."""

    metrics: dict
    questions: tuple[QuestionResult, ...] = field(default=())
    unscoreable: tuple[LoadNote, ...] = ()
    renamed: tuple[LoadNote, ...] = ()
    warnings: tuple[LoadNote, ...] = ()

    def to_json(self) -> dict:
        """The report as `qa eval --report` writes it (and `qa eval --compare` reads it)."""
        return {"metrics": self.metrics, "questions": [asdict(q) for q in self.questions],
                "unscoreable": [asdict(n) for n in self.unscoreable],
                "renamed": [asdict(n) for n in self.renamed],
                "warnings": [asdict(n) for n in self.warnings]}


def with_load_notes(report: EvalReport, loaded) -> EvalReport:
    """`report` with the unscoreable, renamed and warned items of `loaded` (a SquadSet) and
    their counts in the metrics, so nothing the loader set aside goes unseen."""
    metrics = {**report.metrics, "unscoreable": len(loaded.unscoreable), "renamed_ids": len(loaded.renamed),
               "answer_not_in_paragraph": len(loaded.warnings)}
    return replace(report, metrics=metrics, unscoreable=tuple(loaded.unscoreable),
                   renamed=tuple(loaded.renamed), warnings=tuple(loaded.warnings))


def load_eval_set(path: str | Path) -> list[EvalItem]:
    """Read a JSONL eval set; a bad line is an EvalSetError naming the file, line and field."""
    path = Path(path)
    if not path.exists():
        raise EvalSetError(f"{path}: eval set not found; pass --set FILE.jsonl")
    items: list[EvalItem] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise EvalSetError(f"{path}:{n}: not valid JSON ({exc})") from exc
        if not isinstance(obj, dict):
            raise EvalSetError(f"{path}:{n}: expected a JSON object")
        for key, kind in (("id", str), ("question", str), ("answers", list)):
            if not isinstance(obj.get(key), kind):
                raise EvalSetError(f"{path}:{n}: field {key!r} must be a {kind.__name__}")
        if obj["id"] in seen:
            raise EvalSetError(f"{path}:{n}: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        unanswerable = bool(obj.get("unanswerable", False))
        if not unanswerable and not obj["answers"]:
            raise EvalSetError(f"{path}:{n}: field 'answers' is empty; add answers or "
                               "set \"unanswerable\": true")
        items.append(EvalItem(obj["id"], obj["question"], tuple(map(str, obj["answers"])),
                              tuple(map(str, obj.get("history") or [])), unanswerable))
    if not items:
        raise EvalSetError(f"{path}: no questions")
    return items


def load_squad(path: str | Path) -> tuple[list[tuple[Document, list[Article]]], list[EvalItem]]:
    """Paragraphs of a SQuAD-like file as one-article documents, and its scoreable questions
    (`qa.squad.read_squad` also gives the items set aside and why)."""
    from qa.squad import read_squad

    loaded = read_squad(path)
    return list(loaded.docs), list(loaded.items)


def squad_index(path: str | Path, embedder, cache_root: Path | None = None,
                progress=None, loaded=None, store: str | None = None) -> tuple[Path, list[EvalItem], float]:
    """Build (or reuse, keyed by file content, embedder and store) the pooled index of a SQuAD
    file; `loaded` is the file's SquadSet when the caller has already read it; `store` as in
    qa.indexer.ingest."""
    from qa.indexer import ingest_articles
    from qa.squad import read_squad
    from qa.store import MANIFEST, EmbeddingCache

    path = Path(path)
    loaded = read_squad(path) if loaded is None else loaded
    docs, items = list(loaded.docs), list(loaded.items)
    key = content_hash(path.read_bytes().decode("utf-8", "replace"), embedder.id)
    cache = EmbeddingCache(cache_root / "embeddings.sqlite" if cache_root else None)
    where = "" if store in (None, "local") else "-" + content_hash(str(store))[:8]
    root = (cache_root or cache.path.parent) / "squad" / f"{path.stem}-{key}{where}"
    t0 = time.perf_counter()
    if not (root / MANIFEST).exists():
        by_file = {d.path: [(d, arts)] for d, arts in docs}
        # Two evals of one file may build it at once: the second waits, then finds it built.
        ingest_articles(by_file, root, embedder, cache=cache, progress=progress, wait=True, store=store)
    return root, items, time.perf_counter() - t0


def gold_rank(hits, gold_paths: Sequence[str], answers: Sequence[str] = ()) -> int | None:
    """1-based rank, among distinct articles, of the first gold one: whose sources include a
    gold path, or (when no gold paths are known) whose hit text contains a gold answer."""
    seen: list[str] = []
    for h in hits:
        if h.article_id not in seen:
            seen.append(h.article_id)
        if gold_paths:
            found = bool(set(h.paths) & set(gold_paths))
        else:
            found = any(a and a in h.text for a in answers)
        if found:
            return seen.index(h.article_id) + 1
    return None


def evaluate(assistant, items: Sequence[EvalItem], *, progress: Callable[[int, int], None] | None = None,
             build_seconds: float | None = None, workers: int = 1) -> EvalReport:
    """Ask every question; score EM/F1 (official CMRC metric), retrieval, abstention, latency.

    With `workers` > 1 the questions are answered in that many processes, each with the
    same assistant reopened (`worker_spec`; most of answering is Python, which threads cannot
    run at once), or in threads sharing this one when it cannot be reopened. Results keep the
    order of `items` and are the same for any number of workers. `progress` is called from
    this thread only, once per finished question."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r}: give a whole number of 1 or more (--workers N)")
    threshold = getattr(assistant, "threshold", None)
    results: list[QuestionResult | None] = [None] * len(items)
    if workers == 1 or len(items) < 2:
        for i, item in enumerate(items):
            results[i] = _ask_one(assistant, item, threshold)
            if progress:
                progress(i + 1, len(items))
    else:
        spec = assistant.worker_spec() if hasattr(assistant, "worker_spec") else None
        if spec is not None:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_worker, initargs=(spec, workers))
            ask = partial(_ask_in_worker, threshold=threshold)
        else:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xunda-eval")
            ask = partial(_ask_one, assistant, threshold=threshold)
        with pool:
            futures = {pool.submit(ask, item): i for i, item in enumerate(items)}
            try:
                for done, future in enumerate(as_completed(futures), start=1):
                    results[futures[future]] = future.result()
                    if progress:
                        progress(done, len(items))
            except BaseException:
                for f in futures:  # one failed question (or Ctrl-C) stops the run, as with one worker
                    f.cancel()
                raise
    metrics = summarize(results, build_seconds)
    if threshold is not None:
        metrics["threshold"] = round(float(threshold), 4)
    metrics["workers"] = workers
    return EvalReport(metrics, tuple(results))


_worker_assistant = None  # in a worker process: the assistant it answers with


def _start_worker(spec, workers: int) -> None:
    """A worker process: share the cores among the workers, then reopen the assistant."""
    global _worker_assistant
    # Before the embedder's engine loads: each process's OpenMP team gets its share of cores.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    _worker_assistant = spec.open()


def _ask_in_worker(item: EvalItem, threshold: float | None) -> QuestionResult:
    return _ask_one(_worker_assistant, item, threshold)


def _ask_one(assistant, item: EvalItem, threshold: float | None) -> QuestionResult:
    """Ask and score one question. With a known threshold the question is asked with none and
    the threshold applied here (the same decision `ask` makes), so that the span an
    abstention withholds is kept for the risk-coverage curve of the HTML report."""
    t0 = time.perf_counter()
    if threshold is None:
        answer = assistant.ask(item.question, list(item.history))
    else:
        answer = assistant.ask(item.question, list(item.history), threshold=0.0)
    latency = (time.perf_counter() - t0) * 1000
    abstained = answer.abstained or (threshold is not None and answer.confidence < threshold)
    rank = None
    if item.gold_paths or item.answers:
        # Retrieve with the question as the assistant understood it (follow-ups resolved).
        q = answer.rewritten_question or item.question
        rank = gold_rank(assistant.retrieve(q, RECALL_DEPTH), item.gold_paths, item.answers)
    pred = "" if abstained else answer.text
    em = em_score(pred, item.answers) if item.answers else float(abstained)
    f1 = f1_score(pred, item.answers) if item.answers else float(abstained)
    src = answer.sources[0] if answer.sources and answer.text else None
    return QuestionResult(
        id=item.id, question=item.question, prediction=pred, abstained=abstained,
        answers=item.answers, em=em, f1=f1, gold_rank=rank, evidence="" if abstained else answer.evidence,
        latency_ms=round(latency, 2), confidence=round(answer.confidence, 4),
        rewritten_question=answer.rewritten_question, unanswerable=item.unanswerable,
        answer_type=getattr(answer, "answer_type", "") or "",
        withheld=answer.text if abstained else "",
        source=_source_label(src) if src else "")


def _source_label(source) -> str:
    """《title》 file, file: where an answer comes from, short enough for a table cell."""
    files = ", ".join(Path(p).name or p for p in source.paths)
    return f"《{source.title}》 {files}".strip() if source.title else files


SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


def gap_text(context: str, answers: Sequence[str]) -> str:
    """The paragraph with every sentence that prints an answer cut out: it still covers the
    topic but no longer holds the fact (a "gap" reading for no-answer training and tests)."""
    return "".join(s for s in SENTENCE_END.split(context) if not any(a and a in s for a in answers))


def evaluate_gold_paragraph(reader, paragraphs: dict[str, str], items: Sequence[EvalItem], *,
                            progress: Callable[[int, int], None] | None = None) -> EvalReport:
    """The reader alone: every question read against its own gold paragraph, never abstaining
    (as CMRC and SQuAD v1 score readers); confidence is the sigmoid of the span's margin over
    "no answer", uncalibrated."""
    import math

    results: list[QuestionResult] = []
    for i, item in enumerate(items):
        texts = [paragraphs[p] for p in item.gold_paths if p in paragraphs]
        if not texts:
            raise EvalSetError(f"question {item.id!r}: its paragraph {item.gold_paths} is not in the file")
        t0 = time.perf_counter()
        reading = reader.read(item.question, texts)
        latency = (time.perf_counter() - t0) * 1000
        best = reading.spans[0] if reading.spans else None
        pred = best.text if best else ""
        margin = reading.margin if best else -50.0
        em = em_score(pred, item.answers) if item.answers else float(not best)
        f1 = f1_score(pred, item.answers) if item.answers else float(not best)
        evidence = texts[best.passage] if best else ""
        results.append(QuestionResult(
            id=item.id, question=item.question, prediction=pred, abstained=best is None,
            answers=item.answers, em=em, f1=f1, gold_rank=1, evidence=evidence,
            latency_ms=round(latency, 2), confidence=round(1 / (1 + math.exp(-max(-50.0, min(50.0, margin)))), 4),
            rewritten_question=item.question, unanswerable=item.unanswerable))
        if progress:
            progress(i + 1, len(items))
    return EvalReport(summarize(results), tuple(results))


def summarize(results: Sequence[QuestionResult], build_seconds: float | None = None) -> dict:
    """Metrics over all questions (EM/F1 ×100 as CMRC reports them; unanswered count 0), split
    as the official SQuAD 2.0 script splits them: HasAns EM/F1 and NoAns accuracy (share of
    unanswerable questions abstained on, ×100; only when there are any). `answerable_em/f1`
    are the HasAns figures under their older names, kept for saved reports and scripts."""
    n = len(results)
    answerable = [r for r in results if not r.unanswerable]
    noans = [r for r in results if r.unanswerable]
    ranks = [r.gold_rank for r in results if not r.unanswerable]
    lat = [r.latency_ms for r in results]
    metrics = {
        "questions": n,
        "em": round(100 * sum(r.em for r in results) / max(n, 1), 2),
        "f1": round(100 * sum(r.f1 for r in results) / max(n, 1), 2),
        "answerable_em": round(100 * sum(r.em for r in answerable) / max(len(answerable), 1), 2),
        "answerable_f1": round(100 * sum(r.f1 for r in answerable) / max(len(answerable), 1), 2),
        "abstained_answerable": round(sum(r.abstained for r in answerable) / max(len(answerable), 1), 4),
        "hasans_questions": len(answerable),
        "hasans_em": round(100 * sum(r.em for r in answerable) / max(len(answerable), 1), 2),
        "hasans_f1": round(100 * sum(r.f1 for r in answerable) / max(len(answerable), 1), 2),
        "noans_questions": len(noans),
        "latency_p50_ms": round(percentile(lat, 50), 2) if lat else 0.0,
        "latency_p95_ms": round(percentile(lat, 95), 2) if lat else 0.0,
    }
    if any(r is not None for r in ranks) or any(results[i].gold_rank for i in range(n)):
        metrics.update({f"recall@{k}": round(recall_at_k(ranks, k), 4) for k in (1, 5, 10)})
        metrics["mrr"] = round(mrr(ranks), 4)
    if noans:
        metrics["noans_accuracy"] = round(100 * sum(r.em for r in noans) / len(noans), 2)
        p, rec = abstention_scores([r.abstained for r in results], [r.unanswerable for r in results])
        metrics["abstention_precision"] = round(p, 4)
        metrics["abstention_recall"] = round(rec, 4)
    if build_seconds is not None:
        metrics["index_build_s"] = round(build_seconds, 2)
    return metrics
