"""Settings: defaults < TOML config file < ASSISTANT_* environment variables < command-line flags."""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.paths import Paths, default_models_dir, write_private


@dataclass
class Settings:
    """Every tunable of the assistant. Each field can be set in config.toml or as ASSISTANT_<NAME>."""

    models_dir: Path = field(default_factory=default_models_dir)
    """Folder holding the GGUF chat models and the embedding model folder."""
    embedding_model: str = "all-MiniLM-L6-v2"
    """Embedding model: a folder name inside models_dir, or an absolute path to a sentence-transformers folder
    (all-mpnet-base-v2 after ./install.sh --mpnet: better search, 9x slower indexing)."""
    embedding_backend: str = "auto"
    """How the embedding model runs: onnx (its int8 ONNX export, made by install.sh: about 2-3x faster),
    torch (sentence-transformers on PyTorch) or auto (onnx when the export exists, else torch)."""
    llm_model: str = "SmolLM2-135M-Instruct.Q4_1.gguf"
    """Chat model: a .gguf file name inside models_dir, an absolute path, or the name of a model that
    `./install.sh --model NAME` installs (qwen2.5-coder-0.5b, qwen2.5-coder-1.5b; `assistant models` lists them)."""
    lora_adapter: str = ""
    """A LoRA adapter (.gguf) loaded with the chat model, to give answers your style: a file name inside
    models_dir, or an absolute path. It must be made for that model (checked when the model loads)."""
    max_file_mb: float = 50.0
    """Files larger than this (megabytes) are not indexed."""
    ocr: str = "auto"
    """Scanned PDF pages and images (.png .jpg .tif .webp): auto reads them by OCR (RapidOCR, on the CPU,
    offline; about 6 s a page on 2 cores); off leaves them out (a scanned PDF is then reported)."""
    ocr_max_pages: int = 20
    """Scanned pages OCR reads from one file before moving on to the next file; the rest of a long scan
    is read after every other file of the run, so it cannot hold up the folder."""
    chunk_overlap_tokens: int = 32
    """Tokens repeated between consecutive pieces of a paragraph too long for one chunk."""
    chunk_min_tokens: int = 48
    """Consecutive short paragraphs are merged until a chunk has at least this many tokens."""
    embed_batch_size: int = 32
    """Chunks per call to the embedding model."""
    search_k: int = 5
    """Number of passages a search returns by default."""
    search_mode: str = "hybrid"
    """How to search: hybrid (keywords + meaning, fused), bm25 (keywords only) or dense (meaning only)."""
    fusion: str = "linear"
    """How hybrid search combines its two lists: linear (0.75 x cosine + 0.25 x normalised BM25) or rrf."""
    fusion_weight: float = 0.75
    """With fusion = linear: the share of the score that comes from meaning (cosine); the rest comes from
    keywords (BM25 normalised by the query's best)."""
    search_pool: int = 50
    """Candidates each list (keywords, meaning) contributes before fusion (at least 4 x k)."""
    query_feedback: str = "documents"
    """Pseudo-relevance feedback: after a first pass, the question's vector is moved toward the best passage
    of the three top documents and the meaning search runs again, which finds documents about the same
    thing in other words. documents (default): for document searches (`search --documents`); always: for
    passage searches and `ask` too; off. README "Search quality": on NFCorpus it adds 0.009 nDCG@10 and
    0.023 Recall@100; on passage questions it cost 0.005 hit@1 and 1.4x the search time."""
    document_support: float = 0.4
    """Document searches (`search --documents`): a document is lifted this far toward the documents most like
    it among the first 200 when they rank higher (its five nearest, weighted by likeness), never lowered;
    0 = off. README "Search": on NFCorpus nDCG@10 0.377 -> 0.382, Recall@100 0.351 -> 0.363; on questions
    that one PEP answers, the right PEP first as often as without."""
    rerank: int = 10
    """Before an answer is written (`ask`, the chat app), a cross-encoder reads the question with each of
    the first this-many passages hybrid search found and puts them in its order; 0 = off. install.sh
    installs the model. README "Reordering with a cross-encoder": on superbowl50 the answers held a gold
    answer 0.874 -> 0.928 of the time, for ~0.3 s per answer on 2 cores."""
    search_rerank: int = 0
    """The same for `search` (passages, not --documents), `eval` and the MCP search tool, on every search;
    0 (default) = only on near-ties (search_rerank_ties): a search then takes ~10 ms instead of a few
    hundred."""
    search_rerank_ties: int = 3
    """When hybrid search cannot tell its first two passages apart (their scores within 0.02, rerank.TIE_MARGIN;
    about 1 search in 6 on superbowl50, 1 in 3 on questions in people's words), the cross-encoder reorders
    the first this-many; 0 = never. Only when search_rerank is 0 and no --rerank is given (`--rerank 0`: hybrid's
    order as it is). README "Reordering with a cross-encoder": superbowl50 hit@1 0.793 -> 0.815, and ~75 ms
    on the searches it reorders. A missing cross-encoder leaves hybrid's order (doctor says so)."""
    rerank_model: str = "ms-marco-MiniLM-L-12-v2"
    """The cross-encoder for `rerank` and `search_rerank`: a folder (model.onnx, tokenizer.json) inside
    models_dir, or an absolute path."""
    split_questions: bool = True
    """A question that names two things ("compare A and B", "A vs B", "the difference between A and B",
    "A or B?") is also searched once for each thing, and the passages taken from the three lists in turn,
    so neither thing takes every place (README "Search"). Document searches do not split."""
    named_documents: bool = True
    """A question that names a file ("What does PEP 8 say about line length?" and pep-0008.rst, "the Q3
    budget" and Q3-budget.xlsx) is searched in that file, and its passages come first (README "Search";
    assistant/search/names.py says which names count)."""
    coverage_weight: float = 0.5
    """Relevance = cosine + this x the share of the question's content words found in the passage. The
    gate is calibrated with it: changing it recalibrates."""
    stem_length: int = 5
    """Words are compared by their first this-many letters (a crude, language-neutral stemmer:
    leave/leaves, found/founded) for the relevance above. Changing it recalibrates the gate."""
    relevance_threshold: str = "auto"
    """Relevance (cosine + 0.5 x share of question words found, 0-1.5) a passage needs to count as being
    about the question; below it for every passage, `ask` refuses instead of answering. "auto" (default):
    calibrated on this library with generic probe questions and kept in the index; or a fixed number such
    as 0.58. See README, "The relevance gate"."""
    answer_style: str = "auto"
    """How `ask` answers: auto (the model's answer, each sentence checked against the sources, with the
    quoted evidence; the evidence alone when nothing checks out), quote (the evidence only: instant, no chat
    model needed) or generate (the model's text as it is, unverified sentences marked)."""
    direct_answer: str = "auto"
    """Who picks the short answer in bold on top of a factoid's answer: rules (direct.py: the span of the best
    quote of the kind asked for), model (the chat model is asked which words of the best quote answer, and
    its reply is kept only when it is a verbatim span of the kind asked for), or auto (model for chat models
    of 400 MB or more, rules for smaller ones, which pick badly)."""
    answer_cache: bool = True
    """Answer a question asked again (same words once case, spaces and punctuation are set aside; same
    settings; same chat model) at once from a cache kept in the index. An entry is dropped as soon as a
    document it cited or retrieved changes, moves or is removed. Follow-ups in a conversation are never
    cached. `assistant cache clear` empties it."""
    system_instructions: str = ""
    """Your own instructions to the chat model (tone, length, language...), added after the built-in rules
    (answer from the sources only and cite them), which they cannot remove."""
    examples_file: str = "examples.jsonl"
    """Few-shot examples whose form answers follow: JSON Lines of {"question", "answer", "sources"
    (optional list of passage texts)}; a name in the config folder, or an absolute path. Missing: none."""
    prompt_sources: int = 2
    """Most passages (the best relevant ones) the chat model reads for an answer. Fewer is faster, and the
    135M default model answers more accurately from two than from five (README: "Answers you can check")."""
    n_ctx: int = 4096
    """Context window of the chat model in tokens (capped at what the model supports)."""
    answer_tokens: int = 384
    """Most tokens an answer may have; this much of the context window is kept free for it."""
    temperature: float = 0.0
    """Sampling temperature of the chat model; 0 always picks the most likely token."""
    repeat_penalty: float = 1.1
    """Penalty on tokens the chat model already produced (1 = none); above 1 discourages loops."""
    seed: int = 0
    """Random seed for sampling, so answers are reproducible."""
    threads: int = 0
    """CPU threads for the models; 0 means the number of physical cores."""
    viewer: str = ""
    """The program that opens PDFs at a page, with {path} and {page} ("zathura --page={page} {path}"); empty:
    the first known viewer on PATH (zathura, evince, okular, atril, qpdfview, mupdf, xpdf), else xdg-open/open."""
    watch_debounce_s: float = 0.4
    """The watcher (daemon, `assistant watch`, the app) waits until files are quiet this long before syncing."""
    watch_max_delay_s: float = 2.0
    """...but syncs a file that keeps changing at least this often."""
    watch_poll_s: float = 30.0
    """Folders that cannot be watched (network mounts, inotify limit reached) are rescanned this often."""
    watch_reconcile_s: float = 1800.0
    """Every folder is rescanned this often anyway, to catch anything the events missed."""

    paths: Paths = field(default_factory=Paths.discover)

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None, paths: Paths | None = None) -> Settings:
        """Build settings from the config file, the environment and explicit overrides.

        Raises:
            ConfigError: the config file is not valid TOML, or a value has the wrong type.
        """
        paths = paths or Paths.discover()
        values: dict[str, Any] = {}
        if paths.config_file.exists():
            try:
                values.update(tomllib.loads(paths.config_file.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{paths.config_file} is not valid TOML: {exc}. Fix or delete it.") from exc
        known = {f.name: f for f in fields(cls) if f.name != "paths"}
        unknown = set(values) - set(known)
        if unknown:
            raise ConfigError(
                f"{paths.config_file}: unknown setting(s) {', '.join(sorted(unknown))}. "
                f"Known settings: {', '.join(known)}."
            )
        for name in known:
            env = os.environ.get(f"ASSISTANT_{name.upper()}")
            if env is not None:
                values[name] = env
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        settings = cls(paths=paths)
        types = typing.get_type_hints(cls)
        for name, value in values.items():
            setattr(settings, name, _coerce(name, types[name], value))
        return settings

    @property
    def rerank_model_path(self) -> Path:
        return _resolve_model(self.models_dir, self.rerank_model)

    @property
    def embedding_model_path(self) -> Path:
        return _resolve_model(self.models_dir, self.embedding_model)

    @property
    def llm_model_path(self) -> Path:
        """The chat model's file: llm_model as a file in models_dir (or an absolute path), or the file of the
        installable model it names ("qwen2.5-coder-1.5b", assistant/catalog.toml)."""
        from assistant.catalog import file_of

        return _resolve_model(self.models_dir, file_of(self.llm_model))

    @property
    def lora_adapter_path(self) -> Path | None:
        return _resolve_model(self.models_dir, self.lora_adapter) if str(self.lora_adapter).strip() else None

    @property
    def effective_threads(self) -> int:
        if self.threads > 0:
            return self.threads
        return physical_cores()

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "paths"}
        return {k: str(v) if isinstance(v, Path) else v for k, v in out.items()}

    def save(self, **changes: Any) -> None:
        """Write the given settings into the config file, keeping the others it holds."""
        path = self.paths.config_file
        current: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        for name, value in changes.items():
            setattr(self, name, value)
            current[name] = str(value) if isinstance(value, Path) else value
        self.paths.ensure()
        write_private(path, "".join(f"{k} = {_toml_value(v)}\n" for k, v in current.items()))


def _resolve_model(models_dir: Path, name: str) -> Path:
    p = Path(name).expanduser()
    return p if p.is_absolute() else Path(models_dir) / p


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """A setting's value (from TOML, an environment variable or a flag) as the field's type `kind`."""
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in _TRUE | _FALSE:
                raise ValueError(text)
            return text in _TRUE  # "false" is False (bool("false") would be True)
        if kind is Path:
            return Path(str(value)).expanduser()
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        kind = getattr(kind, "__name__", str(kind))
        raise ConfigError(f"setting {name}: {value!r} is not a valid {kind}") from exc


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def physical_cores() -> int:
    """Physical CPU cores (hyper-threads excluded where Linux tells us), at least 1."""
    try:
        cores = set()
        text = Path("/proc/cpuinfo").read_text()
        phys = core = None
        for line in text.splitlines():
            if line.startswith("physical id"):
                phys = line.split(":")[1].strip()
            elif line.startswith("core id"):
                core = line.split(":")[1].strip()
                cores.add((phys, core))
        if cores:
            return min(len(cores), os.cpu_count() or 1)
    except OSError:
        pass
    return max(1, os.cpu_count() or 1)
