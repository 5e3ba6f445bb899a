"""Incremental segments: a write adds one segment and leaves the others untouched, duplicates
are found across segments, deletions hide what they delete, merges keep everything, and the
result is the index a clean build of the same files gives."""
import shutil
from pathlib import Path

import pytest

import qa.store.merge
from qa.assistant import Assistant
from qa.indexer import ingest, remove_paths
from qa.integrity import check_index, sha256_file
from qa.loading import load_paths
from qa.segment import segment_page
from qa.store import EmbeddingCache, read_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seed_articles() -> list[tuple[str, str]]:
    """(title, body) of the seed articles with a body of some length, one file each later."""
    found = [(a.title, a.text) for d in load_paths([ROOT / "seeds"]).documents
             for a in segment_page(d) if len(a.text) > 150 and a.title]
    assert len(found) >= 6
    return found


def write(folder: Path, name: str, title: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


def state(index: Path, fake_embedder) -> tuple:
    """What a reader sees: counts, and each article's title, text and sources."""
    assistant = Assistant.open(index, fake_embedder)
    info = assistant.info()
    articles = sorted((a.title, a.text, tuple(sorted(a.sources))) for a in assistant.articles.values())
    return (info.documents, info.articles, info.chunks), articles


def test_adding_a_file_writes_one_segment_and_leaves_the_others(tmp_path, fake_embedder, seed_articles):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    corpus = tmp_path / "corpus"
    for i, (title, body) in enumerate(seed_articles[:4]):
        write(corpus, f"{i}.txt", title, body)
    built = ingest([corpus], tmp_path / "index", fake_embedder, cache=cache)
    first = tmp_path / "index" / "seg-1"
    before = {p.name: sha256_file(p) for p in first.rglob("*") if p.is_file() and p.name != "manifest.json"}
    title, body = seed_articles[4]
    new = write(corpus, "new.txt", title, body)
    report = ingest([new], tmp_path / "index", fake_embedder, cache=cache)
    manifest = read_manifest(tmp_path / "index")
    assert [e.name for e in manifest.segments] == ["seg-1", "seg-2"]
    assert {p.name: sha256_file(p) for p in first.rglob("*")
            if p.is_file() and p.name != "manifest.json"} == before
    assert report.documents_added == 1 and report.embedded > 0
    assert report.articles == built.articles + report.articles_found
    hits = Assistant.open(tmp_path / "index", fake_embedder).retrieve(body[:40], k=1)
    assert hits[0].chunk.text in body and hits[0].paths == (str(new),)
    assert check_index(tmp_path / "index").ok


def test_a_duplicate_in_a_later_write_joins_its_article_and_outlives_the_original(
        tmp_path, fake_embedder, seed_articles):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    (title, body), (other_title, other_body) = seed_articles[0], seed_articles[1]
    original = write(tmp_path / "a", "original.txt", title, body)
    ingest([original, write(tmp_path / "a", "other.txt", other_title, other_body)],
           tmp_path / "index", fake_embedder, cache=cache)
    reprint = write(tmp_path / "b", "reprint.txt", title, body + "（转载）")  # a longer copy
    report = ingest([reprint], tmp_path / "index", fake_embedder, cache=cache)
    assert report.articles == 2 and report.duplicates_merged == 1
    counts, articles = state(tmp_path / "index", fake_embedder)
    (kept,) = [a for a in articles if a[0] == title]
    assert kept[1].endswith("（转载）") and set(kept[2]) == {str(original), str(reprint)}
    # The original's file goes: the reprint still answers, and only it is cited.
    assert remove_paths([original], tmp_path / "index", fake_embedder, cache=cache) == [str(original)]
    counts, articles = state(tmp_path / "index", fake_embedder)
    assert [a[2] for a in articles if a[0] == title] == [(str(reprint),)]
    hits = Assistant.open(tmp_path / "index", fake_embedder).retrieve(body[:40], k=3)
    assert {h.paths for h in hits if h.title == title} == {(str(reprint),)}
    # Exactly what a clean build of the files that remain gives.
    shutil.rmtree(tmp_path / "a" / "original.txt", ignore_errors=True)
    ingest([tmp_path / "a" / "other.txt", reprint], tmp_path / "clean", fake_embedder, cache=cache)
    assert state(tmp_path / "clean", fake_embedder) == (counts, articles)


def test_a_removed_or_changed_file_is_never_retrieved_again(tmp_path, fake_embedder, seed_articles):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    paths = [write(tmp_path / "c", f"{i}.txt", t, b) for i, (t, b) in enumerate(seed_articles[:3])]
    ingest(paths, tmp_path / "index", fake_embedder, cache=cache)
    gone_title, gone_body = seed_articles[0]
    remove_paths([paths[0]], tmp_path / "index", fake_embedder, cache=cache)
    assistant = Assistant.open(tmp_path / "index", fake_embedder)
    assert all(h.title != gone_title for h in assistant.retrieve(gone_body[:60], k=10))
    assert gone_title not in {a.title for a in assistant.articles.values()}
    assert assistant.info().documents == 2
    # A changed file: its old text is deleted, its new text answers.
    new_title, new_body = seed_articles[3]
    write(tmp_path / "c", "1.txt", new_title, new_body)
    report = ingest([paths[1]], tmp_path / "index", fake_embedder, cache=cache)
    assert report.documents_replaced == 1
    assistant = Assistant.open(tmp_path / "index", fake_embedder)
    assert {a.title for a in assistant.articles.values()} == {seed_articles[2][0], new_title}
    assert all(h.title != seed_articles[1][0] for h in assistant.retrieve(seed_articles[1][1][:60], k=10))


def test_many_small_writes_are_merged_and_keep_everything(tmp_path, fake_embedder, seed_articles,
                                                          monkeypatch):
    monkeypatch.setattr(qa.store.merge, "MAX_SEGMENTS", 3)
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    paths = [write(tmp_path / "d", f"{i}.txt", t, b) for i, (t, b) in enumerate(seed_articles)]
    for path in paths:
        ingest([path], tmp_path / "index", fake_embedder, cache=cache)
        assert len(read_manifest(tmp_path / "index").segments) <= 3
    remove_paths([paths[1]], tmp_path / "index", fake_embedder, cache=cache)
    ingest([p for i, p in enumerate(paths) if i != 1], tmp_path / "clean", fake_embedder, cache=cache)
    assert state(tmp_path / "index", fake_embedder) == state(tmp_path / "clean", fake_embedder)
    merged = Assistant.open(tmp_path / "index", fake_embedder)
    clean = Assistant.open(tmp_path / "clean", fake_embedder)
    for title, body in seed_articles[2:5]:
        assert [h.chunk.chunk_id for h in merged.retrieve(body[:50], k=3)][0] == \
            [h.chunk.chunk_id for h in clean.retrieve(body[:50], k=3)][0]
    assert check_index(tmp_path / "index").ok
