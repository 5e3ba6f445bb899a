"""The hand-written seed eval set (eval/seeds_qa.jsonl) is well formed and grounded in the seeds.

It is a held-out measurement set: these checks validate its shape only, never tune on it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVAL_SET = ROOT / "eval" / "seeds_qa.jsonl"
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
LANGS = {"zh-Hans", "zh-Hant", "en"}


@pytest.fixture(scope="module")
def items() -> list[dict]:
    rows = []
    for n, line in enumerate(EVAL_SET.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{EVAL_SET}:{n}: blank line"
        obj = json.loads(line)  # raises with the line's text if invalid
        assert isinstance(obj, dict), f"{EVAL_SET}:{n}: not a JSON object"
        obj["_line"] = n
        rows.append(obj)
    return rows


def test_fields_and_types(items):
    for o in items:
        where = f"{EVAL_SET}:{o['_line']}"
        assert isinstance(o.get("id"), str) and o["id"], f"{where}: field 'id'"
        assert isinstance(o.get("question"), str) and o["question"].strip(), f"{where}: field 'question'"
        assert isinstance(o.get("answers"), list), f"{where}: field 'answers'"
        assert all(isinstance(a, str) and a.strip() for a in o["answers"]), f"{where}: field 'answers'"
        assert len(set(o["answers"])) == len(o["answers"]), f"{where}: duplicate answers"
        hist = o.get("history", [])
        assert isinstance(hist, list) and all(isinstance(h, str) and h for h in hist), \
            f"{where}: field 'history'"
        assert isinstance(o.get("unanswerable", False), bool), f"{where}: field 'unanswerable'"
        assert isinstance(o.get("type", ""), str), f"{where}: field 'type'"
        assert o.get("lang", "zh-Hans") in LANGS, f"{where}: field 'lang'"


def test_ids_unique(items):
    ids = [o["id"] for o in items]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_answers_are_verbatim_seed_spans(items):
    seeds = [p.read_text(encoding="utf-8") for p in SEEDS]
    assert seeds, "no seed files in seeds/"
    for o in items:
        for a in o["answers"]:
            assert any(a in s for s in seeds), f"{EVAL_SET}:{o['_line']}: answer {a!r} not in any seed"


def test_answerable_and_unanswerable_are_consistent(items):
    for o in items:
        where = f"{EVAL_SET}:{o['_line']}"
        if o.get("unanswerable"):
            assert o["answers"] == [], f"{where}: unanswerable with answers"
        else:
            assert o["answers"], f"{where}: no answers and not marked unanswerable"


def test_mix(items):
    assert len(items) >= 100
    assert sum(1 for o in items if o.get("unanswerable")) >= 10
    assert sum(1 for o in items if o.get("history")) >= 8
    assert sum(1 for o in items if o.get("lang") == "zh-Hant") >= 6
    assert sum(1 for o in items if o.get("lang") == "en") >= 6
    # every article of the seed page is covered (id prefix = article)
    prefixes = {o["id"].split("-")[0] for o in items}
    assert len(prefixes) >= 6
