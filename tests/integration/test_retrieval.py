"""Hybrid search with the real model and a real SQLite index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli, run_cli_json
from docgen import prose, write_pdf

from assistant import Assistant, EmptyQueryError
from assistant.evaluation import evaluate, load_questions
from assistant.search.retrieval import Filters, fts_query


@pytest.fixture
def indexed(assistant: Assistant, library: Path) -> Assistant:
    (library / "travel").mkdir()
    (library / "money").mkdir()
    (library / "travel" / "trains.md").write_text(
        "# Trains\n\nThe night train to Vienna departs from platform 7 at 22:40.\n\n"
        "Seat reservations are mandatory on the TGV and cost 10 euros.\n")
    (library / "travel" / "ferry.txt").write_text("The ferry to Mykonos leaves Piraeus at dawn every Tuesday.\n")
    write_pdf(library / "money" / "invoice.pdf",
              ["Invoice INV-2291 from Acme Corp.", "Total due: 1,250 euros by May 3."])
    (library / "money" / "budget.md").write_text(
        "# Budget\n\nThe household budget for groceries is 600 euros a month.\n")
    (library / "recipes.md").write_text("# Pancakes\n\nWhisk two eggs with flour and milk, rest the batter an hour.\n")
    r = assistant.index([library])
    assert r.errors == [] and r.added == 5
    return assistant


@pytest.mark.parametrize("query", [
    '"unbalanced quote', "AND", "OR NOT", "*", "platform:7", "-train", "(((", "NEAR(train platform)",
    "train' OR 1=1 --", "^start", "a + b", "{col}: x", "?!", "Zürich café ünïcödé", "🚂 train",
])
def test_any_text_is_a_valid_query(indexed: Assistant, query: str) -> None:
    hits = indexed.search(query, k=3)
    # Whatever the syntax, the query runs: the passages come back ranked, from the indexed files.
    assert 1 <= len(hits) <= 3
    # Ranked by fused score; a near-tie settled by the cross-encoder (search_rerank_ties) ranks by its score.
    settled = [h.rerank_score for h in hits if h.rerank_score is not None]
    assert settled == sorted(settled, reverse=True) and (not settled or hits[0].rerank_score is not None)
    rest = [h.score for h in hits[len(settled):]]
    assert rest == sorted(rest, reverse=True)
    assert {Path(h.path).name for h in hits} <= {"trains.md", "ferry.txt", "invoice.pdf", "budget.md", "recipes.md"}
    if "train" in query:  # a real word of the library still finds its passage through the noise around it
        assert "train" in hits[0].text.lower()


def test_fts_query_quotes_words_and_drops_stopwords() -> None:
    assert fts_query('what is the "night" train*?') == '"night" OR "train" OR "night train"'
    assert fts_query("the and of") == '"the" OR "and" OR "of"'
    assert fts_query("?!* ()") is None


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_gets_a_clear_message(indexed: Assistant, query: str) -> None:
    with pytest.raises(EmptyQueryError, match="empty"):
        indexed.search(query)


def test_hybrid_finds_exact_codes_and_paraphrases(indexed: Assistant) -> None:
    code = indexed.search("INV-2291", k=1)[0]
    assert code.path.endswith("invoice.pdf") and code.bm25_rank == 1
    para = indexed.search("overnight rail service to Austria", k=1)[0]
    assert para.path.endswith("trains.md") and para.vector_rank is not None
    assert indexed.search("how much is owed on the bill", k=1)[0].page == 2


def test_document_search_gives_each_document_once_with_its_best_passage(indexed: Assistant, capsys) -> None:
    docs = indexed.search_documents("which platform does the night train to Vienna leave from", k=4)
    assert Path(docs[0].path).name == "trains.md" and "platform 7" in docs[0].best.text
    assert len({d.path for d in docs}) == len(docs) == 4
    assert [d.score for d in docs] == sorted((d.score for d in docs), reverse=True)
    rows = run_cli_json("search", "--documents", "-k", "2", "when does the ferry to Mykonos leave", capsys=capsys)
    assert len(rows) == 2 and rows[0]["path"].endswith("ferry.txt") and "dawn" in rows[0]["best"]["text"]
    code, out, _ = run_cli("search", "--documents", "-k", "1", "night train to Vienna", capsys=capsys)
    assert code == 0 and out.startswith("[1] ") and "trains.md — Trains" in out and "platform 7" in out


def test_query_feedback_ranks_by_the_moved_query_but_reports_the_questions_own_cosine(
    indexed: Assistant, embedder
) -> None:
    """With feedback (document searches by default; every search with "always") the second pass ranks by
    a query moved toward the first pass's best passages; what a hit shows (and the relevance gate reads)
    is still its cosine to the question itself."""
    from assistant import ConfigError, Settings

    question = "overnight rail service to Austria"
    vec = embedder.embed([question])[0]
    docs = indexed.search_documents(question, k=3)
    always = Assistant(Settings.load({"query_feedback": "always"}), embedder=embedder)
    off = Assistant(Settings.load({"query_feedback": "off"}), embedder=embedder)
    with pytest.raises(ConfigError, match=r"\[search\] query_feedback.*'sometimes'.*documents, always, off"):
        Settings.load({"query_feedback": "sometimes"})  # refused when the settings load
    try:
        hits = always.search(question, k=3)
        stored = indexed.vectors.vectors([h.chunk_id for h in hits] + [d.best.chunk_id for d in docs])
        for h in hits + [d.best for d in docs]:
            assert h.cosine == pytest.approx(float(stored[h.chunk_id] @ vec), abs=1e-3)
        assert Path(hits[0].path).name == Path(docs[0].path).name == "trains.md"
        assert off.search_documents(question, k=1)[0].path == docs[0].path
    finally:
        for a in (always, off):
            a.close()


def test_document_support_lifts_a_document_like_the_best_ones_above_one_that_only_shares_words(
    assistant: Assistant, library: Path, embedder
) -> None:
    """Documents about the same thing tend to be relevant together: a document is lifted toward the
    documents most like it that rank above it (setting document_support), never lowered. Here a cancer
    screening leaflet rises above a note on interest rates that shares only the question's words, a
    trial report that says none of them rises with the statin papers, and the garden note (like none of
    them) stays where it was."""
    from assistant import ConfigError, Settings

    texts = {
        "statins-cohort.md": "# Statins and breast cancer\n\nIn a cohort of 10,000 women, those taking statins for "
                             "ten years or more had a higher risk of invasive breast cancer than women who never "
                             "took them.",
        "lipid-pills.md": "# Cholesterol-lowering pills and tumours of the breast\n\nLong-term use of cholesterol-"
                          "lowering medication such as atorvastatin or simvastatin was linked to more mammary "
                          "carcinomas among postmenopausal women.",
        "atorvastatin-trial.md": "# Atorvastatin trial\n\nWomen randomised to atorvastatin showed a small rise in "
                                 "ductal carcinoma of the breast after eight years of the lipid-lowering drug.",
        "hmg-coa.md": "# Reductase inhibitors\n\nHMG-CoA reductase inhibitors and mammary neoplasms in women: a "
                      "meta-analysis of twelve randomised trials of lipid-lowering drugs.",
        "screening.md": "# Screening clinic\n\nThe clinic offers breast cancer screening with a mammogram every two "
                        "years; the risk of a false alarm is explained at the first visit.",
        "rates.md": "# Interest rates\n\nDo central banks raise the risk of a recession when they raise interest "
                    "rates too fast? The risk rises with debt.",
        "garden.md": "# Garden\n\nTomatoes need six hours of sun and water every morning in summer.",
    }
    for name, text in texts.items():
        (library / name).write_text(text + "\n")
    assert assistant.index([library]).errors == []
    question = "do statins raise cancer risk"
    off = Assistant(Settings.load({"document_support": 0}), embedder=embedder)
    with pytest.raises(ConfigError, match=r"\[search\] document_support.*1.5 is not allowed.*at most 1.0"):
        Settings.load({"document_support": 1.5})
    try:
        plain = {Path(d.path).name: d for d in off.search_documents(question, k=7)}
        lifted = {Path(d.path).name: d for d in assistant.search_documents(question, k=7)}
    finally:
        off.close()
    assert all(d.score == d.best.score for d in plain.values())  # off: ranked by the best passage alone
    order = list(lifted)
    assert order[0] == "statins-cohort.md" and lifted[order[0]].score == plain[order[0]].score
    assert list(plain).index("rates.md") < list(plain).index("screening.md")
    assert order.index("screening.md") < order.index("rates.md")
    assert lifted["hmg-coa.md"].score > plain["hmg-coa.md"].score
    assert lifted["rates.md"].score == plain["rates.md"].score and lifted["garden.md"].score == plain["garden.md"].score
    assert all(lifted[n].score >= plain[n].score for n in texts)


def test_a_question_naming_two_things_finds_a_passage_about_each(
    indexed: Assistant, library: Path, embedder, capsys
) -> None:
    """ "Compare A with B": the question is searched as it is and once for each thing, the lists fused,
    so the top passages are not all about whichever thing the words lean to."""
    from assistant import Settings

    (library / "travel" / "vienna.md").write_text(
        "# Night trains\n\n" + "\n\n".join(
            f"The night train to Vienna {s}." for s in (
                "has sleeping cars with two or four berths", "serves breakfast before arrival",
                "carries bicycles in a separate coach", "stops in Salzburg and Linz at night")) + "\n")
    indexed.index([library])
    question = "Compare the night train to Vienna with the ferry to Mykonos"
    off = Assistant(Settings.load({"split_questions": False}), embedder=embedder)
    try:
        unsplit = {Path(h.path).name for h in off.search(question, k=2)}
    finally:
        off.close()
    hits = indexed.search(question, k=2)
    names = [Path(h.path).name for h in hits]
    assert "ferry.txt" not in unsplit  # the question's words lean to the trains
    assert "ferry.txt" in names and {"trains.md", "vienna.md"} & set(names)
    assert "Piraeus" in hits[names.index("ferry.txt")].text
    code, out, _ = run_cli("search", "-k", "2", question, capsys=capsys)  # the CLI says what it also searched
    assert code == 0 and 'also searched as "the night train to Vienna" and "the ferry to Mykonos"' in out
    assert "ferry.txt" in out


def test_a_large_librarys_keyword_search_runs_beside_the_vector_scan_with_the_same_results(
    indexed: Assistant, monkeypatch
) -> None:
    """From PARALLEL_MIN chunks FTS5 runs in a thread while the vectors are scanned; what comes back is
    what the two stages give one after the other."""
    import threading

    from assistant.search import retrieval

    questions = ["night train to Vienna", "how much is owed on the bill", "INV-2291", "pancake batter"]
    before = [[(h.chunk_id, h.score, h.bm25_rank, h.vector_rank) for h in indexed.search(q, k=4)] for q in questions]
    threads: set[str] = set()
    search = indexed.store.keyword_search

    def keyword_search(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return search(*args, **kwargs)

    monkeypatch.setattr(retrieval, "PARALLEL_MIN", 0)
    monkeypatch.setattr(indexed.store, "keyword_search", keyword_search)
    after = [[(h.chunk_id, h.score, h.bm25_rank, h.vector_rank) for h in indexed.search(q, k=4)] for q in questions]
    assert after == before
    assert threads and all(t.startswith("keywords") for t in threads)


def test_a_passage_sharing_only_frequent_words_with_the_question_is_not_scored(
    assistant: Assistant, library: Path, monkeypatch
) -> None:
    """In a large library, a word found in many chunks still adds to a passage's BM25, but passages holding
    only such words are not scored (FTS5's time goes to scoring). Shrunk here: 'budget' is in four files,
    over FREQUENT_MIN = 2."""
    from assistant.search import retrieval

    for name, text in {"trip.md": "The budget for the Zanzibar trip is 900 euros.",
                       "meeting.md": "The budget meeting moved to Thursday.",
                       "garden.md": "Our garden budget covers seeds and a new hose.",
                       "car.md": "The car repair budget ran out in March."}.items():
        (library / name).write_text(text + "\n")
    assistant.index([library])
    question = "Zanzibar trip budget"

    def keyword_hits() -> set[str]:
        return {Path(h.path).name for h in assistant.search(question, k=4, mode="bm25")}

    assert keyword_hits() == {"trip.md", "meeting.md", "garden.md", "car.md"}
    monkeypatch.setattr(retrieval, "FREQUENT_SHARE", 0.0)
    monkeypatch.setattr(retrieval, "FREQUENT_MIN", 2)
    assert keyword_hits() == {"trip.md"}
    # The passage left is scored by all three words, 'budget' included, as before.
    store = assistant.store
    every = dict(store.keyword_search(fts_query(question), 4))
    scored = store.keyword_search(fts_query(question), 4, scored=fts_query(question, {"budget"}))
    without_budget = store.keyword_search(fts_query(question, {"budget"}), 4)
    assert [cid for cid, _ in scored] == [cid for cid, _ in without_budget]
    assert scored[0][1] == every[scored[0][0]] < without_budget[0][1]  # FTS5's bm25: lower is better


def test_a_filtered_keyword_search_asks_fts5_one_query_not_one_per_chunk(indexed: Assistant, library: Path) -> None:
    """A folder or type filter restricts FTS5's rows with `+rowid IN (...)`: a bare `rowid IN` made SQLite
    hand FTS5 each allowed id as a query of its own (9 s for a folder of 110,000 chunks of 1M)."""
    statements: list[str] = []
    indexed.store.conn.set_trace_callback(statements.append)
    try:
        hits = indexed.search("euros", k=10, mode="bm25", filters=Filters(paths=(str(library / "money"),)))
    finally:
        indexed.store.conn.set_trace_callback(None)
    assert {Path(h.path).name for h in hits} == {"invoice.pdf", "budget.md"}
    sql = next(s for s in statements if "bm25(chunks_fts" in s)
    plan = " | ".join(r[3] for r in indexed.store.conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert "VIRTUAL TABLE INDEX 0:M" in plan and "INDEX 0:=" not in plan, plan


def test_filters_by_path_and_type(indexed: Assistant, library: Path) -> None:
    q = "euros"
    everything = {Path(h.path).name for h in indexed.search(q, k=10)}
    assert {"trains.md", "invoice.pdf", "budget.md"} <= everything
    pdf_only = indexed.search(q, k=10, filters=Filters(types=("pdf",)))
    assert {Path(h.path).name for h in pdf_only} == {"invoice.pdf"}
    travel = indexed.search(q, k=10, filters=Filters(paths=("*/travel/*",)))
    assert {Path(h.path).parent.name for h in travel} == {"travel"}
    folder = indexed.search(q, k=10, filters=Filters(paths=(str(library / "money"),), types=(".md",)))
    assert [Path(h.path).name for h in folder] == ["budget.md"]
    assert indexed.search(q, k=10, filters=Filters(types=("docx",))) == []


def test_relevance_gate(indexed: Assistant) -> None:
    on_topic = indexed.search("when does the night train to Vienna leave", k=3)
    assert on_topic[0].relevant and on_topic[0].relevance >= indexed.relevance_threshold()
    off_topic = indexed.search("how many moons does Jupiter have", k=3)
    assert off_topic and not any(h.relevant for h in off_topic)


def test_neighbours_do_not_crowd_out_other_documents(assistant: Assistant, library: Path) -> None:
    # One file with many near-identical adjacent paragraphs about kayaks, another with one.
    paras = [f"Kayak safety rule {i}: always wear a kayak life jacket when kayaking. {prose(i, 2)}" for i in range(8)]
    (library / "kayak-a.md").write_text("# Kayaks\n\n" + "\n\n".join(paras) + "\n")
    (library / "kayak-b.md").write_text("# Paddling\n\nA kayak life jacket keeps you afloat when kayaking.\n")
    assistant.index([library])
    hits = assistant.search("kayak life jacket when kayaking", k=3)
    names = [Path(h.path).name for h in hits]
    assert "kayak-b.md" in names
    # Until kayak-b is placed, no chunk of kayak-a stands right next to an earlier one (after it, they may).
    before = [h.chunk_id for h in hits[: names.index("kayak-b.md")]]
    a_positions = sorted(r["position"] for r in assistant.store.chunk_rows(before).values())
    gaps = [b - a for a, b in zip(a_positions, a_positions[1:], strict=False)]
    assert all(g > 1 for g in gaps)


def test_eval_metrics_on_a_hand_checked_set(indexed: Assistant, tmp_path: Path, capsys) -> None:
    qs = tmp_path / "q.jsonl"
    rows = [
        {"question": "Which platform does the Vienna night train leave from?", "answers": ["platform 7"]},
        {"question": "When does the ferry to Mykonos leave?", "answers": ["every Tuesday", "dawn"]},
        {"question": "What is the grocery budget?", "answers": ["600 EUROS"]},  # case-insensitive
        {"question": "What is the airline baggage allowance?", "answers": ["23 kg"]},  # nowhere in the library
        {"question": "How far away is the Andromeda galaxy?", "answers": []},  # off-topic: gate only
    ]
    qs.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = evaluate(indexed, load_questions(qs), k=3)
    assert result["questions"] == 5
    assert (result["hit@1"], result["hit@k"], result["mrr"]) == (0.75, 0.75, 0.75)
    assert result["relevant_rate"] in (0.6, 0.8)  # the three answerable ones; the baggage one may be close
    assert result["mode"] == "hybrid" and result["k"] == 3
    cli = run_cli_json("eval", str(qs), "--k", "3", "--mode", "bm25", capsys=capsys)
    assert set(cli) == {"questions", "hit@1", "hit@k", "k", "mrr", "relevant_rate", "reordered_rate",
                        "latency_ms_p50", "latency_ms_p95", "mode"}
    assert cli["mode"] == "bm25" and cli["hit@k"] == 0.75
    # --documents: questions that give their documents are also ranked as documents (search --documents)
    docs = tmp_path / "d.jsonl"
    docs.write_text("\n".join(json.dumps(r) for r in [
        {"question": "Which platform does the Vienna night train leave from?", "answers": [],
         "documents": ["travel/trains.md"]},
        {"question": "What is the grocery budget?", "answers": [], "documents": ["money/budget.md"]},
        {"question": "When does the ferry leave?", "answers": [], "documents": ["recipes.md"]},  # wrong on purpose
    ]) + "\n")
    ranked = run_cli_json("eval", str(docs), "--k", "3", "--documents", capsys=capsys)
    assert (ranked["documents_ranked"], ranked["documents_hit@1"]) == (3, round(2 / 3, 4))
    assert ranked["documents_hit@k"] == round(2 / 3, 4) and ranked["document_hit@1"] == round(2 / 3, 4)


def test_bad_question_file_says_which_line(tmp_path: Path) -> None:
    from assistant import AssistantError

    qs = tmp_path / "q.jsonl"
    qs.write_text('{"question": "ok", "answers": ["a"]}\n{"answers": ["no question"]}\n')
    with pytest.raises(AssistantError, match="line 2"):
        load_questions(qs)


def test_reader_sees_another_writers_changes(indexed: Assistant, library: Path, embedder) -> None:
    from assistant import Settings

    reader = Assistant(Settings.load(), embedder=embedder)
    assert not any("zebra" in h.text for h in reader.search("zebra crossing rules", k=3))
    (library / "zebra.md").write_text("# Roads\n\nPedestrians have priority on a zebra crossing.\n")
    indexed.index([library])
    assert "zebra" in reader.search("zebra crossing rules", k=1)[0].text
    (library / "zebra.md").unlink()
    indexed.index([library])
    assert not any("zebra" in h.text for h in reader.search("zebra crossing rules", k=3))
    reader.close()
