"""Export the trained bundled model into `data/interp-tiny/` and measure its model card.

`python -m tools.bundled.card --build data/_build` copies the final checkpoint, loads it back
through `interp.load_model` (the user's path), measures held-out loss per source, the task
metrics of `interp.bundled.tasks` and sample generations, and writes `card.json` and
`MODEL_CARD.md`. Every number on the card comes from this script.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from interp.bundled import tasks
from interp.texts.wordlists import CONCEPTS
from tools.bundled.corpus import DEBIAN_PACKAGES, LICENCES
from tools.bundled.train import TrainConfig, run_directory

if TYPE_CHECKING:
    from interp.models.model import Model

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "data" / "interp-tiny"
EXPORTED_FILES = ("config.json", "generation_config.json", "model.safetensors",
                  "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
ABOUT = {
    "interp-tiny": (
        "The model bundled with interp: a small Llama-architecture causal LM (RMSNorm, gated "
        "SiLU MLP, rotary, grouped-query attention, tied embeddings), trained here from scratch "
        "on offline text by `python -m tools.bundled.train`; this card is written by "
        "`python -m tools.bundled.card`. It exists so that every test, notebook and demo of "
        "interp runs on a real trained model without a model hub."),
    "interp-circuits": (
        "The second bundled model: the same tokenizer, corpus and architecture family as "
        "interp-tiny, trained from scratch by `python -m tools.bundled.train --run circuits` "
        "with a large share of generated task sentences (IOI with both name orders, year "
        "ranges, name copying, repeated name lists; "
        "`interp.bundled.stories.TASK_MIXES['circuits']`), so that it does IOI and "
        "greater-than and has circuits for `interp circuits` to find. "
        "interp-tiny never learned to copy a name from its context, so it cannot do IOI. "
        "This card is written by `python -m tools.bundled.card --run circuits --name "
        "interp-circuits`."),
}
"""The opening paragraph of each bundled model's card."""
SAMPLE_PROMPTS = (
    "Once upon a time, there was a little", "My favourite animal is the",
    "The capital of France is", "After Monday comes", "def add(a, b):\n    ",
    "The war lasted from the year 1732 to the year 17",
)


def export(final: Path, out: Path) -> None:
    """Copy the HF checkpoint files of `final` into `out` (via a temporary directory)."""
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in EXPORTED_FILES:
        if (final / name).exists():
            shutil.copy2(final / name, tmp / name)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


@torch.no_grad()
def held_out_loss(model: Model, tokens: np.ndarray, n_ctx: int, max_windows: int = 48) -> float:
    """Mean next-token cross-entropy over non-overlapping windows of a held-out stream."""
    n = min(max_windows, (len(tokens) - 1) // n_ctx)
    rows = torch.from_numpy(tokens[: n * n_ctx + 1].astype(np.int64))
    windows = torch.stack([rows[i * n_ctx: (i + 1) * n_ctx + 1] for i in range(n)])
    losses = []
    for chunk in windows.split(8):
        logits = model.logits(chunk[:, :-1]).float()
        losses.append(torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1).to(logits.device),
            reduction="none"))
    return float(torch.cat(losses).mean())


def measure(model_dir: Path, build: Path, seed: int = 1234, run_dir: Path | None = None,
            name: str = "interp-tiny") -> dict:
    import interp

    model = interp.load_model(model_dir, device="cpu")
    state = json.loads(((run_dir or build) / "final" / "training_state.json").read_text())
    meta = json.loads((build / "tokens_meta.json").read_text())
    val = np.fromfile(build / "val.bin", dtype=np.uint16)
    n_ctx = state["config"]["n_ctx"]
    losses = {source: round(held_out_loss(model, val[a:b], n_ctx), 4)
              for source, (a, b) in meta["val_sources"].items()}
    single = {concept: sum(len(model.tokenizer.encode(" " + w, add_special_tokens=False)) == 1
                           for w in words) for concept, words in CONCEPTS.items()}
    n = 200
    metrics = {
        f"ioi_{name}": round(tasks.contrast_accuracy(model, tasks.ioi_prompts(n, seed, name)), 4)
        for name in tasks.IOI_TEMPLATES
    }
    metrics["year_range_prob_diff"] = round(tasks.year_probability_difference(
        model, tasks.year_prompts(n, seed)), 4)
    metrics["coin_flip_accuracy"] = round(tasks.contrast_accuracy(
        model, tasks.coin_flip_prompts(n, seed)), 4)
    torch.manual_seed(seed)
    samples = {p: model.generate(p, max_new_tokens=24) for p in SAMPLE_PROMPTS}
    history = state["history"]
    return {
        "model": name, "fingerprint": model.fingerprint,
        "facts": model.facts.to_dict(),
        "n_parameters": sum(p.numel() for p in model.hf_model.parameters()),
        "training": {
            "config": state["config"], "steps": state["step"], "tokens_seen": state["tokens_seen"],
            "train_seconds": round(state["train_seconds"]), "final_train_loss": history[-1]["loss"],
            "final_val_loss_during_training": next(
                (h["val_loss"] for h in reversed(history) if "val_loss" in h), None),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch "
                       f"{torch.__version__}",
        },
        "corpus": {"train_tokens": meta["train_tokens"], "val_tokens": meta["val_tokens"],
                   "train_chars_by_source": meta["train_chars"],
                   "train_tokens_by_source": {s: b - a for s, (a, b) in meta["sources"].items()},
                   "debian_packages": list(DEBIAN_PACKAGES), "licences": LICENCES},
        "tokenizer": {"type": "byte-level BPE (HF tokenizers), numbers split into <=2 digits",
                      "vocab_size": len(model.tokenizer),
                      "single_token_concept_words": single,
                      "concept_words": {c: len(w) for c, w in CONCEPTS.items()}},
        "held_out_loss_by_source": losses,
        "tasks": {"n_prompts": n, "seed": seed, **metrics},
        "samples_greedy": samples,
    }


