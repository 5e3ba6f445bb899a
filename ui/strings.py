"""Every text the chat page shows, in Chinese, in one place (`code` in backticks is shown as
code: field names and commands stay as typed); and the library's messages
(English, shared with the CLI) turned into Chinese ones that name the file and what to do.

A message the tables below do not know is shown in a Chinese frame with its original text,
so nothing is ever lost; tests/test_ui.py checks that the loader's and inputs' usual messages
are all known.
"""
from __future__ import annotations

import re
from pathlib import Path

from qa.errors import (ConfigError, EmbedderMismatch, IndexBusyError, IndexCorruptError,
                       IndexStoreError, InputError, ModelFileError, QAError)

TITLE = "讯答 · 新闻问答"
TAGLINE = "从已收录的新闻文章中摘取答案，并注明出处。"
EMPTY_INDEX = ("这是一个新的资料库，还没有收录文章。请在“上传文章”里选择文件（.txt、.md、.html、"
               ".jsonl 或 .pdf），点击“加入索引”；加入后就可以提问了。")
ASK_BEFORE_ARTICLES = "还没有收录任何文章，无法回答。请先在“上传文章”里加入文章，再提问。"
QUESTION_PLACEHOLDER = "输入关于已收录新闻的问题"
QUESTION_LABEL = "问题"  # read by screen readers even though the label is hidden
EXAMPLE_PREFIX = "例如："
SEARCHING = "正在检索…"
INTERNAL_ERROR = "内部错误，请换个问法或稍后再试"
UPLOAD_INTERNAL_ERROR = "导入时出现内部错误，索引未改变；请检查文件后重试"
NO_ANSWER = "已收录的文章中没有这个问题的答案。"
CLOSEST = "最接近的 {n} 段文字（点开看全文）："
NO_TITLE = "（无标题）"
NO_HITS = "（尚无检索结果：先提一个问题）"
NO_FILES_CHOSEN = "请先选择要上传的文件"
NOTHING_ADDED = "没有文件被加入索引。"
READING_FILES = "正在读取文件…"
EMBEDDING = "正在处理段落 {done}/{total}"

# Labels of the page's components.
CHAT_TAB, REPORT_TAB = "问答", "评测报告"
CHAT_LABEL = "对话"
SEND = "提问"
EXAMPLES_LABEL = "示例问题（点击提问）"
PASSAGES_LABEL = "检索到的段落"
UPLOAD_LABEL = "上传文章"
ADD = "加入索引"
STATS_LABEL = "索引统计"
SETTINGS_LABEL = "设置"
TOP_K_LABEL = "每次检索的段落数"
THRESHOLD_LABEL = "拒答阈值（置信度低于它就不作答）"
READER_LABEL = "阅读器"
READER_CHOICES = [("规则阅读器（快）", "rules"), ("神经网络阅读器", "neural")]
REFRESH = "刷新"
ARTICLES_LABEL = "已收录的文章"
ARTICLES_SEARCH = "搜索标题、日期或文件名"
ARTICLES_HEADERS = ["标题", "电头或日期", "来源文件", "段落数"]
ARTICLES_NONE = "（还没有收录文章）"
ARTICLES_NO_MATCH = "（没有符合“{query}”的文章）"
ARTICLES_COUNT = "共 {total} 篇文章，显示 {shown} 篇。点击一行可选中它的文件。"
REMOVE_CHOICE = "要删除的文件"
REMOVE = "从索引中删除这个文件"
REMOVE_NONE = "请先在上面的表格里点选一篇文章，或在下拉框中选择文件"
REMOVE_UNKNOWN = "{name}：索引里没有这个文件，可能已经删除；请刷新页面"
REMOVED = "已删除 {name}（{articles} 篇文章）。索引现有文章 {left} 篇。"
FILE_CHOICE = "{name}（{articles} 篇文章）"


def upload_hint(extensions: str, max_mb: int, max_files: int) -> str:
    """The label of the upload box: accepted types and limits."""
    return f"{extensions}；每个不超过 {max_mb} MB，一次最多 {max_files} 个"


def ingest_summary(report) -> str:
    """One line for an IngestReport: what was added, merged and how big the index is now."""
    return (f"已处理 {report.files} 个文件：新增文档 {report.documents_added} 篇，"
            f"未变 {report.documents_unchanged} 篇，更新 {report.documents_replaced} 篇；"
            f"找到文章 {report.articles_found} 篇，合并重复 {report.duplicates_merged} 篇；"
            f"索引现有文章 {report.articles} 篇、段落 {report.chunks} 个（用时 {report.seconds:.1f} 秒）。")


