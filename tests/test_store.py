"""The index folder's generations: unique names, a checked manifest switch, no silent
overwrite of a folder without a manifest, readers that follow a switch."""
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qa.assistant
from qa.assistant import Assistant
from qa.cli import app
from qa.errors import IndexBusyError, IndexStoreError
from qa.indexer import ingest
from qa.integrity import check_index, sha256_file
from qa.store import EmbeddingCache, read_manifest, read_state, write_generation

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = "宁波港集团发布消息\n\n新华社宁波6月3日电 宁波舟山港5月集装箱吞吐量达到320万标准箱，同比增长9%。\n"


@pytest.fixture
def index(tmp_path, fake_embedder):
    root = tmp_path / "index"
    ingest([shutil.copytree(ROOT / "seeds", tmp_path / "corpus")], root, fake_embedder,
           cache=EmbeddingCache(tmp_path / "c.sqlite"))
    return root


def one_file(tmp_path: Path) -> Path:
    path = tmp_path / "new" / "port.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def test_the_manifest_switch_refuses_when_the_index_moved_on(index, fake_embedder):
    manifest = read_manifest(index)
    state = read_state(index, manifest)
    with pytest.raises(IndexBusyError, match="changed while this write ran"):
        write_generation(index, state, fake_embedder.id, fake_embedder.dim, "flat", base="gen-0")
    assert read_manifest(index) == manifest
    assert sorted(p.name for p in index.iterdir() if not p.name.startswith(".lock")) == \
        [manifest.generation, "manifest.json"]  # its temporary generation is gone too


def test_a_new_generation_never_reuses_a_leftover_name(index, tmp_path, fake_embedder):
    # A write killed between renaming its generation and switching the manifest leaves gen-N.
    leftover = index / "gen-7"
    leftover.mkdir()
    (leftover / "meta.sqlite").write_bytes(b"half a write")
    ingest([one_file(tmp_path)], index, fake_embedder, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    assert read_manifest(index).generation == "gen-8"
    assert not leftover.exists() and not (index / "gen-1").exists()
    assert check_index(index).ok


def test_a_folder_with_generations_but_no_manifest_is_never_overwritten(index, tmp_path, fake_embedder):
    gen = index / read_manifest(index).generation
    before = sha256_file(gen / "meta.sqlite")
    documents = read_manifest(index).counts["documents"]
    (index / "manifest.json").unlink()
    new = one_file(tmp_path)
    with pytest.raises(IndexStoreError, match="holds index generations .*but no manifest.json") as caught:
        ingest([new], index, fake_embedder)
    assert f"cp {gen / 'manifest.json'} {index / 'manifest.json'}" in str(caught.value)
    r = CliRunner().invoke(app, ["ingest", str(new), "--index", str(index), "--embedder", "fake"])
    assert r.exit_code == 1 and "refusing to overwrite" in " ".join(r.output.split())
    assert sha256_file(gen / "meta.sqlite") == before and not (index / "manifest.json").exists()
    # The recovery it names works: the generation's own copy of its manifest.
    shutil.copy(gen / "manifest.json", index / "manifest.json")
    assert Assistant.open(index, fake_embedder).info().documents == documents
    assert check_index(index).ok


def test_a_reader_follows_a_switch_that_deleted_the_generation_it_was_told(index, tmp_path,
                                                                         fake_embedder, monkeypatch):
    stale = read_manifest(index)
    ingest([one_file(tmp_path)], index, fake_embedder, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    assert not (index / stale.generation).exists()
    # The reader read the manifest just before the writer switched it and removed the old files.
    answers = iter([stale])
    real = qa.assistant.read_manifest
    monkeypatch.setattr(qa.assistant, "read_manifest", lambda root: next(answers, None) or real(root))
    assistant = Assistant(index, fake_embedder)
    assert assistant.manifest.generation == read_manifest(index).generation
    assert assistant.info().documents == stale.counts["documents"] + 1
