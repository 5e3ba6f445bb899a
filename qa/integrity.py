"""Checked index files: each file's size and sha256 in the manifest, and checks that it loads.

`Assistant.open` checks sizes (one stat per file) and what loading shows on the way;
`check_index` (`qa check`) also verifies checksums and that every file loads. Any damage is an
IndexCorruptError naming the file and saying how to recover. An index written before checksums
were recorded still opens: what can be checked without them is, and `check_index` says so.
"""
from __future__ import annotations

import hashlib
import json
import re
import shlex
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from qa.errors import IndexCorruptError
from qa.types import FileCheck, IndexCheck

GEN_MANIFEST = "manifest.json"  # the copy of its manifest each generation keeps
# A generation's files in indexes whose manifest predates checksums (bm25/ only with chunks).
BASE_FILES = ("meta.sqlite", "vectors.faiss", "vectors.npy")
BM25_DIR = "bm25"
BM25_FILES = tuple(f"{BM25_DIR}/{n}" for n in (
    "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "params.index.json",
    "vocab.index.json"))
SOURCES_KEPT = 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def file_records(gen_dir: Path) -> dict[str, dict]:
    """{name: {"size", "sha256"}} of every file in a generation folder but its manifest copy."""
    gen_dir = Path(gen_dir)
    records = {}
    for path in sorted(gen_dir.rglob("*")):
        name = path.relative_to(gen_dir).as_posix()
        if path.is_file() and name != GEN_MANIFEST:
            records[name] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    return records


