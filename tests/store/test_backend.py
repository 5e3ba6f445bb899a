"""qa.store.backend through the product, on Milvus Lite (real, no mocks): `--store milvus` gives
the same answers as the local store, keeps the mirror equal to the manifest through adds and
removals, refuses a mismatched store, and a write killed with SIGKILL mid-mirror is caught up
on the next run with nothing lost and nothing duplicated."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")  # the scale extra; make test installs it

from qa.assistant import Assistant  # noqa: E402
from qa.embedders import FakeEmbedder  # noqa: E402
from qa.errors import ConfigError  # noqa: E402
from qa.indexer import ingest  # noqa: E402
from qa.store import EmbeddingCache, IndexView, read_manifest  # noqa: E402
from qa.store.backend import LOCAL, parse_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["5月份中国制造业PMI是多少？", "龙虾狂欢节的照片是谁拍的？", "潍坊高新区有多少家隐形冠军企业？",
             "東陽市為外貿企業辦理出口退稅多少？", "What was China's manufacturing PMI in May?"]


def _in_step(index: Path) -> tuple[bool, int, int]:
    """(mirror in step, entities in the collection, live chunks of the manifest)."""
    view = IndexView(index, read_manifest(index))
    try:
        live = len(view.chunks) - sum(len(d) for d in view.deleted)
        return view.mirror.in_step(view.manifest), view.mirror.count(), live
    finally:
        view.close()


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", folder)
    return folder


def test_store_values_parse_to_a_backend_or_a_clear_error(tmp_path):
    assert parse_store(None, tmp_path) is None and parse_store("local", tmp_path) == LOCAL
    lite = parse_store("milvus", tmp_path)
    assert (lite.backend, lite.uri) == ("milvus", "") and lite.collection.startswith("xunda_")
    assert parse_store("milvus:rel/m.db", tmp_path).uri == os.path.abspath("rel/m.db")
    assert parse_store("milvus:http://db:19530", tmp_path).uri == "http://db:19530"
    assert parse_store("milvus", tmp_path / "other").collection != lite.collection  # one per index
    for bad in ("faiss", "local:x", "milvus2:x"):
        with pytest.raises(ConfigError, match=bad.split(":")[0]):
            parse_store(bad, tmp_path)
    with pytest.raises(ConfigError, match=r"ends in \.db \(milvus:news/vectors\.db\)"):
        parse_store("milvus:news/vectors", tmp_path)


def test_milvus_store_answers_as_the_local_store_and_follows_adds_and_removals(corpus, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    local = Assistant.build([corpus], tmp_path / "local", FakeEmbedder(64), cache=cache)
    milvus = Assistant.build([corpus], tmp_path / "milvus", FakeEmbedder(64), cache=cache, store="milvus")
    segment = tmp_path / "milvus" / read_manifest(tmp_path / "milvus").segments[0].name
    assert not (segment / "vectors.faiss").exists() and (tmp_path / "milvus" / "milvus.db").exists()
    for question in QUESTIONS:
        want, got = local.ask(question), milvus.ask(question)
        assert (got.text, got.evidence, got.abstained) == (want.text, want.evidence, want.abstained)
        assert [h.chunk.chunk_id for h in milvus.retrieve(question)] == \
               [h.chunk.chunk_id for h in local.retrieve(question)]
    assert milvus.ask(QUESTIONS[0]).text == "50.6%"
    assert milvus.info().store.startswith("milvus") and local.info().store == "local"

    extra = tmp_path / "extra.txt"
    extra.write_text("新华社北京6月2日电 国家统计局今天发布，全国夏粮总产量达到2948亿斤，比上年增加一成。", "utf-8")
    milvus.add([extra])
    assert milvus.ask("全国夏粮总产量达到多少？").text == "2948亿斤"
    assert _in_step(tmp_path / "milvus")[0]
    gone = next(corpus.iterdir())
    assert milvus.remove([gone]) == [str(gone)]
    in_step, entities, live = _in_step(tmp_path / "milvus")
    assert in_step and entities == live
    assert all(str(gone) not in h.paths for q in QUESTIONS for h in milvus.retrieve(q))


def test_a_mismatched_store_is_refused_naming_both(corpus, tmp_path):
    index = tmp_path / "index"
    ingest([corpus], index, FakeEmbedder(64), cache=EmbeddingCache(tmp_path / "c.sqlite"), store="milvus")
    with pytest.raises(ConfigError, match="stored in milvus.*not local"):
        Assistant.open(index, FakeEmbedder(64), store="local")
    with pytest.raises(ConfigError, match=f"not milvus:{tmp_path / 'elsewhere.db'}"):
        ingest([corpus], index, FakeEmbedder(64), store=f"milvus:{tmp_path / 'elsewhere.db'}")
    assert Assistant.open(index, FakeEmbedder(64)).ask(QUESTIONS[0]).text == "50.6%"  # as recorded


def test_an_unreachable_milvus_server_is_named_before_any_work(corpus, tmp_path):
    with pytest.raises(ConfigError, match="127.0.0.1:9"):
        ingest([corpus], tmp_path / "index", FakeEmbedder(64), store="milvus:http://127.0.0.1:9")
    assert not (tmp_path / "index" / "manifest.json").exists()


# An ingest that SIGKILLs itself on its third write into Milvus (batches of 5 chunks): its
# manifest has switched, the collection holds part of the new segment.
KILLED_INGEST = """
import os, signal, sys
import qa.store.milvus as milvus
from pymilvus import MilvusClient
milvus.BATCH = 5
calls = []
real = MilvusClient.upsert
def upsert(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *args, **kwargs)
MilvusClient.upsert = upsert
from qa.cli import app
sys.argv = ["qa"] + sys.argv[1:]
app()
"""


def _qa(*args: str, script: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "XUNDA_CACHE_DIR": os.environ.get("XUNDA_CACHE_DIR", "")}
    command = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "qa", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("next_run", ["ingest", "ask"])
def test_an_ingest_killed_mid_mirror_is_caught_up_by_the_next_run(corpus, tmp_path, monkeypatch, next_run):
    monkeypatch.setenv("XUNDA_CACHE_DIR", str(tmp_path / "cache"))
    index = tmp_path / "index"
    killed = _qa("ingest", str(corpus), "--index", str(index), "--embedder", "fake", "--store", "milvus",
                 script=KILLED_INGEST)
    assert killed.returncode == -9, killed.stderr[-2000:]
    in_step, entities, live = _in_step(index)
    assert not in_step and 0 < entities < live  # the manifest switched, Milvus holds part of it
    checked = _qa("check", "--index", str(index))
    assert checked.returncode == 0, checked.stderr[-2000:]  # the files are sound; Milvus is behind
    assert "BEHIND" in checked.stdout and f"{entities:,} entities for {live:,} live chunks" in checked.stdout
    if next_run == "ingest":
        again = _qa("ingest", str(corpus), "--index", str(index), "--embedder", "fake")
        assert again.returncode == 0 and "2 unchanged" in again.stdout.replace("\n", " "), again.stderr[-2000:]
    else:
        asked = _qa("ask", QUESTIONS[0], "--index", str(index), "--embedder", "fake")
        assert asked.returncode == 0 and "50.6%" in asked.stdout, asked.stderr[-2000:]
    in_step, entities, after = _in_step(index)
    assert in_step and entities == after == live  # nothing lost, nothing duplicated
    checked = _qa("check", "--index", str(index), "--json")
    mirror = json.loads(checked.stdout)["mirror"]
    assert checked.returncode == 0 and mirror["in_step"] and mirror["entities"] == live, checked.stderr[-2000:]


def test_milvus_lite_open_in_another_process_is_a_clear_error(corpus, tmp_path):
    index = tmp_path / "index"
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    ingest([corpus], index, FakeEmbedder(64), cache=cache, store="milvus")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom qa.assistant import Assistant\nfrom qa.embedders import "
         f"FakeEmbedder\na = Assistant.open({str(index)!r}, FakeEmbedder(64))\nprint('open', flush=True)\n"
         "sys.stdin.readline()"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        extra = tmp_path / "extra.txt"
        extra.write_text("新华社北京6月2日电 国家统计局今天发布，全国夏粮总产量达到2948亿斤，比上年增加一成。", "utf-8")
        with pytest.raises(ConfigError, match="serves one process at a time"):
            ingest([extra], index, FakeEmbedder(64), cache=cache)
        checked = _qa("check", "--index", str(index))  # the files are checked, Milvus is named
        assert checked.returncode == 1 and "UNREACHABLE" in checked.stdout, checked.stdout
        assert "ok      seg-1/meta.sqlite" in checked.stdout and "serves one process" in checked.stderr
    finally:
        holder.communicate("\n", timeout=60)
    assert ingest([extra], index, FakeEmbedder(64), cache=cache).documents_added == 1  # freed on exit


def test_an_empty_folder_opened_with_milvus_becomes_a_milvus_index_on_its_first_add(corpus, tmp_path):
    assistant = Assistant.open_or_empty(tmp_path / "new", FakeEmbedder(64), store="milvus",
                                        cache=EmbeddingCache(tmp_path / "c.sqlite"))
    assert assistant.info().chunks == 0
    assistant.add([corpus])  # what the chat's first upload does
    assert read_manifest(tmp_path / "new").store.backend == "milvus"
    assert assistant.ask(QUESTIONS[0]).text == "50.6%"
    assert _in_step(tmp_path / "new")[0]


def test_a_milvus_ingest_of_many_batches_starts_milvus_lite_once(corpus, tmp_path, monkeypatch):
    import milvus_lite.adapter.grpc.server as lite_server

    import qa.indexer
    from qa.store import IndexWriter

    starts, batches = [], []
    start_server = lite_server.start_server_in_thread
    monkeypatch.setattr(lite_server, "start_server_in_thread", lambda *a, **k: starts.append(1) or start_server(*a, **k))
    next_batch = IndexWriter.next_batch
    monkeypatch.setattr(IndexWriter, "next_batch", lambda self: batches.append(1) or next_batch(self))
    monkeypatch.setattr(qa.indexer, "BATCH_CHARS", 1)  # a segment per document
    (corpus / "grain.txt").write_text("新华社北京6月2日电 国家统计局今天发布，全国夏粮总产量达到2948亿斤。", "utf-8")
    (corpus / "rail.txt").write_text("新华社成都7月1日电 一条新的城际铁路今天开通运营，全长一百二十公里。", "utf-8")
    index = tmp_path / "index"
    ingest([corpus], index, FakeEmbedder(64), cache=EmbeddingCache(tmp_path / "c.sqlite"), store="milvus")
    assert len(batches) >= 3 and len(starts) == 1  # one Lite server for the whole write
    in_step, entities, live = _in_step(index)
    assert in_step and entities == live
    assert Assistant.open(index, FakeEmbedder(64)).ask(QUESTIONS[0]).text == "50.6%"


def test_warm_up_runs_a_milvus_search_so_the_first_question_does_not_build_lites_structures(corpus, tmp_path,
                                                                                           monkeypatch):
    from qa.store.milvus import MilvusMirror

    searches = []
    for kind in ("dense", "sparse"):
        original = getattr(MilvusMirror, kind)
        monkeypatch.setattr(MilvusMirror, kind, lambda self, *a, _o=original, _k=kind, **k: searches.append(_k)
                            or _o(self, *a, **k))
    empty = Assistant.open_or_empty(tmp_path / "new", FakeEmbedder(64), store="milvus")
    empty.warm_up().join(timeout=60)  # nothing to search yet: no error, no search
    assert searches == []
    index = tmp_path / "index"
    ingest([corpus], index, FakeEmbedder(64), cache=EmbeddingCache(tmp_path / "c.sqlite"), store="milvus")
    assistant = Assistant.open(index, FakeEmbedder(64))
    assistant.warm_up().join(timeout=60)
    assert sorted(searches) == ["dense", "sparse"]
    assert assistant.ask(QUESTIONS[0]).text == "50.6%"
