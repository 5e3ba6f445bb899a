"""`qa eval`: score an eval set or a SQuAD file, the reader alone, or compare two reports."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from qa.cli.common import (PROJECT, EmbedderOpt, IndexOpt, ReaderOpt, StoreOpt, app, err, fail, make, open_assistant,
                           out, progress_bar)
from qa.errors import QAError


@app.command("eval")
def eval_(set_: Optional[Path] = typer.Option(None, "--set", help="Eval set JSONL (default eval/seeds_qa.jsonl)."),
          squad: Optional[Path] = typer.Option(None, "--squad", help="A SQuAD-format JSON file, answered open-domain."),
          index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt, reader: str = ReaderOpt,
          store: Optional[str] = StoreOpt, report: Optional[Path] = typer.Option(None, "--report", help="Write the JSON report here."),
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
            result = _eval_open(set_, squad, index, embedder, mode, limit, workers, reader, store)
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
    from qa.reader.confidence import load_calibration
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


def _eval_open(set_, squad, index, embedder, mode, limit, workers=None, reader="rules", store=None):
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
            root, items, build_s = squad_index(squad, emb, progress=update, loaded=loaded, store=store)
        store = None  # squad_index keeps one index per store
    else:
        items = load_eval_set(set_ or PROJECT / "eval" / "seeds_qa.jsonl")
        root = open_assistant(index, embedder, store=store).index_dir
    assistant = Assistant.open(root, emb, retrieval=RetrievalConfig(mode=mode), reader=reader,
                               time_budget=None, store=store)  # figures that do not depend on the machine's load
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
