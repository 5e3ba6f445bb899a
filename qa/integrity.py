"""Checked index files: each file's size and sha256 in the manifest, and checks that it loads.

`Assistant.open` checks sizes (one stat per file) and what loading shows on the way;
`check_index` (`qa check`) also verifies checksums and that every file loads. Any damage is an
IndexCorruptError naming the file ("seg-N/...") and saying how to recover.
"""
from __future__ import annotations

import hashlib
import re
import shlex
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from qa.errors import ConfigError, IndexCorruptError
from qa.types import FileCheck, IndexCheck, MirrorCheck

GEN_MANIFEST = "manifest.json"  # the recovery copy the newest segment keeps (unchecked)
SOURCES_KEPT = 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def file_records(gen_dir: Path) -> dict[str, dict]:
    """{name: {"size", "sha256"}} of every file in a segment folder but its manifest copy."""
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
    """The IndexCorruptError for file `name` ("seg-N/..." in the index folder)."""
    return IndexCorruptError(str(Path(root) / name), reason, recovery(root, list(manifest.sources)))


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
    """Raise IndexCorruptError for the first file of the index that is missing or resized."""
    root = Path(root)
    for entry in manifest.segments:
        if not (root / entry.name).is_dir():
            raise corrupt(root, manifest, entry.name, "the segment folder the manifest names is missing")
    for name, record in manifest.files.items():
        if problem := _size_problem(root / name, record):
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


def _load_problems(root: Path, manifest, names: set[str]) -> dict[str, str]:
    """{file name: why it does not load} for the sound-so-far files in `names`."""
    import faiss

    from qa.store.bm25 import FILES as BM25_FILES, files_problem

    found: dict[str, str] = {}
    for entry in manifest.segments:
        seg, count, dim = root / entry.name, entry.chunks, manifest.dim
        if f"{entry.name}/meta.sqlite" in names:
            found[f"{entry.name}/meta.sqlite"] = _load_sqlite(seg / "meta.sqlite", count)
        if f"{entry.name}/vectors.faiss" in names:
            try:
                index = faiss.read_index(str(seg / "vectors.faiss"))
                if manifest.index_type == "ivf" and hasattr(index, "make_direct_map"):
                    index.make_direct_map()
                found[f"{entry.name}/vectors.faiss"] = faiss_problem(index, dim, count, sample=None)
            except RuntimeError as exc:
                found[f"{entry.name}/vectors.faiss"] = faiss_reason(exc)
        if f"{entry.name}/vectors.npy" in names:
            try:
                vectors = np.load(seg / "vectors.npy", allow_pickle=False, mmap_mode="r")
                found[f"{entry.name}/vectors.npy"] = vectors_problem(vectors, dim, count)
            except Exception as exc:  # a damaged .npy header fails numpy's parser in many ways
                found[f"{entry.name}/vectors.npy"] = f"does not load ({type(exc).__name__}: {exc})"
        if all(f"{entry.name}/bm25/{n}" in names for n in BM25_FILES):  # judged together when intact
            short, reason = files_problem(seg / "bm25", count)
            if reason:
                found[f"{entry.name}/bm25/{short}"] = reason
    return {k: v for k, v in found.items() if v}


def check_index(root: str | Path, raise_on_damage: bool = False) -> IndexCheck:
    """Verify every file of every segment: present, recorded size and checksum, and loadable
    (SQLite integrity, FAISS reads, BM25 term counts). With `raise_on_damage`, the first
    damaged file raises IndexCorruptError; otherwise the result lists each file's problem."""
    from qa.store import read_manifest

    root = Path(root)
    manifest = read_manifest(root)
    results: dict[str, FileCheck] = {}
    for entry in manifest.segments:
        if not (root / entry.name).is_dir():
            results[entry.name] = FileCheck(entry.name, None, "unread", "the segment folder is missing")
    for name, record in manifest.files.items():
        path = root / name
        size = path.stat().st_size if path.is_file() else None
        problem, checksum = _size_problem(path, record), "unread"
        if not problem:
            checksum = "ok" if sha256_file(path) == record["sha256"] else "mismatch"
            if checksum == "mismatch":
                problem = "content differs from its recorded checksum (damaged or overwritten)"
        results[name] = FileCheck(name, size, checksum, problem)
    sound = {n for n, f in results.items() if not f.problem}
    for name, reason in _load_problems(root, manifest, sound).items():
        results[name] = FileCheck(name, results[name].size, results[name].checksum, reason)
    files = tuple(FileCheck(f.name, f.size, f.checksum,
                            str(corrupt(root, manifest, f.name, f.problem)) if f.problem else "")
                  for f in results.values())
    if raise_on_damage:
        for f in files:
            if f.problem:
                raise corrupt(root, manifest, f.name, results[f.name].problem)
    return IndexCheck(str(root), manifest.generation, True, files, check_mirror(root, manifest))


def check_mirror(root: Path, manifest) -> MirrorCheck | None:
    """Whether a Milvus-backed index's collection holds the manifest's live chunks (None for
    the local store); an unreachable or busy Milvus is reported, not raised."""
    from qa.store.backend import describe, open_mirror
    from qa.store.merge import live_rows

    if manifest.store.backend != "milvus":
        return None
    live = sum(live_rows(entry) for entry in manifest.segments)
    name, collection = describe(manifest.store), manifest.store.collection
    mirror = None
    try:
        mirror = open_mirror(root, manifest.store, manifest.dim, manifest.index_type)
        entities = mirror.count()
        return MirrorCheck(name, collection, live, entities, mirror.in_step(manifest) and entities == live)
    except ConfigError as exc:
        return MirrorCheck(name, collection, live, None, False, str(exc))
    finally:
        if mirror is not None:
            mirror.close()


def check_lines(result: IndexCheck) -> list[str]:
    """`qa check`'s report: the generation, then one line per file."""
    lines = [f"{result.path} ({result.generation}): {len(result.files)} files, checksums recorded"]
    for f in result.files:
        size = f"{f.size} bytes" if f.size is not None else "missing"
        lines.append(f"  {'DAMAGED' if f.problem else 'ok':<7} {f.name}  {size}, checksum {f.checksum}")
    if (m := result.mirror) is not None:
        where = f"{m.store}, collection {m.collection}"
        if m.problem:
            lines.append(f"  {'UNREACHABLE':<7} {where}: not checked")
        elif m.in_step:
            lines.append(f"  {'ok':<7} {where}: {m.entities:,} entities, the live chunks of this generation")
        else:
            lines.append(f"  {'BEHIND':<7} {where}: {m.entities:,} entities for {m.live_chunks:,} live chunks; "
                         "the next ingest, remove or open of the index brings it up to date")
    return lines
