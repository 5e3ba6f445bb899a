"""The Gradio chat UI: questions, cited answers, retrieved passages, uploads, statistics, settings,
and a tab with the newest eval report (`qa eval --html eval/reports/NAME.html`).

All answering goes through `qa.Assistant`; this module only turns its results into pages.
Per-user state lives in the components (the chatbot holds the conversation), never in globals.
API: `gradio_client.Client(url).predict("5月PMI是多少？", api_name="/chat")` -> answer text.
"""
from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

# Gradio reads this at import time; the product runs offline and sends no telemetry.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from qa.assistant import READERS, default_threshold, history_questions  # noqa: E402
from qa.errors import ConfigError, QAError  # noqa: E402
from qa.inputs import MAX_QUESTION_CHARS, clean_question  # noqa: E402
from qa.textrepair import repair_text  # noqa: E402
from qa.report_html import MAKE_ONE, latest_report  # noqa: E402
from ui import strings as S  # noqa: E402
from ui.articles import (article_rows, count_line, file_choices, remove_file,  # noqa: E402
                         search_rows, table_value)
from ui.examples import example_questions  # noqa: E402
from ui.render import (answer_parts, answer_plain, render_error, render_eval_report,  # noqa: E402
                       render_info, render_notice, render_passages, render_report, wrap)
from ui.uploads import (ALLOWED_EXTENSIONS, MAX_FILE_BYTES, MAX_FILES,  # noqa: E402,F401
                        check_uploads, ingest_uploads, store_upload)

log = logging.getLogger(__name__)

CONCURRENCY = 4  # answers run in parallel for up to this many users; the rest wait in the queue
STREAM_PAUSE = 0.04  # seconds between streamed paragraphs, so the answer visibly builds up
SHOWN_CHARS = 2 * MAX_QUESTION_CHARS  # of a question echoed in the chat

CSS = """
.xd-msg p { margin: 0.25em 0; }
.xd-msg mark { background: #fde68a; color: inherit; padding: 0 2px; border-radius: 2px; }
.xd-msg blockquote { margin: 0.4em 0; padding-left: 0.8em; border-left: 3px solid #d1d5db; }
.xd-rewrite, .xd-conf, .xd-meta, .xd-cite { color: #6b7280; font-size: 0.92em; }
.xd-closest li, .xd-hits li { margin-bottom: 0.6em; }
.xd-passage { font-size: 0.93em; }
.xd-info { margin: 0; padding-left: 1.2em; }
.xd-error { color: #b91c1c; }
.xd-notice { color: #1e3a8a; background: #eff6ff; border-radius: 6px; padding: 0.5em 0.8em; }
.xd-closest { padding-left: 1.4em; margin: 0.2em 0; }
.xd-closest summary { cursor: pointer; }
.xd-near .xd-passage { margin-top: 0.3em; }
"""


def user_turns(history: Sequence[Any] | None) -> list[str]:
    """The user's earlier questions from a Gradio chatbot value (see qa.assistant.history_questions).

    A question refused when it was asked (too long, empty) stays in the chat but is left out
    here, so it does not make every later question fail too."""
    turns = []
    for question in history_questions(history):
        try:
            turns.append(clean_question(question))
        except ConfigError:
            continue
    return turns


def parse_auth(value: str) -> tuple[str, str]:
    """("user", "password") from "user:password" (split at the first colon)."""
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        # The value itself is not echoed: it may hold a password.
        raise ConfigError("auth from --auth or XUNDA_AUTH must look like user:password "
                          "(non-empty user and password separated by ':')")
    return user.strip(), password


def api_settings(k: int | None, threshold: float | None, reader: str | None = None) -> dict[str, Any]:
    """ask() keyword arguments from API values: k <= 0, threshold < 0 and an empty reader (or
    None) mean "the server's setting". Other values (text, nan) go on for ask() to refuse
    with a message."""
    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if k is None or number(k) and k <= 0:
        k = None
    elif number(k) and math.isfinite(k) and k == int(k):  # Gradio sends 3.0 for 3
        k = int(k)
    if threshold is None or number(threshold) and threshold < 0:
        threshold = None
    return {"k": k, "threshold": threshold, "reader": reader or None}


