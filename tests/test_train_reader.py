"""The reader's training script: it prepares windows from the train file, learns (the loss goes
down on a few examples) and exports a model file the product reads."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

pytest.importorskip("torch")
import train_reader  # noqa: E402

from qa.reader.e5file import load_e5  # noqa: E402
from qa.reader.tokenizer import PieceTokenizer  # noqa: E402

SQUAD = {"data": [{"title": "统计", "paragraphs": [
    {"context": "国家统计局31日发布数据显示，5月份，中国制造业采购经理指数为50.6%，比上月回落0.2个百分点。"
                "从企业规模看，大型企业指数为51.6%，比上月上升0.5个百分点。国家统计局服务业调查中心高级统计师赵庆河表示，"
                "制造业生产和需求继续恢复。",
     "qas": [{"id": "a", "question": "5月制造业采购经理指数是多少？", "answers": [{"text": "50.6%", "answer_start": 34}]},
             {"id": "b", "question": "谁是服务业调查中心高级统计师？", "answers": [{"text": "赵庆河", "answer_start": 97}]},
             {"id": "c", "question": "大型企业指数比上月上升了多少？", "answers": [{"text": "0.5个百分点", "answer_start": 79}]}]},
    {"context": "杭州市余杭区塘栖镇今年接待游客120万人次，旅游收入达到3.2亿元，同比增长15%。镇长王建国说，古镇保护与开发并重。",
     "qas": [{"id": "d", "question": "塘栖镇今年接待游客多少人次？", "answers": [{"text": "120万人次", "answer_start": 15}]},
             {"id": "e", "question": "塘栖镇镇长是谁？", "answers": [{"text": "王建国", "answer_start": 44}]}]},
]}]}


def test_load_squad_repairs_offsets(tmp_path):
    path = tmp_path / "train.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    items = train_reader.load_squad(path)
    assert len(items) == 5
    for it in items:  # some offsets above are off by a character or two: found near the offset
        assert it["context"][it["start"] : it["end"]] == it["answer"]


def test_prepare_labels_answers_and_no_answer_readings(tmp_path):
    import random

    path = tmp_path / "train.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    items = train_reader.load_squad(path) * 4
    s = train_reader.Settings(max_len=48, p_gap=1.0, p_off_topic=1.0, p_other_window=1.0)
    tok = PieceTokenizer(load_e5().vocabulary)
    data = train_reader.prepare(items, tok, s, random.Random(0))
    kinds = data["kind"]
    assert (kinds == 0).sum() == len(items) and (kinds == 2).sum() > 0 and (kinds == 3).sum() > 0
    vocab = tok.vocabulary.pieces
    for row, length, start, end, kind in zip(data["ids"], data["lens"], data["start"], data["end"], kinds):
        assert length <= 48
        if kind == 0:  # the labelled pieces spell the answer
            text = "".join(vocab[i] for i in row[start : end + 1]).replace("▁", "")
            assert any(text.startswith(it["answer"][:2]) or it["answer"] in text for it in items)
        else:
            assert start == end == 0


def test_training_smoke_run_learns_and_exports(tmp_path):
    from qa.reader.network import ReaderNetwork

    work, out = tmp_path / "work", tmp_path / "out"
    src = tmp_path / "train.json"
    src.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    train_reader.TRAIN_FILES[:] = [src, src]
    train_reader.main(["--work", str(work), "--out", str(out), "--frozen", "11", "--epochs", "10",
                       "--batch", "4", "--lr", "1e-3", "--head-lr", "1e-2", "--max-len", "64",
                       "--save-every", "5"])
    losses = json.loads((work / "losses.json").read_text())
    assert len(losses) >= 20
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) * 0.7
    for name in ("reader-fp32.npz", "reader-int8.npz"):
        net = ReaderNetwork(out / name)
        assert net.max_len == 64 and net.meta["frozen"] == 11
    # a warm start carries the trained layer and head over; the layers below stay the backbone's
    import torch

    from qa.reader.network import unpack_weights
    from reader_torch import SpanReader

    trained, _ = unpack_weights(out / "reader-fp32.npz")
    e5 = load_e5()
    bare, warm = SpanReader(e5, 0), SpanReader(e5, 0)
    assert train_reader.warm_start(warm, out / "reader-fp32.npz") == 1
    np.testing.assert_allclose(warm.layers[11].fi.weight.detach().numpy(), trained["l11.fi.w"])
    np.testing.assert_allclose(warm.span.weight.detach().numpy(), trained["span.w"])
    assert torch.equal(warm.layers[10].fi.weight, bare.layers[10].fi.weight)
    assert not torch.equal(warm.layers[11].fi.weight, bare.layers[11].fi.weight)


def test_held_out_articles_are_a_stable_share():
    ids = [f"TRAIN_{i}" for i in range(4000)]
    kept = [a for a in ids if train_reader.held_out(a, 0.08)]
    assert 0.06 < len(kept) / len(ids) < 0.10
    assert kept == [a for a in ids if train_reader.held_out(a, 0.08)]  # same split on every machine
    assert not any(train_reader.held_out(a, 0.0) for a in ids)
