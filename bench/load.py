"""The served chat under load (issue 14): concurrent clients get the answers one client gets, and
10,000-character questions do not slow a normal one down.

    .venv/bin/python bench/load.py [--index index/default] [--questions 30] [--clients 8]
        [--long 4] [--seconds 60] [--reader rules|neural] [--budget S]
        [--report eval/reports/load.json]

Starts `qa serve` as a subprocess on a free port (the index is built from seeds/ first when it
has no manifest) and talks to it only through gradio_client's `/chat`, as a client program
would; the server is stopped at the end, also on Ctrl-C. Questions: the first --questions of
eval/seeds_qa.jsonl, follow-ups with their history. Three phases:

1. baseline: after one warm-up question, one client asks each question once, in order; its
   answers (or error messages) are the reference, its latencies the usual time.
2. load: --clients threads, each with its own Client, ask the questions round-robin from
   different offsets for --seconds; every answer is compared with the baseline's. Reports
   requests, errors (exceptions), mismatches, p50/p95/max latency and q/s.
3. long: --long threads send a 10,000-character question over and over for --seconds while one
   client asks the questions in order; its p50/p95 against the baseline's, and how the long
   ones came back (the same "at most 500" refusal as one sent alone after the baseline? how
   fast). With --budget S, checks that the normal client's p95 stays within the baseline p95
   plus S seconds (the per-question time budget).

Prints a table and writes machine (cores, RAM), commit, date, settings and every figure as JSON.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import machine  # noqa: E402
LONG_QUESTION = "问" * 10_000
REFUSAL = "at most 500"


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_questions(path: Path, n: int) -> list[dict]:
    """The first `n` eval items: id, question and history (None when there is none)."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"id": it["id"], "question": it["question"], "history": it.get("history") or None}
            for it in items[:n]]


def start_server(args: argparse.Namespace, port: int, log) -> subprocess.Popen:
    """`qa serve` in its own process group (so Ctrl-C here reaches it only through stop_server)."""
    if not (args.index / "manifest.json").exists():
        print(f"building {args.index} from seeds/ ...", flush=True)
        rc = subprocess.run([args.qa, "ingest", str(ROOT / "seeds"), "--index", str(args.index)]).returncode
        if rc not in (0, 3):  # 3: some files skipped, the rest ingested
            sys.exit(f"qa ingest seeds/ exited {rc}")
    cmd = [args.qa, "serve", "--index", str(args.index), "--port", str(port), "--reader", args.reader]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate the server's process group; kill it when it does not stop within 10 s."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def new_client(url: str):
    """A fresh gradio_client.Client (its own session and connection)."""
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def connect(url: str, proc: subprocess.Popen, log_path: Path, timeout: float):
    """A Client once the server answers; SystemExit (with the server's log) when it dies or never does."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            return new_client(url)
        except Exception:
            time.sleep(1.0)
    why = f"exited {proc.returncode}" if proc.poll() is not None else f"did not answer within {timeout:.0f} s"
    sys.exit(f"qa serve {why}:\n" + log_path.read_text(errors="replace")[-3000:])


def ask(client, question: str, history, args: argparse.Namespace) -> tuple[float, tuple[str, str]]:
    """(seconds, ("ok", answer) or ("error", message)) for one /chat call."""
    t0 = time.perf_counter()
    try:
        job = client.submit(question, history, 0, -1.0, args.reader, api_name="/chat")
        outcome = ("ok", job.result(timeout=args.timeout))
    except Exception as exc:  # a refusal (gr.Error), a timeout or a broken connection
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    return time.perf_counter() - t0, outcome


def pct(xs: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of `xs` in milliseconds, None when empty."""
    if not xs:
        return None
    s = sorted(xs)
    return round(1000 * s[max(0, math.ceil(p / 100 * len(s)) - 1)], 1)


def summary(records: list[tuple], wall: float) -> dict:
    """Counts and latencies of (seconds, outcome, matches-baseline, id) records over `wall` seconds."""
    secs = [r[0] for r in records]
    return {"requests": len(records), "errors": sum(r[1][0] == "error" for r in records),
            "mismatches": sum(not r[2] for r in records), "p50_ms": pct(secs, 50), "p95_ms": pct(secs, 95),
            "max_ms": pct(secs, 100), "wall_s": round(wall, 2),
            "per_s": round(len(records) / wall, 2) if wall else None,
            "mismatched": [{"id": r[3], "got": list(r[1])} for r in records if not r[2]][:10]}