def answer_record(answer) -> dict:
    """An Answer as JSON-ready data for API clients (plain text, nothing rendered)."""
    return {
        "text": answer_plain(answer), "confidence": round(float(answer.confidence), 4),
        "abstained": bool(answer.abstained or not answer.text), "evidence": answer.evidence,
        "question": answer.question, "rewritten_question": answer.rewritten_question,
        "sources": [{"title": s.title, "files": [Path(p).name for p in s.paths], "date": s.date,
                     "dateline": s.dateline, "score": round(float(s.score), 4),
                     "start": s.start, "end": s.end} for s in answer.sources],
    }


def build_app(assistant, reports_dir: str | Path | None = None) -> gr.Blocks:
    """The Blocks app for `assistant` (not launched): chat, passages, examples, upload, settings,
    the articles panel, and a tab with the newest eval report of `reports_dir` (default eval/reports)."""
    examples = example_questions(assistant)

    def eval_report() -> str:
        """The newest eval/reports/*.html, or how to make one."""
        return render_eval_report(latest_report(reports_dir), MAKE_ONE)

    placeholder = S.EXAMPLE_PREFIX + examples[0] if examples else S.QUESTION_PLACEHOLDER

    def respond(message: str, history: list, k: float, threshold: float, reader: str = assistant.reader
                ) -> Iterator[tuple[list, str, str]]:
        """Stream one answer into the chat; also fill the passages panel."""
        history = list(history or [])
        message = (message or "").strip()
        if not message:
            yield history, "", gr.skip()
            return
        # The chat shows the question repaired (a lone surrogate cannot be sent back to the
        # browser) and cut: an over-long one is refused by ask() and need not be echoed whole.
        shown = repair_text(message[:SHOWN_CHARS]) + ("…" if len(message) > SHOWN_CHARS else "")
        turns = history + [{"role": "user", "content": shown}]
        if not assistant.articles:  # a new archive: say how to fill it rather than "no answer"
            yield turns + [{"role": "assistant", "content": render_notice(S.ASK_BEFORE_ARTICLES)}], "", gr.skip()
            return
        yield turns + [{"role": "assistant", "content": wrap([f"<p>{S.SEARCHING}</p>"])}], "", gr.skip()
        try:
            answer = assistant.ask(message, user_turns(history), k=int(k), threshold=float(threshold),
                                   reader=reader)
        except QAError as exc:
            yield turns + [{"role": "assistant", "content": render_error(S.error_zh(exc))}], "", gr.skip()
            return
        except Exception:  # a bug must not end the session: log it, tell the user
            log.exception("answering %r failed", message)
            yield turns + [{"role": "assistant", "content": render_error(S.INTERNAL_ERROR)}], "", gr.skip()
            return
        parts = answer_parts(answer, asked=shown)
        passages = render_passages(answer.hits)
        for n in range(1, len(parts) + 1):
            yield turns + [{"role": "assistant", "content": wrap(parts[:n])}], "", passages
            if n < len(parts):
                time.sleep(STREAM_PAUSE)

    def chat(message: str, history: list[str] | None = None, k: int = 0,
             threshold: float = -1.0, reader: str = "") -> str:
        """Answer `message` (earlier questions in `history`) with the answer text, or
        未在已收录的文章中找到答案 when the articles do not hold it. k<=0, threshold<0 and
        reader "" use the server's settings; reader "rules" or "neural" picks the reader."""
        return answer_plain(api_ask(message, history, k, threshold, reader))

    def ask(message: str, history: list[str] | None = None, k: int = 0,
            threshold: float = -1.0, reader: str = "") -> dict:
        """Like /chat, with the details: text, confidence, abstained, evidence,
        rewritten_question and sources (title, files, date, dateline, score, start, end)."""
        return answer_record(api_ask(message, history, k, threshold, reader))

    def api_ask(message: str, history: list[str] | None, k: int | None, threshold: float | None,
                reader: str | None = None):
        try:
            # history goes as given: ask() refuses a string or number rather than reading it
            return assistant.ask(message, history, **api_settings(k, threshold, reader))
        except QAError as exc:  # gr.Error reaches the client with its message
            # A user's mistake (a 10,000-character question, a bad setting) is the client's to
            # see: no traceback in the server's log for each one.
            raise gr.Error(str(exc), print_exception=False) from exc

    def refreshed(query: str = "") -> tuple:
        """New values for everything that shows the index: welcome notice, statistics, examples,
        the articles table, its count line and the files offered for removal."""
        rows = article_rows(assistant)
        shown = search_rows(rows, query)
        return (gr.update(visible=not assistant.articles), render_info(assistant.info()),
                gr.Dataset(samples=[[q] for q in example_questions(assistant)]),
                table_value(shown), count_line(len(rows), len(shown), query),
                gr.Dropdown(choices=file_choices(assistant), value=None))

    def add_files(files: list[str] | None, query: str, progress=gr.Progress()) -> tuple:
        """Ingest uploaded files; return the result line, the cleared upload box and the refreshed panels."""
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        if not paths:
            return (render_report(None, [S.NO_FILES_CHOSEN]), gr.skip()) + (gr.skip(),) * 6
        progress(0, desc=S.READING_FILES)
        report, rejected = ingest_uploads(
            assistant, paths,
            progress=lambda done, total: progress(done / total if total else 1.0,
                                                  desc=S.EMBEDDING.format(done=done, total=total)))
        return (render_report(report, rejected), None) + refreshed(query)

    def search(query: str) -> tuple:
        rows = article_rows(assistant)
        shown = search_rows(rows, query)
        return table_value(shown), count_line(len(rows), len(shown), query)

    def pick(query: str, event: gr.SelectData):
        """A click on a table row offers that article's file for removal."""
        shown = search_rows(article_rows(assistant), query)
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if not isinstance(row, int) or not 0 <= row < len(shown):
            return gr.skip()
        return gr.Dropdown(value=shown[row].files[0])

    def remove(path: str | None, query: str) -> tuple:
        removed, message = remove_file(assistant, path)
        notice = render_notice(message) if removed else render_error(message)
        return (notice,) + (refreshed(query) if removed else (gr.skip(),) * 6)

    empty = not assistant.articles
    with gr.Blocks(title=S.TITLE, analytics_enabled=False) as demo:
        gr.HTML(f"<h1 style='margin:0'>{S.TITLE}</h1>"
                f"<p style='margin:0.2em 0;color:#6b7280'>{S.TAGLINE}</p>")
        welcome = gr.HTML(render_notice(S.EMPTY_INDEX), visible=empty, elem_id="xd-welcome")
        with gr.Tabs():
            with gr.Tab(S.CHAT_TAB, id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(label=S.CHAT_LABEL, elem_id="xd-chat", height=520,
                                             latex_delimiters=[], sanitize_html=True, buttons=[],
                                             feedback_options=None, layout="bubble")
                        with gr.Row():
                            msg = gr.Textbox(label=S.QUESTION_LABEL, show_label=False, placeholder=placeholder,
                                             elem_id="xd-question", scale=5, min_width=200, lines=1,
                                             max_lines=4, autofocus=True)
                            send = gr.Button(S.SEND, variant="primary", scale=1, min_width=72,
                                             elem_id="xd-send")
                        example_box = gr.Dataset(components=[msg], samples=[[q] for q in examples],
                                                 label=S.EXAMPLES_LABEL, elem_id="xd-examples",
                                                 samples_per_page=6)
                        with gr.Accordion(S.PASSAGES_LABEL, open=False, elem_id="xd-passages-box"):
                            passages = gr.HTML(render_passages([]), elem_id="xd-passages")
                    with gr.Column(scale=2, min_width=300):
                        with gr.Accordion(S.UPLOAD_LABEL, open=True):
                            files = gr.File(label=S.upload_hint(" ".join(ALLOWED_EXTENSIONS),
                                                                MAX_FILE_BYTES // (1024 * 1024), MAX_FILES),
                                            file_count="multiple", file_types=list(ALLOWED_EXTENSIONS),
                                            type="filepath", elem_id="xd-files")
                            add = gr.Button(S.ADD, variant="secondary", elem_id="xd-add")
                            report = gr.HTML(elem_id="xd-report")
                        with gr.Accordion(S.STATS_LABEL, open=True):
                            stats = gr.HTML(render_info(assistant.info()), elem_id="xd-stats")
                        with gr.Accordion(S.SETTINGS_LABEL, open=False):
                            k = gr.Slider(1, 20, value=assistant.top_k, step=1, label=S.TOP_K_LABEL)
                            threshold = gr.Slider(0.0, 1.0, value=round(assistant.threshold, 2), step=0.01,
                                                  label=S.THRESHOLD_LABEL)
                            reader = gr.Radio(S.READER_CHOICES, value=assistant.reader, elem_id="xd-reader",
                                              label=S.READER_LABEL)
            with gr.Tab(S.ARTICLES_LABEL, id="articles"):
                query = gr.Textbox(label=S.ARTICLES_SEARCH, show_label=False, placeholder=S.ARTICLES_SEARCH, elem_id="xd-article-search")
                rows = article_rows(assistant)
                counts = gr.HTML(count_line(len(rows), len(rows), ""), elem_id="xd-article-count")
                table = gr.Dataframe(table_value(rows), headers=S.ARTICLES_HEADERS, interactive=False,
                                     wrap=True, elem_id="xd-articles", max_height=480)
                with gr.Row():
                    chosen = gr.Dropdown(file_choices(assistant), value=None, label=S.REMOVE_CHOICE,
                                         elem_id="xd-remove-file", scale=3)
                    drop = gr.Button(S.REMOVE, variant="stop", elem_id="xd-remove", scale=1)
                removed = gr.HTML(elem_id="xd-removed")
            with gr.Tab(S.REPORT_TAB, id="eval-report") as report_tab:
                refresh = gr.Button(S.REFRESH, size="sm", elem_id="xd-eval-refresh")
                eval_page = gr.HTML(eval_report, elem_id="xd-eval-report")

        # Each reader has its own calibrated threshold: switching readers moves the slider to it.
        reader.change(lambda kind: round(default_threshold(kind), 2), reader, threshold,
                      api_visibility="private", queue=False)
        ask_io = dict(fn=respond, inputs=[msg, chatbot, k, threshold, reader],
                      outputs=[chatbot, msg, passages], api_visibility="private")
        msg.submit(**ask_io)
        send.click(**ask_io)
        example_box.click(lambda sample: sample[0], example_box, msg,
                          api_visibility="private", queue=False).then(**ask_io)
        # The chatbot's own trash button clears the talk; the passages panel follows.
        chatbot.clear(lambda: render_passages([]), None, passages, api_visibility="private",
                      queue=False)
        index_views = [welcome, stats, example_box, table, counts, chosen]
        # Writes (uploads, removals) change the index one at a time (Assistant also locks).
        add.click(add_files, [files, query], [report, files] + index_views, api_visibility="private",
                  concurrency_limit=1, concurrency_id="index-write")
        drop.click(remove, [chosen, query], [removed] + index_views, api_visibility="private",
                   concurrency_limit=1, concurrency_id="index-write")
        query.change(search, query, [table, counts], api_visibility="private", queue=False)
        table.select(pick, query, chosen, api_visibility="private", queue=False)
        # The newest report shows without a restart: read again on opening the tab or refreshing.
        refresh.click(eval_report, None, eval_page, api_visibility="private", queue=False)
        report_tab.select(eval_report, None, eval_page, api_visibility="private", queue=False)
        gr.api(chat, api_name="chat")
        gr.api(ask, api_name="ask")
    return demo


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           auth: tuple[str, str] | None = None, block: bool = True) -> gr.Blocks:
    """Queue and launch `demo` with the product's safe defaults (local bind, upload size cap)."""
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    demo.launch(server_name=host, server_port=port, share=share, auth=auth,
                auth_message="讯答：请登录" if auth else None, prevent_thread_lock=True,
                max_file_size=MAX_FILE_BYTES, css=CSS, footer_links=["api"], ssr_mode=False,
                show_error=False, quiet=True, inbrowser=False,
                i18n=gr.I18n(**{"zh-CN": S.GRADIO_STRINGS}))
    if block is False:
        return demo
    print(f"讯答 running on {demo.local_url}" + (f" and {demo.share_url}" if demo.share_url else "")
          + " (Ctrl+C to stop)", flush=True)
    demo.block_thread()
    return demo


def serve(assistant, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
          auth: str | None = None, *, block: bool = True) -> gr.Blocks:
    """Serve the chat UI for `assistant` on http://HOST:PORT (blocks until stopped unless
    block=False). `auth` is "user:password"; None reads env XUNDA_AUTH; no auth when unset."""
    if auth is None:
        auth = os.environ.get("XUNDA_AUTH") or None
    credentials = parse_auth(auth) if auth else None
    assistant.warm_up()
    return launch(build_app(assistant), host=host, port=port, share=share, auth=credentials,
                  block=block)


__all__ = ["build_app", "serve", "launch", "parse_auth", "check_uploads", "ingest_uploads",
           "user_turns", "answer_record"]
