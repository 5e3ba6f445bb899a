"""Checked index files: each file truncated, bit-flipped, zeroed or deleted is named, by
`Assistant.open` where sizes or loading show it and always by `check_index` / `qa check`."""
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.assistant import Assistant
from qa.cli import app
from qa.errors import IndexCorruptError
from qa.indexer import ingest
from qa.integrity import check_index
from qa.store import EmbeddingCache, read_manifest
from qa.store.bm25 import FILES as BM25_FILES

ROOT = Path(__file__).resolve().parents[1]
FILES = ("meta.sqlite", "vectors.faiss", "vectors.npy") + tuple(f"bm25/{n}" for n in BM25_FILES)
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from qa.embedders import FakeEmbedder

    base = tmp_path_factory.mktemp("built")
    corpus = shutil.copytree(ROOT / "seeds", base / "corpus")
    ingest([corpus], base / "index", FakeEmbedder(), cache=EmbeddingCache(base / "c.sqlite"))
    return base / "index"


@pytest.fixture
def index(built, tmp_path):
    return shutil.copytree(built, tmp_path / "index")


def damage(path: Path, how: str) -> None:
    if how == "delete":
        path.unlink()
        return
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: len(data) // 2]
    elif how == "flip":
        data[len(data) // 2] ^= 0x10
    else:  # zero everything after the header, as a failed disk or a sparse copy leaves it
        start = min(200, len(data) // 4)
        data[start:] = bytes(len(data) - start)
    path.write_bytes(bytes(data))


def segment_of(index: Path) -> Path:
    """The folder of the index's one segment."""
    (entry,) = read_manifest(index).segments
    return index / entry.name


def qa_check(index: Path):
    return runner.invoke(app, ["check", "--index", str(index)])


@pytest.mark.parametrize("how", ["truncate", "flip", "zero", "delete"])
@pytest.mark.parametrize("name", FILES)
def test_each_damaged_file_is_named_with_how_to_recover(index, fake_embedder, name, how):
    segment = segment_of(index)
    path = segment / name
    damage(path, how)
    with pytest.raises(IndexCorruptError) as caught:
        check_index(index, raise_on_damage=True)
    assert caught.value.path == str(path)
    assert "mv " in str(caught.value) and "qa ingest" in str(caught.value)
    assert [f.name for f in check_index(index).files if f.problem] == [f"{segment.name}/{name}"]
    r = qa_check(index)
    assert r.exit_code == 7 and name in r.output and "Traceback" not in r.output
    # Opening checks sizes and what loading shows: a resized or missing file never opens.
    try:
        Assistant.open(index, fake_embedder)
    except IndexCorruptError as exc:
        assert exc.path == str(path)
    else:
        assert how in ("flip", "zero")  # same size, found by checksum: `qa check`'s work


def test_zeroed_vectors_and_a_missing_bm25_folder_do_not_open(index, built, fake_embedder):
    gen = segment_of(index)
    damage(gen / "vectors.faiss", "zero")
    with pytest.raises(IndexCorruptError, match="vectors.faiss: .*not unit length"):
        Assistant.open(index, fake_embedder)
    shutil.copy(built / gen.name / "vectors.faiss", gen / "vectors.faiss")
    shutil.rmtree(gen / "bm25")
    with pytest.raises(IndexCorruptError, match=r"bm25/.*missing \(its folder bm25/ is gone\)"):
        Assistant.open(index, fake_embedder)
    r = runner.invoke(app, ["info", "--index", str(index)])
    assert r.exit_code == 1 and "bm25" in r.output  # `qa info` no longer calls it healthy


def test_a_sound_index_checks_clean(index, fake_embedder):
    result = check_index(index)
    assert result.ok and result.checksums
    assert {f.name for f in result.files} == {f"{segment_of(index).name}/{n}" for n in FILES}
    assert all(f.checksum == "ok" for f in result.files)
    r = qa_check(index)
    assert r.exit_code == 0 and "checksums recorded" in r.output
    r = runner.invoke(app, ["check", "--index", str(index), "--json"])
    assert json.loads(r.output)["ok"] is True


def test_recovery_names_the_folders_the_index_was_built_from(index, built):
    (segment_of(index) / "meta.sqlite").unlink()
    with pytest.raises(IndexCorruptError) as caught:
        check_index(index, raise_on_damage=True)
    corpus = built.parent / "corpus"
    assert f"qa ingest {corpus} --index {index}" in str(caught.value)
    assert f"mv {index} {index}.broken" in str(caught.value)
