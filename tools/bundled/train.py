"""Train the bundled `interp-tiny` model: corpus -> tokenizer -> token files -> Llama LM.

Run `python -m tools.bundled.train --build data/_build` from the repository root
(resumable: rerunning continues from the last checkpoint). Every stage is deterministic given
the seed; CI never runs this.
`--run NAME --task-share F ...` trains another model on the same tokenizer and tokens, with a
share F of each batch made of generated task sentences (how `interp-circuits` is made; the
exact command is on its model card).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


@dataclass
class TrainConfig:
    seed: int = 0
    generated_share: float = 0.4
    vocab_size: int = 8192
    n_layers: int = 6
    d_model: int = 192
    n_heads: int = 6
    n_kv_heads: int = 3
    d_mlp: int = 768
    n_ctx: int = 256
    batch_size: int = 32
    steps: int = 1000
    lr: float = 2e-3
    warmup: int = 100
    min_lr_fraction: float = 0.1
    weight_decay: float = 0.1
    task_share: float = 0.0
    task_mix: str = "circuits"
    init_from: str = ""
    grad_clip: float = 1.0
    max_positions: int = 0
    extend_from: int = 0
    extend_lr: float = 8e-4
    extend_warmup: int = 50
    checkpoint_every: int = 100
    eval_every: int = 200
    threads: int = 2


EXTENSION_KEYS = {"steps", "extend_from", "extend_lr", "extend_warmup"}
"""Config fields a finished run may change on resume: training longer from its checkpoint."""


def run_directory(build: Path, run: str = "") -> Path:
    """Where a run keeps its config, checkpoints and final model: `build` itself for
    interp-tiny, `build/runs/RUN` for a second model trained on the same tokens."""
    return build / "runs" / run if run else build


def prepare(build: Path, cfg: TrainConfig, log=print) -> None:
    """Assemble the corpus, train the tokenizer and write uint16 token files (idempotent)."""
    if (build / "tokens_meta.json").exists():
        return
    from tools.bundled.corpus import assemble, is_validation
    from tools.bundled.tokenizer import train_tokenizer

    t0 = time.time()
    docs = assemble(cfg.generated_share, cfg.seed, log=log)
    train_docs = [d for d in docs if not is_validation(d.text)]
    val_docs = [d for d in docs if is_validation(d.text)]
    tok = train_tokenizer((d.text for d in train_docs), cfg.vocab_size, build / "tokenizer")
    log(f"prepare: tokenizer trained ({len(tok)} tokens) in {time.time() - t0:.0f} s")
    eos = tok.eos_token_id
    meta: dict = {"sources": {}, "val_sources": {}}
    for split, split_docs in (("train", train_docs), ("val", val_docs)):
        ids: list[np.ndarray] = []
        counts: dict[str, int] = {}
        spans: dict[str, list[int]] = {}
        offset = 0
        for source in sorted({d.source for d in split_docs}):
            texts = [d.text for d in split_docs if d.source == source]
            start = offset
            for enc in tok(texts, add_special_tokens=False)["input_ids"]:
                arr = np.asarray([eos, *enc], dtype=np.uint16)
                ids.append(arr)
                offset += len(arr)
            counts[source] = offset - start
            spans[source] = [start, offset]
        np.concatenate(ids).tofile(build / f"{split}.bin")
        meta["sources" if split == "train" else "val_sources"] = spans
        meta[f"{split}_tokens"] = offset
        meta[f"{split}_documents"] = len(split_docs)
        meta[f"{split}_chars"] = {s: sum(len(d.text) for d in split_docs if d.source == s)
                                  for s in counts}
    (build / "tokens_meta.json").write_text(json.dumps(meta, indent=1))
    log(f"prepare: {meta['train_tokens']:,} train / {meta['val_tokens']:,} val tokens "
        f"in {time.time() - t0:.0f} s")


def build_model(cfg: TrainConfig, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.d_model, intermediate_size=cfg.d_mlp,
        num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
        num_key_value_heads=cfg.n_kv_heads, max_position_embeddings=cfg.max_positions or cfg.n_ctx,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        rms_norm_eps=1e-5, rope_theta=10000.0,
    )
    return LlamaForCausalLM(config)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up then cosine decay to min_lr_fraction of the peak. A run extended at step
    `extend_from` warms up again to `extend_lr` and decays over the extension."""
    start, end, peak, warmup = 0, cfg.extend_from or cfg.steps, cfg.lr, cfg.warmup
    if 0 < cfg.extend_from <= step:
        start, end, peak, warmup = cfg.extend_from, cfg.steps, cfg.extend_lr, cfg.extend_warmup
    local = step - start
    if local < warmup:
        return peak * (local + 1) / warmup
    progress = min(1.0, (local - warmup) / max(1, end - start - warmup))
    floor = cfg.min_lr_fraction
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def batch_at(tokens: np.ndarray, step: int, cfg: TrainConfig, tokenizer=None):
    """The deterministic training batch for `step` (so a resumed run sees the same data).

    With `cfg.task_share` > 0, that share of rows (on average) are windows of generated task
    sentences (`interp.bundled.stories.TASK_MIXES[cfg.task_mix]`), encoded by `tokenizer`."""
    import torch

    rng = np.random.default_rng([cfg.seed, step])
    starts = rng.integers(0, len(tokens) - cfg.n_ctx - 1, size=cfg.batch_size)
    is_task = rng.random(cfg.batch_size) < cfg.task_share
    rows = np.stack([
        task_window(tokenizer, cfg.n_ctx + 1, (cfg.seed, step, i), cfg.task_mix) if is_task[i]
        else tokens[s:s + cfg.n_ctx + 1] for i, s in enumerate(starts)]).astype(np.int64)
    return torch.from_numpy(rows)


