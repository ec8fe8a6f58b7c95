"""Settings: defaults < TOML config file < ASSISTANT_* environment variables < command-line flags.

Each setting is declared once, here, in the group of the room it steers: `[models]`, `[index]`, `[search]`,
`[answer]`, `[watch]`, `[open]`, `[store]` in config.toml, each a typed object (pydantic) that the room
receives whole.
Its type (a `Literal` for a choice), its range and its docstring (with its unit) are the only definition: the
values are checked when the settings load, and a wrong one stops with one line naming the setting, the value
and what is allowed; docs/reference/configuration.md is generated from the same declarations
(`python -m assistant.config`, checked by a test).

Environment variables are ASSISTANT_<GROUP>_<NAME> (ASSISTANT_SEARCH_K). Files and variables of earlier
versions used one flat namespace (`search_k = 5`, ASSISTANT_LLM_MODEL): those names are still read, as the
setting they became (LEGACY); a config file that uses them gets a note saying the new name.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import ConfigError
from assistant.paths import Paths, default_models_dir, write_private


class _Group(BaseModel):
    """A group of settings: unknown names are refused, assignments are checked, docstrings are descriptions."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True)


class ModelSettings(_Group):
    """[models] Which models run, and on how much of the machine."""

    dir: Path = Field(default_factory=default_models_dir)
    """Folder holding the GGUF chat models and the embedding and cross-encoder model folders (default: the
    checkout's models/, where install.sh puts them; an installed package uses `models` in the data folder)."""
    embedding: str = "all-MiniLM-L6-v2"
    """Embedding model: a folder name inside the models folder, or an absolute path to a sentence-transformers
    folder (all-mpnet-base-v2 after ./install.sh --mpnet: better search, 9x slower indexing). Changing it needs
    `assistant index --rebuild`."""
    embedding_backend: Literal["auto", "onnx", "torch"] = "auto"
    """How the embedding model runs: onnx (its int8 ONNX export, made by install.sh: about 2-3x faster), torch
    (sentence-transformers on PyTorch) or auto (onnx when the export exists, else torch)."""
    chat: str = "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf"
    """Chat model: a .gguf file name inside the models folder, an absolute path, or the name of a model that
    `./install.sh` installs (qwen2.5-coder-0.5b, the default; smollm2-135m, the smallest; qwen2.5-coder-1.5b with
    `--model`; `assistant models` compares them)."""
    lora_adapter: str = ""
    """A LoRA adapter (.gguf) loaded with the chat model, to give answers your style: a file name inside the
    models folder, or an absolute path. It must be made for that model (checked when the model loads)."""
    reranker: str = "ms-marco-MiniLM-L-12-v2"
    """The cross-encoder that reorders passages and judges whether a quote answers: a folder (model.onnx,
    tokenizer.json) inside the models folder, or an absolute path."""
    threads: int = Field(0, ge=0, le=1024)
    """CPU threads for the models; 0 means the number of physical cores."""
    context: int = Field(4096, ge=512, le=131072)
    """Context window of the chat model in tokens (capped at what the model supports)."""

    @property
    def chat_path(self) -> Path:
        from assistant.catalog import file_of

        return _resolve_model(self.dir, file_of(self.chat))

    @property
    def embedding_path(self) -> Path:
        return _resolve_model(self.dir, self.embedding)

    @property
    def reranker_path(self) -> Path:
        return _resolve_model(self.dir, self.reranker)

    @property
    def lora_path(self) -> Path | None:
        return _resolve_model(self.dir, self.lora_adapter) if self.lora_adapter.strip() else None

    @property
    def effective_threads(self) -> int:
        return self.threads if self.threads > 0 else physical_cores()


class IndexSettings(_Group):
    """[index] What is read from each file, and how it is cut into passages."""

    max_file_mb: float = Field(50.0, gt=0)
    """Files larger than this (megabytes) are not indexed."""
    ocr: Literal["auto", "off"] = "auto"
    """Scanned PDF pages and images (.png .jpg .tif .webp): auto reads them by OCR (RapidOCR, on the CPU,
    offline; about 6 s a page on 2 cores); off leaves them out (a scanned PDF is then reported)."""
    ocr_max_pages: int = Field(20, ge=0)
    """Scanned pages OCR reads from one file before moving on to the next file; the rest of a long scan is
    read after every other file of the run, so it cannot hold up the folder."""
    chunk_overlap_tokens: int = Field(32, ge=0, le=128)
    """Tokens repeated between consecutive pieces of a paragraph too long for one chunk."""
    chunk_min_tokens: int = Field(48, ge=1, le=250)
    """Consecutive short paragraphs are merged until a chunk has at least this many tokens."""
    embed_batch_size: int = Field(32, ge=1, le=1024)
    """Chunks per call to the embedding model."""


