"""HTML for the chat UI: answers, citations, passages, ingest results and index statistics.

Every piece of article text, title and file name goes through `html.escape`, so an article
holding `<script>` or `<img onerror=...>` shows as text. Output is one HTML block without
blank lines: Markdown renderers pass such a block through untouched (no Markdown inside
article text is interpreted either).
"""
from __future__ import annotations

import time
from html import escape
from pathlib import Path
from typing import Iterable, Sequence

from qa.errors import InputError
from qa.types import Answer, Hit, Source

ABSTAIN_TEXT = "未在已收录的文章中找到答案"
PASSAGE_CHARS = 220  # closest passages are cut to this many characters in the chat


def esc(text: object) -> str:
    """`text` as HTML-safe text: &, <, >, quotes escaped; line breaks become spaces (no blank lines)."""
    return escape(str(text).replace("\r", " ").replace("\n", " "), quote=True)


def esc_lines(text: str) -> str:
    """Escaped `text` with its line breaks kept as <br> (for panels that Markdown never sees)."""
    return "<br>".join(esc(line) for line in text.splitlines())


def short(text: str, limit: int) -> str:
    """`text` with whitespace runs collapsed, cut to `limit` characters with … when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def file_label(path: str) -> str:
    """The file name of a stored path (JSONL records keep their :LINE suffix)."""
    return Path(path).name or path


def percent(value: float) -> str:
    """A confidence in [0, 1] as a whole percentage, e.g. 0.873 -> "87%"."""
    return f"{round(max(0.0, min(1.0, value)) * 100)}%"


def highlight(evidence: str, span: str, offset: int = -1) -> str:
    """Escaped `evidence` with `span` wrapped in <mark>: at `offset` when the span sits there,
    else at its first occurrence; unmarked when the span is not in the evidence."""
    if span and not (0 <= offset and evidence[offset:offset + len(span)] == span):
        offset = evidence.find(span) if span else -1
    if not span or offset < 0:
        return esc(evidence)
    end = offset + len(span)
    return f"{esc(evidence[:offset])}<mark>{esc(span)}</mark>{esc(evidence[end:])}"


def citation(source: Source) -> str:
    """《title》 · dateline or date · file names, escaped, as one HTML line."""
    parts = [f"《{esc(source.title)}》" if source.title else "（无标题）"]
    when = source.dateline or source.date
    if when:
        parts.append(esc(when))
    files = [file_label(p) for p in source.paths]
    if files:
        parts.append("来源：" + "、".join(f"<code>{esc(f)}</code>" for f in files))
    return " · ".join(parts)


def answer_parts(answer: Answer, asked: str | None = None) -> list[str]:
    """The answer as a list of HTML paragraphs, in display order (streamed one by one).

    `asked` is the question as the user typed it; 理解为 shows when the rewrite differs."""
    parts: list[str] = []
    asked = answer.question if asked is None else asked
    if answer.rewritten_question and answer.rewritten_question.strip() != asked.strip():
        parts.append(f'<p class="xd-rewrite">理解为：{esc(answer.rewritten_question)}</p>')
    if answer.abstained or not answer.text:
        parts.append(f'<p class="xd-abstain"><strong>{ABSTAIN_TEXT}。</strong></p>')
        if answer.sources:
            parts.append('<p class="xd-label">最接近的段落：</p>')
            items = "".join(
                f"<li>{citation(s)}<br><span class=\"xd-passage\">"
                f"{esc(short(s.passage, PASSAGE_CHARS))}</span></li>"
                for s in answer.sources
            )
            parts.append(f'<ol class="xd-closest">{items}</ol>')
        return parts
    parts.append(f'<p class="xd-answer">答案：<strong>{esc(answer.text)}</strong></p>')
    if answer.evidence:
        offset = answer.start - answer.evidence_start if answer.evidence_start >= 0 else -1
        parts.append(f'<blockquote class="xd-evidence">{highlight(answer.evidence, answer.text, offset)}'
                     "</blockquote>")
    if answer.sources:
        parts.append(f'<p class="xd-cite">出处：{citation(answer.sources[0])}</p>')
    parts.append(f'<p class="xd-conf">置信度：{percent(answer.confidence)}</p>')
    return parts


def wrap(parts: Sequence[str]) -> str:
    """Paragraphs joined into one HTML block (no blank lines, so Markdown leaves it alone)."""
    return '<div class="xd-msg">' + "".join(parts) + "</div>"


def render_answer(answer: Answer, asked: str | None = None) -> str:
    """The whole answer message: bold span, highlighted evidence, citation, confidence."""
    return wrap(answer_parts(answer, asked))


def answer_plain(answer: Answer) -> str:
    """The answer as plain text for API clients: the span, or the abstention notice."""
    return ABSTAIN_TEXT if answer.abstained or not answer.text else answer.text


def render_error(message: str) -> str:
    """An error notice (escaped), shown in the chat instead of an answer."""
    return wrap([f'<p class="xd-error">⚠ {esc(message)}</p>'])


def render_passages(hits: Iterable[Hit]) -> str:
    """The retrieved passages (title, score, date, files, full text), best first, as an HTML list."""
    items = []
    for h in hits:
        when = h.dateline or h.date
        head = f"<strong>《{esc(h.title)}》</strong>" if h.title else "<strong>（无标题）</strong>"
        meta = f"得分 {h.score:.3f}" + (f" · {esc(when)}" if when else "")
        files = "、".join(esc(file_label(p)) for p in h.paths)
        items.append(f'<li class="xd-hit">{head} <span class="xd-meta">{meta} · {files}</span>'
                     f'<div class="xd-passage">{esc_lines(h.text)}</div></li>')
    if not items:
        return '<p class="xd-meta">（尚无检索结果：先提一个问题）</p>'
    return '<ol class="xd-hits">' + "".join(items) + "</ol>"


def skip_reason(error: InputError) -> str:
    """'file name: reason' for one skipped input, escaped."""
    where = file_label(error.path) + (f":{error.line}" if error.line is not None else "")
    return f"{esc(where)}：{esc(error.reason)}"


def render_report(report, rejected: Sequence[str] = ()) -> str:
    """One result line for an upload: articles added, duplicates merged, files skipped and why.

    `report` is a qa.indexer.IngestReport (or None when nothing was ingested); `rejected`
    holds the upload checks' messages (already plain text, escaped here)."""
    lines: list[str] = []
    if report is not None:
        lines.append(
            f"已处理 {report.files} 个文件：新增文档 {report.documents_added} 篇，"
            f"未变 {report.documents_unchanged} 篇，更新 {report.documents_replaced} 篇；"
            f"找到文章 {report.articles_found} 篇，合并重复 {report.duplicates_merged} 篇；"
            f"索引现有文章 {report.articles} 篇、段落 {report.chunks} 个（用时 {report.seconds:.1f} 秒）。"
        )
    skipped = [skip_reason(e) for e in (report.skipped if report is not None else ())]
    skipped += [esc(r) for r in rejected]
    if skipped:
        lines.append(f"跳过 {len(skipped)} 个文件：" + "；".join(skipped))
    if not lines:
        lines.append("没有文件被加入索引。")
    return '<div class="xd-report">' + "<br>".join(lines) + "</div>"


