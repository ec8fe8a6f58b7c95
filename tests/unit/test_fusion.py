"""How hybrid search fuses its two lists, and how follow-up searches are merged."""

from __future__ import annotations

import pytest

from assistant.search.retrieval import RRF_K, Candidate, common_words, fts_query, fuse, merge_hits, merge_parts
from assistant.text import coverage, stem
from assistant.types import Hit


def test_rrf_sums_reciprocal_ranks_over_the_lists_a_passage_is_in() -> None:
    both = Candidate(1, cosine=0.5, vector_rank=2, bm25_rank=1, bm25=3.0)
    dense_only = Candidate(2, cosine=0.9, vector_rank=1)
    keyword_only = Candidate(3, cosine=0.1, bm25_rank=2, bm25=1.0)
    fuse([both, dense_only, keyword_only], "rrf", 0.75)
    assert both.fused == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert dense_only.fused == pytest.approx(1 / (RRF_K + 1))
    assert keyword_only.fused == pytest.approx(1 / (RRF_K + 2))
    assert both.fused > dense_only.fused > keyword_only.fused  # agreement of both lists wins


def test_linear_fusion_weighs_cosine_against_the_querys_best_bm25() -> None:
    a = Candidate(1, cosine=0.6, bm25=4.0)
    b = Candidate(2, cosine=0.8, bm25=0.0)  # not a keyword match
    fuse([a, b], "linear", 0.75)
    assert a.fused == pytest.approx(0.75 * 0.6 + 0.25 * 1.0)
    assert b.fused == pytest.approx(0.75 * 0.8)
    fuse([a, b], "linear", 1.0)  # fusion_weight 1: meaning only
    assert (a.fused, b.fused) == (pytest.approx(0.6), pytest.approx(0.8))


def test_single_modes_rank_by_their_own_score() -> None:
    a, b = Candidate(1, cosine=0.2, bm25=5.0), Candidate(2, cosine=0.7, bm25=1.0)
    fuse([a, b], "bm25", 0.75)
    assert (a.fused, b.fused) == (5.0, 1.0)
    fuse([a, b], "dense", 0.75)
    assert (a.fused, b.fused) == (0.2, 0.7)


def test_coverage_compares_stems_of_the_configured_length() -> None:
    q = {stem(w) for w in ("leaves", "founded")}
    assert coverage(q, "she leave after it was found") == 1.0
    q3 = {stem(w, 3) for w in ("leaves", "founded")}
    assert coverage(q3, "a leaf fell on the fountain", 3) == 1.0  # shorter stems match more loosely
    assert coverage(set(), "anything") == 0.0
    # A word counts from its start only, and whole: "unfounded" does not hold "found".
    assert coverage({stem("founded")}, "an unfounded claim") == 0.0
    assert coverage({stem("café"), stem("zürich")}, "Le CAFÉ de Zürich.") == 1.0
    # Stop words count only in a passage made of stop words alone (the stem "other" of "others").
    assert coverage({stem("others")}, "the other one") == 0.0
    assert coverage({stem("others")}, "the other") == 1.0


def _hit(cid: int, cosine: float) -> Hit:
    return Hit(path=f"/d/{cid}.md", chunk_id=cid, score=cosine, text=f"passage {cid}", heading=None, page=None,
               start_line=1, end_line=1, cosine=cosine)


def test_merge_hits_fuses_by_rank_and_keeps_each_passage_once() -> None:
    first = [_hit(1, 0.9), _hit(2, 0.8), _hit(3, 0.7)]
    second = [_hit(2, 0.85), _hit(4, 0.6), _hit(1, 0.5)]
    merged = merge_hits([first, second], 3)
    assert [h.chunk_id for h in merged] == [2, 1, 4]  # 2 and 1 are in both lists; 2 ranks higher overall
    assert merged[0].cosine == 0.85 and merged[1].cosine == 0.9  # the best-scoring appearance is kept
    assert merge_hits([first, []], 2) == first[:2] and merge_hits([], 3) == []


def test_a_split_questions_hits_take_turns_after_the_whole_questions_best() -> None:
    whole = [_hit(1, 0.9), _hit(2, 0.8), _hit(3, 0.7), _hit(9, 0.6)]  # all about the first thing
    about_a, about_b = [_hit(1, 0.9), _hit(2, 0.8), _hit(3, 0.7)], [_hit(7, 0.8), _hit(2, 0.5), _hit(8, 0.4)]
    # The whole question's best is the first thing's best: the second thing goes next, then the first,
    # then the whole question's own next hit (a passage about both), and so on in turn.
    assert [h.chunk_id for h in merge_parts(whole, [about_a, about_b], 6)] == [1, 7, 2, 3, 8, 9]
    assert [h.chunk_id for h in merge_parts(whole, [about_b, about_a], 4)] == [1, 7, 2, 3]
    # Parts that run out leave their places to the whole question's other hits.
    assert [h.chunk_id for h in merge_parts(whole, [about_a[:1], []], 3)] == [1, 2, 3]
    assert merge_parts([], [about_a, about_b], 2) == [about_a[0], about_b[0]]


def test_words_in_most_chunks_of_a_large_library_are_left_out_of_the_keyword_search() -> None:
    table = {"python": 400_000, "syntax": 30_000, "decorator": 120, "class": 250_000}

    def chunks_holding(words: list[str]) -> dict[str, int]:
        return {w: table[w] for w in words}

    words = ["python", "decorator", "syntax", "class"]
    assert common_words(words, chunks_holding, 1_000_000) == {"python", "class"}  # over 1% of the chunks
    assert common_words(words, chunks_holding, 1_500) == set()  # a small library keeps every word
    assert common_words(["python", "class"], chunks_holding, 1_000_000) == set()  # the two rarest stay
    match = fts_query("Python decorator class syntax", {"python", "class"})
    assert match == '"decorator" OR "syntax" OR "python decorator" OR "decorator class" OR "class syntax"'
    assert fts_query("python class", {"python", "class"}) is None
