"""The FSM experiment: train a small GPT-NeoX on TokFSM trajectories, splice k=1 codebooks
into every attention head (before the output projection) and MLP output, finetune model and
codebooks together, and measure transition accuracy with and without codebooks and how
purely codes (vs neurons) map to states. The model without codebooks is trained for as many
steps in all (base + codebook steps) as the one with them.

    .venv/bin/python experiments/codebook_fsm.py --out runs/fsm   (fixed seed; ~4 min on one
    CPU thread)
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from a source checkout
    sys.path.insert(0, str(ROOT))

from interp.codebook import fsm as task
from interp.progress import say

if TYPE_CHECKING:
    from interp.models.model import Model


def train_base(fsm: task.FSM, out: Path, *, d_model: int, layers: int, steps: int,
               batch: int, states: int, seed: int, checkpoint: int) -> tuple[Path, Path]:
    """Train the plain model with HF (fast path); save it (with its tokenizer) after
    `checkpoint` steps (where the codebook model starts) and at the end (the baseline,
    trained as many steps in all as the codebook model)."""
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.manual_seed(seed)
    cfg = GPTNeoXConfig(vocab_size=11, hidden_size=d_model, num_hidden_layers=layers,
                        num_attention_heads=4, intermediate_size=4 * d_model,
                        max_position_embeddings=2 * states + 8, bos_token_id=task.BOS,
                        eos_token_id=task.BOS, pad_token_id=task.BOS,
                        tie_word_embeddings=False, hidden_dropout=0.0, attention_dropout=0.0)
    model = GPTNeoXForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps, pct_start=0.1)
    model.train()
    for step in range(steps):
        rows = fsm.trajectories(batch, states, seed=10_000 + step)
        loss = model(rows, labels=rows).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % max(1, steps // 10) == 0:
            say("codebook", f"base step {step + 1}/{steps}: loss {loss.item():.4f}")
        if step + 1 in (checkpoint, steps):
            path = out / ("start-model" if step + 1 == checkpoint else "base-model")
            model.save_pretrained(path)
            task.tokenizer(path)
    model.eval()
    return out / "start-model", out / "base-model"


@torch.no_grad()
def unit_states(model: Model, fsm: task.FSM, codebooks: Any = None, site: Any = None,
                layer: int | None = None, threshold: float = 0.5
                ) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """(unit -> states, state -> units) at the last position of each state input: the codes
    of one codebook (k ids; per-head codebooks count head h code c as one unit), or the MLP
    neurons of `layer` active above threshold x their max over the inputs."""
    from interp.codebook.splice import run_with_codes
    from interp.hooks import capture

    inputs = task.state_inputs(fsm)
    units: list[list[int]] = []
    if codebooks is not None:
        book = codebooks[site]
        _, ids = run_with_codes(model, codebooks, inputs)
        last = ids[str(site)][:, -1]  # [N, groups, k]
        offset = torch.arange(book.groups).view(1, -1, 1) * book.n_codes
        units = [sorted(set((row + o).reshape(-1).tolist()))
                 for row, o in zip(last, offset.expand(len(last), -1, -1))]
    else:
        name = model.hook_name("mlp_post", layer)
        x = capture(model, [name], inputs)[name][:, -1].float()  # [N, d_mlp]
        on = x > threshold * x.max(0).values.clamp_min(1e-6)
        units = [row.nonzero().reshape(-1).tolist() for row in on]
    by_unit: dict[int, set[int]] = {}
    for state, us in enumerate(units):
        for u in us:
            by_unit.setdefault(u, set()).add(state)
    return by_unit, {s: set(us) for s, us in enumerate(units)}


def run(out: Path, *, n_states: int = 100, n_edges: int = 10, d_model: int = 64,
        layers: int = 2, base_steps: int = 2400, cb_steps: int = 600, batch: int = 64,
        states: int = 16, n_codes: int = 1000, similarity: str = "inner",
        model_lr: float = 1e-4, layer_norm: bool = True, kmeans: bool = False,
        replace_dead_every: int = 0, seed: int = 0, reuse: bool = False) -> dict[str, Any]:
    """Run the experiment into `out` (reuse: keep base models already trained there). The
    codebooks follow the paper's FSM configuration (fsm_main.yaml): a layer norm before
    snapping, random codes (no k-means) and no dead-code replacement, unless told."""
    import interp
    from interp.codebook import Codebooks, finetune, splice

    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    fsm = task.FSM(n_states, n_edges, seed)
    start = time.time()
    start_path, path = out / "start-model", out / "base-model"
    if not (reuse and start_path.is_dir() and path.is_dir()):
        start_path, path = train_base(fsm, out, d_model=d_model, layers=layers,
                                      steps=base_steps + cb_steps, batch=batch, states=states,
                                      seed=seed, checkpoint=base_steps)
    model = interp.load_model(path, device="cpu")
    result: dict[str, Any] = {"fsm": {"n_states": n_states, "n_edges": n_edges, "seed": seed},
                              "model": {"d_model": d_model, "layers": layers, "heads": 4,
                                        "base_steps": base_steps, "cb_steps": cb_steps,
                                        "batch": batch,
                                        "states_per_row": states}}
    base = {"sampled_transition_accuracy": task.sampled_transition_accuracy(model, fsm,
                                                                            seed=seed),
            "next_state_accuracy": task.next_state_accuracy(model, fsm)}
    neurons = {}
    for layer in range(layers):
        by_unit, by_state = unit_states(model, fsm, layer=layer)
        neurons[f"{layer}:mlp_post"] = {"purity": task.purity(by_unit),
                                        "states_with_pure_unit": task.one_to_one(by_state,
                                                                                 by_unit),
                                        "units_used": len(by_unit)}
    result["without_codebooks"] = base | {"neurons": neurons}
    say("codebook", f"baseline ({base_steps + cb_steps} steps, no codebooks): {base}")
    model = interp.load_model(start_path, device="cpu")
    sites = [f"{layer}:{s}" for layer in range(layers) for s in ("attn_z", "mlp_out")]
    books = Codebooks.create(model, sites, n_codes=n_codes, k=1, similarity=similarity,
                             layer_norm=layer_norm, seed=seed)
    rows = fsm.trajectories(20_000, states, seed=seed + 1)
    log = finetune(model, books, rows, steps=cb_steps, batch_size=batch, lr=1e-3,
                   train_model=model_lr > 0, model_lr=max(model_lr, 1e-12), kmeans_init=kmeans,
                   kmeans_tokens=20_000, replace_dead_every=replace_dead_every, seed=seed)
    with splice(model, books):
        cb = {"sampled_transition_accuracy": task.sampled_transition_accuracy(model, fsm,
                                                                              seed=seed),
              "next_state_accuracy": task.next_state_accuracy(model, fsm)}
    codes = {}
    for site in sites:
        by_unit, by_state = unit_states(model, fsm, books, site)
        codes[site] = {"purity": task.purity(by_unit),
                       "states_with_pure_unit": task.one_to_one(by_state, by_unit),
                       "units_used": len(by_unit)}
    result["with_codebooks"] = cb | {"codes": codes, "n_codes": n_codes, "k": 1,
                                     "similarity": similarity, "model_lr": model_lr,
                                     "layer_norm": layer_norm, "kmeans": kmeans,
                                     "replace_dead_every": replace_dead_every,
                                     "cb_steps": cb_steps,
                                     "final_lm_loss": log.lm_loss[-1]}
    result["seconds"] = round(time.time() - start, 1)
    (out / "fsm_result.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    d = {k: v.default for k, v in inspect.signature(run).parameters.items()
         if v.default is not inspect.Parameter.empty}  # the defaults are run()'s
    p = argparse.ArgumentParser(prog="experiments/codebook_fsm.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/fsm", help="output directory (%(default)s)")
    p.add_argument("--states", type=int, default=d["n_states"], help="FSM states (%(default)s)")
    p.add_argument("--edges", type=int, default=d["n_edges"],
                   help="out-edges per state (%(default)s)")
    p.add_argument("--d-model", type=int, default=d["d_model"], help="model width (%(default)s)")
    p.add_argument("--layers", type=int, default=d["layers"], help="model layers (%(default)s)")
    p.add_argument("--base-steps", type=int, default=d["base_steps"],
                   help="plain training steps before the codebooks go in (%(default)s)")
    p.add_argument("--cb-steps", type=int, default=d["cb_steps"],
                   help="codebook finetune steps (%(default)s)")
    p.add_argument("--codes", type=int, default=d["n_codes"],
                   help="codes per codebook (%(default)s)")
    p.add_argument("--similarity", default=d["similarity"], choices=("inner", "cosine"),
                   help="code similarity (%(default)s)")
    p.add_argument("--model-lr", type=float, default=d["model_lr"],
                   help="model learning rate while the codebooks train (%(default)s; 0 freezes "
                        "it)")
    p.add_argument("--no-layer-norm", dest="layer_norm", action="store_false",
                   default=d["layer_norm"], help="codebooks without the LayerNorm before snapping")
    p.add_argument("--kmeans", action="store_true", default=d["kmeans"],
                   help="k-means initialisation of the codes")
    p.add_argument("--replace-dead-every", type=int, default=d["replace_dead_every"],
                   help="re-seed unused codes every N steps (0: never; default %(default)s)")
    p.add_argument("--reuse", action="store_true", default=d["reuse"],
                   help="reuse the base models already trained in --out")
    p.add_argument("--seed", type=int, default=d["seed"], help="seed (%(default)s)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    result = run(Path(a.out), n_states=a.states, n_edges=a.edges, d_model=a.d_model,
                 layers=a.layers, base_steps=a.base_steps, cb_steps=a.cb_steps,
                 n_codes=a.codes, similarity=a.similarity, model_lr=a.model_lr,
                 layer_norm=a.layer_norm, kmeans=a.kmeans,
                 replace_dead_every=a.replace_dead_every, seed=a.seed, reuse=a.reuse)
    print(json.dumps(result, indent=1))
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
