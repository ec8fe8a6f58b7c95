"""One contract, two engines: the same tests against the local index file (SQLite, FTS5, sqlite-vec, the
in-process vector index) and the team index (a real PostgreSQL with pgvector, through team.TeamStore), so the
rooms above (store/protocol.py) cannot tell them apart."""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import numpy as np
import pytest

from assistant.search.retrieval import fts_query
from assistant.store import Part, Store
from assistant.store.protocol import LibraryStore
from assistant.store.team import TeamStore
from assistant.store.vectors import VectorIndex
from assistant.types import Chunk

pytestmark = pytest.mark.slow

DIM = 384


def chunk(text: str, position: int, heading: str | None = None) -> Chunk:
    return Chunk(text, position, heading, None, position + 1, position + 1, len(text.split()),
                 hashlib.sha256(f"{heading}|{text}".encode()).hexdigest())


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def blob(seed: int) -> bytes:
    return unit(seed).tobytes()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path, embedder):
    if request.param == "sqlite":
        s = Store(tmp_path / "index.sqlite")
    else:
        team = request.getfixturevalue("team")
        s = TeamStore(team.url("alice"), tmp_path / "local.sqlite")
    s.bind_embedding(embedder.model_id, embedder.dim)
    yield s
    s.close()


ROOT = "/srv/share/handbook"
TRAVEL = f"{ROOT}/travel.md"
MAIL = f"{ROOT}/mail/offer.eml"


def fill(s) -> None:
    s.add_root(ROOT)
    s.write_document(TRAVEL, 100, 1, "h-travel", "markdown", 5, [
        chunk("Employees book flights through Ostrava Travel at least 14 days ahead.", 0, "Travel policy > Flights"),
        chunk("A hotel night in Vienna is refunded up to 160 euros.", 1, "Travel policy > Hotels"),
        chunk("Economy class is the rule for flights under six hours.", 2, "Travel policy > Flights"),
    ], [blob(1), blob(2), None])
    s.write_document(MAIL, 50, 1, "h-mail", "eml", 5, [chunk("Our offer for the Vienna conference hotel.", 0)],
                     [blob(4)], parts=[
                         Part("rates.txt", "text", 20, "h-rates", [chunk("Rates: 120 euros per night in Vienna.", 0)],
                              [blob(5)]),
                         Part("scan.pdf", "pdf", 20, "h-scan", [], [], error="could not read the scan")])
    s.write_document(f"{ROOT}/Travel Policy 2027.md", 10, 1, "h-2027", "markdown", 5,
                     [chunk("The 2027 policy is not written yet.", 0)], [blob(6)])


def ids_of(s, path: str) -> list[int]:
    rows = s.chunk_rows(list(range(1, 200)))
    return sorted(c for c, r in rows.items() if r["path"] == path)


def test_both_answer_every_method_of_the_protocol(store) -> None:
    wanted = {n for n, _ in inspect.getmembers(LibraryStore) if not n.startswith("_")}
    missing = {n for n in wanted if not hasattr(store, n)}
    assert not missing


def test_folders_documents_and_what_is_inside_them(store) -> None:
    assert store.add_root(ROOT) is True
    assert store.add_root(ROOT) is False
    fill(store)
    assert store.roots() == [ROOT]
    under = store.documents_under([ROOT])
    # Files on disk: what is inside them comes and goes with them.
    assert set(under) == {TRAVEL, MAIL, f"{ROOT}/Travel Policy 2027.md"}
    assert (under[TRAVEL].size, under[TRAVEL].content_hash, under[TRAVEL].status, under[TRAVEL].chunker_version,
            under[TRAVEL].format) == (100, "h-travel", "ok", 5, "markdown")
    docs = {d.path: d for d in store.list_documents()}
    assert docs[f"{MAIL}/rates.txt"].container == MAIL and docs[f"{MAIL}/scan.pdf"].status == "error"
    assert store.container_of(f"{MAIL}/rates.txt") == MAIL and store.container_of(TRAVEL) is None
    assert store.attachment_errors(under[MAIL].id) == [(f"{MAIL}/scan.pdf", "could not read the scan")]
    counts = store.counts()
    assert (counts["documents"], counts["chunks"], counts["errors"], counts["pending"]) == (4, 6, 1, 1)
    assert store.document_chunks(TRAVEL)[1] == "A hotel night in Vienna is refunded up to 160 euros."
    assert ("/srv/share/handbook/travel.md", "Travel policy > Hotels") in store.headings()
    assert store.documents_named(["travel policy 2027"]) == [("travel policy 2027", f"{ROOT}/Travel Policy 2027.md")]
    assert store.last_indexed() is not None
    assert store.check() == []


