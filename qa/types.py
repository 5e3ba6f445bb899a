"""The data that flows through the pipeline: Document -> Article -> Chunk -> Hit -> Answer.

All are frozen dataclasses. Offsets are character offsets (Python str indices):
an Article's body is the concatenation of slices of its Document's text (see
`Segment`), a Chunk's offsets index its Article's text, an Answer's offsets
index the Article's text too, so `article.text[a.start:a.end] == a.text`.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One loaded input: a file, or one line of a JSONL feed."""

    doc_id: str  # stable content hash (sha1 of path-independent text)
    path: str  # file path as given (for JSONL: "file.jsonl:LINE")
    text: str  # decoded text exactly as segmentation sees it
    kind: str  # "txt", "md", "html", "jsonl", "pdf"
    title: str = ""
    date: str = ""  # ISO date (YYYY-MM-DD, YYYY-MM or YYYY) from metadata, or ""
    url: str = ""
    source: str = ""  # publisher/feed name from metadata


@dataclass(frozen=True)
class Segment:
    """A piece of an Article's text copied verbatim from its Document.

    `article.text[text_start:text_start + (end - start)] == document.text[start:end]`.
    Between consecutive segments the Article text holds either nothing (a repaired
    column break) or a single "\\n" (a paragraph break); that is the only repair.
    """

    start: int  # offset in the Document text
    end: int
    text_start: int  # offset in the Article text


@dataclass(frozen=True)
class Article:
    """One news article (or photo caption) found in a Document."""

    article_id: str  # content hash of title + text
    doc_id: str
    path: str
    title: str
    text: str  # body text, column breaks repaired, interrupted parts stitched
    segments: tuple[Segment, ...] = ()
    dateline: str = ""  # e.g. 新华社北京5月31日电(记者陈伟伟)
    byline: str = ""  # e.g. 本报记者杨光、卫婧
    kicker: str = ""  # section line such as ■ 行进长三角
    date: str = ""  # ISO date, as precise as known ("2020-05-31", "05-31" when no year)
    kind: str = "article"  # "article" or "caption"
    sources: tuple[str, ...] = ()  # every path this article was seen in (after dedup)

    def source_offset(self, text_offset: int) -> int:
        """Map an offset in `text` to the offset in the Document text it was copied from."""
        for seg in reversed(self.segments):
            if text_offset >= seg.text_start:
                return seg.start + min(text_offset - seg.text_start, seg.end - seg.start)
        return self.segments[0].start if self.segments else text_offset


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one Article, the unit of retrieval."""

    chunk_id: str
    article_id: str
    title: str
    text: str
    start: int  # offset in Article.text
    end: int
    position: int  # 0-based order within the article


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its score and where it comes from; best first in lists."""

    chunk: Chunk
    score: float  # fused score (higher is better)
    rank: int  # 1-based
    title: str
    paths: tuple[str, ...]
    date: str = ""
    dateline: str = ""
    dense_score: float | None = None
    bm25_score: float | None = None

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def article_id(self) -> str:
        return self.chunk.article_id


@dataclass(frozen=True)
class Source:
    """A citation: the article an answer (or a closest passage) comes from."""

    title: str
    paths: tuple[str, ...]
    article_id: str
    start: int  # offsets of the cited span in the Article text
    end: int
    score: float
    date: str = ""
    dateline: str = ""
    passage: str = ""  # the chunk text, for showing closest passages


@dataclass(frozen=True)
class Answer:
    """The result of `Assistant.ask`: a span of an indexed article, or an abstention."""

    question: str
    text: str  # the answer span, "" when abstaining
    confidence: float  # in [0, 1]
    abstained: bool
    evidence: str = ""  # the sentence the span comes from
    sources: tuple[Source, ...] = ()  # first: the answer's article; when abstaining, closest passages
    rewritten_question: str = ""  # the question after resolving follow-ups against history
    start: int = -1  # span offsets in the Article text of sources[0]
    end: int = -1
    evidence_start: int = -1
    evidence_end: int = -1
    date: str = ""  # the answering article's date, when known
    answer_type: str = ""
    hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class SpanPrediction:
    """A span the neural reader found: `passages[passage][start:end] == text`."""

    passage: int  # index into the passages that were read
    start: int  # character offsets in that passage
    end: int
    text: str
    score: float  # start + end logit of the span
    no_answer: float  # the no-answer logit (start + end at <s>) of the window it was read in

    @property
    def margin(self) -> float:
        """How far the span beats "no answer" in its window; below 0 the window says no."""
        return self.score - self.no_answer


@dataclass(frozen=True)
class ReaderResult:
    """What the reader made of a question over some passages: candidate spans, best first,
    and the lowest no-answer logit over all windows (the strongest "an answer is here")."""

    question: str
    spans: tuple[SpanPrediction, ...]
    no_answer: float
    windows: int

    @property
    def margin(self) -> float:
        """Best span score over the lowest no-answer logit; -inf when nothing was read."""
        return self.spans[0].score - self.no_answer if self.spans else float("-inf")


@dataclass(frozen=True)
class FileCheck:
    """One index file as `qa check` found it."""

    name: str  # path inside the generation folder, e.g. "meta.sqlite", "bm25/vocab.index.json"
    size: int | None  # bytes on disk, None when missing
    checksum: str  # "ok", "mismatch", "absent" (not recorded: an older index) or "unread"
    problem: str = ""  # the full IndexCorruptError message; "" when the file is sound


@dataclass(frozen=True)
class MirrorCheck:
    """A Milvus-backed index's collection as `qa check` found it."""

    store: str  # as `qa info` describes it, e.g. "milvus:http://db:19530"
    collection: str
    live_chunks: int  # what the manifest says the collection should hold
    entities: int | None  # what it holds; None when it could not be reached
    in_step: bool  # its last finished update was of this manifest, and the counts agree
    problem: str = ""  # why it could not be checked (unreachable, held by another process)


@dataclass(frozen=True)
class IndexCheck:
    """The result of `qa check`: every file of the current generation, checked, and the Milvus
    collection of a Milvus-backed index (None for the local store)."""

    path: str
    generation: str
    checksums: bool  # whether the manifest records checksums (indexes built before do not)
    files: tuple[FileCheck, ...]
    mirror: MirrorCheck | None = None

    @property
    def ok(self) -> bool:
        """No damaged file and a reachable mirror; a mirror out of step is repaired by the
        next open or write, so it is reported but not a failure."""
        return not any(f.problem for f in self.files) and not (self.mirror and self.mirror.problem)
