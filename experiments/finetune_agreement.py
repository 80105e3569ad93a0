"""Top-1 agreement of decoded neurons across a fine-tune (the paper's base vs instruct: 75.4 %
of Llama-3.1-8B's up-projection neurons keep their top-1 token). No base/instruct pair of the
same shape installs here, so this makes one honestly: SmolLM2-135M-Instruct is fine-tuned
briefly on the committed real-text corpus (python-docs, train split) and every checkpoint's
up-projection neurons are decoded and compared with the start.

Recipe (experiments/inputs/finetune_agreement.json): blocks of `block` tokens cut from the
train split's documents joined by EOS, in order, each opened by BOS where the model's tokenizer
opens every text with it (Gemma; not SmolLM2); `batch` blocks per step; AdamW (lr, no
weight decay, gradient norm clipped to 1) for `steps` steps, every parameter trained (the tied
embedding / LM head too, as in a real fine-tune); seed fixed. At each checkpoint: the loss on
held-out blocks (held_out split) and the up map with the paper's decode (center "none", scale
"norm", raw logits, every token kept), compared with the start's (interp.neurons.agreement:
top-1 agreement and top-20 overlap, per layer and overall). Every checkpoint is saved as a
Hugging Face directory and loaded back through load_model (its own fingerprint; step 0 checks
that this round trip changes nothing); at the last, all three sides are compared, which is
what `interp compare-neurons` does on saved maps. The base maps come from
load_model("smollm2-135m-instruct"); the fine-tune runs in plain transformers on the same
dequantised weights.

    .venv/bin/python experiments/finetune_agreement.py           # the study of the docs
    .venv/bin/python experiments/finetune_agreement.py --quick   # CI: 2 steps, 2 layers
    .venv/bin/python experiments/finetune_agreement.py --keep-checkpoint ft/  # keep the weights

Writes experiments/results/finetune_agreement/<model>[.quick].json (sorted keys, rounded), or
<result_name>[.quick].json where the inputs name one (two recipes of one model).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interp.progress import say

INPUTS_PATH = ROOT / "experiments" / "inputs" / "finetune_agreement.json"
OUT_DIR = ROOT / "experiments" / "results" / "finetune_agreement"
PAPER_DECODE = {"top_k": 20, "center": "none", "scale": "norm", "score": "logit",
                "flagged_tokens": "keep"}
SIDES = ("up", "gate", "down")
DIGITS = 4


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def load_inputs(path: Path = INPUTS_PATH, quick: bool = False) -> dict[str, Any]:
    inputs = json.loads(path.read_text(encoding="utf-8"))
    reduced = inputs.pop("quick")
    if quick:
        inputs.update(reduced)
    inputs["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    inputs["quick"] = quick
    return inputs


def blocks(model: str, tokenizer: Any, split: str, n_blocks: int, block: int) -> torch.Tensor:
    """[n_blocks, block] token ids: the split of `model`'s default corpus, documents in order,
    joined by EOS, each block opened by BOS where the tokenizer opens every text with it
    (Gemma's held-out loss: 5.63 nats without it, 3.60 with it; finetune_pilot.py)."""
    from interp.models.wrap import tokenizer_adds_bos
    from interp.texts import default_documents

    bos = tokenizer.bos_token_id if tokenizer_adds_bos(tokenizer) else None
    width = block - (bos is not None)
    ids: list[int] = []
    n_chars = 4 * n_blocks * width  # about 3.5 characters per token here; trimmed below
    while len(ids) < n_blocks * width:
        ids = []
        for doc in default_documents(model, n_chars, split=split):
            ids += tokenizer.encode(doc, add_special_tokens=False) + [tokenizer.eos_token_id]
        if n_chars > 10**7:
            raise SystemExit(f"the {split} split has fewer than {n_blocks * width} tokens")
        n_chars *= 2
    body = torch.tensor(ids[: n_blocks * width]).reshape(n_blocks, width)
    return body if bos is None else torch.cat([torch.full((n_blocks, 1), bos), body], 1)


def lm_loss(hf: Any, batch: torch.Tensor) -> torch.Tensor:
    return hf(input_ids=batch, labels=batch).loss


def train_step(hf: Any, opt: torch.optim.Optimizer, batch: torch.Tensor) -> float:
    """One step of the recipe (gradient norm clipped to 1); the batch's training loss."""
    hf.train()
    loss = lm_loss(hf, batch)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(hf.parameters(), 1.0)
    opt.step()
    return loss.item()


@torch.no_grad()
def eval_loss(hf: Any, data: torch.Tensor, batch: int) -> float:
    hf.eval()
    losses = [float(lm_loss(hf, data[i:i + batch])) for i in range(0, len(data), batch)]
    return sum(losses) / len(losses)


def _agreement(a: Any, b: Any) -> dict[str, Any]:
    from interp.neurons import agreement

    ag = agreement(a, b)
    return {"top1": _r(ag.top1), "top20_overlap": _r(ag.topk_overlap),
            "top1_per_layer": {str(k): _r(v) for k, v in ag.top1_per_layer.items()},
            "top20_overlap_per_layer": {str(k): _r(v)
                                        for k, v in ag.topk_overlap_per_layer.items()}}


def weight_change(start: dict[str, torch.Tensor], hf: Any) -> float:
    """Relative Frobenius change of all parameters: ||W - W0|| / ||W0||."""
    num = den = 0.0
    for name, p in hf.named_parameters():
        num += float((p.detach() - start[name]).pow(2).sum())
        den += float(start[name].pow(2).sum())
    return (num / den) ** 0.5


def checkpoint_maps(hf: Any, tokenizer: Any, where: Path, sides: Sequence[str],
                    layers: Sequence[int] | None) -> tuple[str, dict[str, Any]]:
    """Save the weights as a Hugging Face directory, load it back through load_model (its own
    fingerprint) and decode `sides` with the paper's options."""
    from interp import load_model
    from interp.neurons import decode_neurons

    hf.save_pretrained(where, safe_serialization=True)
    tokenizer.save_pretrained(where)
    model = load_model(str(where), device="cpu")
    return model.fingerprint, {side: decode_neurons(model, side, layers=layers, **PAPER_DECODE)
                               for side in sides}


def run_study(inputs: dict[str, Any], keep: Path | None = None, log: bool = True
              ) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from interp import load_model
    from interp.models.real import prepare
    from interp.neurons import decode_neurons

    layers = inputs.get("layers")
    base_model = load_model(inputs["model"], device="cpu")
    base = {side: decode_neurons(base_model, side, layers=layers, **PAPER_DECODE)
            for side in SIDES}
    source = prepare(inputs["model"])
    tokenizer = AutoTokenizer.from_pretrained(source)
    torch.manual_seed(inputs["seed"])
    hf = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    train = blocks(inputs["model"], tokenizer, "train", inputs["steps"] * inputs["batch"],
                   inputs["block"])
    held = blocks(inputs["model"], tokenizer, "held_out", inputs["eval_blocks"], inputs["block"])
    start = {name: p.detach().clone() for name, p in hf.named_parameters()}
    opt = torch.optim.AdamW(hf.parameters(), lr=inputs["lr"], weight_decay=0.0)
    checkpoints, train_losses = [], []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="interp-finetune-") as tmp:
        for step in range(inputs["steps"] + 1):
            if step:
                batch = train[(step - 1) * inputs["batch"]: step * inputs["batch"]]
                train_losses.append(_r(train_step(hf, opt, batch)))
            if step and step not in inputs["checkpoints"]:
                continue
            last = step == inputs["steps"]
            where = keep if (last and keep is not None) else Path(tmp) / f"step-{step}"
            fingerprint, maps = checkpoint_maps(hf, tokenizer, where,
                                                SIDES if last else ("up",), layers)
            checkpoints.append({
                "step": step, "tokens": step * inputs["batch"] * inputs["block"],
                "eval_loss": _r(eval_loss(hf, held, inputs["batch"])),
                "weight_change": _r(weight_change(start, hf)), "fingerprint": fingerprint,
                "sides": {side: _agreement(base[side], m) for side, m in maps.items()}})
            c = checkpoints[-1]
            say("finetune-agreement", f"step {step}: held-out loss {c['eval_loss']:.3f}, up "
                f"top-1 agreement {c['sides']['up']['top1']:.3f} "
                f"({time.perf_counter() - t0:.0f} s)", enabled=log)
    return {"model": base_model.name, "fingerprint": base_model.fingerprint, "inputs": inputs,
            "decode": PAPER_DECODE, "train_losses": train_losses, "checkpoints": checkpoints}


def write_result(result: dict[str, Any], out: Path) -> Path:
    from experiments.common import result_path, write_json

    name = result["inputs"].get("result_name", result["model"])
    return write_json(result_path(out, name, result["inputs"]["quick"]), result)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import study_parser
    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    parser.add_argument("--keep-checkpoint", type=Path, default=None,
                        help="save the fine-tuned model here (a Hugging Face directory)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    result = run_study(load_inputs(args.inputs, args.quick), args.keep_checkpoint)
    path = write_result(result, args.out)
    for c in result["checkpoints"]:
        print(f"step {c['step']:>4}: held-out loss {c['eval_loss']:.3f}, weight change "
              f"{c['weight_change']:.4f}, top-1 agreement (top-20 overlap) " + ", ".join(
                  f"{side} {ag['top1']:.3f} ({ag['top20_overlap']:.3f})"
                  for side, ag in c["sides"].items()))
    print(f"{result['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