# -- the loader's skip reasons ------------------------------------------------------------------
_TO_UTF8 = "请另存为 UTF-8 编码的文本后重新上传"
_TO_TXT = "请把文章另存为 .txt 文本后重新上传"
_LINE = "请修改或删掉这一行后重新上传"
# (pattern of the English reason, Chinese text); groups are filled in by name.
_REASONS: tuple[tuple[str, str], ...] = (
    (r"binary file \(.*\), not HTML", "是二进制文件，不是网页；请把网页另存为 .html 文本后重新上传"),
    (r"binary file \(", "是二进制文件，不是文本；" + _TO_TXT),
    (r"broken UTF-16 text", "是已损坏的 UTF-16 文本；" + _TO_UTF8),
    (r"cannot tell the text encoding", "无法识别文字编码（不是 UTF-8、GB18030 或 Big5）；" + _TO_UTF8),
    (r"unsupported file type", "文件类型不支持；" + _TO_TXT),
    (r"no such file", "找不到这个文件；请重新上传"),
    (r"permission denied", "没有读取权限；请检查文件后重新上传"),
    (r"cannot read the file", "无法读取；请检查文件后重新上传"),
    (r"the file is empty", "文件是空的；请加入文字后重新上传"),
    (r"the file name is not valid UTF-8", "文件名不是有效的 UTF-8；请改名后重新上传"),
    (r"not a regular file", "不是普通文件；请把文字存成文件后上传"),
    (r"the file is (?P<mb>\d+) MB; files over (?P<limit>\d+) MB",
     "文件有 {mb} MB，超过 {limit} MB 的文件不读取；请拆成较小的文件"),
    (r"no article text found in the page", "网页里没有找到正文；" + _TO_TXT),
    (r"bad JSON", "这一行不是有效的 JSON；" + _LINE),
    (r"expected a JSON object", "这一行不是 JSON 对象；每行应写一篇文章，正文放在 `text` 字段"),
    (r'field "text" is (missing|empty|a )', "这一行没有正文（`text` 字段缺失或为空）；" + _LINE),
    (r'field "(?P<field>\w+)" is a ', "这一行的 `{field}` 字段不是文字；" + _LINE),
    (r"record could not be read", "这一行无法读取；" + _LINE),
    (r"password-protected", "PDF 有密码保护；请另存一份无密码的副本后重新上传"),
    (r"cannot read the PDF", "PDF 无法读取（可能已损坏）；请重新导出，或转成 .txt 后上传"),
    (r"PDF has no text layer", "PDF 里没有文字层（可能是扫描件）；请先做文字识别，或转成 .txt 后上传"),
    (r"holds no text once control characters", "去掉控制字符后没有文字；" + _TO_UTF8),
    (r"is unreadable: (?P<broken>\d+) of its (?P<total>\d+) characters are broken",
     "无法阅读：{total} 个字符中有 {broken} 个已损坏；" + _TO_UTF8),
    (r"could not split into articles", "无法切分成文章；" + _TO_TXT),
    (r"no article found in its (?P<chars>\d+) characters",
     "只有 {chars} 个字，不像一篇文章；请上传包含完整句子的文章"),
    (r"could not be read \(", "无法读取；" + _TO_TXT),
)


def reason_zh(reason: str) -> str | None:
    """The Chinese text for one of the loader's English skip reasons, or None when unknown."""
    for pattern, text in _REASONS:
        m = re.search(pattern, reason)
        if m:
            return text.format(**m.groupdict())
    return None


def file_name(path: str) -> str:
    """The file name of a stored path (a JSONL record keeps its :LINE suffix)."""
    return Path(path).name or path


def skip_message(error: InputError) -> tuple[str, str]:
    """(where, why) of a skipped input in Chinese: the file name (with 第 N 行) and what to do."""
    where = file_name(error.path) + (f" 第 {error.line} 行" if error.line is not None else "")
    return where, reason_zh(error.reason) or f"无法导入（{error.reason}）"


# -- errors of asking, uploading and removing ---------------------------------------------------
_CONFIG: tuple[tuple[str, str], ...] = (
    (r"^empty question", "请输入问题"),
    (r"^question is (?P<n>\d+) characters; at most (?P<limit>\d+)",
     "问题有 {n} 个字，最多接受 {limit} 个字：请一次只问一件事，把问题缩短"),
    (r"^question is \w+", "问题必须是文字"),
    (r"^history item \d+ is (?P<n>\d+) characters; at most (?P<limit>\d+)",
     "之前的一个问题有 {n} 个字，超过 {limit} 个字；请清空对话后再问"),
    (r"^history", "对话记录无法读取；请清空对话后再问"),
    (r"^k=", "每次检索的段落数应是 1 到 100 的整数"),
    (r"^threshold=", "拒答阈值应是 0 到 1 之间的数"),
    (r"^reader ", "阅读器只能选规则阅读器或神经网络阅读器"),
)


# Gradio's own frontend strings that its Chinese locale lacks (it falls back to English): the
# status its screen-reader line announces while an answer waits for a worker, runs and ends.
GRADIO_STRINGS = {"status.queue_position": "排队中：第 {position} 位，共 {size} 位",
                  "common.complete": "完成", "common.progress": "进度"}


def error_zh(exc: QAError) -> str:
    """A library error as a Chinese message that says what to do."""
    text = str(exc)
    if isinstance(exc, InputError):
        where, why = skip_message(exc)
        return f"{where}：{why}"
    if isinstance(exc, ConfigError):
        for pattern, zh in _CONFIG:
            m = re.search(pattern, text)
            if m:
                return zh.format(**m.groupdict())
    if isinstance(exc, IndexBusyError):
        pid = re.search(r"pid (\d+)", text)
        who = f"（进程 {pid.group(1)}）" if pid else ""
        return f"索引正忙：另一个程序{who}正在写入索引；请等它完成后再试"
    if isinstance(exc, EmbedderMismatch):
        return "这个索引是用另一个向量模型建立的，不能用当前模型读取；请用建立它的模型启动，或新建一个资料库"
    if isinstance(exc, IndexCorruptError):
        return (f"索引文件 {file_name(exc.path)} 已损坏；请把索引文件夹移到别处，"
                "再重新导入原来的文章")
    if isinstance(exc, IndexStoreError):
        return "索引无法读取或已损坏；请把索引文件夹移到别处，再重新导入原来的文章"
    if isinstance(exc, ModelFileError):
        return "模型文件缺失或已损坏；请重新安装本软件"
    return f"操作没有完成：{text}"
