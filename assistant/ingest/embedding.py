"""Embedding models: the Embedder role and its two implementations.

- OnnxEmbedder (the default when the model folder holds an int8 ONNX export, which install.sh makes from
  the local weights): ONNX Runtime for the network, the `tokenizers` library for the word pieces. About
  2-3x faster than PyTorch on two cores, and it imports in a fraction of a second instead of ~7 s.
- SentenceTransformerEmbedder: the model run by sentence-transformers on PyTorch (the fallback, and the
  reference the export is measured against).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from assistant.errors import ModelNotFoundError
from assistant.onnx import load_onnx, onnx_feed
from assistant.types import Embedder

log = logging.getLogger(__name__)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder (never from a hub)."""

    def __init__(self, path: Path, threads: int = 0, batch_size: int = 32) -> None:
        """Load the model.

        Raises:
            ModelNotFoundError: the folder is missing or is not a sentence-transformers model.
        """
        path = Path(path)
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ModelNotFoundError(
                f"embedding model not found at {path}. Run ./install.sh to install the default model, "
                "or set embedding_model / ASSISTANT_EMBEDDING_MODEL to a sentence-transformers folder."
            )
        import torch
        from sentence_transformers import SentenceTransformer

        if threads > 0:
            torch.set_num_threads(threads)
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()  # its bars would corrupt the TUI and clutter --json output
        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"cannot load the embedding model at {path}: {exc}") from exc
        self.tokenizer = self.model.tokenizer
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        special = self.tokenizer.num_special_tokens_to_add(pair=False)
        self.query_prefix, self.passage_prefix = _prompts(path)
        self.max_tokens = int(self.model.max_seq_length) - special - self._prefix_tokens(self.passage_prefix)
        self.model_id = path.name
        self.backend = "torch"
        # Indexing counts tokens in one thread while another embeds; a Hugging Face fast tokenizer changes
        # its own settings on every call, and two threads inside it fail ("Already borrowed").
        self._lock = threading.Lock()

    def _prefix_tokens(self, prefix: str) -> int:
        return len(self.tokenizer(prefix, add_special_tokens=False)["input_ids"]) if prefix else 0

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        with self._lock:
            enc = self.tokenizer(texts, add_special_tokens=False, return_attention_mask=False)
        return [len(ids) for ids in enc["input_ids"]]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        with self._lock:
            enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [tuple(span) for span in enc["offset_mapping"]]  # type: ignore[misc]

    def embed(self, texts: list[str], query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.query_prefix if query else self.passage_prefix
        texts = [prefix + t for t in texts] if prefix else texts
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


ONNX_FILE = "onnx/model_int8.onnx"  # inside the model folder: the int8 export install.sh makes
BATCH_TOKENS = 768  # padded tokens per ONNX Runtime call: measured best on 2 cores (8192: 2x slower)


class OnnxEmbedder:
    """A sentence-transformers model folder run by ONNX Runtime from its int8 export (see export_onnx).

    Texts are sorted by length and batched by a token budget, so little time goes into padding. Mean or
    CLS pooling and L2 normalisation are done here, as the folder's sentence-transformers config says.
    """

    def __init__(self, path: Path, threads: int = 0, onnx_file: str = ONNX_FILE) -> None:
        """Load the model.

        Raises:
            ModelNotFoundError: the folder, its tokenizer or its ONNX export is missing or unreadable.
        """
        path = Path(path)
        model = path / onnx_file
        if not model.exists() or not (path / "tokenizer.json").exists():
            raise ModelNotFoundError(f"no ONNX export of the embedding model at {model}; run ./install.sh "
                                     "(or `python -m assistant.ingest.onnx_export MODEL_FOLDER`) to make it")
        config = _st_config(path)
        self._mean = config.mean
        self._normalize = config.normalize
        self.tokenizer, self.session, self._inputs = load_onnx(
            model, path / "tokenizer.json", threads, "the embedding model's ONNX export")
        self.tokenizer.no_truncation()
        self.query_prefix, self.passage_prefix = _prompts(path)
        self._window = config.max_seq_length - 2  # [CLS] ... [SEP]
        prefix_tokens = len(self.tokenizer.encode(self.passage_prefix, add_special_tokens=False).ids) \
            if self.passage_prefix else 0
        self.max_tokens = self._window - prefix_tokens  # a passage's own tokens: its prefix takes the rest
        self.dim = config.dim
        self.model_id = path.name  # the same id as on PyTorch: their vectors agree to cosine ~0.99
        self.backend = "onnx-int8"

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [tuple(o) for o in self.tokenizer.encode(text, add_special_tokens=False).offsets]  # type: ignore[misc]

    def embed(self, texts: list[str], query: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        prefix = self.query_prefix if query else self.passage_prefix
        encoded = self.tokenizer.encode_batch([prefix + t for t in texts] if prefix else texts,
                                              add_special_tokens=True)
        window = self._window
        ids = [e.ids[: window + 1] + e.ids[-1:] if len(e.ids) > window + 2 else e.ids
               for e in encoded]  # truncated as sentence-transformers does: [CLS] first pieces ... [SEP]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and len(ids[order[end]]) * (end + 1 - start) <= BATCH_TOKENS:
                end += 1
            batch = order[start:end]
            feed = onnx_feed([ids[i] for i in batch], self._inputs)
            hidden = self.session.run(None, feed)[0]
            if self._mean:
                m = feed["attention_mask"][:, :, None].astype(np.float32)
                pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            else:
                pooled = hidden[:, 0]
            out[batch] = pooled
            start = end
        if self._normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


def _prompts(path: Path) -> tuple[str, str]:
    """The (query, passage) prefixes a model folder asks for (sentence-transformers' prompts: E5's "query: " and
    "passage: "); ("", "") for models trained without them."""
    import json

    try:
        prompts = json.loads((path / "config_sentence_transformers.json").read_text()).get("prompts") or {}
    except (OSError, ValueError):
        return "", ""
    return str(prompts.get("query", "")), str(prompts.get("passage", prompts.get("document", "")))


class _StConfig(NamedTuple):
    max_seq_length: int
    mean: bool  # mean pooling (else the CLS token)
    normalize: bool
    dim: int


def _st_config(path: Path) -> _StConfig:
    """What running a sentence-transformers folder needs: window, pooling, normalisation, dimension.

    Raises:
        ModelNotFoundError: the folder is not a Transformer + Pooling (mean or CLS) [+ Normalize] model.
    """
    import json

    def read(name: str) -> dict:
        file = path / name
        return json.loads(file.read_text()) if file.exists() else {}

    try:
        modules = json.loads((path / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = read(f"{pooling_dir}/config.json")
        # sentence-transformers 6 keeps the window as the tokenizer's model_max_length, no longer here
        window = read("sentence_bert_config.json").get("max_seq_length")
        if window is None:
            window = min(int(read("tokenizer_config.json").get("model_max_length", 512)),
                         int(read("config.json").get("max_position_embeddings", 512)))
        # Its pooling config is {"pooling_mode": "mean", "embedding_dimension": N}; older ones have a flag each
        mode = pooling.get("pooling_mode")
        mean = pooling.get("pooling_mode_mean_tokens") or mode == "mean"
        cls = pooling.get("pooling_mode_cls_token") or mode == "cls"
        dim = int(pooling.get("word_embedding_dimension") or pooling["embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ModelNotFoundError(f"{path} is not a sentence-transformers model folder ({exc})") from exc
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"} or bool(mean) == bool(cls):
        raise ModelNotFoundError(f"{path}: only Transformer + mean/CLS Pooling (+ Normalize) models run on ONNX")
    return _StConfig(int(window), bool(mean), "Normalize" in kinds, dim)


def load_embedder(path: Path, backend: str = "auto", threads: int = 0, batch_size: int = 32) -> Embedder:
    """The embedder for a model folder: backend "onnx" (its int8 export), "torch" (sentence-transformers)
    or "auto" (ONNX when the export exists and ONNX Runtime imports, else torch, with a logged reason).

    Raises:
        ModelNotFoundError: the model (or, with backend "onnx", its export) cannot be loaded.
        ConfigError: unknown backend.
    """
    from assistant.errors import ConfigError

    if backend not in ("auto", "onnx", "torch"):
        raise ConfigError(f"unknown embedding_backend {backend!r}; choose auto, onnx or torch")
    if backend in ("auto", "onnx"):
        try:
            return OnnxEmbedder(path, threads=threads)
        except (ModelNotFoundError, ImportError) as exc:
            if backend == "onnx":
                if isinstance(exc, ImportError):
                    raise ModelNotFoundError(f"ONNX Runtime is not installed ({exc}); run ./install.sh") from exc
                raise
            if (Path(path) / "config.json").exists():  # a real model folder, just without a usable export
                log.warning("embedding on PyTorch (slower): %s", exc)
    return SentenceTransformerEmbedder(path, threads=threads, batch_size=batch_size)
