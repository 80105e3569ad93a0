#!/usr/bin/env bash
# The GPU figures of the neuron study (docs/neurons-smollm2.md), as one prepared script for a
# machine with a CUDA GPU and a CUDA torch in .venv (INTERP_TORCH=skip bash .ci/setup):
#   1. clamp cost and host-device syncs added by the hooks (benchmarks/clamp_generation.py
#      --check-sync) on SmolLM2-135M-Instruct;
#   2. a full map of a random Llama-3.1-8B-shaped model: 32 layers x 14,336 neurons x 4,096
#      against a 128,256-token unembedding (benchmarks/decode_neurons.py --layers 32);
#   3. every side of SmolLM2 on the GPU (benchmarks/real_models.py, cached load).
# Output goes to ${OUT:-gpu-out}/, one log per step, with nvidia-smi first.
#     bash benchmarks/gpu_neurons.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-gpu-out}"
mkdir -p "$out"
py=.venv/bin/python
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
$py -c "import torch; print(torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name(0))" \
    | tee "$out/torch.txt"
$py benchmarks/clamp_generation.py --model smollm2-135m-instruct --device cuda --check-sync \
    2>&1 | tee "$out/clamp_generation.txt"
$py benchmarks/decode_neurons.py --device cuda --layers 32 2>&1 | tee "$out/decode_8b.txt"
$py benchmarks/real_models.py --skip-first-load --device cuda --bf16 2>&1 | tee "$out/real_models_cuda.txt"
