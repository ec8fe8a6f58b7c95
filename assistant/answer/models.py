"""The GGUF chat models in the models folder: discovery and header metadata, without loading weights."""

from __future__ import annotations

import os
import struct
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from assistant.errors import ModelNotFoundError

# llama.cpp's LLAMA_FTYPE values (general.file_type) -> quantization name
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_WANTED = ("general.architecture", "general.name", "general.file_type", "tokenizer.chat_template", "general.type",
           "adapter.type", "general.alignment")


@dataclass(frozen=True)
class ModelInfo:
    """What the GGUF header says about a chat model."""

    path: str
    name: str
    size_mb: float
    architecture: str
    context_length: int | None
    quantization: str
    has_chat_template: bool
    kind: str = "model"  # "model", or "adapter" (a LoRA adapter for models of its architecture)
    adapters: tuple[str, ...] = ()  # for a model: the adapters in its folder made for it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_gguf(path: Path, tensors: dict[str, tuple[int, ...]] | None = None) -> ModelInfo:
    """Read a GGUF file's header (and, given a dict, fill it with each tensor's name and dimensions).

    Raises:
        ModelNotFoundError: the file is missing, not GGUF, or truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"chat model not found: {path}. Run ./install.sh for the default model, or put "
                                 "a .gguf file in the models folder and select it with --model or llm_model.")
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelNotFoundError(f"{path} is not a GGUF model file (wrong magic bytes); llama.cpp needs "
                                         "GGUF. Re-download it or convert it with llama.cpp's convert script.")
            version = _read(f, "<I")
            if version < 2:
                raise ModelNotFoundError(f"{path} uses GGUF version {version}, too old; convert it again")
            n_tensors = _read(f, "<Q")
            count = _read(f, "<Q")
            meta: dict[str, Any] = {}
            for _ in range(count):
                key = _string(f)
                vtype = _read(f, "<I")
                value = _value(f, vtype, keep=key in _WANTED or key.endswith(".context_length"))
                if value is not None:
                    meta[key] = value
            if tensors is not None:
                ends = []
                for _ in range(n_tensors):
                    name = _string(f)
                    dims = tuple(_read(f, "<Q") for _ in range(_read(f, "<I")))
                    kind, offset = _read(f, "<I"), _read(f, "<Q")
                    tensors[name] = dims
                    if kind in (0, 1):  # F32, F16: their size is known without the quantisation tables
                        count = 1
                        for d in dims:
                            count *= d
                        ends.append(offset + count * (4 if kind == 0 else 2))
                align = int(meta.get("general.alignment") or 32)  # tensor data starts at the next boundary
                data_start = -(-f.tell() // align) * align
                if os.fstat(f.fileno()).st_size < data_start + max(ends, default=0):
                    raise struct.error("unexpected end of file")
    except (struct.error, UnicodeDecodeError, OSError, MemoryError) as exc:
        raise ModelNotFoundError(f"{path} is damaged or truncated ({exc}); download it again") from exc
    arch = str(meta.get("general.architecture", "unknown"))
    ftype = meta.get("general.file_type")
    return ModelInfo(
        path=str(path), name=path.name, size_mb=round(path.stat().st_size / 1e6, 1), architecture=arch,
        context_length=meta.get(f"{arch}.context_length"),
        quantization=FILE_TYPES.get(ftype, f"type {ftype}") if ftype is not None else "unknown",
        has_chat_template="tokenizer.chat_template" in meta,
        kind="adapter" if meta.get("general.type") == "adapter" else "model",
    )


def check_adapter(adapter: Path, model: Path) -> ModelInfo:
    """A LoRA adapter's header, after checking it fits the model: a GGUF LoRA adapter of the model's
    architecture whose every tensor pair (X.lora_a, X.lora_b) matches the dimensions of the model's X.
    (llama.cpp itself loads a mismatched or broken adapter without a word, and then ignores it.)

    Raises:
        ModelNotFoundError: missing, damaged, not a LoRA adapter, or made for another model.
    """
    mine: dict[str, tuple[int, ...]] = {}
    base: dict[str, tuple[int, ...]] = {}
    info = read_gguf(adapter, mine)
    model_info = read_gguf(model, base)
    if info.kind != "adapter":
        raise ModelNotFoundError(f"{adapter} is not a LoRA adapter (its GGUF header has no general.type = adapter); "
                                 "convert it with llama.cpp's convert_lora_to_gguf.py")
    if info.architecture != model_info.architecture:
        raise ModelNotFoundError(f"the adapter {adapter.name} is for {info.architecture} models, but "
                                 f"{model.name} is {model_info.architecture}")
    pairs = {name[: -len(".lora_a")] for name in mine if name.endswith(".lora_a")}
    if not pairs:
        raise ModelNotFoundError(f"the adapter {adapter.name} holds no LoRA tensors")
    for target in sorted(pairs):
        a, b, w = mine.get(target + ".lora_a"), mine.get(target + ".lora_b"), base.get(target)
        if w is None:
            raise ModelNotFoundError(f"the adapter {adapter.name} changes {target}, which {model.name} does not "
                                     "have: it was made for another model")
        if b is None or len(w) != 2 or a is None or a[0] != w[0] or b[1] != w[1] or a[1] != b[0]:
            raise ModelNotFoundError(f"the adapter {adapter.name} does not fit {model.name}: {target} is {w}, the "
                                     f"adapter's pair is {a} x {b}; it was made for another model")
    return info


def discover(models_dir: Path) -> list[ModelInfo | tuple[Path, str]]:
    """Every *.gguf in the folder: its info, or (path, error) for files that cannot be read."""
    out: list[ModelInfo | tuple[Path, str]] = []
    for p in sorted(Path(models_dir).glob("*.gguf")) if Path(models_dir).is_dir() else []:
        try:
            out.append(read_gguf(p))
        except ModelNotFoundError as exc:
            out.append((p, str(exc)))
    adapters = [m for m in out if isinstance(m, ModelInfo) and m.kind == "adapter"]
    for i, m in enumerate(out):
        if isinstance(m, ModelInfo) and m.kind == "model" and adapters:
            fits = []
            for adapter in adapters:
                try:
                    check_adapter(Path(adapter.path), Path(m.path))
                    fits.append(adapter.name)
                except ModelNotFoundError:
                    pass
            out[i] = replace(m, adapters=tuple(fits))
    return out


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise struct.error("unexpected end of file")
    return struct.unpack(fmt, data)[0]


def _string(f: BinaryIO) -> str:
    n = _read(f, "<Q")
    if n > 1 << 24:
        raise struct.error(f"implausible string length {n}")
    data = f.read(n)
    if len(data) != n:
        raise struct.error("unexpected end of file")
    return data.decode("utf-8")


def _value(f: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])
    if vtype == 8:
        s = _string(f)
        return s if keep else None
    if vtype == 9:
        item = _read(f, "<I")
        n = _read(f, "<Q")
        if item in _SCALARS:
            f.seek(n * struct.calcsize(_SCALARS[item]), 1)
        else:
            for _ in range(n):
                _value(f, item, keep=False)
        return None
    raise struct.error(f"unknown GGUF value type {vtype}")
