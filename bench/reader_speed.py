"""Speed of the neural reader on this machine, float32 against int8, side by side in one run.

    python bench/reader_speed.py [--model qa/models/reader-int8.npz] [--repeats 20]

Prints windows per second (batches of 16 full windows) and milliseconds to read one question
over 3 windows of about 200 characters (three CMRC 2018 dev passages cut to fit one window
each), median of --repeats runs, plus the time to load the model. Timings include
tokenisation, windows and decoding, as the product pays them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.reader.neural import NeuralReader  # noqa: E402
from qa.reader.windows import make_windows, pad_batch  # noqa: E402

CMRC = ROOT.parent / "shared/benchmarks/cmrc2018/cmrc2018_dev.json"


def samples(n: int) -> list[tuple[str, str]]:
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    out = []
    for art in data:
        for para in art["paragraphs"]:
            out.append((para["qas"][0]["question"], para["context"]))
            if len(out) == n:
                return out
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args(argv)
    pairs = samples(48)
    results = {}
    for int8 in (False, True):
        reader = NeuralReader(args.model, int8=int8)
        t0 = time.perf_counter()
        network, tokenizer = reader._load()
        load_s = time.perf_counter() - t0
        budget = network.max_len - 4 - network.max_question
        # windows per second: batches of 16 full windows
        q = tokenizer.encode(pairs[0][0])
        windows = make_windows(q, [tokenizer.encode(c) for _, c in pairs], network.max_len, network.max_question)
        full = [w for w in windows if len(w.ids) == max(len(x.ids) for x in windows)][:16]
        ids, lengths = pad_batch(full)
        network.logits(ids, lengths)
        times = []
        for _ in range(max(3, args.repeats // 4)):
            t = time.perf_counter()
            network.logits(ids, lengths)
            times.append(time.perf_counter() - t)
        per_window = float(np.median(times)) / len(full)
        # one question over 3 windows of ~200 characters
        passages = []
        for _, c in pairs[1:4]:
            enc = tokenizer.encode(c)
            cut = enc.ends[min(len(enc.ids), budget) - 1]
            passages.append(c[:cut])
        question = pairs[0][0]
        reading = reader.read(question, passages)
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            reading = reader.read(question, passages)
            times.append(time.perf_counter() - t)
        results["int8" if int8 else "fp32"] = {
            "load_s": round(load_s, 2), "windows_per_s": round(1 / per_window, 1),
            "question_3_windows_ms": round(1000 * float(np.median(times)), 1),
            "windows_read": reading.windows, "passage_chars": [len(p) for p in passages],
            "window_pieces": int(lengths.max())}
    results["int8_speedup"] = round(results["int8"]["windows_per_s"] / results["fp32"]["windows_per_s"], 2)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
