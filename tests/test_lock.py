"""One writer at a time across real processes: busy refusal, --wait, concurrent ingests, kill -9."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.assistant import Assistant
from qa.errors import ConfigError, IndexBusyError
from qa.indexer import ingest
from qa.integrity import check_index
from qa.lock import OWNER, index_lock, wait_timeout
from qa.store import EmbeddingCache, read_manifest

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = """杭州湾新区新能源汽车产业园开工

新华社宁波6月2日电(记者周明)6月1日，杭州湾新区新能源汽车产业园正式开工建设，总投资120亿元。

园区负责人表示，项目建成后预计年产整车30万辆，新增就业岗位8000个。
"""
# A process that takes the lock, says so, and holds it until its stdin closes or it is killed.
HOLDER = ("import sys; from qa.lock import index_lock\n"
          "with index_lock(sys.argv[1]):\n"
          "    print('locked', flush=True); sys.stdin.read()\n")


def write_articles(folder: Path, n: int, tag: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = ARTICLE.replace("120亿元", f"{100 + i}亿元").replace("杭州湾", f"{tag}{i}号")
        (folder / f"{tag}{i:03d}.txt").write_text(body, encoding="utf-8")
    return folder


@pytest.fixture
def env(tmp_path):
    # Wide columns: rich wraps long messages at 80 columns when stderr is not a terminal.
    return {**os.environ, "XUNDA_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "400"}


# Time limits only guard against a hang: a loaded 2-core machine can take minutes.
def qa(*args, env, wait: bool = False) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "qa", *map(str, args), "--embedder", "fake"]
    return subprocess.Popen(cmd + (["--wait"] if wait else []), env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def hold_lock(index: Path, env) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(index)], env=env, cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def counts(index: Path) -> dict:
    return read_manifest(index).counts


def assert_sound(index: Path, fake_embedder) -> None:
    """The index checks clean, opens, and holds no leftovers of a write."""
    assert check_index(index).ok
    assert Assistant.open(index, fake_embedder).info().chunks == counts(index)["chunks"]
    names = {p.name for p in index.iterdir()}
    assert not [n for n in names if ".tmp-" in n]
    assert sorted(n for n in names if n.startswith("seg-")) == \
        sorted(e.name for e in read_manifest(index).segments)


def test_wait_values_are_checked():
    assert (wait_timeout(False), wait_timeout(True), wait_timeout(2.5), wait_timeout(0)) == (0, -1, 2.5, 0)
    for bad in (-1, float("nan"), "abc", None):
        with pytest.raises(ConfigError, match="wait="):
            wait_timeout(bad)


def test_a_second_writer_is_refused_naming_the_holder(tmp_path, env, fake_embedder):
    index = tmp_path / "index"
    corpus = write_articles(tmp_path / "a", 2, "甲")
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    ingest([ROOT / "seeds"], index, fake_embedder, cache=cache)
    before = counts(index)
    holder = hold_lock(index, env)
    try:
        for command in ("ingest", "remove"):
            proc = qa(command, corpus, "--index", index, env=env)
            _, stderr = proc.communicate(timeout=600)
            message = " ".join(stderr.split())
            assert proc.returncode == 1, stderr
            assert f"index busy: another writer (pid {holder.pid}) is writing {index}" in message
            assert "--wait" in message and "Traceback" not in stderr
        with pytest.raises(IndexBusyError, match=f"pid {holder.pid}"):
            ingest([corpus], index, fake_embedder, cache=cache)
        t0 = time.monotonic()
        with pytest.raises(IndexBusyError, match="after 0.3 s"):
            Assistant.open(index, fake_embedder, cache=cache).add([corpus], wait=0.3)
        assert time.monotonic() - t0 >= 0.3
        # Readers never block: the index opens and answers while a writer holds the lock.
        assert Assistant.open(index, fake_embedder).retrieve("采购经理指数", k=1)
    finally:
        holder.kill()
        holder.wait()


def test_wait_takes_its_turn_when_the_holder_is_done(tmp_path, env, fake_embedder):
    index = tmp_path / "index"
    corpus = write_articles(tmp_path / "a", 3, "甲")
    holder = hold_lock(index, env)
    waiter = qa("ingest", corpus, "--index", index, env=env, wait=True)
    time.sleep(1.5)
    assert waiter.poll() is None  # still waiting for the lock
    holder.stdin.close()  # the holder finishes its write and lets go
    holder.wait(timeout=600)
    out, err = waiter.communicate(timeout=600)
    assert waiter.returncode == 0, err
    assert counts(index)["documents"] == 3
    assert_sound(index, fake_embedder)


@pytest.mark.parametrize("wait", [True, False])
def test_two_concurrent_ingests_lose_nothing(tmp_path, env, fake_embedder, wait):
    """Both succeed in turn (or, without --wait, one refuses clearly); the index holds exactly
    what a clean build of the successful inputs holds."""
    a = shutil.copytree(ROOT / "seeds", tmp_path / "a")
    b = write_articles(tmp_path / "b", 30, "乙")
    index = tmp_path / "index"
    procs = {folder: qa("ingest", folder, "--index", index, env=env, wait=wait) for folder in (a, b)}
    done = []
    for folder, proc in procs.items():
        _, stderr = proc.communicate(timeout=600)
        if proc.returncode == 0:
            done.append(folder)
        else:
            assert not wait and proc.returncode == 1, stderr
            assert "index busy: another writer (pid" in " ".join(stderr.split())
    assert len(done) == 2 if wait else done
    clean = tmp_path / "clean"
    ingest(done, clean, fake_embedder, cache=EmbeddingCache(tmp_path / "clean.sqlite"))
    for key in ("files", "documents", "articles", "chunks"):
        assert counts(index)[key] == counts(clean)[key], key
    assert_sound(index, fake_embedder)


def test_kill_9_of_the_writer_holding_the_lock_frees_the_index(tmp_path, env, fake_embedder):
    index = tmp_path / "index"
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    ingest([ROOT / "seeds"], index, fake_embedder, cache=cache)
    before = counts(index)
    more = write_articles(tmp_path / "more", 300, "丙")
    writer = qa("ingest", more, "--index", index, env=env)
    deadline = time.monotonic() + 600
    while not (index / OWNER).exists() and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (index / OWNER).read_text() == str(writer.pid)  # it holds the lock
    time.sleep(0.5)
    assert writer.poll() is None  # still writing when killed
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert counts(index) == before  # killed mid-write: the previous index, whole
    Assistant.open(index, fake_embedder).retrieve("采购经理指数", k=1)
    # The kernel let go of the dead writer's lock: the next writer does not wait or refuse.
    report = ingest([write_articles(tmp_path / "one", 1, "丁")], index, fake_embedder, cache=cache)
    assert report.documents_added == 1 and counts(index)["documents"] == before["documents"] + 1
    assert_sound(index, fake_embedder)


def test_ui_upload_gets_the_same_lock(tmp_path, fake_embedder):
    from ui.app import ingest_uploads

    index = tmp_path / "index"
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    assistant = Assistant.build([ROOT / "seeds"], index, fake_embedder, cache=cache)
    upload = write_articles(tmp_path / "up", 1, "戊") / "戊000.txt"
    with index_lock(index):
        report, rejected = ingest_uploads(assistant, [str(upload)])
    assert report is None and any("索引正忙" in r for r in rejected)  # the page says it in Chinese
    report, rejected = ingest_uploads(assistant, [str(upload)])
    assert report.documents_added == 1 and not rejected
