"""qa.ray_embedding: passages embedded on a local Ray (real actors, no mocks) give the same
vectors and the same index as in-process embedding; bad addresses are refused quickly."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.embedders import FakeEmbedder
from qa.errors import ConfigError
from qa.ray_embedding import RayEmbedder, check_address

ray = pytest.importorskip("ray")  # the scale extra; make test installs it

ROOT = Path(__file__).resolve().parents[1]
PASSAGES = [
    "新华社北京5月31日电 国家统计局服务业调查中心和中国物流与采购联合会31日发布数据。",
    "5月份，中国制造业采购经理指数（PMI）为50.6%，比上月回落0.2个百分点。",
    "园区负责人表示，项目建成后预计年产整车30万辆，新增就业岗位8000个。",
] * 7 + ["短句。", "English text in a Chinese archive.", "繁體字的新聞稿也要能讀。"]


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (starting one takes a few seconds)."""
    embedder = RayEmbedder("fake:64", "local", workers=2)
    yield embedder
    ray.shutdown()


def test_ray_vectors_equal_in_process_vectors(local_ray):
    got = local_ray.encode_passages(PASSAGES)
    want = FakeEmbedder(64).encode_passages(PASSAGES)
    assert got.shape == (len(PASSAGES), 64)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)  # same rows, same order
    assert local_ray.id == FakeEmbedder(64).id and local_ray.dim == 64  # same cache and index keys
    np.testing.assert_allclose(local_ray.encode_queries(["5月份PMI是多少？"]),
                               FakeEmbedder(64).encode_queries(["5月份PMI是多少？"]), atol=1e-6)


def test_ingest_with_ray_builds_the_same_index(local_ray, tmp_path):
    from qa.assistant import Assistant
    from qa.indexer import ingest
    from qa.store import EmbeddingCache

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    plain = ingest([corpus], tmp_path / "plain", FakeEmbedder(64), cache=EmbeddingCache(tmp_path / "c1.sqlite"))
    spread = ingest([corpus], tmp_path / "ray", local_ray, cache=EmbeddingCache(tmp_path / "c2.sqlite"))
    assert spread.chunks == plain.chunks and spread.embedded == plain.embedded > 0
    question = "5月份中国制造业PMI是多少？"
    a = Assistant.open(tmp_path / "plain", FakeEmbedder(64)).retrieve(question, k=5)
    b = Assistant.open(tmp_path / "ray", FakeEmbedder(64)).retrieve(question, k=5)
    assert [h.chunk.text for h in a] == [h.chunk.text for h in b]
    assert [round(h.score, 6) for h in a] == [round(h.score, 6) for h in b]


def test_bad_workers_spec_and_address_are_clear_errors():
    with pytest.raises(ConfigError, match="workers"):
        RayEmbedder("fake:64", "local", workers=0)
    with pytest.raises(ConfigError, match="unknown"):
        RayEmbedder("nosuchmodel", "local")
    with pytest.raises(ConfigError, match="HOST:PORT"):
        check_address("not an address")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="127.0.0.1:9"):  # nothing listens on the discard port
        check_address("ray://127.0.0.1:9", timeout=2)
    assert time.monotonic() - started < 10  # refused, not hung


def _own_cache(tmp_path) -> dict:
    """The environment with an embedding cache of the test's own (the user's may hold every vector)."""
    return {**os.environ, "XUNDA_CACHE_DIR": str(tmp_path / "cache")}


def test_cli_ingest_with_ray_and_a_dead_address_names_it(tmp_path):
    run = subprocess.run([sys.executable, "-m", "qa", "ingest", str(ROOT / "seeds"), "--index", str(tmp_path / "i"),
                          "--embedder", "fake:64", "--ray", "127.0.0.1:9"],
                         capture_output=True, text=True, timeout=120, env=_own_cache(tmp_path))
    assert run.returncode != 0
    assert "127.0.0.1:9" in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_ingest_without_ray_does_not_import_it(tmp_path):
    code = ("import sys; from qa.cli import main; sys.argv = ['qa', 'ingest', %r, '--index', %r, '--embedder', 'fake:64']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('ray' in sys.modules)") % (str(ROOT / "seeds"),
                                                                                         str(tmp_path / "i"))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=_own_cache(tmp_path))
    assert run.stdout.strip().splitlines()[-1] == "False", run.stderr[-2000:]
