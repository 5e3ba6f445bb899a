"""SQuAD-like files read as public sets ship them, messy items listed instead of fatal.

Read: SQuAD v1.1/v2.0 (`{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}`), with
`data` a list or a single article, a bare list of articles or of paragraphs, JSON Lines of
the same (an MRQA-style `header` line is skipped), Hugging Face flat rows (`context`,
`question`, `answers: {"text": [...]}`), the original CMRC 2018 keys (`context_text`,
`query_text`, `query_id`) and answers given as plain strings.

An item is *unscoreable* (listed with its reason, never asked) when its question is missing
or blank, its `answers` field is missing or malformed, every answer text is blank, its
`is_impossible` is no known spelling of true/false, or its paragraph has no text. An item is
*unanswerable* (scored as the official SQuAD 2.0 script does: abstaining is right) when
`is_impossible` is true in any spelling, its answers list is empty, or it has only
`plausible_answers`. `answer_start` is never read: answers are matched by text, so -1 and
1-based offsets cannot break anything. A repeated id is kept under a new id (`Q1#2`) and
listed; a missing id gets its position (`data[0].paragraphs[1].qas[2]`) and is listed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.errors import EvalSetError
from qa.evaluation import EvalItem, LoadNote
from qa.inputs import MAX_QUESTION_CHARS
from qa.text import content_hash
from qa.types import Article, Document, Segment

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f", ""})


@dataclass(frozen=True)
class SquadSet:
    """A SQuAD-like file read: paragraphs as one-article documents, scoreable questions, and
    the items set aside (`unscoreable`), renamed (`renamed`) or worth a look (`warnings`)."""

    docs: tuple[tuple[Document, list[Article]], ...]
    items: tuple[EvalItem, ...]
    unscoreable: tuple[LoadNote, ...] = ()
    renamed: tuple[LoadNote, ...] = ()
    warnings: tuple[LoadNote, ...] = ()


def read_squad(path: str | Path) -> SquadSet:
    """Every question of a SQuAD v1/v2-like file; only an unreadable file is an EvalSetError."""
    path = Path(path)
    records = _records(path)
    reader = _Reader(path)
    for a_i, rec in enumerate(records):
        where = f"data[{a_i}]"
        if not isinstance(rec, dict):
            reader.unscoreable.append(LoadNote(where, f"{where}: expected an article object, got {_kind(rec)}"))
        elif "paragraphs" in rec:
            paras = rec["paragraphs"]
            if not isinstance(paras, list):
                reader.unscoreable.append(LoadNote(where, f"{where}: field 'paragraphs' must be a list, got {_kind(paras)}"))
                continue
            for p_i, para in enumerate(paras):
                reader.paragraph(para, _text(rec.get("title")), f"{where}.paragraphs[{p_i}]", f"{a_i}-{p_i}")
        elif "qas" in rec:  # a paragraph standing alone
            reader.paragraph(rec, _text(rec.get("title")), where, str(a_i))
        elif _first(rec, "question", "query_text") is not None:
            reader.flat_row(rec, where)
        else:
            reader.unscoreable.append(LoadNote(where, f"{where}: neither an article ('paragraphs'), a paragraph "
                                                      "('context', 'qas') nor a question row ('question')"))
    reader.flush_rows()
    if not reader.items:
        first = f"; first: {reader.unscoreable[0].reason}" if reader.unscoreable else ""
        raise EvalSetError(f"{path}: no question that can be scored ({len(reader.unscoreable)} unscoreable{first}); "
                           "expected data[].paragraphs[].qas[] with 'id', 'question' and 'answers'")
    return SquadSet(tuple(reader.docs), tuple(reader.items), tuple(reader.unscoreable),
                    tuple(reader.renamed), tuple(reader.warnings))


def _records(path: Path) -> list:
    """The top-level records of a JSON or JSON Lines file; EvalSetError names file and place."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise EvalSetError(f"{path}: cannot read the file ({exc.strerror or exc}); check the path") from exc
    except UnicodeDecodeError as exc:
        raise EvalSetError(f"{path}: not UTF-8 (byte {exc.start}); SQuAD files are UTF-8 JSON") from exc
    try:
        obj = json.loads(text)
    except ValueError as exc:
        obj = _json_lines(path, text, exc)
    if isinstance(obj, dict) and "data" in obj:
        data = obj["data"]
        if isinstance(data, dict):
            return [data]
        if not isinstance(data, list):
            raise EvalSetError(f"{path}: field 'data' must be a list of articles, got {_kind(data)}")
        return data
    if isinstance(obj, dict) and ({"paragraphs", "qas", "question", "query_text"} & obj.keys()):
        return [obj]
    if isinstance(obj, list):
        # JSON Lines sets open with a header line ({"header": ...}) that holds no questions.
        return [r for r in obj if not (isinstance(r, dict) and set(r) == {"header"})]
    raise EvalSetError(f"{path}: no field 'data': not a SQuAD-format file "
                       "(expected {\"data\": [{\"paragraphs\": [{\"context\", \"qas\"}]}]})")


