#!/usr/bin/env bash
# Installs EchoGPT on this machine and starts it on the embedded defaults
# (SmolLM2-135M-Instruct, SQLite under $ECHOGPT_HOME, default ~/.echogpt).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh all
exec "${PYTHON:-python3}" -m echogpt quickstart "$@"
