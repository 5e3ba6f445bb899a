"""The index folder: persistence, durability, incremental ingest, removal, cache, mismatch."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.assistant import Assistant
from qa.embedders import FakeEmbedder
from qa.errors import EmbedderMismatch, IndexStoreError
from qa.indexer import ingest, remove_paths
from qa.store import EmbeddingCache, read_manifest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

ARTICLE = """杭州湾新区新能源汽车产业园开工

新华社宁波6月2日电(记者周明)6月1日，杭州湾新区新能源汽车产业园正式开工建设，总投资120亿元，规划用地3000亩。

园区负责人表示，项目建成后预计年产整车30万辆，可带动上下游配套企业50余家，新增就业岗位8000个。
"""


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def cache(tmp_path):
    return EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite")


def test_build_open_round_trip(corpus, tmp_path, fake_embedder, cache):
    index = tmp_path / "index"
    report = ingest([corpus], index, fake_embedder, cache=cache)
    assert report.documents_added == 2 and not report.skipped
    assert report.duplicates_merged >= 1  # the web copy of the page's first article
    manifest = read_manifest(index)
    assert manifest.embedder_id == fake_embedder.id and manifest.dim == fake_embedder.dim
    assert manifest.counts["chunks"] == report.chunks > 0
    assistant = Assistant.open(index, fake_embedder, cache=cache)
    info = assistant.info()
    assert (info.documents, info.articles, info.chunks) == (2, report.articles, report.chunks)
    # every chunk's offsets slice its article's text
    for chunk in assistant._view[2].chunks:
        assert assistant.article(chunk.article_id).text[chunk.start : chunk.end] == chunk.text
    # the merged article cites both files
    assert any(len(a.sources) == 2 for a in assistant.articles.values())
    hits = assistant.retrieve("制造业采购经理指数", k=3)
    assert hits and "采购经理指数" in hits[0].text and hits[0].rank == 1
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_reingest_unchanged_adds_nothing_and_embeds_nothing(corpus, tmp_path, fake_embedder, cache):
    index = tmp_path / "index"
    first = ingest([corpus], index, fake_embedder, cache=cache)
    generation = read_manifest(index).generation
    again = ingest([corpus], index, fake_embedder, cache=cache)
    assert again.documents_added == 0 and again.documents_unchanged == 2
    assert again.embedded == 0 and again.chunks == first.chunks
    assert read_manifest(index).generation == generation  # nothing rewritten


def test_changed_file_replaces_its_chunks_and_cache_avoids_reembedding(tmp_path, fake_embedder, cache):
    folder = tmp_path / "c"
    folder.mkdir()
    f = folder / "news.txt"
    f.write_text(ARTICLE, encoding="utf-8")
    index = tmp_path / "index"
    first = ingest([folder], index, fake_embedder, cache=cache)
    assert first.embedded == first.chunks > 0
    f.write_text(ARTICLE.replace("120亿元", "150亿元"), encoding="utf-8")
    second = ingest([folder], index, fake_embedder, cache=cache)
    assert second.documents_replaced == 1 and second.documents_added == 1
    assistant = Assistant.open(index, fake_embedder, cache=cache)
    texts = "".join(c.text for c in assistant._view[2].chunks)
    assert "150亿元" in texts and "120亿元" not in texts
    # a rebuild into a new folder embeds nothing: every chunk text is in the cache
    third = ingest([folder], tmp_path / "index2", fake_embedder, cache=cache)
    assert third.embedded == 0


def test_remove_drops_a_document(corpus, tmp_path, fake_embedder, cache):
    index = tmp_path / "index"
    ingest([corpus], index, fake_embedder, cache=cache)
    web = corpus / "001_8498c6a55c9d4c5e.txt"
    gone = remove_paths([web], index, fake_embedder, cache=cache)
    assert gone == [str(web.resolve())]
    assistant = Assistant.open(index, fake_embedder, cache=cache)
    assert assistant.info().documents == 1
    assert all(str(web) not in " ".join(a.sources) for a in assistant.articles.values())


def test_opening_with_another_embedder_is_a_clear_error(corpus, tmp_path, fake_embedder, cache):
    index = tmp_path / "index"
    ingest([corpus], index, fake_embedder, cache=cache)
    with pytest.raises(EmbedderMismatch, match="fake:hash-64"):
        Assistant.open(index, FakeEmbedder(dim=64), cache=cache)
    with pytest.raises(IndexStoreError, match="qa ingest"):
        Assistant.open(tmp_path / "nowhere", fake_embedder)


def test_index_holds_no_pickle(corpus, tmp_path, fake_embedder, cache):
    index = tmp_path / "index"
    ingest([corpus], index, fake_embedder, cache=cache)
    names = {p.suffix for p in index.rglob("*") if p.is_file() and p.name != ".lock"}
    assert names <= {".json", ".sqlite", ".faiss", ".npy"}
    assert (index / ".lock").stat().st_size == 0  # the writers' lock file holds nothing
    for npy in index.rglob("*.npy"):
        import numpy as np

        np.load(npy, allow_pickle=False)  # raises if an array needed pickle


def _write_many(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = ARTICLE.replace("120亿元", f"{100 + i}亿元").replace("30万辆", f"{i}万辆")
        (folder / f"n{i:04d}.txt").write_text(body * 3, encoding="utf-8")


def test_killing_an_ingest_midway_leaves_the_previous_index_usable(corpus, tmp_path, fake_embedder):
    index = tmp_path / "index"
    env = {**os.environ, "XUNDA_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-m", "qa", "ingest", str(corpus), "--index", str(index),
                    "--embedder", "fake"], check=True, env=env, capture_output=True)
    before = read_manifest(index).counts
    _write_many(tmp_path / "more", 400)
    killed_mid_write = 0
    for delay in (0.8, 1.6, 2.4, 3.2):
        proc = subprocess.Popen([sys.executable, "-m", "qa", "ingest", str(tmp_path / "more"),
                                 "--index", str(index), "--embedder", "fake"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_write += 1
        proc.wait()
        counts = read_manifest(index).counts
        # all of the previous index, or all of the new one: never a mix
        assert counts == before or counts["documents"] == 402
        assistant = Assistant.open(index, fake_embedder)
        assert assistant.info().chunks == counts["chunks"]
        assert assistant.retrieve("采购经理指数", k=1)
        if counts != before:
            break
    assert killed_mid_write >= 1


@pytest.mark.parametrize("index_type", ["hnsw", "ivf"])
def test_approximate_index_types_are_recorded_and_search(index_type, tmp_path, fake_embedder, cache):
    folder = tmp_path / "many"
    _write_many(folder, 30)
    shutil.copy(SEEDS / "000_693cfbc8317cc973.txt", folder)
    index = tmp_path / "index"
    ingest([folder], index, fake_embedder, cache=cache, index_type=index_type)
    assert read_manifest(index).index_type == index_type
    assistant = Assistant.open(index, fake_embedder, cache=cache)
    assert assistant.info().index_type == index_type
    hits = assistant.retrieve("制造业采购经理指数", k=3)
    assert hits and "采购经理指数" in hits[0].text
    # a later ingest keeps the recorded type
    (folder / "extra.txt").write_text(ARTICLE.replace("杭州湾", "宁波"), encoding="utf-8")
    ingest([folder], index, fake_embedder, cache=cache)
    assert read_manifest(index).index_type == index_type


def test_text_too_short_for_an_article_is_skipped_with_a_message(tmp_path, fake_embedder, cache):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "six.txt").write_text("abcdef", encoding="utf-8")
    (folder / "news.txt").write_text(ARTICLE, encoding="utf-8")
    report = ingest([folder], tmp_path / "index", fake_embedder, cache=cache)
    assert report.documents_added == 1 and report.files == 1
    [err] = report.skipped
    assert err.path == str(folder / "six.txt") and "no article found in its 6 characters" in err.reason


def test_linked_file_is_stored_under_the_given_path_and_removed_with_its_folder(tmp_path, fake_embedder,
                                                                              cache):
    real = tmp_path / "archive" / "real.txt"
    real.parent.mkdir()
    real.write_text(ARTICLE, encoding="utf-8")
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "link.txt").symlink_to(real)
    index = tmp_path / "index"
    ingest([feed], index, fake_embedder, cache=cache)
    assistant = Assistant.open(index, fake_embedder, cache=cache)
    [article] = assistant.articles.values()
    assert article.sources == (str(feed / "link.txt"),)
    assert remove_paths([feed], index, fake_embedder, cache=cache) == [str(feed / "link.txt")]
    assert read_manifest(index).counts["documents"] == 0
