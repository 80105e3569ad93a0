"""The pilot behind a fine-tune recipe of experiments/finetune_agreement.py, loss only, no
decoding: the held-out loss of the start with and without BOS (the same held-out blocks with
their BOS removed), each learning rate's held-out loss over the first steps, and where the
parameters' squared norm lies (why the relative weight change differs across models).

    .venv/bin/python experiments/finetune_pilot.py \
        --inputs experiments/inputs/finetune_agreement_gemma_lr2e-5.json --lrs 2e-5 5e-5

Writes experiments/results/finetune_agreement/<result_name or model>.pilot.json.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.common import rounded
from experiments.finetune_agreement import (
    INPUTS_PATH,
    OUT_DIR,
    blocks,
    eval_loss,
    load_inputs,
    train_step,
)

PILOT_STEPS = (1, 3, 10)  # steps at which the held-out loss is measured


def norm_shares(hf: Any) -> dict[str, float]:
    """Share of the parameters' squared norm by kind (a layer parameter's module name, e.g.
    "post_feedforward_layernorm"; the full name otherwise)."""
    shares: dict[str, float] = {}
    for name, p in hf.named_parameters():
        kind = name.split(".")[-2] if ".layers." in name else name
        shares[kind] = shares.get(kind, 0.0) + float(p.detach().pow(2).sum())
    total = sum(shares.values())
    return {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}


def run_pilot(inputs: dict[str, Any], lrs: Sequence[float]) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from interp.models.real import prepare
    from interp.models.wrap import tokenizer_adds_bos

    source = prepare(inputs["model"])
    tokenizer = AutoTokenizer.from_pretrained(source)
    train = blocks(inputs["model"], tokenizer, "train", max(PILOT_STEPS) * inputs["batch"],
                   inputs["block"])
    held = blocks(inputs["model"], tokenizer, "held_out", inputs["eval_blocks"], inputs["block"])
    out: dict[str, Any] = {"model": inputs["model"], "steps": list(PILOT_STEPS), "lrs": {}}
    for lr in lrs:
        torch.manual_seed(inputs["seed"])
        hf = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
        if "start" not in out:
            embedding = hf.get_input_embeddings().weight.numel()
            without_bos = (eval_loss(hf, held[:, 1:], inputs["batch"])
                           if tokenizer_adds_bos(tokenizer) else None)  # else none to remove
            out["start"] = {"held_out_loss": eval_loss(hf, held, inputs["batch"]),
                            "held_out_loss_without_bos": without_bos,
                            "embedding_share_of_parameters":
                                embedding / sum(p.numel() for p in hf.parameters()),
                            "squared_norm_shares": norm_shares(hf)}
        opt = torch.optim.AdamW(hf.parameters(), lr=lr, weight_decay=0.0)
        losses = {}
        for step in range(1, max(PILOT_STEPS) + 1):
            train_step(hf, opt, train[(step - 1) * inputs["batch"]: step * inputs["batch"]])
            if step in PILOT_STEPS:
                losses[str(step)] = eval_loss(hf, held, inputs["batch"])
        out["lrs"][repr(lr)] = losses
    return rounded(out)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import result_path, study_parser, write_json

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    parser.add_argument("--lrs", type=float, nargs="+", required=True, metavar="LR",
                        help="learning rates to try")
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    out = run_pilot(inputs, args.lrs)
    name = inputs.get("result_name", inputs["model"])
    path = write_json(result_path(args.out, name, args.quick, ".pilot.json"), out)
    print(f"start: {out['start']}")
    for lr, losses in out["lrs"].items():
        print(f"lr {lr}: held-out loss at steps {losses}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