class SearchSettings(_Group):
    """[search] How passages are found and ranked (searches, and the passages an answer is made from)."""

    k: int = Field(5, ge=1, le=1000)
    """Number of passages a search returns by default (and an answer reads)."""
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid"
    """How to search: hybrid (keywords + meaning, fused), bm25 (keywords only) or dense (meaning only)."""
    fusion: Literal["linear", "rrf"] = "linear"
    """How hybrid search combines its two lists: linear (fusion_weight x cosine + the rest x normalised BM25)
    or rrf (reciprocal rank fusion)."""
    fusion_weight: float = Field(0.75, ge=0.0, le=1.0)
    """With fusion = linear: the share of the score that comes from meaning (cosine); the rest comes from
    keywords (BM25 normalised by the query's best)."""
    pool: int = Field(50, ge=1, le=10000)
    """Candidates each list (keywords, meaning) contributes before fusion (at least 4 x k)."""
    query_feedback: Literal["documents", "always", "off"] = "documents"
    """Pseudo-relevance feedback: after a first pass, the question's vector is moved toward the best passage of
    the three top documents and the meaning search runs again. documents: for document searches (`search
    --documents`); always: for passage searches and answers too; off. On NFCorpus it adds 0.009 nDCG@10; on
    passage questions it cost 0.005 hit@1 and 1.4x the search time (docs/benchmarks/search.md)."""
    document_support: float = Field(0.4, ge=0.0, le=1.0)
    """Document searches: a document is lifted this far toward the documents most like it among the first 200
    when they rank higher (its five nearest, weighted by likeness), never lowered; 0 = off."""
    rerank: int = Field(0, ge=0, le=200)
    """The cross-encoder reorders the first this-many passages of every `search`, `eval` and MCP search; 0
    (default) = only near-ties (rerank_ties): a search then takes ~10 ms instead of a few hundred."""
    rerank_ties: int = Field(3, ge=0, le=200)
    """When hybrid search cannot tell its first two passages apart (scores within 0.02; about 1 search in 6),
    the cross-encoder reorders the first this-many; 0 = never. Only when rerank is 0 and no --rerank is given."""
    split_questions: bool = True
    """A question that names two things ("compare A and B", "A vs B") is also searched once for each thing, and
    the passages taken from the three lists in turn, so neither thing takes every place."""
    named_documents: bool = True
    """A question that names a file ("What does PEP 8 say about line length?" and pep-0008.rst) is searched in
    that file, and its passages come first (assistant/search/names.py says which names count)."""
    coverage_weight: float = Field(0.5, ge=0.0, le=2.0)
    """Relevance = cosine + this x the share of the question's content words found in the passage. The gate is
    calibrated with it: changing it recalibrates."""
    stem_length: int = Field(5, ge=2, le=20)
    """Words are compared by their first this-many letters (a crude, language-neutral stemmer: leave/leaves,
    found/founded) for the relevance above. Changing it recalibrates the gate."""
    relevance_threshold: Literal["auto"] | float = "auto"
    """Relevance (0-1.5) a passage needs to count as being about the question; below it for every passage, an
    answer says the documents do not cover it. auto: calibrated on this library with generic probe questions
    and kept in the index; or a fixed number such as 0.58."""

    @field_validator("relevance_threshold", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> Any:
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        try:
            number = float(text)
        except ValueError:
            raise ValueError("must be auto or a number from 0 to 1.5") from None
        if not 0.0 <= number <= 1.5:
            raise ValueError("must be auto or a number from 0 to 1.5")
        return number


class AnswerSettings(_Group):
    """[answer] How an answer is made from the passages: evidence, the chat model, the checks."""

    style: Literal["auto", "quote", "generate"] = "auto"
    """auto: the quotes at once, then each sentence of the chat model's answer that the sources support (the
    quotes alone when none does); quote: the quotes only, no chat model needed; generate: the model's text as
    it is, unsupported sentences marked (unverified)."""
    rerank: int = Field(10, ge=0, le=200)
    """Before an answer, a cross-encoder reads the question with each of the first this-many passages and puts
    them in its order; 0 = off. On superbowl50 the answers held a gold answer 0.874 -> 0.928 of the time, for
    ~0.3 s per answer on 2 cores."""
    direct: Literal["auto", "rules", "model"] = "auto"
    """Who picks the short answer in bold on top of a factoid's answer: rules (the span of the best quote of the
    kind asked for), model (the chat model is asked which words of the best quote answer; kept only when they
    are a verbatim span of the kind asked for), or auto (model for chat models of 1 GB or more: the smaller ones
    answer in sentences; rules for them)."""
    cache: bool = True
    """Answer a question asked again (same words once case, spaces and punctuation are set aside; same
    settings; same chat model) at once from a cache kept in the index; an entry goes when a document it cited
    or retrieved changes. Follow-ups are never cached. `assistant cache clear` empties it."""
    instructions: str = ""
    """Your own instructions to the chat model (tone, length, language...), added after the built-in rules
    (answer from the sources only), which they cannot remove."""
    examples_file: str = "examples.jsonl"
    """Few-shot examples whose form answers follow: JSON Lines of {"question", "answer", "sources" (optional list
    of passage texts)}; a name in the config folder, or an absolute path. Missing: none."""
    sources: int = Field(2, ge=1, le=20)
    """Most passages (the best relevant ones) the chat model reads for an answer. Fewer is faster, and the 135M
    default model answers more accurately from two than from five."""
    reads: Literal["auto", "passages", "quotes"] = "auto"
    """What the chat model reads: passages (the best `sources` relevant passages, whole), quotes (only the quoted
    sentences, under their passages' numbers), or auto (quotes for chat models under 1 GB, which copy a wrong
    fact from a whole passage more often; passages for larger ones, which read them well)."""
    tokens: int = Field(384, ge=1, le=8192)
    """Most tokens an answer may have; this much of the context window is kept free for it."""
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    """Sampling temperature of the chat model; 0 always picks the most likely token."""
    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0)
    """Penalty on tokens the chat model already produced (1 = none); above 1 discourages loops."""
    seed: int = Field(0, ge=0)
    """Random seed for sampling, so answers are reproducible."""