def test_vectors_wait_and_are_given(store) -> None:
    fill(store)
    waiting = store.pending_chunks(10)
    assert len(waiting) == 1 and waiting[0][2] == ("Travel policy > Flights\n\nEconomy class is the rule for flights "
                                                   "under six hours.")
    assert store.add_vectors({waiting[0][0]: blob(3)}) == 1
    assert store.add_vectors({waiting[0][0]: blob(9)}) == 0  # only a waiting chunk takes a vector
    assert store.pending_count() == 0 and store.vector_count() == 6
    found = store.vectors_for_hashes([chunk("A hotel night in Vienna is refunded up to 160 euros.", 1,
                                            "Travel policy > Hotels").content_hash, "no-such-hash"])
    assert list(found) == [chunk("A hotel night in Vienna is refunded up to 160 euros.", 1,
                                 "Travel policy > Hotels").content_hash]
    assert np.frombuffer(next(iter(found.values())), dtype=np.float32) == pytest.approx(unit(2), abs=1e-6)

    vectors = store.search_vectors(VectorIndex())
    vectors.sync(store)
    hotel = next(c for c, r in store.chunk_rows(list(range(1, 50))).items() if "160 euros" in r["text"])
    nearest = vectors.search(unit(2), 3)
    assert nearest[0][0] == hotel and nearest[0][1] == pytest.approx(1.0, abs=1e-5)
    assert vectors.cosines([hotel], unit(2))[hotel] == pytest.approx(1.0, abs=1e-5)
    assert vectors.vectors([hotel])[hotel] == pytest.approx(unit(2), abs=1e-6)
    inside = store.allowed_chunk_ids([f"{MAIL}*"], [])
    assert {store.chunk_rows([c])[c]["path"] for c, _ in vectors.search(unit(2), 5, inside)} == \
        {MAIL, f"{MAIL}/rates.txt"}


def test_keywords_and_filters(store) -> None:
    fill(store)
    rows = store.chunk_rows([c for c, _ in store.keyword_search(fts_query("Vienna hotel night"), 10)])
    assert [r["text"] for r in rows.values()][0].startswith("A hotel night in Vienna")
    best = store.keyword_search(fts_query("Vienna hotel night"), 10)
    assert store.chunk_rows([best[0][0]])[best[0][0]]["path"] == TRAVEL and best[0][1] < 0  # FTS5's sign
    only_mail = store.keyword_search(fts_query("Vienna euros"), 10, files=[MAIL])
    assert {store.chunk_rows([c])[c]["path"] for c, _ in only_mail} == {MAIL, f"{MAIL}/rates.txt"}
    only_txt = store.keyword_search(fts_query("Vienna euros"), 10, exts=[".txt"])
    assert {store.chunk_rows([c])[c]["path"] for c, _ in only_txt} == {f"{MAIL}/rates.txt"}
    by_glob = store.keyword_search(fts_query("Vienna euros"), 10, globs=["*/travel.md"])
    assert {store.chunk_rows([c])[c]["path"] for c, _ in by_glob} == {TRAVEL}
    assert store.keyword_search(fts_query("zeppelin"), 10) == []
    freq = store.keyword_frequencies(["vienna", "zeppelin"], store.chunk_id_span())
    assert freq == {"vienna": 3, "zeppelin": 0}
    rare = store.rarity(["vienna", "zeppelin"])
    assert rare["zeppelin"] > rare["vienna"] > 0
    assert store.phrase_share(["Vienna"], [TRAVEL]) == pytest.approx(1 / 3)


def test_errors_moves_and_deletions(store) -> None:
    fill(store)
    travel_ids = ids_of(store, TRAVEL)
    doc = store.documents_under([ROOT])[TRAVEL]
    store.move_document(doc.id, f"{ROOT}/travel-2027.md", 100, 2)
    assert ids_of(store, f"{ROOT}/travel-2027.md") == travel_ids  # the same chunks and vectors: a rename
    mail = store.documents_under([ROOT])[MAIL]
    store.move_document(mail.id, f"{ROOT}/mail/offer-2.eml", 50, 2)
    assert store.container_of(f"{ROOT}/mail/offer-2.eml/rates.txt") == f"{ROOT}/mail/offer-2.eml"
    store.record_error(f"{ROOT}/travel-2027.md", "could not parse the file", 100, 3, "h-travel-2", "markdown", 5)
    row = store.documents_under([ROOT])[f"{ROOT}/travel-2027.md"]
    assert (row.status, row.error) == ("error", "could not parse the file")
    assert store.document_chunks(f"{ROOT}/travel-2027.md") == []
    assert store.delete_documents([f"{ROOT}/mail/offer-2.eml"]) == 1
    assert store.delete_documents([f"{ROOT}/Travel Policy 2027.md"]) == 1
    assert [d.path for d in store.list_documents()] == [f"{ROOT}/travel-2027.md"]
    assert store.counts()["chunks"] == 0 and store.vector_count() == 0
    assert store.keyword_search(fts_query("Vienna"), 10) == []
    assert store.check() == []


def test_the_persons_own_things(store) -> None:
    chat = store.create_chat("Trips")
    store.add_question(chat, "How far ahead are flights booked?")
    store.add_answer(chat, "14 days ahead [1].", True, "[]")
    assert [m["role"] for m in store.chat_messages(chat)] == ["user", "assistant"]
    assert store.rate_answer(chat, None, 1, "right")["turn"] == 1
    assert store.feedback()[0]["question"] == "How far ahead are flights booked?"
    store.set_meta("relevance_gate", "{}")
    assert store.meta("relevance_gate") == "{}"
    fill(store)
    store.cache_answer("key", "q", {"answer": "a"}, ids_of(store, TRAVEL))
    assert store.cached_answer("key") == {"answer": "a"}
    assert store.clear_answer_cache() == 1
    assert store.delete_chat(chat)
