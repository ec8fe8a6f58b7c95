"""Text generation: the Generator role and its in-process llama.cpp implementation."""

from __future__ import annotations

import codecs
import ctypes
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.answer.models import check_adapter, read_gguf
from assistant.config import physical_cores
from assistant.errors import ModelNotFoundError

log = logging.getLogger(__name__)
RETHREAD_EVERY = 16  # tokens between looks at how many cores are free
CAPABLE_MB = 1000.0  # chat models this large (on disk) pick the direct answer and are believed on "not in them"


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens whose KV cache was reused from the previous call
    completion_tokens: int = 0
    ttft_s: float = 0.0  # time to first token
    tokens_per_s: float = 0.0  # generated tokens per second after the first
    stopped: str = ""  # "eos" | "length" | "cancelled"
    threads: int = 0  # CPU threads generation ran on (the fewest used, when it changed on the way)


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
        self.max_threads = threads or physical_cores()
        self._pools = _Pools.make(self.llm, self.max_threads)
        self.threads = self.max_threads
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
            self._set_threads(free_cores(self.max_threads))
            stats.threads = self.threads
            for token in self.llm.generate(tokens, repeat_penalty=request.repeat_penalty, **sampler):
                if n and n % RETHREAD_EVERY == 0:  # another process started or stopped: follow it
                    self._set_threads(free_cores(self.max_threads, samples=1))
                    stats.threads = min(stats.threads, self.threads)
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

    def _set_threads(self, n: int) -> None:
        """Run on n threads from the next decode on (no more than the pool holds)."""
        n = max(1, min(n, self.max_threads))
        if self._pools is not None:
            self._pools.use(sleeping=n < self.max_threads)
        if n != self.threads:
            from llama_cpp import llama_cpp as lib

            lib.llama_set_n_threads(self.llm._ctx.ctx, n, n)
            self.threads = n


def capable(generator: Generator, choice: str = "auto") -> bool:
    """Whether a chat model picks the direct answer's words itself and is believed when it says the documents do
    not say (setting [answer] direct): "auto" for a model of at least CAPABLE_MB on disk (the 135M and 0.5B models
    answer the copying question with a sentence, and say "the documents do not say" of answerable questions too:
    docs/benchmarks/answers.md), "model" always, "rules" never."""
    if choice == "auto":
        return getattr(getattr(generator, "info", None), "size_mb", 0.0) >= CAPABLE_MB
    return choice == "model"


def free_cores(limit: int, samples: int = 3) -> int:
    """How many of the CPU cores (at most `limit`) are not taken by other processes' runnable work now.

    Two threads on two cores that another process also uses is the worst case for llama.cpp: each step
    waits for the thread that was descheduled (measured: 55 tokens/s quiet, 1 beside `assistant index`).
    On Linux the kernel's count of runnable threads (/proc/stat procs_running) less this process's own
    running threads is read `samples` times, 10 ms apart; elsewhere the one-minute load average stands in.
    """
    total = os.cpu_count() or limit
    try:
        seen = []
        for i in range(samples):
            with open("/proc/stat") as f:
                running = next(int(line.split()[1]) for line in f if line.startswith("procs_running"))
            seen.append(running - _own_running())
            if i < samples - 1:
                time.sleep(0.01)
        busy: int | None = sorted(seen)[len(seen) // 2]
    except (OSError, ValueError, StopIteration):
        busy = None
    if busy is None:
        try:
            busy = round(os.getloadavg()[0])
        except OSError:
            return limit
    return max(1, min(limit, total - max(0, busy)))


def _own_running() -> int:
    """This process's threads that are running or runnable (state R), the reading one included."""
    n = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                n += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            pass
    return max(1, n)


class _GgmlThreadpoolParams(ctypes.Structure):
    _fields_ = [("cpumask", ctypes.c_bool * 512), ("n_threads", ctypes.c_int), ("prio", ctypes.c_int),
                ("poll", ctypes.c_uint32), ("strict_cpu", ctypes.c_bool), ("paused", ctypes.c_bool)]


class _Pools:
    """Two llama.cpp CPU thread pools for one model, attached in turn through ggml's C API (ctypes;
    llama-cpp-python does not expose them): with every core free, llama.cpp's own polling pool (poll 50: its
    threads spin briefly between steps, the fastest when nothing else runs); with other work on the machine,
    a pool whose idle threads sleep at once (poll 0), so that neither another process nor this process's
    embedder loses the core to a spinning thread. When the API is not there, llama.cpp's default pool stays
    (and the reason is logged)."""

    def __init__(self, attach: Any, ctx: Any, spinning: int, sleeping: int) -> None:
        self._attach, self._ctx = attach, ctx
        self._pools = {False: spinning, True: sleeping}  # by whether idle threads sleep
        self.sleeping: bool | None = None

    def use(self, sleeping: bool) -> None:
        if sleeping != self.sleeping:
            pool = self._pools[sleeping]
            self._attach(self._ctx, pool, pool)
            self.sleeping = sleeping

    @classmethod
    def make(cls, llm: Any, threads: int) -> _Pools | None:
        try:
            from llama_cpp import llama_cpp as lib

            folder = Path(lib.__file__).parent / "lib"
            suffix = ".dylib" if sys.platform == "darwin" else ".so"
            base = ctypes.CDLL(str(folder / f"libggml-base{suffix}"))
            cpu = ctypes.CDLL(str(folder / f"libggml-cpu{suffix}"))
            base.ggml_threadpool_params_default.restype = _GgmlThreadpoolParams
            base.ggml_threadpool_params_default.argtypes = [ctypes.c_int]
            cpu.ggml_threadpool_new.restype = ctypes.c_void_p
            cpu.ggml_threadpool_new.argtypes = [ctypes.POINTER(_GgmlThreadpoolParams)]
            cpu.ggml_threadpool_free.argtypes = [ctypes.c_void_p]
            attach = lib._lib.llama_attach_threadpool
            attach.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
            attach.restype = None
            detach = lib._lib.llama_detach_threadpool
            detach.argtypes = [ctypes.c_void_p]
            detach.restype = None
            made = []
            for poll in (50, 0):
                params = base.ggml_threadpool_params_default(threads)
                params.poll = poll
                pool = cpu.ggml_threadpool_new(ctypes.byref(params))
                if not pool:
                    raise OSError("ggml_threadpool_new returned NULL")
                made.append(pool)
            ctx = llm._ctx.ctx
            # When the model is closed: its context lets go of the pools, then their threads end (the exit
            # stack runs this before it frees the context, which was entered earlier).
            llm._stack.callback(lambda: (detach(ctx), *(cpu.ggml_threadpool_free(p) for p in made)))
            pools = cls(attach, ctx, made[0], made[1])
            pools.use(False)
            return pools
        except (OSError, AttributeError, ImportError) as exc:
            log.info("llama.cpp keeps its default thread pool: %s", exc)
            return None


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
