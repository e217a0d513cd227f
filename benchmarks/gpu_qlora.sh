#!/usr/bin/env bash
# The GPU run in one command, from the repository root of a CUDA machine with .whl/ beside it
# (benchmarks/gpu_qlora_wheels.sh fills it): installs the wheels into /tmp/site, runs the gpu-marked
# tests, then benchmarks/gpu_qlora.py in the time left, so that everything ends within LIMIT_S.
#
#   LIMIT_S=570 bash benchmarks/gpu_qlora.sh [gpu_qlora.py options]
#
# Writes $OUT/log.txt (versions and the benchmark's log), $OUT/pytest.txt and $OUT/gpu_qlora.json.
set -uo pipefail
limit=${LIMIT_S:-570}
export OUT=${OUT:-/tmp/gpu_qlora_out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
  .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -m pip list 2>/dev/null | grep -iE '^(torch|transformers|peft|trl|accelerate|bitsandbytes|datasets|tokenizers|huggingface.hub|pydantic|pyarrow|fsspec|triton|numpy|pandas) '
  df -h /tmp | tail -1
} 2>&1 | tee "$OUT/log.txt"
timeout 80 python3 -m pytest -q -p no:cacheprovider -m gpu $(grep -rl "mark.gpu" tests --include='*.py') \
  2>&1 | tee "$OUT/pytest.txt"
left=$((limit - SECONDS))
budget=$(python3 -c "print(round(($left - 40) / 60, 2))")
echo "benchmark: ${left} s left, budget ${budget} min" | tee -a "$OUT/log.txt"
timeout "$left" python3 benchmarks/gpu_qlora.py --budget-min "$budget" "$@" 2>&1 | tee -a "$OUT/log.txt"
