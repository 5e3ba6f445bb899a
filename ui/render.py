"""HTML for the chat UI: answers, citations, passages, ingest results and index statistics.

Every piece of article text, title and file name goes through `html.escape`, so an article
holding `<script>` or `<img onerror=...>` shows as text. Output is one HTML block without
blank lines: Markdown renderers pass such a block through untouched (no Markdown inside
article text is interpreted either).
"""
from __future__ import annotations

import re
import time
from html import escape
from pathlib import Path
from typing import Iterable, Sequence

from qa.errors import InputError
from qa.question import analyze_question
from qa.types import Answer, Hit, Source
from ui import strings as S
from ui.strings import file_name as file_label

ABSTAIN_TEXT = "未在已收录的文章中找到答案"  # the API's plain-text abstention (README)
CLOSEST_SHOWN = 3  # closest passages under an abstention: enough to judge, short on a phone
SNIPPET_CHARS = 80  # of each closest passage, around the question's words


def esc(text: object) -> str:
    """`text` as HTML-safe text: &, <, >, quotes escaped; line breaks become spaces (no blank lines)."""
    return escape(str(text).replace("\r", " ").replace("\n", " "), quote=True)


def esc_code(text: str) -> str:
    """Escaped `text` with `backticked` parts shown as <code> (the UI's messages mark code so)."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", esc(text))


def esc_lines(text: str) -> str:
    """Escaped `text` with its line breaks kept as <br> (for panels that Markdown never sees)."""
    return "<br>".join(esc(line) for line in text.splitlines())


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
    parts = [heading(source.title, source.paths)]
    when = source.dateline or source.date
    if when:
        parts.append(esc(when))
    files = [file_label(p) for p in source.paths]
    if files:
        parts.append("来源：" + "、".join(f"<code>{esc(f)}</code>" for f in files))
    return " · ".join(parts)


def heading(title: str, paths: Sequence[str]) -> str:
    """《title》, or the file name in 《》 when the article has no title, escaped."""
    if title:
        return f"《{esc(title)}》"
    return f"《{esc(file_label(paths[0]))}》" if paths else S.NO_TITLE


def question_words(question: str) -> list[str]:
    """The content words of a question, longest first (what a snippet is centred on and marks)."""
    words = {w for w in analyze_question(question).keywords if len(w) > 1 or not w.isascii()}
    return sorted(words, key=len, reverse=True)


def _marked(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of every occurrence of `words` in `text`, in order."""
    spans = sorted({(m.start(), m.end()) for w in words if w
                    for m in re.finditer(re.escape(w), text, re.IGNORECASE)})
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def mark_words(text: str, words: Sequence[str]) -> str:
    """Escaped `text` with every occurrence of `words` wrapped in <mark>."""
    out, last = [], 0
    for start, end in _marked(text, words):
        out.append(f"{esc(text[last:start])}<mark>{esc(text[start:end])}</mark>")
        last = end
    return "".join(out) + esc(text[last:])