def task_window(tokenizer, length: int, seed: tuple[int, ...], mix: str = "circuits"
                ) -> np.ndarray:
    """`length` tokens of generated task sentences, each after an end-of-text token."""
    import random

    from interp.bundled.stories import task_sentences

    if tokenizer is None:
        raise ValueError("task_share > 0 needs the tokenizer to encode task sentences")
    ids: list[int] = []
    sentences = task_sentences(random.Random("/".join(map(str, seed))), mix)
    while len(ids) < length:
        ids += [tokenizer.eos_token_id, *tokenizer.encode(next(sentences),
                                                          add_special_tokens=False)]
    return np.asarray(ids[:length])


def evaluate_loss(model: torch.nn.Module, tokens: np.ndarray, cfg: TrainConfig,
                  n_windows: int = 64) -> float:
    """Mean next-token loss of the HF `model` over evenly spaced windows of a held-out token
    stream."""
    import torch

    starts = np.linspace(0, len(tokens) - cfg.n_ctx - 2, n_windows).astype(np.int64)
    rows = torch.from_numpy(np.stack([tokens[s:s + cfg.n_ctx + 1] for s in starts]).astype(
        np.int64))
    model.eval()
    losses = []
    with torch.no_grad():
        for chunk in rows.split(16):
            losses.append(_loss(model, chunk))
    model.train()
    return float(torch.stack(losses).mean())


def _loss(model: torch.nn.Module, rows: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    logits = model(rows[:, :-1]).logits.float()
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))


def train(build: Path, cfg: TrainConfig, log=print, run_dir: Path | None = None) -> Path:
    """Train (or resume) on the token files of `build`; save checkpoints and the final HF
    checkpoint under `run_dir` (default: `build` itself, as for interp-tiny)."""
    import torch
    from transformers import AutoTokenizer

    from tools.bundled.checkpoint import load_checkpoint, save_checkpoint

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run_dir = run_dir or build
    tok = AutoTokenizer.from_pretrained(build / "tokenizer")
    train_tokens = np.fromfile(build / "train.bin", dtype=np.uint16)
    val_tokens = np.fromfile(build / "val.bin", dtype=np.uint16)
    model = build_model(cfg, tok)
    if cfg.init_from:  # weights only: a later phase of a curriculum starts a fresh optimizer
        from safetensors.torch import load_file

        missing, unexpected = model.load_state_dict(
            load_file(build / cfg.init_from / "model.safetensors"), strict=False)
        if unexpected or set(missing) - {"lm_head.weight"}:  # lm_head is tied to embeddings
            raise ValueError(f"{cfg.init_from} does not fit this model: missing {missing}, "
                             f"unexpected {unexpected}")
        log(f"train: initialised from {build / cfg.init_from}")
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=(0.9, 0.95))
    state = load_checkpoint(run_dir / "checkpoint", model, opt) or {"step": 0, "history": [],
                                                                  "train_seconds": 0.0}
    if state["step"]:
        log(f"train: resumed at step {state['step']}")
    model.train()
    tokens_per_step = cfg.batch_size * cfg.n_ctx
    t_last, step = time.time(), state["step"]
    while step < cfg.steps:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        rows = batch_at(train_tokens, step, cfg, tok)
        loss = _loss(model, rows)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step % 25 == 0 or step == cfg.steps:
            now = time.time()
            state["train_seconds"] += now - t_last
            rate = 25 * tokens_per_step / (now - t_last)
            t_last = now
            record = {"step": step, "loss": round(float(loss), 4), "lr": lr_at(step, cfg),
                      "tokens_per_s": round(rate)}
            if step % cfg.eval_every == 0 or step == cfg.steps:
                record["val_loss"] = round(evaluate_loss(model, val_tokens, cfg), 4)
                t_last = time.time()
            state["history"].append(record)
            log("train: " + json.dumps(record))
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            state["step"] = step
            save_checkpoint(run_dir / "checkpoint", model, opt, state)
    final = run_dir / "final"
    model.save_pretrained(final, safe_serialization=True)
    tok.save_pretrained(final)
    (final / "training_state.json").write_text(json.dumps(
        {"config": asdict(cfg), "tokens_seen": cfg.steps * tokens_per_step, **state}, indent=1))
    log(f"train: done, saved {final}")
    return final


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", type=Path, default=Path("data/_build"))
    parser.add_argument("--run", default="", help="train a second model on the same tokens, "
                        "in BUILD/runs/RUN (e.g. the circuits model)")
    for name, value in asdict(TrainConfig()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(TrainConfig())})
    run_dir = run_directory(args.build, args.run)
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = run_dir / "train_config.json"
    if saved.exists():
        before = json.loads(saved.read_text())
        changed = {k for k, v in asdict(cfg).items() if before.get(k, v) != v}
        if changed - EXTENSION_KEYS:
            raise SystemExit(f"error: {saved} holds a different config ({sorted(changed)}); "
                             "use a new --build dir (only an extension may change "
                             f"{sorted(EXTENSION_KEYS)})")
    saved.write_text(json.dumps(asdict(cfg), indent=1))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    prepare(args.build, cfg)
    train(args.build, cfg, run_dir=run_dir)


if __name__ == "__main__":
    main()