def _json_lines(path: Path, text: str, whole_error: ValueError) -> list:
    """Records of a JSON Lines file, or the JSON error of the whole file when it is not one."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    rows = []
    for n, line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            if not rows:  # not JSON Lines either: the whole-file error is the useful one
                where = (f"line {whole_error.lineno} column {whole_error.colno}: {whole_error.msg}"
                         if isinstance(whole_error, json.JSONDecodeError) else str(whole_error))
                raise EvalSetError(f"{path}: not valid JSON ({where})") from whole_error
            raise EvalSetError(f"{path}:{n}: not valid JSON ({exc})") from exc
    if not rows or not all(isinstance(r, dict) for r in rows):
        raise EvalSetError(f"{path}: not valid JSON ({whole_error})") from whole_error
    records = []
    for row in rows:  # a line may hold a whole SQuAD file ({"data": [...]}) or one record
        data = row.get("data") if "data" in row else None
        records.extend(data if isinstance(data, list) else [data] if isinstance(data, dict) else [row])
    return records


class _Reader:
    """Accumulates documents, items and notes while walking one file (not shared)."""

    def __init__(self, path: Path):
        self.path = path
        self.docs: list[tuple[Document, list[Article]]] = []
        self.items: list[EvalItem] = []
        self.unscoreable: list[LoadNote] = []
        self.renamed: list[LoadNote] = []
        self.warnings: list[LoadNote] = []
        self.ids: set[str] = set()
        self.paths: set[str] = set()
        self.rows: dict[str, dict] = {}  # flat rows grouped by (title, context), in order

    def paragraph(self, para, title: str, where: str, fallback: str) -> None:
        """Index one paragraph and read its questions."""
        if not isinstance(para, dict):
            self.unscoreable.append(LoadNote(where, f"{where}: expected a paragraph object, got {_kind(para)}"))
            return
        qas = para.get("qas", [])
        if not isinstance(qas, list):
            self.unscoreable.append(LoadNote(where, f"{where}: field 'qas' must be a list, got {_kind(qas)}"))
            qas = []
        context = _first(para, "context", "context_text")
        if not isinstance(context, str) or not context.strip():
            for q_i, qa in enumerate(qas):
                qid = _raw_id(qa) or f"{where}.qas[{q_i}]"
                self.unscoreable.append(LoadNote(qid, f"{where}: paragraph has no text (field 'context')"))
            return
        pid = _text(_first(para, "id", "context_id"))
        ppath = f"{self.path.name}#{pid or fallback}"
        if ppath in self.paths:  # two paragraphs under one id: each keeps its own gold path
            ppath = f"{self.path.name}#{fallback}"
        while ppath in self.paths:
            ppath += "+"
        self.paths.add(ppath)
        doc = Document(doc_id=content_hash(context), path=ppath, text=context, kind="squad", title=title)
        article = Article(article_id=content_hash(title, context), doc_id=doc.doc_id, path=ppath, title=title,
                          text=context, segments=(Segment(0, len(context), 0),), sources=(ppath,))
        self.docs.append((doc, [article]))
        for q_i, qa in enumerate(qas):
            self.question(qa, context, ppath, f"{where}.qas[{q_i}]")

    def question(self, qa, context: str, ppath: str, where: str) -> None:
        """One question: an EvalItem, or a note saying why it cannot be scored."""
        if not isinstance(qa, dict):
            self.unscoreable.append(LoadNote(where, f"{where}: expected a question object, got {_kind(qa)}"))
            return
        raw_id = _raw_id(qa)
        qid = raw_id or where
        question = _first(qa, "question", "query_text")
        reason = None
        if question is None:
            reason = "field 'question' is missing"
        elif not isinstance(question, str):
            reason = f"field 'question' must be a string, got {_kind(question)}"
        elif not question.strip():
            reason = "empty question"
        elif len(question.strip()) > MAX_QUESTION_CHARS:
            # the assistant refuses such a question; scoring it would abort the whole run
            reason = f"question is {len(question.strip())} characters; Xunda accepts at most {MAX_QUESTION_CHARS}"
        answers, unanswerable, why = _answers(qa)
        reason = reason or why
        if reason:
            self.unscoreable.append(LoadNote(qid, f"{where}: {reason}"))
            return
        if not raw_id:
            self.renamed.append(LoadNote(qid, f"{where}: no id; named by its position"))
        elif qid in self.ids:
            n = 2
            while f"{raw_id}#{n}" in self.ids:
                n += 1
            qid = f"{raw_id}#{n}"
            self.renamed.append(LoadNote(qid, f"{where}: duplicate id {raw_id!r}; kept as {qid!r}"))
        self.ids.add(qid)
        if answers and not any(_squeeze(a) in _squeeze(context) for a in answers):
            self.warnings.append(LoadNote(qid, f"{where}: no answer text occurs in its paragraph (scored by text anyway)"))
        self.items.append(EvalItem(qid, question, answers, unanswerable=unanswerable, gold_paths=(ppath,)))

    def flat_row(self, row: dict, where: str) -> None:
        """A Hugging Face style row (context + one question): grouped into paragraphs by context."""
        context = _first(row, "context", "context_text")
        key = json.dumps([_text(row.get("title")), context if isinstance(context, str) else None], ensure_ascii=False)
        group = self.rows.setdefault(key, {"title": _text(row.get("title")), "context": context,
                                           "qas": [], "where": []})
        group["qas"].append(row)
        group["where"].append(where)

    def flush_rows(self) -> None:
        """Index the paragraphs gathered from flat rows (each question keeps its row's place)."""
        for g_i, group in enumerate(self.rows.values()):
            context = group["context"]
            if not isinstance(context, str) or not context.strip():
                for row, where in zip(group["qas"], group["where"]):
                    qid = _raw_id(row) or where
                    self.unscoreable.append(LoadNote(qid, f"{where}: question row has no text (field 'context')"))
                continue
            fallback = f"rows-{g_i}"
            self.paragraph({"context": context, "qas": []}, group["title"], group["where"][0], fallback)
            ppath = self.docs[-1][0].path
            for row, where in zip(group["qas"], group["where"]):
                self.question(row, context, ppath, where)
        self.rows.clear()


def _answers(qa: dict) -> tuple[tuple[str, ...], bool, str | None]:
    """(gold texts, unanswerable, reason it cannot be scored or None) of one question."""
    flag = qa.get("is_impossible", qa.get("impossible"))
    impossible = _flag(flag)
    if impossible is None:
        return (), False, f"field 'is_impossible' is {flag!r}, not a spelling of true or false"
    raw = qa.get("answers")
    if isinstance(raw, dict):  # Hugging Face: {"text": [...], "answer_start": [...]}
        raw = raw.get("text", [])
        raw = [raw] if isinstance(raw, str) else raw
    if impossible:
        return (), True, None  # some converted sets keep plausible answers in 'answers'
    if raw is None:
        if "plausible_answers" in qa:
            return (), True, None
        return (), False, "field 'answers' is missing"
    if not isinstance(raw, list):
        return (), False, f"field 'answers' must be a list, got {_kind(raw)}"
    if not raw:
        return (), True, None
    texts = []
    for ans in raw:
        text = ans.get("text") if isinstance(ans, dict) else ans
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text)
        if isinstance(text, str) and text.strip():
            texts.append(text)
    if not texts:
        return (), False, "every answer text is empty"
    return tuple(dict.fromkeys(texts)), False, None


def _flag(value) -> bool | None:
    """True/False for any common spelling of a boolean (None and missing are False), None otherwise."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def _first(obj: dict, *keys: str):
    """The value of the first of `keys` present in obj (None when none is)."""
    for k in keys:
        if k in obj:
            return obj[k]
    return None


def _raw_id(qa) -> str:
    """A question's own id as a string ('' when it has none)."""
    if not isinstance(qa, dict):
        return ""
    return _text(_first(qa, "id", "qid", "query_id")).strip()


def _text(value) -> str:
    return "" if value is None else str(value)


def _squeeze(text: str) -> str:
    """Text without whitespace (answers and contexts often differ only in spaces)."""
    return "".join(text.split())


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), type(value).__name__)
