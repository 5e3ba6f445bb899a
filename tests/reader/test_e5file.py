"""The backbone file reader: config, vocabulary, Q4_0 tensors, clear errors for bad files."""
import numpy as np
import pytest

from qa.errors import ModelFileError
from qa.reader.e5file import E5File, bundled_model_path, load_e5


def test_config_and_vocabulary():
    e5 = load_e5()
    c = e5.config
    assert (c.hidden, c.layers, c.heads, c.ffn, c.max_positions) == (384, 12, 12, 1536, 512)
    v = e5.vocabulary
    assert v.pieces[v.bos] == "<s>" and v.pieces[v.eos] == "</s>" and v.pieces[v.unk] == "<unk>"
    assert len(v.pieces) == len(v.scores) > 250_000
    assert v.normalization[ord("Ａ")] == "A"  # full-width letters fold to ASCII


def test_embedding_rows_are_the_dequantised_matrix_rows():
    e5 = load_e5()
    ids = np.array([[0, 6, 2], [250_001, 39_513, 1]])
    rows = e5.embedding_rows(ids)
    assert rows.shape == (2, 3, 384)
    full = e5.word_embeddings()
    np.testing.assert_array_equal(rows, full[ids])
    # Q4_0: every block of 32 weights is a multiple of its scale, at most 8 steps from 0
    block = full[6, :32]
    step = np.abs(block[block != 0]).min()
    assert np.allclose(block / step, np.round(block / step), atol=1e-3) and np.abs(block).max() <= 8 * step + 1e-6


def test_layer_shapes_follow_torch_linear():
    layer = load_e5().layer(11)
    assert layer["q.w"].shape == (384, 384) and layer["fi.w"].shape == (1536, 384) and layer["fo.w"].shape == (384, 1536)
    assert np.isfinite(layer["fo.w"]).all() and layer["oln.w"].shape == (384,)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="nothing.bin"):
        E5File(str(tmp_path / "nothing.bin"))


def test_truncated_and_foreign_files(tmp_path):
    data = open(bundled_model_path(), "rb").read(5_000_000)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data)
    with pytest.raises(ModelFileError, match="cut.bin.*(truncated|corrupt)"):
        E5File(str(cut))
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"GGUF" + data[4:100])
    with pytest.raises(ModelFileError, match="bad magic"):
        E5File(str(foreign))