def render_markdown(card: dict) -> str:
    """The human-readable model card, generated from `card` (no hand-typed numbers)."""
    t, c, k = card["training"], card["corpus"], card["tasks"]
    f = card["facts"]
    lines = [
        f"# {card['model']}", "", ABOUT.get(card["model"], ABOUT["interp-tiny"]), "",
        "## Architecture", "",
        "| fact | value |", "|---|---|",
        *[f"| {key} | {value} |" for key, value in f.items()],
        f"| parameters | {card['n_parameters']:,} |",
        f"| fingerprint | `{card['fingerprint']}` |", "",
        "## Training", "",
        (f"- {t['steps']:,} steps, {t['tokens_seen']:,} tokens seen, "
        f"{t['train_seconds'] / 60:.0f} minutes on {t['machine']} (fp32)."),
        (f"- Final training loss {t['final_train_loss']}, held-out loss during training "
        f"{t['final_val_loss_during_training']}."),
        *([(f"- Trained in two phases: steps 0-{t['config']['extend_from']:,} with a cosine "
           f"schedule (peak {t['config']['lr']}), then extended to {t['steps']:,} steps with "
           f"a re-warmed cosine schedule (peak {t['config']['extend_lr']}).")]
          if t["config"].get("extend_from") else []),
        "- Config: `" + json.dumps(t["config"]) + "`",
        *(["- Commands: " + "; then ".join(f"`{c}`" for c in t["commands"]) + "."]
          if t.get("commands") else []), "",
        "## Corpus", "",
        (f"{c['train_tokens']:,} training tokens and {c['val_tokens']:,} held-out tokens "
        "(2 % of documents, chosen by content hash). Generated simple English "
        "(`interp/bundled/stories.py`: stories, category facts, IOI sentences, year ranges, "
        "coin flips, sentiment) makes up the share set by `generated_share`."), "",
        "| source | training characters | training tokens | held-out loss | licence |",
        "|---|---|---|---|---|",
        *[f"| {s} | {c['train_chars_by_source'].get(s, 0):,} | "
          f"{c['train_tokens_by_source'].get(s, 0):,} | "
          f"{card['held_out_loss_by_source'].get(s, '-')} | {c['licences'].get(s, '')} |"
          for s in c["train_tokens_by_source"]],
        "", "Debian packages used: " + ", ".join(c["debian_packages"]) + ".", "",
        "## Tokenizer", "",
        f"{card['tokenizer']['type']}; {card['tokenizer']['vocab_size']:,} tokens. "
        "Concept words that are single tokens (with a leading space): " + ", ".join(
            f"{name} {n}/{card['tokenizer']['concept_words'][name]}"
            for name, n in card["tokenizer"]["single_token_concept_words"].items()) + ".", "",
        "## Tasks", "",
        (f"Measured on {k['n_prompts']} fresh prompts each (seed {k['seed']}) by "
        "`interp/bundled/tasks.py`."), "",
        "| task | metric | value |", "|---|---|---|",
        *[f"| IOI, template `{name}` | fraction where the indirect object's logit beats the "
          f"subject's | {k['ioi_' + name]} |" for name in tasks.IOI_TEMPLATES
          if "ioi_" + name in k],
        f"| year ranges | mean P(later year) - P(earlier or same) | {k['year_range_prob_diff']} |",
        f"| coin flip | accuracy of Yes/No | {k['coin_flip_accuracy']} |", "",
        "Chance levels: IOI 0.5, year ranges about 0 for a uniform guess, coin flip 0.5.", "",
        "## Greedy samples", "",
        *[f"- `{p!r}` -> `{out!r}`" for p, out in card["samples_greedy"].items()], "",
        "## Limitations", "",
        ("A few million parameters trained for under two hours on two CPU cores: it writes "
        "simple, often repetitive English and Python-like text, and knows few facts. Use it to "
        "exercise interp, not to draw conclusions about large models."), "",
    ]
    return "\n".join(lines)


def training_commands(build: Path, run_dir: Path) -> list[str]:
    """The train.py commands that rebuild the model of `run_dir`, earlier phases first (a run
    that starts from another run's weights, `init_from`, needs that run first)."""
    config = json.loads((run_dir / "train_config.json").read_text())
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in config.items()
                     if v != getattr(TrainConfig(), k, v))
    command = f"python -m tools.bundled.train --build {build} --run {run_dir.name} {flags}"
    earlier = (training_commands(build, (build / config["init_from"]).parent)
               if config.get("init_from") else [])
    return [*earlier, command]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", type=Path, default=Path("data/_build"))
    parser.add_argument("--run", default="", help="the model trained with train.py --run RUN")
    parser.add_argument("--name", default="interp-tiny", choices=sorted(ABOUT))
    parser.add_argument("--out", type=Path, default=None, help="default: data/NAME")
    args = parser.parse_args(argv)
    run_dir = run_directory(args.build, args.run)
    out = args.out or BUNDLED_DIR.with_name(args.name)
    export(run_dir / "final", out)
    card = measure(out, args.build, run_dir=run_dir, name=args.name)
    if args.run:
        card["training"]["commands"] = training_commands(args.build, run_dir)
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    (out / "MODEL_CARD.md").write_text(render_markdown(card))
    print(json.dumps(card["tasks"]), json.dumps(card["held_out_loss_by_source"]))


if __name__ == "__main__":
    main()
