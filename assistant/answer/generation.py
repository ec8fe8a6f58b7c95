"""Text generation: the Generator role and its in-process llama.cpp implementation."""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.answer.models import check_adapter, read_gguf
from assistant.errors import ModelNotFoundError


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens whose KV cache was reused from the previous call
    completion_tokens: int = 0
    ttft_s: float = 0.0  # time to first token
    tokens_per_s: float = 0.0  # generated tokens per second after the first
    stopped: str = ""  # "eos" | "length" | "cancelled"


@dataclass
class GenerationRequest:
    messages: list[dict[str, str]]
    max_tokens: int = 384
    temperature: float = 0.0
    seed: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    repeat_penalty: float = 1.1
    prefix: str = ""  # the answer's first characters, written for the model (it continues from them)


class Generator(Protocol):
    """Renders chat messages with the model's template, counts tokens, streams text."""

    model_id: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def render(self, messages: list[dict[str, str]]) -> str: ...

    def stream(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]: ...


class LlamaCppGenerator:
    """One llama.cpp model in this process; calls are serialised by a lock (a Llama is not thread-safe)."""

    def __init__(self, path: Path, n_ctx: int = 4096, threads: int = 0, lora: Path | None = None) -> None:
        """Load a GGUF model, with a LoRA adapter when given.

        Raises:
            ModelNotFoundError: the file is missing, not GGUF, damaged or cannot be loaded; or the adapter is
                missing, broken or made for another model.
        """
        info = read_gguf(path)  # clear errors for missing or broken files before llama.cpp sees them
        if lora is not None:
            check_adapter(lora, path)
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        n_ctx = min(n_ctx, info.context_length or n_ctx)
        try:
            self.llm = Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=threads or None, n_threads_batch=threads or None,
                verbose=False, lora_path=str(lora) if lora is not None else None,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelNotFoundError(f"llama.cpp could not load {path}: {exc}. The file may be damaged or of "
                                     "an unsupported architecture; try another .gguf") from exc
        self.model_id = Path(path).name + (f"+{Path(lora).name}" if lora is not None else "")
        self.info = info
        self.n_ctx = self.llm.n_ctx()
        self.lock = threading.Lock()
        bos, eos = self.llm.token_bos(), self.llm.token_eos()
        self._bos_text = self._piece(bos) if bos >= 0 else ""
        eos_text = self._piece(eos) if eos >= 0 else ""
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            # Models without a stored template get the widely used ChatML layout.
            template = ("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n'}}"
                        "{% endfor %}{% if add_generation_prompt %}{{'<|im_start|>assistant\n'}}{% endif %}")
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos_text, bos_token=self._bos_text)
        self._stop_ids = {t for t in (eos, self._token_id("<|im_end|>"), self._token_id("<|eot_id|>"),
                                      self._token_id("<|end|>")) if t is not None and t >= 0}
        self._add_bos = str(self.llm.metadata.get("tokenizer.ggml.add_bos_token", "false")).lower() == "true"

    def _piece(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _token_id(self, text: str) -> int | None:
        ids = self.llm.tokenize(text.encode(), add_bos=False, special=True)
        return ids[0] if len(ids) == 1 else None

    def tokenize(self, text: str) -> list[int]:
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        if self._add_bos and (not tokens or tokens[0] != self.llm.token_bos()):
            tokens = [self.llm.token_bos(), *tokens]
        return tokens

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def render(self, messages: list[dict[str, str]]) -> str:
        return str(self._formatter(messages=messages).prompt)

    def stream(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]:
        """Yield the answer text piece by piece. Stops at end of turn, max_tokens, or request.cancel."""
        prompt = self.render(request.messages) + request.prefix
        if request.prefix:
            yield request.prefix
        with self.lock:
            tokens = self.tokenize(prompt)
            stats.prompt_tokens = len(tokens)
            stats.cached_tokens = _common_prefix(list(self.llm._input_ids), tokens)
            if len(tokens) + request.max_tokens > self.n_ctx:
                raise ValueError(f"prompt of {len(tokens)} tokens + {request.max_tokens} to generate exceeds the "
                                 f"context window of {self.n_ctx}")
            self.llm.set_seed(request.seed)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            start = time.perf_counter()
            first = 0.0
            n = 0
            stats.stopped = "length"
            sampler: dict[str, Any] = {"temp": request.temperature}
            if request.temperature <= 0:
                sampler.update(top_k=1)
            for token in self.llm.generate(tokens, repeat_penalty=request.repeat_penalty, **sampler):
                if request.cancel.is_set():
                    stats.stopped = "cancelled"
                    break
                if token in self._stop_ids:
                    stats.stopped = "eos"
                    break
                n += 1
                if n == 1:
                    first = time.perf_counter() - start
                text = decoder.decode(self.llm.detokenize([token]))
                if text:
                    yield text
                if n >= request.max_tokens:
                    break
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
            total = time.perf_counter() - start
            stats.completion_tokens = n
            stats.ttft_s = round(first, 4)
            stats.tokens_per_s = round((n - 1) / (total - first), 2) if n > 1 and total > first else 0.0


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
