#!/usr/bin/env bash
# One short session on a machine with an NVIDIA GPU: install the gpu extra, run the
# suite on both devices, the quick demos on the GPU, the BN benchmark against
# PyTorch's cuDNN BatchNorm1d (when torch with CUDA is installed there), and the
# full Figure 1 demo on the GPU next to the CPU; everything is written to
# ${OUT:-gpu_session}/ with a summary.txt to copy into docs/backends.md.
#
#     OUT=gpu_session bash bench/gpu_session.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu_session}"
mkdir -p "$out"
summary="$out/summary.txt"
log() { echo "$*" | tee -a "$summary"; }

log "date: $(date -u +%Y-%m-%dT%H:%MZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$summary"
python -m pip install --quiet -e '.[test,demos,gpu]' > "$out/pip.log" 2>&1 || log "pip install failed: see pip.log"
python - <<'EOF' 2>&1 | tee -a "$summary"
import cupy
print("cupy", cupy.__version__, "cuda runtime", cupy.cuda.runtime.runtimeGetVersion())
import tinygrad_bn as tg
print("devices:", tg.available_devices())
EOF

log "--- pytest (cpu and cuda cases)"
timeout 900 python -m pytest -q -p no:cacheprovider > "$out/pytest.log" 2>&1
log "$(tail -n 1 "$out/pytest.log")"
grep -E "^(FAILED|ERROR)" "$out/pytest.log" | head -40 | tee -a "$summary"

log "--- pytest with every tensor on the GPU by default"
TINYGRAD_BN_DEVICE=cuda timeout 900 python -m pytest -q -p no:cacheprovider > "$out/pytest_cuda_default.log" 2>&1
log "$(tail -n 1 "$out/pytest_cuda_default.log")"

log "--- quick demos on the GPU"
for demo in demos/*.py; do
  name=$(basename "$demo" .py)
  case "$name" in __init__|all|common|quickstart) continue ;; esac
  start=$(date +%s)
  if timeout 300 python "$demo" --quick --device cuda --out "$out/demos" --no-progress > "$out/demo_$name.log" 2>&1; then
    log "$name: ok ($(( $(date +%s) - start )) s)"
  else
    log "$name: FAILED (see demo_$name.log)"
  fi
done

log "--- bench/bn.py on the GPU (torch column where torch with CUDA imports)"
python bench/bn.py --device cuda --shape 4096x1024 --shape 16384x1024 --shape 65536x512 --repeats 15 2>&1 | tee -a "$summary"

log "--- Figure 1, full run (50,000 steps of each network): GPU, then CPU"
for device in cuda cpu; do
  start=$(date +%s)
  timeout 1200 python demos/ioffe_fig1.py --device "$device" --out "$out/fig1_$device" --no-progress \
    > "$out/fig1_$device.log" 2>&1
  log "figure 1 on $device: $(tail -n 1 "$out/fig1_$device.log") [$(( $(date +%s) - start )) s wall]"
done