def phase(url: str, workers: list[tuple[list[dict], int]], base: dict, stop: threading.Event,
          args: argparse.Namespace) -> tuple[float, list[list]]:
    """One thread per (items, first) worker, each with its own Client (connected before the clock
    starts), asking its items round-robin from `first` for --seconds; (wall time, records each)."""
    clients: list = [None] * len(workers)
    connecting = [threading.Thread(target=lambda i=i: clients.__setitem__(i, new_client(url)), daemon=True)
                  for i in range(len(workers))]
    for t in connecting:
        t.start()
    for t in connecting:
        t.join()
    if None in clients:
        sys.exit("a client could not connect to the server")
    outs: list[list] = [[] for _ in workers]
    deadline = time.monotonic() + args.seconds

    def body(client, items: list[dict], i: int, out: list) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            q = items[i % len(items)]
            secs, outcome = ask(client, q["question"], q["history"], args)
            out.append((secs, outcome, outcome == base[q["id"]], q["id"]))
            i += 1

    threads = [threading.Thread(target=body, args=(c, items, first, out), daemon=True)
               for c, (items, first), out in zip(clients, workers, outs)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():  # short joins, so that Ctrl-C is seen
            t.join(0.2)
    return time.perf_counter() - t0, outs


def main(argv=None) -> None:
    """Parse the flags, serve, run the three phases, print and write the report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=ROOT / "index" / "default")
    ap.add_argument("--eval", type=Path, default=ROOT / "eval" / "seeds_qa.jsonl")
    ap.add_argument("--questions", type=int, default=30, help="first N eval questions")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--long", type=int, default=4, help="threads sending 10,000-character questions")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the load and long phases")
    ap.add_argument("--reader", choices=["rules", "neural"], default="rules")
    ap.add_argument("--budget", type=float, default=None, help="allowed extra seconds on the normal p95")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds until a request is an error")
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--qa", default=str(ROOT / ".venv" / "bin" / "qa"))
    ap.add_argument("--start-timeout", type=float, default=600.0)
    ap.add_argument("--report", type=Path, default=ROOT / "eval" / "reports" / "load.json")
    args = ap.parse_args(argv)
    questions = load_questions(args.eval, args.questions)
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}/"
    stop = threading.Event()
    log_path = Path(tempfile.mkstemp(prefix="xunda-load-serve-", suffix=".log")[1])
    with open(log_path, "wb") as log:
        proc = start_server(args, port, log)
    try:
        report = bench(url, proc, log_path, questions, stop, args)
    except KeyboardInterrupt:
        sys.exit("interrupted: server stopped, no report written")
    finally:
        stop.set()
        stop_server(proc)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"report: {args.report}  (server log: {log_path})")


def bench(url: str, proc, log_path: Path, questions: list[dict], stop: threading.Event,
          args: argparse.Namespace) -> dict:
    """The three phases against the running server; the report."""
    t0 = time.perf_counter()
    client = connect(url, proc, log_path, args.start_timeout)
    print(f"server up at {url} after {time.perf_counter() - t0:.1f} s; reader {args.reader}", flush=True)
    warm_s, warm = ask(client, questions[0]["question"], questions[0]["history"], args)
    base: dict = {}
    rows = []
    long_item = {"id": "long", "question": LONG_QUESTION, "history": None}
    for q in questions + [long_item]:  # the long one alone: its reply and time without load
        secs, base[q["id"]] = ask(client, q["question"], q["history"], args)
        rows.append({"id": q["id"], "ms": round(1000 * secs, 1), "outcome": list(base[q["id"]])})
    secs = [r["ms"] / 1000 for r in rows[:-1]]
    baseline = {"warm_up_ms": round(1000 * warm_s, 1), "warm_up_outcome": list(warm),
                "errors": sum(r["outcome"][0] == "error" for r in rows[:-1]), "p50_ms": pct(secs, 50),
                "p95_ms": pct(secs, 95), "max_ms": pct(secs, 100), "long_alone_ms": rows[-1]["ms"],
                "questions": rows}
    print(f"baseline done ({len(questions)} questions); load phase, {args.clients} clients, "
          f"{args.seconds:g} s", flush=True)
    step = max(1, len(questions) // max(1, args.clients))
    wall, outs = phase(url, [(questions, i * step) for i in range(args.clients)], base, stop, args)
    load = summary([r for out in outs for r in out], wall) | {"clients": args.clients}
    print(f"long phase, {args.long} long-question clients + 1 normal, {args.seconds:g} s", flush=True)
    wall, outs = phase(url, [([long_item], 0)] * args.long + [(questions, 0)], base, stop, args)
    normal = summary(outs[-1], wall)
    longs = summary([r for out in outs[:-1] for r in out], wall) | {
        "threads": args.long, "chars": len(LONG_QUESTION), "alone_ms": baseline["long_alone_ms"],
        "reply": base["long"][1][:200], "refused": REFUSAL in base["long"][1]}
    extra = (round(normal["p95_ms"] - baseline["p95_ms"], 1)
             if normal["p95_ms"] is not None and baseline["p95_ms"] is not None else None)
    checks = {"load_no_errors": load["errors"] == 0 and load["requests"] > 0,
              "load_answers_identical": load["mismatches"] == 0,
              "long_all_refused": longs["refused"] and longs["mismatches"] == 0 and longs["requests"] > 0,
              "normal_answers_identical": normal["mismatches"] == 0, "normal_p95_extra_ms": extra}
    if args.budget is not None and extra is not None:
        checks["normal_within_budget"] = extra <= 1000 * args.budget
    print_table(baseline, load, normal, longs, checks)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    return {"machine": machine(), "settings": settings, "baseline": baseline, "load": load,
            "long": {"normal_client": normal, "long_questions": longs}, "checks": checks}


def print_table(baseline: dict, load: dict, normal: dict, longs: dict, checks: dict) -> None:
    """The figures as a fixed-width table, then the checks."""
    cols = ("requests", "errors", "mismatches", "p50_ms", "p95_ms", "max_ms", "per_s")
    print(f"{'phase':<26}" + "".join(f"{c:>11}" for c in cols) + "\n" + "-" * 103)
    base_row = baseline | {"requests": len(baseline["questions"]) - 1}
    for name, fig in (("baseline, 1 client", base_row), (f"load, {load['clients']} clients", load),
                      (f"normal with {longs['threads']} long", normal),
                      (f"long ({longs['chars']} chars)", longs)):
        print(f"{name:<26}" + "".join(f"{fig.get(c, '-')!s:>11}" for c in cols))
    print(f"long question alone: {baseline['long_alone_ms']} ms, reply: {longs['reply']}")
    print("(long: errors are expected, refusals; a mismatch is a reply other than the one it got alone)")
    for key, value in checks.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