class WatchSettings(_Group):
    """[watch] How the watcher (daemon, `assistant watch`, the app) keeps the index in step with the folders."""

    debounce_s: float = Field(0.4, gt=0, le=600)
    """Seconds a file must be quiet before it is synced."""
    max_delay_s: float = Field(2.0, gt=0, le=3600)
    """...but a file that keeps changing is synced at least this often (seconds)."""
    poll_s: float = Field(30.0, gt=0, le=86400)
    """Folders that cannot be watched (network mounts, inotify limit reached) are rescanned this often (seconds)."""
    reconcile_s: float = Field(1800.0, gt=0, le=604800)
    """Every folder is rescanned this often anyway (seconds), to catch anything the events missed."""


class OpenSettings(_Group):
    """[open] How a source is shown in the program that can (`assistant open`, o in the app)."""

    viewer: str = ""
    """The program that opens PDFs at a page, with {path} and {page} ("zathura --page={page} {path}"); empty: the
    first known viewer on PATH (zathura, evince, okular, atril, qpdfview, mupdf, xpdf), else xdg-open/open."""


class StoreSettings(_Group):
    """[store] Where the library is kept: this workstation's index file, or a team's PostgreSQL server."""

    url: str = ""
    """Empty: the index file in the assistant's home. A libpq URL (postgresql://alice@db.example.org/assistant;
    postgresql://alice@/assistant?host=/run/postgresql through a Unix socket; postgresql:///assistant?service=team
    from a service file): the team index on that server (docs/guide/team.md), while chats, ratings and the answer
    cache stay in the file. Never a password: libpq reads it from ~/.pgpass (or PGPASSFILE) or a service file."""

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        text = str(value).strip()
        if text and not re.match(r"postgres(ql)?://", text):
            raise ValueError("must be empty (this workstation's own index) or a postgresql:// URL")
        if re.search(r"://[^/@?]*:[^/@?]*@", text) or re.search(r"[?&]password=", text):
            raise ValueError("holds a password: put it in ~/.pgpass (or the file PGPASSFILE names) instead, so it "
                             "never shows in the config file, `ps` or the logs")
        return text


