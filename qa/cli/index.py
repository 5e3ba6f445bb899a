"""Commands that write or inspect an index: ingest, remove, info, check."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from qa.cli.common import (EmbedderOpt, IndexOpt, StoreOpt, WaitOpt, app, default_index, err, fail, make, out,
                           progress_bar, report_ingest)
from qa.errors import QAError


@app.command()
def ingest(paths: list[Path] = typer.Argument(..., help="Files or folders (recursive)."),
           index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt,
           index_type: Optional[str] = typer.Option(None, help="flat (default), hnsw or ivf."),
           chunk_size: int = typer.Option(300, help="Chunk size in characters."),
           chunk_overlap: int = typer.Option(60, help="Overlap between chunks in characters."),
           ray: Optional[str] = typer.Option(None, "--ray", metavar="ADDRESS",
                                             help="Embed passages on Ray workers: 'local' (a Ray in this "
                                                  "process), 'auto' or a cluster's HOST:PORT / ray://HOST:PORT. "
                                                  "Needs pip install 'xunda\\[scale]'."),
           ray_workers: int = typer.Option(2, help="Ray workers (actors), each loading the model once."),
           store: Optional[str] = StoreOpt, wait: bool = WaitOpt):
    """Add documents to an index. Exit 3 if some inputs were skipped, 4 if none could be read."""
    from qa.chunking import ChunkConfig
    from qa.indexer import ingest as run_ingest

    try:
        if ray is not None:
            from qa.ray_embedding import RayEmbedder

            model = RayEmbedder(embedder, ray, ray_workers)
        else:
            model = make(embedder)
        bar, update = progress_bar("embedding")
        with bar:
            r = run_ingest(paths, index or default_index(), model,
                           chunk_config=ChunkConfig(chunk_size, chunk_overlap),
                           index_type=index_type, progress=update, wait=wait, store=store)
    except QAError as exc:
        fail(exc)
    report_ingest(r)
    if r.skipped:
        raise typer.Exit(4 if not (r.documents_added or r.documents_unchanged) else 3)


@app.command()
def remove(paths: list[Path], index: Optional[Path] = IndexOpt, embedder: str = EmbedderOpt,
           store: Optional[str] = StoreOpt, wait: bool = WaitOpt):
    """Remove files (or folders) from an index."""
    from qa.indexer import remove_paths

    try:
        gone = remove_paths(paths, index or default_index(), make(embedder), wait=wait, store=store)
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
    """Verify every index file: recorded size and checksum, and that it loads (exit 7 on damage);
    for a Milvus-backed index, whether its collection holds the live chunks (exit 1 when unreachable)."""
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
    if result.mirror is not None and result.mirror.problem:
        err.print(f"[bold red]error:[/] {escape(result.mirror.problem)}", soft_wrap=True)
    if any(f.problem for f in result.files):
        raise typer.Exit(7)
    if not result.ok:  # the files are sound; their Milvus could not be reached
        raise typer.Exit(1)
