#!/usr/bin/env bash
# Fills .whl/ (git-ignored) with what benchmarks/gpu_qlora.py needs on a CUDA machine whose Python 3.12
# has torch, accelerate, peft, tokenizers and transformers but no registry: the wheels missing there,
# and the embedded model's tokenizer (the model itself, 89 MiB, is too large to carry).
#
#   benchmarks/gpu_qlora_wheels.sh [DEST]     # DEST defaults to .whl; then: du -ch .whl | tail -1
set -euo pipefail
dest=$(realpath -m "${1:-.whl}")
cd "$(dirname "$0")/.."
mkdir -p "$dest"
platforms=()
for p in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${p}_x86_64")
done
# transformers: the training arguments name activation_checkpointing from 5.23 on (a 5.17 image lacks
# it); 5.23 still accepts huggingface-hub 1.x. pydantic-core must be the one pydantic names.
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d "$dest" \
  bitsandbytes==0.50.2 trl==1.16.0 transformers==5.23.0 peft==0.21.2 datasets==5.2.0 dill==0.4.1 \
  multiprocess==0.70.19 pydantic==2.13.4 pydantic-core==2.46.4 pydantic-settings==2.14.1 \
  python-dotenv==1.2.2 annotated-types==0.7.0 typing-inspection==0.4.2 typing-extensions==4.16.0

# bitsandbytes ships a native library per CUDA, ROCm and XPU release (43 MB); torch cu130 loads
# libbitsandbytes_cuda130.so, so the wheel keeps that, cuda132 and the CPU library (7 MB).
python3 - "$dest"/bitsandbytes-0.50.2-*.whl <<'EOF'
import re
import sys
import zipfile

path = sys.argv[1]
keep = re.compile(r"bitsandbytes/libbitsandbytes_(cpu|cuda130|cuda132)\.so$")
native = re.compile(r"bitsandbytes/libbitsandbytes_\w+\.so$")
with zipfile.ZipFile(path) as src:
    items = [(i, src.read(i)) for i in src.infolist() if not native.match(i.filename) or keep.match(i.filename)]
dropped = {i.filename for i in zipfile.ZipFile(path).infolist()} - {i.filename for i, _ in items}
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
    for info, data in items:
        if info.filename.endswith(".dist-info/RECORD"):
            lines = data.decode().splitlines()
            data = ("\n".join(x for x in lines if x.split(",")[0] not in dropped) + "\n").encode()
        out.writestr(info, data, zipfile.ZIP_DEFLATED)
print(f"{path}: dropped {len(dropped)} native libraries")
EOF

# The SmolLM2 tokenizer (from the embedded model's GGUF, as echogpt converts it).
python3 - "$dest/smollm2-tokenizer" <<'EOF'
import shutil
import sys
from pathlib import Path

try:
    from echogpt.model.base import convert_embedded
except ModuleNotFoundError:
    from echogpt.modeling import convert_embedded

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
for name in ("tokenizer.json", "chat_template.jinja"):
    shutil.copy(convert_embedded() / name, out / name)
print(f"tokenizer written to {out}")
EOF
