"""`qa`: a thin command line over the library (parse, call, print).

Exit codes: 0 success; 1 a user error (message printed, no traceback); 2 bad usage;
3 ingest finished but some inputs were skipped; 4 nothing could be ingested;
5 `qa eval --min-f1` gate failed; 6 `qa eval --compare`: NEW is worse beyond the interval;
7 `qa check` found a damaged index file.
"""
from __future__ import annotations

import sys

from rich.markup import escape

from qa.cli import index, answer, evaluate  # noqa: F401,I001  (each registers its commands on `app`, in this order)
from qa.cli.answer import answer_json, print_answer
from qa.cli.common import app, default_index, err, open_assistant
from qa.errors import QAError


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except QAError as exc:  # a last net: user mistakes never end in a traceback
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(1)


__all__ = ["app", "main", "open_assistant", "default_index", "answer_json", "print_answer"]