GROUPS: dict[str, type[_Group]] = {"models": ModelSettings, "index": IndexSettings, "search": SearchSettings,
                                   "answer": AnswerSettings, "watch": WatchSettings, "open": OpenSettings,
                                   "store": StoreSettings}
# The flat names of earlier versions (config.toml keys, ASSISTANT_<NAME>, overrides) and what they became.
LEGACY: dict[str, tuple[str, str]] = {
    "models_dir": ("models", "dir"), "embedding_model": ("models", "embedding"),
    "embedding_backend": ("models", "embedding_backend"), "llm_model": ("models", "chat"),
    "lora_adapter": ("models", "lora_adapter"), "rerank_model": ("models", "reranker"),
    "threads": ("models", "threads"), "n_ctx": ("models", "context"),
    "max_file_mb": ("index", "max_file_mb"), "ocr": ("index", "ocr"), "ocr_max_pages": ("index", "ocr_max_pages"),
    "chunk_overlap_tokens": ("index", "chunk_overlap_tokens"), "chunk_min_tokens": ("index", "chunk_min_tokens"),
    "embed_batch_size": ("index", "embed_batch_size"),
    "search_k": ("search", "k"), "search_mode": ("search", "mode"), "fusion": ("search", "fusion"),
    "fusion_weight": ("search", "fusion_weight"), "search_pool": ("search", "pool"),
    "query_feedback": ("search", "query_feedback"), "document_support": ("search", "document_support"),
    "search_rerank": ("search", "rerank"), "search_rerank_ties": ("search", "rerank_ties"),
    "split_questions": ("search", "split_questions"), "named_documents": ("search", "named_documents"),
    "coverage_weight": ("search", "coverage_weight"), "stem_length": ("search", "stem_length"),
    "relevance_threshold": ("search", "relevance_threshold"),
    "answer_style": ("answer", "style"), "rerank": ("answer", "rerank"), "direct_answer": ("answer", "direct"),
    "answer_cache": ("answer", "cache"), "system_instructions": ("answer", "instructions"),
    "examples_file": ("answer", "examples_file"), "prompt_sources": ("answer", "sources"),
    "answer_tokens": ("answer", "tokens"), "temperature": ("answer", "temperature"),
    "repeat_penalty": ("answer", "repeat_penalty"), "seed": ("answer", "seed"),
    "watch_debounce_s": ("watch", "debounce_s"), "watch_max_delay_s": ("watch", "max_delay_s"),
    "watch_poll_s": ("watch", "poll_s"), "watch_reconcile_s": ("watch", "reconcile_s"),
    "viewer": ("open", "viewer"), "store_url": ("store", "url"),
}


