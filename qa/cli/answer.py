"""Commands that answer: ask, chat and serve (the chat UI)."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from qa.cli.common import EmbedderOpt, IndexOpt, ReaderOpt, StoreOpt, app, err, fail, open_assistant, out
from qa.errors import QAError
from qa.inputs import TIME_BUDGET


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


@app.command()
def ask(question: str, index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt,
        store: Optional[str] = StoreOpt, as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON.")):
    """Answer one question (human output, or --json)."""
    try:
        a = open_assistant(index, embedder, reader, store=store).ask(question)
    except QAError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(answer_json(a), ensure_ascii=False, indent=2))
    else:
        print_answer(a)


@app.command()
def chat(index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt,
         store: Optional[str] = StoreOpt):
    """A terminal conversation that keeps history (empty line or Ctrl-D to quit)."""
    try:
        assistant = open_assistant(index, embedder, reader, store=store)
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


@app.command()
def serve(index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt,
          store: Optional[str] = StoreOpt,
          host: str = typer.Option("127.0.0.1", help="Interface to bind (default: this machine only)."),
          port: int = typer.Option(7860), share: bool = typer.Option(False, help="Public Gradio link."),
          auth: Optional[str] = typer.Option(None, help="user:password (or env XUNDA_AUTH)."),
          time_budget: float = typer.Option(TIME_BUDGET, help="Seconds a question may take before the "
                                            "neural reader stops reading further passages.")):
    """Serve the chat UI (Gradio) on http://HOST:PORT."""
    from ui.app import serve as run_server

    try:
        run_server(open_assistant(index, embedder, reader, empty_ok=True, time_budget=time_budget, store=store),
                   host=host, port=port, share=share, auth=auth)
    except QAError as exc:
        fail(exc)
