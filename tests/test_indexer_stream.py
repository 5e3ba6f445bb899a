"""Streaming ingest: large files are read in pieces and written in batches, with nothing of a
file kept when its reading fails part way, and an interrupted file completed by the next run."""
from pathlib import Path

import pytest

import qa.indexer
import qa.loading
from qa.assistant import Assistant
from qa.indexer import ingest
from qa.loading import load_paths
from qa.store import EmbeddingCache, read_manifest

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="module")
def articles() -> list[str]:
    """News articles ('<title>\n\n<body>') cut from the seed pages' sentences, none alike."""
    from qa.text import split_sentences

    text = "".join(d.text for d in load_paths([ROOT / "seeds"]).documents)
    sentences = [text[a:b].strip() for a, b in split_sentences(text) if len(text[a:b].strip()) > 30]
    found = ["第{}条 {}\n\n{}".format(i + 1, part[0][:12], "\n".join(part))
             for i, part in enumerate(sentences[j : j + 4] for j in range(0, len(sentences) - 4, 4))]
    assert len(found) >= 10
    return found


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(qa.loading, "PIECE_BYTES", 3000)
    monkeypatch.setattr(qa.indexer, "BATCH_CHARS", 1500)


def test_a_large_file_is_read_in_pieces_and_written_in_batches(tmp_path, fake_embedder, articles,
                                                               small_pieces):
    big = tmp_path / "big.txt"
    big.write_text("\n\n\n".join(articles), encoding="utf-8")
    docs = load_paths([big]).documents
    assert len(docs) > 2 and all(d.path == str(big) for d in docs)
    assert "".join(d.text for d in docs).replace("\n", "") == big.read_text("utf-8").replace("\n", "")
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    report = ingest([big], tmp_path / "index", fake_embedder, cache=cache)
    assert report.files == 1 and report.documents_added == len(docs)
    assert len(read_manifest(tmp_path / "index").segments) > 1  # written batch by batch
    assistant = Assistant.open(tmp_path / "index", fake_embedder)
    assert assistant.info().articles == report.articles and not report.skipped
    last = articles[-1].split("\n")[-1]
    assert last in assistant.retrieve(last, k=1)[0].chunk.text  # the last piece is searchable
    assert ingest([big], tmp_path / "index", fake_embedder, cache=cache).documents_unchanged == len(docs)


def test_a_file_whose_later_piece_fails_is_not_kept_in_part(tmp_path, fake_embedder, articles,
                                                            small_pieces):
    good = "\n\n\n".join(articles)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(good.encode("utf-8") + b"\n\n" + bytes(range(1, 32)) * 200)  # binary at the end
    other = tmp_path / "other.txt"
    other.write_text(articles[0], encoding="utf-8")
    report = ingest([bad, other], tmp_path / "index", fake_embedder, cache=EmbeddingCache(tmp_path / "c"))
    assert [(e.path, "binary" in e.reason) for e in report.skipped] == [(str(bad), True)]
    assistant = Assistant.open(tmp_path / "index", fake_embedder)
    assert {s for a in assistant.articles.values() for s in a.sources} == {str(other)}
    assert assistant.info().documents == 1


def test_an_interrupted_file_is_completed_by_the_next_run(tmp_path, fake_embedder, articles,
                                                          small_pieces, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_text("\n\n\n".join(articles), encoding="utf-8")
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    real = qa.indexer._segmented
    pieces = len(load_paths([big]).documents)

    def dies_late(docs, skipped):
        for n, item in enumerate(real(docs, skipped)):
            if n == pieces - 1:
                raise KeyboardInterrupt  # as a kill between batches
            yield item

    monkeypatch.setattr(qa.indexer, "_segmented", dies_late)
    with pytest.raises(KeyboardInterrupt):
        ingest([big], tmp_path / "index", fake_embedder, cache=cache)
    partial = Assistant.open(tmp_path / "index", fake_embedder).info().documents
    assert 0 < partial < pieces  # the batches written before the kill are kept
    monkeypatch.setattr(qa.indexer, "_segmented", real)
    report = ingest([big], tmp_path / "index", fake_embedder, cache=cache)
    assert report.documents_replaced == partial and report.documents_added == pieces
    ingest([big], tmp_path / "clean", fake_embedder, cache=cache)
    assert Assistant.open(tmp_path / "index", fake_embedder).info().articles == \
        Assistant.open(tmp_path / "clean", fake_embedder).info().articles


def test_a_large_jsonl_file_keeps_its_line_numbers(tmp_path, fake_embedder, small_pieces):
    import json

    lines = [json.dumps({"title": f"第{i}条", "text": "新华社北京6月1日电 本市今年新建公园" + "绿地" * 80 + f"{i}处。"},
                        ensure_ascii=False) for i in range(40)]
    lines[33] = "{broken"
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_paths([path])
    assert len(result.documents) == 39
    assert [(e.line, "bad JSON" in e.reason) for e in result.skipped] == [(34, True)]
    assert result.documents[-1].path == f"{path}:40"