def source_folders(files: Iterable[str]) -> list[str]:
    """The outermost folders the index's files came from (for recovery advice), at most 20."""
    kept: list[str] = []
    for folder in sorted({str(Path(f).parent) for f in files}):
        if not any(folder == k or folder.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(folder)
    return kept[:SOURCES_KEPT]


def recovery(root: Path, sources: Sequence[str]) -> str:
    """How to get a sound index back: move the damaged one aside and ingest its sources again."""
    root = Path(root)
    aside = f"{root}.broken"
    inside = str(root.resolve()).rstrip("/") + "/"
    # Uploads live inside the index folder: after the move they are under the moved folder.
    paths = [aside + "/" + s[len(inside):] if s.startswith(inside) else s for s in sources]
    again = " ".join(shlex.quote(p) for p in paths) if paths else "PATH..."
    return (f"To recover, move the index aside (`mv {shlex.quote(str(root))} {shlex.quote(aside)}`) "
            f"and ingest its sources again (`qa ingest {again} --index {shlex.quote(str(root))}`)")


def corrupt(root: Path, manifest, name: str, reason: str) -> IndexCorruptError:
    """The IndexCorruptError for file `name` of the manifest's generation."""
    path = Path(root) / manifest.generation / name if name else Path(root) / manifest.generation
    return IndexCorruptError(str(path), reason, recovery(root, _sources(Path(root), manifest)))


def _sources(root: Path, manifest) -> list[str]:
    """The source folders the manifest records, else (older indexes) those meta.sqlite lists."""
    if manifest.sources:
        return list(manifest.sources)
    try:
        db = sqlite3.connect(f"{(root / manifest.generation / 'meta.sqlite').resolve().as_uri()}?mode=ro",
                             uri=True)
        try:
            return source_folders(r[0] for r in db.execute("SELECT file FROM files"))
        finally:
            db.close()
    except (sqlite3.Error, OSError, ValueError):  # damaged or missing: advise without them
        return []


def expected_files(manifest) -> dict[str, dict | None]:
    """The files the manifest's generation must hold, with their records (None: not recorded)."""
    if manifest.files:
        return dict(manifest.files)
    names = list(BASE_FILES) + (list(BM25_FILES) if manifest.counts.get("chunks") else [])
    return dict.fromkeys(names)


def _size_problem(path: Path, record: dict | None) -> str:
    if not path.is_file():
        if not path.parent.is_dir():
            return f"missing (its folder {path.parent.name}/ is gone)"
        return "missing"
    size = path.stat().st_size
    if record is not None and size != record["size"]:
        return f"{size} bytes where the manifest records {record['size']} (truncated or overwritten)"
    return ""


def check_sizes(root: Path, manifest) -> None:
    """Raise IndexCorruptError for the first file of the generation that is missing or resized."""
    root = Path(root)
    gen = root / manifest.generation
    if not gen.is_dir():
        raise corrupt(root, manifest, "", "the generation folder the manifest names is missing")
    for name, record in expected_files(manifest).items():
        if problem := _size_problem(gen / name, record):
            raise corrupt(root, manifest, name, problem)


BLOCK = 65536  # rows checked at a time, so a check of a large index needs little memory


def vectors_problem(vectors: np.ndarray, dim: int, count: int) -> str:
    """Why (count, dim) unit vectors (an array or a memory map) are not; "" when they are.
    Every embedder writes unit rows, so a zeroed or bit-damaged row shows as another length."""
    if vectors.ndim != 2 or vectors.shape != (count, dim):
        return f"vectors of shape {vectors.shape}, expected ({count}, {dim})"
    bad = sum(_bad_rows(vectors[i : i + BLOCK]) for i in range(0, count, BLOCK))
    return f"{bad} of {count} vectors checked are not unit length (zeroed or damaged)" if bad else ""


def _bad_rows(rows: np.ndarray) -> int:
    norms = np.linalg.norm(np.asarray(rows, dtype=np.float32), axis=1)
    return int((~np.isfinite(norms) | (np.abs(norms - 1.0) > 1e-3)).sum())


def faiss_problem(index, dim: int, count: int, sample: int | None = 64) -> str:
    """Why a loaded FAISS index does not match the manifest ("" when it does); checks `sample`
    evenly spaced vectors, or all with sample=None."""
    if index.d != dim or index.ntotal != count:
        return f"{index.ntotal} vectors of dimension {index.d}, the manifest records {count} of {dim}"
    if count == 0:
        return ""
    try:
        if sample is not None:
            rows = np.unique(np.linspace(0, count - 1, min(count, sample)).astype(np.int64))
            bad = _bad_rows(np.stack([index.reconstruct(int(i)) for i in rows]))
            checked = len(rows)
        else:
            bad = sum(_bad_rows(index.reconstruct_n(i, min(BLOCK, count - i)))
                      for i in range(0, count, BLOCK))
            checked = count
    except RuntimeError:  # an IVF index without a direct map cannot hand vectors back
        return ""
    return f"{bad} of {checked} vectors checked are not unit length (zeroed or damaged)" if bad else ""


def faiss_reason(exc: Exception) -> str:
    """FAISS's own reason from its C++ error text (which starts with source locations)."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"FAISS cannot read it ({re.split(r'[.](?:cpp|h):[0-9]+: (?:Error: )?', first)[-1][:160]})"


def bm25_problem(data, indices, indptr, num_docs, vocab: dict, count: int) -> tuple[str, str]:
    """(file name, reason) of the first inconsistency of BM25 arrays (CSC: one column of chunk
    ids and scores per term); ("", "") when sound. O(entries) numpy work: cheap enough to open."""
    if num_docs != count:
        return "params.index.json", f"num_docs {num_docs}, the index has {count} chunks"
    if not vocab or not all(isinstance(v, int) and v >= 0 for v in vocab.values()):
        return "vocab.index.json", "not a vocabulary of term ids"
    if indptr.ndim != 1 or len(indptr) < max(vocab.values()) + 1 or indptr[0] != 0 \
            or np.any(np.diff(indptr) < 0) or indptr[-1] != len(data):
        return "indptr.csc.index.npy", "column pointers out of order or out of range"
    if indices.shape != data.shape or (len(indices) and (indices.min() < 0 or indices.max() >= count)):
        return "indices.csc.index.npy", "chunk ids out of range"
    # Within a term's column the chunk ids rise strictly; only column starts may step down.
    rises = np.diff(indices.astype(np.int64)) > 0
    starts = indptr[1:-1]
    rises[starts[(starts > 0) & (starts < len(indices))] - 1] = True
    if not np.all(rises):
        return "indices.csc.index.npy", "chunk ids out of order within a term"
    # Lucene BM25 scores are strictly positive (idf > 0, tf part > 0): a 0 is damage.
    if not np.all(np.isfinite(data)) or (len(data) and data.min() <= 0):
        return "data.csc.index.npy", "scores non-finite, zero or negative"
    return "", ""


def bm25_files_problem(folder: Path, count: int) -> tuple[str, str]:
    """(file name, reason) for the BM25 folder: each file loaded on its own (to name the bad
    one), then checked together; ("", "") when sound."""
    import bm25s

    arrays, meta = {}, {}
    for name in BM25_FILES:
        short = name.split("/", 1)[1]
        try:
            if short.endswith(".npy"):
                arrays[short.split(".")[0]] = np.load(folder / short, allow_pickle=False)
            else:
                meta[short] = json.loads((folder / short).read_text(encoding="utf-8"))
        except (OSError, ValueError, EOFError) as exc:
            return short, f"does not load ({exc})"
    params = meta["params.index.json"]
    try:
        bm25s.BM25(**{k: v for k, v in params.items() if k not in ("version", "num_docs")})
    except (TypeError, ValueError, AttributeError) as exc:
        return "params.index.json", f"parameters bm25s does not take ({exc})"
    return bm25_problem(arrays["data"], arrays["indices"], arrays["indptr"],
                        meta["params.index.json"].get("num_docs"), meta["vocab.index.json"], count)


def _load_sqlite(path: Path, count: int) -> str:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
        if rows != ["ok"]:
            return "SQLite integrity check failed: " + "; ".join(map(str, rows[:3]))
        chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return f"{chunks} chunks, the manifest records {count}" if chunks != count else ""
    except sqlite3.DatabaseError as exc:
        return f"not a sound SQLite database ({exc})"
    finally:
        db.close()


def _load_problems(gen: Path, manifest, names: set[str]) -> dict[str, str]:
    """{file name: why it does not load} for the sound-so-far files in `names`."""
    import faiss

    count, dim = manifest.counts.get("chunks", 0), manifest.dim
    found: dict[str, str] = {}
    if "meta.sqlite" in names:
        found["meta.sqlite"] = _load_sqlite(gen / "meta.sqlite", count)
    if "vectors.faiss" in names:
        try:
            index = faiss.read_index(str(gen / "vectors.faiss"))
            if manifest.index_type == "ivf" and hasattr(index, "make_direct_map"):
                index.make_direct_map()
            found["vectors.faiss"] = faiss_problem(index, dim, count, sample=None)
        except RuntimeError as exc:
            found["vectors.faiss"] = faiss_reason(exc)
    if "vectors.npy" in names:
        try:
            vectors = np.load(gen / "vectors.npy", allow_pickle=False, mmap_mode="r")
            found["vectors.npy"] = vectors_problem(vectors, dim, count)
        except (OSError, ValueError, EOFError) as exc:
            found["vectors.npy"] = f"does not load ({exc})"
    bm25 = [n for n in BM25_FILES if n in names]
    if bm25 and len(bm25) == len(BM25_FILES):  # judged together, only when each file is intact
        short, reason = bm25_files_problem(gen / BM25_DIR, count)
        if reason:
            found[f"{BM25_DIR}/{short}"] = reason
    return {k: v for k, v in found.items() if v}


def check_index(root: str | Path, raise_on_damage: bool = False) -> IndexCheck:
    """Verify every file of the current generation: present, recorded size and checksum, and
    loadable (SQLite integrity, FAISS reads, BM25 arrays). With `raise_on_damage`, the first
    damaged file raises IndexCorruptError; otherwise the result lists each file's problem."""
    from qa.store import read_manifest

    root = Path(root)
    manifest = read_manifest(root)
    gen = root / manifest.generation
    results: dict[str, FileCheck] = {}
    for name, record in expected_files(manifest).items():
        path = gen / name
        size = path.stat().st_size if path.is_file() else None
        problem, checksum = _size_problem(path, record), "unread"
        if not problem and record is None:
            checksum = "absent"
        elif not problem:
            checksum = "ok" if sha256_file(path) == record["sha256"] else "mismatch"
            if checksum == "mismatch":
                problem = "content differs from its recorded checksum (damaged or overwritten)"
        results[name] = FileCheck(name, size, checksum, problem)
    sound = {n for n, f in results.items() if not f.problem}
    for name, reason in _load_problems(gen, manifest, sound).items():
        results[name] = FileCheck(name, results[name].size, results[name].checksum, reason)
    files = tuple(FileCheck(f.name, f.size, f.checksum,
                            str(corrupt(root, manifest, f.name, f.problem)) if f.problem else "")
                  for f in results.values())
    if raise_on_damage:
        for f in files:
            if f.problem:
                raise corrupt(root, manifest, f.name, results[f.name].problem)
    return IndexCheck(str(root), manifest.generation, bool(manifest.files), files)


def check_lines(result: IndexCheck) -> list[str]:
    """`qa check`'s report: the generation, then one line per file."""
    lines = [f"{result.path} ({result.generation}): checksums "
             + ("recorded" if result.checksums else "absent (index built before they were recorded)")]
    for f in result.files:
        size = f"{f.size} bytes" if f.size is not None else "missing"
        lines.append(f"  {'DAMAGED' if f.problem else 'ok':<7} {f.name}  {size}, checksum {f.checksum}")
    return lines
