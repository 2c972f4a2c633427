#!/usr/bin/env bash
# Creates .venv and installs Galen with everything it needs, offline-capable afterwards.
# Idempotent: `make` calls it when requirements change. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
VENV=.venv
LLAMA_VERSION=0.3.36
# llama.cpp's default native build crashes on these CPUs (AMX kernels, DATA.md): build portable.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
WHEEL_CACHE=${GALEN_WHEEL_CACHE:-$HOME/.cache/galen-wheels}

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip wheel setuptools
fi
PIP="$VENV/bin/pip"

echo "==> installing pinned dependencies (torch from the local CPU wheel)"
"$PIP" install -q torch==2.13.0
"$PIP" install -q -r requirements-dev.txt
"$PIP" install -q --no-deps -r requirements-nodeps.txt

if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  # Our own wheel cache, keyed by version and build flags, so a native wheel from pip's cache
  # can never come back.
  key=$(printf '%s %s' "$LLAMA_VERSION" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
  dir="$WHEEL_CACHE/llama-$key"
  if ! ls "$dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> building llama-cpp-python $LLAMA_VERSION portably (4-10 minutes on 2 cores)"
    mkdir -p "$dir"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
      "$PIP" wheel -q --no-deps --no-cache-dir -w "$dir" "llama-cpp-python==$LLAMA_VERSION"
  fi
  "$PIP" install -q "$dir"/llama_cpp_python-*.whl
  "$PIP" install -q "llama-cpp-python[server]==$LLAMA_VERSION" --find-links "$dir" --no-cache-dir --only-binary llama-cpp-python
fi

echo "==> system packages for the tests (PostgreSQL, Chromium)"
bash scripts/install_services.sh

echo "==> installing galen (editable)"
"$PIP" install -q --no-deps -e .
"$VENV/bin/python" -m pip check >/dev/null 2>&1 || true
echo "==> ready: $VENV"