def snippet(text: str, words: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `text` around where most of `words` occur, with … where cut,
    the words marked; escaped HTML."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return mark_words(flat, words)
    spans = _marked(flat, words)
    best, best_count = 0, -1
    for start, _ in spans or [(0, 0)]:
        lo = max(0, min(start - width // 4, len(flat) - width))
        count = len({flat[s:e].lower() for s, e in spans if lo <= s and e <= lo + width})
        if count > best_count:
            best, best_count = lo, count
    cut = flat[best:best + width]
    return ("…" if best else "") + mark_words(cut, words) + ("…" if best + width < len(flat) else "")


def closest_passages(answer: Answer) -> str:
    """The few passages closest to an unanswered question: each a snippet with the question's
    words marked, which opens (HTML <details>) to its citation and whole passage."""
    words = question_words(answer.rewritten_question or answer.question)
    shown = answer.sources[:CLOSEST_SHOWN]
    items = "".join(
        f'<li><details class="xd-near"><summary>{snippet(s.passage, words)}</summary>'
        f'<p class="xd-cite">{citation(s)}</p>'
        f'<p class="xd-passage">{mark_words(" ".join(s.passage.split()), words)}</p></details></li>'
        for s in shown)
    return (f'<p class="xd-label">{S.CLOSEST.format(n=len(shown))}</p>'
            f'<ol class="xd-closest">{items}</ol>')


def answer_parts(answer: Answer, asked: str | None = None) -> list[str]:
    """The answer as a list of HTML paragraphs, in display order (streamed one by one).

    `asked` is the question as the user typed it; 理解为 shows when the rewrite differs."""
    parts: list[str] = []
    asked = answer.question if asked is None else asked
    if answer.rewritten_question and answer.rewritten_question.strip() != asked.strip():
        parts.append(f'<p class="xd-rewrite">理解为：{esc(answer.rewritten_question)}</p>')
    if answer.abstained or not answer.text:
        parts.append(f'<p class="xd-abstain"><strong>{S.NO_ANSWER}</strong></p>')
        if answer.sources:
            parts.append(closest_passages(answer))
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
    return wrap([f'<p class="xd-error">⚠ {esc_code(message)}</p>'])


def render_notice(message: str) -> str:
    """A neutral notice (escaped): what to do next, not an error."""
    return wrap([f'<p class="xd-notice">{esc(message)}</p>'])


def render_passages(hits: Iterable[Hit]) -> str:
    """The retrieved passages (title, score, date, files, full text), best first, as an HTML list."""
    items = []
    for h in hits:
        when = h.dateline or h.date
        head = f"<strong>{heading(h.title, h.paths)}</strong>"
        meta = f"得分 {h.score:.3f}" + (f" · {esc(when)}" if when else "")
        files = "、".join(esc(file_label(p)) for p in h.paths)
        items.append(f'<li class="xd-hit">{head} <span class="xd-meta">{meta} · {files}</span>'
                     f'<div class="xd-passage">{esc_lines(h.text)}</div></li>')
    if not items:
        return f'<p class="xd-meta">{S.NO_HITS}</p>'
    return '<ol class="xd-hits">' + "".join(items) + "</ol>"


def skip_reason(error: InputError) -> str:
    """'file name: what went wrong and what to do' for one skipped input, in Chinese, escaped."""
    where, why = S.skip_message(error)
    return f"<code>{esc(where)}</code>：{esc_code(why)}"


def render_report(report, rejected: Sequence[str] = ()) -> str:
    """One result line for an upload: articles added, duplicates merged, files skipped and why.

    `report` is a qa.indexer.IngestReport (or None when nothing was ingested); `rejected`
    holds the upload checks' messages (already plain text, escaped here)."""
    lines: list[str] = []
    if report is not None:
        lines.append(esc(S.ingest_summary(report)))
    skipped = [skip_reason(e) for e in (report.skipped if report is not None else ())]
    skipped += [esc_code(r) for r in rejected]
    if skipped:
        lines.append(f"跳过 {len(skipped)} 个文件：" + "；".join(skipped))
    if not lines:
        lines.append(S.NOTHING_ADDED)
    return '<div class="xd-report">' + "<br>".join(lines) + "</div>"


def render_info(info) -> str:
    """Index statistics (a qa.assistant.IndexInfo) as a short HTML list."""
    size_mb = info.size_bytes / 1e6
    kind = f"<code>{esc(info.index_type)}</code>，{size_mb:.1f} MB" if info.index_type else "尚未建立"
    return (
        '<ul class="xd-info">'
        f"<li>文档：{info.documents}</li><li>文章：{info.articles}</li>"
        f"<li>段落：{info.chunks}</li><li>向量模型：<code>{esc(info.embedder)}</code>（{info.dim} 维）</li>"
        f"<li>索引：{kind}</li>"
        f"<li>更新于：{esc(info.updated[:16].replace('T', ' ')) or '—'}</li></ul>"
    )


def render_eval_report(path: Path | None, make_one: str) -> str:
    """The eval report page at `path` in a sandboxed frame (its filter script runs, but cannot
    reach this page), or, when there is none, the command `make_one` that writes one."""
    if path is None:
        return (f'<p class="xd-meta">还没有评测报告（<code>eval/reports/*.html</code>）。生成一份：'
                f"<code>{esc(make_one)}</code>，然后点击“刷新”。</p>")
    try:
        page = path.read_text(encoding="utf-8")
        modified = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    except (OSError, UnicodeDecodeError) as exc:
        return f'<p class="xd-error">无法读取评测报告 {esc(path.name)}：{esc(exc)}；重新运行 <code>{esc(make_one)}</code></p>'
    return (f'<p class="xd-meta">{esc(path.name)} · 更新于 {esc(modified)}</p>'
            f'<iframe id="xd-eval-frame" title="评测报告" sandbox="allow-scripts" '
            f'srcdoc="{escape(page, quote=True)}" '
            'style="width:100%;height:80vh;border:1px solid #e5e7eb;border-radius:4px"></iframe>')
