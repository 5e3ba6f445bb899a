"""The index folder's manifest and segments: unique names, a checked manifest switch, no silent
overwrite of a folder without a manifest, readers that follow a switch, older formats refused."""
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qa.assistant
import qa.store.merge
from qa.assistant import Assistant
from qa.chunking import ChunkConfig
from qa.dedup import DEFAULT_THRESHOLD
from qa.cli import app
from qa.errors import IndexBusyError, IndexStoreError
from qa.indexer import ingest
from qa.integrity import check_index, sha256_file
from qa.loading import load_paths
from qa.segment import segment_page
from qa.store import EmbeddingCache, IndexWriter, read_manifest

ROOT = Path(__file__).resolve().parents[2]
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


def test_the_manifest_switch_refuses_when_the_index_moved_on(index, tmp_path, fake_embedder):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    writer = IndexWriter(index, fake_embedder, cache, ChunkConfig(), DEFAULT_THRESHOLD, None)
    (doc,) = load_paths([one_file(tmp_path)]).documents
    writer.add(str(tmp_path / "late.txt"), "sha", [(doc, segment_page(doc))])
    # Another writer (which, unlike this one, did not skip the lock) switches meanwhile.
    ingest([one_file(tmp_path)], index, fake_embedder, cache=cache)
    moved_on = read_manifest(index)
    with pytest.raises(IndexBusyError, match="changed while this write ran"):
        writer.commit()
    assert read_manifest(index) == moved_on
    assert sorted(p.name for p in index.iterdir() if not p.name.startswith(".lock")) == \
        sorted([e.name for e in moved_on.segments] + ["manifest.json"])  # no temporary segment left


def test_a_new_segment_never_reuses_a_leftover_name(index, tmp_path, fake_embedder):
    # A write killed between renaming its segment and switching the manifest leaves seg-N.
    leftover = index / "seg-7"
    leftover.mkdir()
    (leftover / "meta.sqlite").write_bytes(b"half a write")
    ingest([one_file(tmp_path)], index, fake_embedder, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    assert [e.name for e in read_manifest(index).segments] == ["seg-1", "seg-8"]
    assert not leftover.exists()
    assert check_index(index).ok


def test_a_folder_with_segments_but_no_manifest_is_never_overwritten(index, tmp_path, fake_embedder):
    ingest([one_file(tmp_path)], index, fake_embedder, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    newest = index / read_manifest(index).segments[-1].name
    before = sha256_file(index / "seg-1" / "meta.sqlite")
    documents = read_manifest(index).counts["documents"]
    (index / "manifest.json").unlink()
    new = tmp_path / "other.txt"
    new.write_text(ARTICLE.replace("5月", "6月"), encoding="utf-8")
    with pytest.raises(IndexStoreError, match="holds index segments .*but no manifest.json") as caught:
        ingest([new], index, fake_embedder)
    assert f"cp {newest / 'manifest.json'} {index / 'manifest.json'}" in str(caught.value)
    r = CliRunner().invoke(app, ["ingest", str(new), "--index", str(index), "--embedder", "fake"])
    assert r.exit_code == 1 and "refusing to overwrite" in " ".join(r.output.split())
    assert sha256_file(index / "seg-1" / "meta.sqlite") == before and not (index / "manifest.json").exists()
    # The recovery it names works: the newest segment's copy of the manifest.
    shutil.copy(newest / "manifest.json", index / "manifest.json")
    assert Assistant.open(index, fake_embedder).info().documents == documents
    assert check_index(index).ok


def test_an_index_of_an_older_format_is_refused_with_what_to_do(index, fake_embedder):
    manifest = json.loads((index / "manifest.json").read_text("utf-8"))
    manifest["format_version"] = 1
    (index / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexStoreError, match=r"index format 1, this version reads 2; move the folder"):
        Assistant.open(index, fake_embedder)


def test_a_reader_follows_a_switch_that_deleted_the_segment_it_was_told(index, tmp_path,
                                                                         fake_embedder, monkeypatch):
    stale = read_manifest(index)
    monkeypatch.setattr(qa.store.merge, "MAX_SEGMENTS", 1)  # this write merges every segment
    ingest([one_file(tmp_path)], index, fake_embedder, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    assert not (index / stale.segments[0].name).exists()
    # The reader read the manifest just before the writer switched it and removed the old files.
    answers = iter([stale])
    real = qa.assistant.read_manifest
    monkeypatch.setattr(qa.assistant, "read_manifest", lambda root: next(answers, None) or real(root))
    assistant = Assistant(index, fake_embedder)
    assert assistant.manifest.generation == read_manifest(index).generation
    assert assistant.info().documents == stale.counts["documents"] + 1