class Settings:
    """Every setting of the assistant, by group: settings.search.k, settings.answer.style, ... (see GROUPS)."""

    models: ModelSettings
    index: IndexSettings
    search: SearchSettings
    answer: AnswerSettings
    watch: WatchSettings
    open: OpenSettings
    store: StoreSettings

    def __init__(self, paths: Paths | None = None, **groups: _Group) -> None:
        self.paths = paths or Paths.discover()
        for name, kind in GROUPS.items():
            setattr(self, name, groups.get(name) or kind())
        self.notes: list[str] = []  # what loading read under an old name (shown once by the CLI)

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None, paths: Paths | None = None) -> Settings:
        """Build settings from the config file, the environment and explicit overrides (flat old names such as
        "search_k", or "group.name" such as "search.k"; None values are ignored).

        Raises:
            ConfigError: the config file is not valid TOML, names an unknown setting, or a value is not allowed
                (the message names the setting, the value and what is allowed).
        """
        paths = paths or Paths.discover()
        values: dict[str, dict[str, Any]] = {g: {} for g in GROUPS}
        where: dict[tuple[str, str], str] = {}  # (group, name) -> where its value came from, for errors
        notes: list[str] = []
        if paths.config_file.exists():
            try:
                data = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{paths.config_file} is not valid TOML: {exc}. Fix or delete it.") from exc
            for key, value in data.items():
                if key in GROUPS and isinstance(value, dict):
                    for name, v in value.items():
                        _known(key, name, paths.config_file)
                        values[key][name] = v
                        where[(key, name)] = f"{paths.config_file} [{key}] {name}"
                elif key in LEGACY:
                    group, name = LEGACY[key]
                    values[group][name] = value
                    where[(group, name)] = f"{paths.config_file} {key}"
                    notes.append(f"{paths.config_file}: {key} is now [{group}] {name}; read as such")
                else:
                    raise ConfigError(f"{paths.config_file}: unknown setting {key!r}. The settings are "
                                      f"{_listing()} (docs/reference/configuration.md).")
        for group, kind in GROUPS.items():
            for name in kind.model_fields:
                env = f"ASSISTANT_{group.upper()}_{name.upper()}"
                if env in os.environ:
                    values[group][name] = os.environ[env]
                    where[(group, name)] = env
        for old, (group, name) in LEGACY.items():
            env = f"ASSISTANT_{old.upper()}"
            if env in os.environ and f"ASSISTANT_{group.upper()}_{name.upper()}" not in os.environ:
                values[group][name] = os.environ[env]
                where[(group, name)] = env
        for key, value in (overrides or {}).items():
            if value is None:
                continue
            group, _, name = key.partition(".")
            if not name:
                if key not in LEGACY:
                    raise ConfigError(f"unknown setting {key!r}; the settings are {_listing()}")
                group, name = LEGACY[key]
            _known(group, name, "a flag")
            values[group][name] = value
            where[(group, name)] = f"--{name.replace('_', '-')}"
        groups = {}
        for group, kind in GROUPS.items():
            try:
                groups[group] = kind(**values[group])
            except ValidationError as exc:
                raise _config_error(group, exc, values[group], where) from None
        settings = cls(paths=paths, **groups)
        settings.notes = notes
        return settings

    def to_dict(self) -> dict[str, Any]:
        """Every setting, by group (paths as strings)."""
        return {g: getattr(self, g).model_dump(mode="json") for g in GROUPS}

    def save(self, **changes: Any) -> None:
        """Write the given settings ("group.name" or an old flat name: value) into the config file, keeping the
        others it holds; old flat keys in it are rewritten under their groups.

        Raises:
            ConfigError: an unknown setting or a value that is not allowed.
        """
        path = self.paths.config_file
        current: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        grouped: dict[str, dict[str, Any]] = {}
        for key, value in current.items():
            if key in GROUPS and isinstance(value, dict):
                grouped.setdefault(key, {}).update(value)
            elif key in LEGACY:
                group, name = LEGACY[key]
                grouped.setdefault(group, {})[name] = value
        for key, value in changes.items():
            group, _, name = key.partition(".")
            if not name:
                group, name = LEGACY[key]
            try:
                setattr(getattr(self, group), name, value)
            except ValidationError as exc:
                raise _config_error(group, exc, {name: value}, {}) from None
            stored = getattr(getattr(self, group), name)
            grouped.setdefault(group, {})[name] = str(stored) if isinstance(stored, Path) else stored
        self.paths.ensure()
        lines = []
        for group in GROUPS:
            if grouped.get(group):
                lines.append(f"[{group}]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in grouped[group].items()]
                lines.append("")
        write_private(path, "\n".join(lines))

    # The answer cache's key reads these: every setting that shapes an answer, group by group.
    def answer_shaping(self) -> dict[str, Any]:
        """The settings an answer depends on: the search and answer groups whole, and which models make it."""
        m = self.models
        return {"search": self.search.model_dump(mode="json"), "answer": self.answer.model_dump(mode="json"),
                "models": {"embedding": m.embedding, "embedding_backend": m.embedding_backend,
                           "reranker": m.reranker, "context": m.context}}


def _known(group: str, name: str, source: Any) -> None:
    if group not in GROUPS:
        raise ConfigError(f"{source}: unknown settings group [{group}]; the groups are {', '.join(GROUPS)}")
    if name not in GROUPS[group].model_fields:
        raise ConfigError(f"{source}: [{group}] has no setting {name!r}; it has "
                          f"{', '.join(GROUPS[group].model_fields)}")


def _listing() -> str:
    return "; ".join(f"[{g}] {', '.join(k.model_fields)}" for g, k in GROUPS.items())


def _config_error(group: str, exc: ValidationError, given: dict[str, Any], where: dict[tuple[str, str], str]
                  ) -> ConfigError:
    """One line for the first wrong value: the setting, where it was set, the value, and what is allowed."""
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else "?"
    value = given.get(name, err.get("input"))
    if isinstance(value, str):  # a password given in a URL is not repeated
        value = re.sub(r"(://[^/@?]*:)[^/@?]*@", r"\1***@", value)
        value = re.sub(r"([?&]password=)[^&]*", r"\1***", value)
    origin = where.get((group, name))
    allowed = _allowed(GROUPS[group], name, err)
    return ConfigError(f"setting [{group}] {name}" + (f" (from {origin})" if origin else "")
                       + f": {value!r} is not allowed; {allowed}")


def _allowed(kind: type[_Group], name: str, err: Any) -> str:
    """What a setting allows, in words: "choose one of hybrid, bm25, dense", "a whole number, at least 1"."""
    field = kind.model_fields.get(name)
    if field is None:
        return str(err.get("msg", ""))
    if err["type"] == "value_error":  # a validator's own words
        return str(err["msg"]).removeprefix("Value error, ")
    return "it must be " + _allowed_text(field, plain=True)


def _choices(annotation: Any) -> list[Any]:
    out: list[Any] = []
    for t in [annotation, *typing.get_args(annotation)]:
        if typing.get_origin(t) is Literal:
            out += list(typing.get_args(t))
    return out


def _types(annotation: Any) -> list[Any]:
    return [annotation, *typing.get_args(annotation)]


def _resolve_model(models_dir: Path, name: str) -> Path:
    p = Path(name).expanduser()
    return p if p.is_absolute() else Path(models_dir) / p


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


def reference() -> str:
    """The configuration reference page (docs/reference/configuration.md), generated from the declarations."""
    out = ["# Configuration reference", "",
           "<!-- Generated by `python -m assistant.config` from assistant/config.py; edit the docstrings there. -->",
           "",
           "Settings come from, in increasing priority: built-in defaults, the config file (`assistant paths` shows "
           "where), `ASSISTANT_<GROUP>_<NAME>` environment variables, and command-line flags. A value that is not "
           "allowed stops the command with one line naming the setting, the value and what is allowed.", "",
           "```toml", "# config.toml", "[models]", 'chat = "qwen2.5-coder-1.5b"', "", "[search]", "k = 8", "```",
           ""]
    old = {v: k for k, v in LEGACY.items()}
    for group, kind in GROUPS.items():
        out += [f"## [{group}]", "", (kind.__doc__ or "").split("] ", 1)[-1].strip(), "",
                "| setting | default | allowed | environment variable | meaning |", "|---|---|---|---|---|"]
        for name, field in kind.model_fields.items():
            default = "the checkout's `models/`" if (group, name) == ("models", "dir") else f"`{field.default!r}`"
            if isinstance(field.default, str):
                default = f'`"{field.default}"`' if field.default else '`""`'
            allowed = _allowed_text(field)
            env = f"`ASSISTANT_{group.upper()}_{name.upper()}`"
            if (group, name) in old and f"{group}_{name}" != old[(group, name)]:
                env += f" (or `ASSISTANT_{old[(group, name)].upper()}`)"
            text = " ".join((field.description or "").split()).replace("|", "\\|")
            out.append(f"| `{name}` | {default} | {allowed} | {env} | {text} |")
        out.append("")
    out += ["## Old names", "",
            "Earlier versions had one flat list of settings. Those names are still read, as the setting they became "
            "(a config file using them gets a note): "
            + ", ".join(f"`{k}` = [{g}] `{n}`" for k, (g, n) in LEGACY.items()) + ".", ""]
    return "\n".join(out)


def _allowed_text(field: Any, plain: bool = False) -> str:
    """What a field allows: its choices, or its type and range ("a whole number (>= 1, <= 1000)")."""
    choices = _choices(field.annotation)
    if choices:
        quoted = [str(c) if plain else f"`{c}`" for c in choices]
        return ("one of " if plain else "") + ", ".join(quoted) + (
            " or a number" if float in _types(field.annotation) else "")
    parts = []
    for m in field.metadata:
        for attr, words in (("ge", ("at least", ">=")), ("gt", ("more than", ">")), ("le", ("at most", "<=")),
                            ("lt", ("less than", "<"))):
            if hasattr(m, attr):
                parts.append(f"{words[0] if plain else words[1]} {getattr(m, attr)}")
    name = getattr(field.annotation, "__name__", str(field.annotation))
    name = {"str": "text", "bool": "true or false", "Path": "a folder", "int": "a whole number",
            "float": "a number"}.get(name, name)
    if plain:
        return name + (", " + " and ".join(parts) if parts else "")
    return name + (f" ({', '.join(parts)})" if parts else "")


if __name__ == "__main__":
    sys.stdout.write(reference())