def render_info(info) -> str:
    """Index statistics (a qa.assistant.IndexInfo) as a short HTML list."""
    size_mb = info.size_bytes / 1e6
    return (
        '<ul class="xd-info">'
        f"<li>文档：{info.documents}</li><li>文章：{info.articles}</li>"
        f"<li>段落：{info.chunks}</li><li>向量模型：<code>{esc(info.embedder)}</code>（{info.dim} 维）</li>"
        f"<li>索引：{esc(info.index_type)}，{size_mb:.1f} MB</li>"
        f"<li>更新于：{esc(info.updated)}</li></ul>"
    )


def render_eval_report(path: Path | None, make_one: str) -> str:
    """The eval report page at `path` in a sandboxed frame (its filter script runs, but cannot
    reach this page), or, when there is none, the command `make_one` that writes one."""
    if path is None:
        return (f'<p class="xd-meta">还没有评测报告（eval/reports/*.html）。生成一份：'
                f"<code>{esc(make_one)}</code>，然后点击“刷新”。</p>")
    try:
        page = path.read_text(encoding="utf-8")
        modified = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    except (OSError, UnicodeDecodeError) as exc:
        return f'<p class="xd-error">无法读取评测报告 {esc(path.name)}：{esc(exc)}；重新运行 <code>{esc(make_one)}</code></p>'
    return (f'<p class="xd-meta">{esc(path.name)} · 更新于 {esc(modified)}</p>'
            f'<iframe id="xd-eval-frame" title="eval report" sandbox="allow-scripts" '
            f'srcdoc="{escape(page, quote=True)}" '
            'style="width:100%;height:80vh;border:1px solid #e5e7eb;border-radius:4px"></iframe>')
