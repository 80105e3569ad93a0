"""Write the SAELens-made test fixtures in tests/sae/saelens_fixtures/ with SAELens itself.

    /tmp/saelens-venv/bin/python tools/saelens_fixtures.py   (from the repository root)

SAELens cannot live in interp's environment (sae-lens 6.54.12 requires transformer-lens < 4;
interp runs on 4.x), so this runs in a separate virtual environment:

    python3.11 -m venv /tmp/saelens-venv
    /tmp/saelens-venv/bin/pip install torch==2.13.0          # the CPU wheel
    /tmp/saelens-venv/bin/pip install sae-lens==6.54.12

For each case, SAELens builds an SAE with seeded weights, writes it with `SAE.save_model`
(<case>/cfg.json + sae_weights.safetensors) and runs it on seeded inputs; `<case>.expected
.safetensors` holds the inputs (x), SAELens' `encode` (feature_acts) and `forward` (sae_out).
manifest.json records the versions. tests/sae/test_saelens.py reads them without SAELens
and compares to 1e-5 (float32 matmuls round differently across CPUs and thread counts).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import sae_lens
import torch
from sae_lens import SAE
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parents[1] / "tests" / "sae" / "saelens_fixtures"
D_IN, D_SAE = 32, 40  # the tests' tiny GPT-2: d_model 32, 4 heads of 8
#: case -> (architecture, cfg fields, metadata): every inference path SAELens 6 has.
CASES = {
    "standard": ("standard", {}, {"hook_name": "blocks.1.hook_resid_pre"}),
    "topk": ("topk", {"k": 5, "rescale_acts_by_decoder_norm": True},
             {"hook_name": "blocks.0.hook_mlp_out"}),
    "jumprelu": ("jumprelu", {"normalize_activations": "layer_norm"},
                 {"hook_name": "blocks.0.hook_resid_post"}),
    "gated": ("gated", {"apply_b_dec_to_input": False,
                        "normalize_activations": "constant_norm_rescale"},
              {"hook_name": "blocks.1.hook_attn_out"}),
    "hook_z": ("standard", {"reshape_activations": "hook_z"},
               {"hook_name": "blocks.0.attn.hook_z"}),
}


def build(arch: str, fields: dict, meta: dict, seed: int) -> SAE:
    cfg = {"architecture": arch, "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32",
           "device": "cpu", **fields,
           "metadata": {"model_name": "interp-test-gpt2", "hook_head_index": None, **meta}}
    sae = SAE.from_dict(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(sae.named_parameters()):
            if name == "threshold":
                p.copy_(torch.rand(p.shape, generator=gen) * 0.5)
            elif name in ("W_enc", "W_dec"):
                p.copy_(torch.randn(p.shape, generator=gen) / D_IN ** 0.5 * 2)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return sae.eval()


def main() -> None:
    torch.set_num_threads(1)  # as the tests in tests/sae run (float32 sums round by threads)
    OUT.mkdir(parents=True, exist_ok=True)
    for seed, (case, (arch, fields, meta)) in enumerate(CASES.items()):
        sae = build(arch, fields, meta, seed)
        shutil.rmtree(OUT / case, ignore_errors=True)
        sae.save_model(OUT / case)
        gen = torch.Generator().manual_seed(100 + seed)
        shape = (2, 5, 4, D_IN // 4) if case == "hook_z" else (2, 5, D_IN)
        x = torch.randn(shape, generator=gen) * 3 + 0.5
        with torch.no_grad():
            acts = sae.encode(x)
            out = sae(x)
        save_file({"x": x, "feature_acts": acts.contiguous(), "sae_out": out.contiguous()},
                  OUT / f"{case}.expected.safetensors")
    manifest = {"sae_lens": sae_lens.__version__, "torch": torch.__version__,
                "python": sys.version.split()[0], "cases": sorted(CASES),
                "made_by": "tools/saelens_fixtures.py"}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(CASES)} SAELens SAEs to {OUT} (sae-lens {sae_lens.__version__})")


if __name__ == "__main__":
    main()
