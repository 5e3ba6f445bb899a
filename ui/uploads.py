"""Uploads from the chat page: checked (type, size, count), stored under the index folder and
ingested through `Assistant.add`, which holds the index's write lock for the whole write.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any, Sequence

from qa.errors import QAError
from ui import strings as S
from ui.articles import UPLOAD_DIR

log = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".txt", ".md", ".html", ".htm", ".jsonl", ".pdf")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 20


def check_uploads(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Split uploaded files into accepted ones and rejection messages ("name: why").

    Accepted: at most MAX_FILES files, extension in ALLOWED_EXTENSIONS, 1 byte to MAX_FILE_BYTES."""
    accepted: list[Path] = []
    rejected: list[str] = []
    for i, raw in enumerate(paths):
        path = Path(raw)
        name = path.name
        if i >= MAX_FILES:
            rejected.append(f"{name}：一次最多上传 {MAX_FILES} 个文件，请分批上传")
            continue
        if path.suffix.lower() not in ALLOWED_EXTENSIONS:
            rejected.append(f"{name}：不支持的文件类型，请上传 {' '.join(ALLOWED_EXTENSIONS)} 文件")
            continue
        try:
            size = path.stat().st_size
        except OSError as exc:
            rejected.append(f"{name}：无法读取上传的文件（{exc.strerror}），请重新上传")
            continue
        if size == 0:
            rejected.append(f"{name}：文件为空")
        elif size > MAX_FILE_BYTES:
            rejected.append(f"{name}：文件大小 {size / 1e6:.1f} MB 超过上限 "
                            f"{MAX_FILE_BYTES // (1024 * 1024)} MB")
        else:
            accepted.append(path)
    return accepted, rejected


def store_upload(path: Path, root: Path) -> Path:
    """Copy an uploaded file to ROOT/<content hash>/<name> and return the copy.

    The content hash keeps two different files of one name apart; the same file uploaded
    twice lands on the same path, so the index reports it unchanged."""
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:12]
    target = root / digest / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(path, target)
    return target


def ingest_uploads(assistant, paths: Sequence[str], progress=None) -> tuple[Any, list[str]]:
    """Check, store and ingest uploaded files: (IngestReport or None, rejection messages).

    Never raises for a bad file: the checks and ingest errors become messages, and since an
    ingest writes a new index generation atomically, a failure leaves the index as it was."""
    accepted, rejected = check_uploads(paths)
    if not accepted:
        return None, rejected
    root = Path(assistant.index_dir) / UPLOAD_DIR
    try:
        stored = [store_upload(p, root) for p in accepted]
        return assistant.add([str(p) for p in stored], progress=progress), rejected
    except QAError as exc:
        rejected.append(S.error_zh(exc))
    except Exception:  # a bug in one upload must not end the session
        log.exception("upload of %s failed", [p.name for p in accepted])
        rejected.append(S.UPLOAD_INTERNAL_ERROR)
    return None, rejected
