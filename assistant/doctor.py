"""`assistant doctor`: checks that say what works on this machine and what to do about what does not."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from assistant.config import Settings
from assistant.paths import write_private


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[Check]:
    checks = [Check("python", sys.version_info >= (3, 11), sys.version.split()[0] + " at " + sys.executable)]
    checks += _sqlite()
    checks.append(_embedding(settings))
    checks += _llm(settings)
    checks.append(_reranker(settings))
    checks.append(_ocr(settings))
    checks.append(_offline())
    checks.append(_state(settings))
    checks.append(_store(settings))
    return checks


def _store(settings: Settings) -> Check:
    """Which store holds the library, and (the team index) whether its server answers."""
    if not settings.store.url:
        return Check("store", True, f"this workstation's index file {settings.paths.index_file}")
    from assistant.errors import AssistantError
    from assistant.store.postgres import PgLibrary

    try:
        server = PgLibrary(settings.store.url)
    except AssistantError as exc:
        return Check("store", False, str(exc))
    try:
        readable = len(server.conn.execute("SELECT assistant.visible_folders()").fetchone()[0] or [])
        version = server.conn.execute("SHOW server_version").fetchone()[0]
        return Check("store", True, f"team index at {server.path} answers (PostgreSQL {version}, as {server.user}; "
                                    f"embedding model {server.meta('embedding_model')}; {readable} folders readable)")
    finally:
        server.close()


def _sqlite() -> list[Check]:
    from assistant.store import sqlite_driver

    try:
        driver, name = sqlite_driver()
    except Exception as exc:
        return [Check("sqlite driver", False, str(exc))]
    out = [Check("sqlite driver", True, name + ", extension loading available")]
    conn = driver.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        out.append(Check("fts5", True, "keyword index available"))
    except Exception as exc:
        out.append(Check("fts5", False, f"FTS5 missing from this SQLite build: {exc}"))
    try:
        import sqlite_vec

        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        version = conn.execute("SELECT vec_version()").fetchone()[0]
        out.append(Check("sqlite-vec", True, f"{version} loaded"))
    except Exception as exc:
        out.append(Check("sqlite-vec", False, f"cannot load sqlite-vec: {exc}. Run ./install.sh"))
    conn.close()
    return out


def _embedding(settings: Settings) -> Check:
    path = settings.models.embedding_path
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        return Check("embedding model", False, f"not found at {path}; run ./install.sh or set embedding_model")
    try:
        from assistant.ingest.embedding import load_embedder

        e = load_embedder(path, settings.models.embedding_backend, threads=settings.models.effective_threads)
        v = e.embed(["doctor check"])
        backend = getattr(e, "backend", "?")
        if backend == "torch" and settings.models.embedding_backend == "auto":
            backend += " (no ONNX export found: run ./install.sh again for the ~2-3x faster int8 one)"
        return Check("embedding model", True, f"{e.model_id} on {backend}: {e.dim}-d, reads {e.max_tokens} tokens, "
                                              f"loaded offline (norm {float((v[0] ** 2).sum()) ** 0.5:.2f})")
    except Exception as exc:
        return Check("embedding model", False, f"{path}: {exc}")


def _llm(settings: Settings) -> list[Check]:
    out = []
    try:
        import llama_cpp

        out.append(Check("llama-cpp-python", True, f"{llama_cpp.__version__}"))
    except Exception as exc:
        out.append(Check("llama-cpp-python", False, f"cannot import llama_cpp: {exc}. Run ./install.sh"))
    ggufs = sorted(settings.models.dir.glob("*.gguf")) if settings.models.dir.is_dir() else []
    chosen = settings.models.chat_path
    if chosen.exists():
        names = ", ".join(f"{g.name} ({g.stat().st_size / 1e6:.0f} MB)" for g in ggufs) or chosen.name
        out.append(Check("chat model", True, f"{chosen.name} selected; found: {names}"))
    else:
        out.append(Check("chat model", False, f"{chosen} not found; run ./install.sh or drop a .gguf into "
                                              f"{settings.models.dir}"))
    return out


def _reranker(settings: Settings) -> Check:
    """The cross-encoder: loaded and tried when setting [answer] rerank, search_rerank or search_rerank_ties asks for
    it, else looked for."""
    from assistant.search.rerank import CrossEncoder

    path = settings.models.reranker_path
    searches = ("searches" if settings.search.rerank > 0
                else "near-tie searches" if settings.search.rerank_ties > 0 else "")
    uses = " and ".join(name for name in ("answers" if settings.answer.rerank > 0 else "", searches) if name)
    names = "settings rerank, search_rerank, search_rerank_ties"
    if not uses:
        found = "installed" if (path / "model.onnx").exists() else "not installed (run ./install.sh)"
        return Check("reranker", True, f"off ({names} = 0); {path.name} {found}")
    try:
        score = CrossEncoder(path, settings.models.effective_threads).score("doctor check", ["a doctor checks"])[0]
    except Exception as exc:
        return Check("reranker", False, f"{uses} use it ({names}): {exc}")
    return Check("reranker", True, f"{path.name} reorders the first passages of {uses} (loaded offline, "
                                   f"test score {score:.1f})")


def _ocr(settings: Settings) -> Check:
    from assistant.ingest import ocr

    if str(settings.index.ocr).lower() == "off":
        return Check("ocr", True, "off (setting [index] ocr): scanned pages and images are left out")
    if not ocr.available():
        return Check("ocr", False, "rapidocr-onnxruntime or pypdfium2 is missing: scanned pages and images "
                                   "cannot be read. Run ./install.sh (or set ocr = off)")
    return Check("ocr", True, "RapidOCR (ONNX models from its package) for scanned pages and images")


def _offline() -> Check:
    flags = {v: os.environ.get(v) for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")}
    ok = all(v == "1" for v in flags.values())
    return Check("offline mode", ok, "no network needed: models load from local files, hub access and "
                                     "telemetry are off" if ok else f"offline switches not set: {flags}")


def _state(settings: Settings) -> Check:
    p = settings.paths
    try:
        p.ensure()
        probe = p.data_dir / ".write-test"
        write_private(probe, "ok")
        probe.unlink()
        return Check("state folder", True, f"{p.data_dir} is writable")
    except OSError as exc:
        return Check("state folder", False, f"{p.data_dir}: {exc}; set ASSISTANT_HOME to a writable folder")
