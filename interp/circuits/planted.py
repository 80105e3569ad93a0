"""A planted circuit: a 2-layer GPT-2 whose weights are set by hand so that only three heads
carry the task, giving a known ground truth for per-head patching and the SAE method.

Task: "X X a b c d e" -> " X" (copy the task token at positions 1-2). Negatives replace X by
the blank "_" ("_ _ a b c d e", same fillers), so nothing says which task token comes next.
Residual layout (d_model 64): dims 0-15 task tokens, 16-31 filler tokens, 32-47 positions,
48-63 a constant ballast that keeps LayerNorm's scale nearly fixed; every block sums to zero,
so LayerNorm only rescales. MLPs are zero. Circuit: two layer-0 heads attend to positions 1
and 2 and copy the task token; one layer-1 head attends to position 3 and moves what they
wrote there. The other five heads read and write only filler dims (self-attention, uniform
attention, attention to position 4): busy, prompt-dependent, and irrelevant to the task.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from interp.circuits.ground_truth import Circuit
from interp.circuits.tasks.base import Task
from interp.errors import InterpError

TASK_TOKENS = [chr(ord("A") + i) for i in range(12)]
FILLERS = [chr(ord("a") + i) for i in range(26)]
BLANK, BOS = "_", "<|endoftext|>"
VOCAB = [BOS, BLANK, *TASK_TOKENS, *FILLERS]
D, N_HEADS, D_HEAD, N_POS, N_FILL = 64, 4, 16, 16, 5
T, F, P, BAL = slice(0, 16), slice(16, 32), slice(32, 48), slice(48, 64)


def _tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token=BLANK))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, name_or_path=str(path), bos_token=BOS,
                                   eos_token=BOS, unk_token=BLANK, pad_token=BOS)


def _zero_sum_block(gen: torch.Generator, n: int, norm: float) -> torch.Tensor:
    x = torch.randn(n, 16, generator=gen)
    x = x - x.mean(-1, keepdim=True)
    return norm * x / x.norm(dim=-1, keepdim=True)


def planted_circuit(layer0: tuple[int, int] = (1, 3), mover: int = 2) -> Circuit:
    """The planted ground truth as a Circuit."""
    return Circuit("planted-copy", "planted", {"copy": [(0, layer0[0]), (0, layer0[1])],
                                               "mover": [(1, mover)]},
                   "interp.circuits.planted (hand-wired weights)")


def build_planted_model(
    path: str | Path, *, layer0: tuple[int, int] = (1, 3), mover: int = 2, seed: int = 0,
) -> Path:
    """Save the hand-wired GPT-2 and its word-level tokenizer to `path`; returns the path.
    layer0: the two layer-0 heads that copy from positions 1 and 2; mover: the layer-1 head."""
    from transformers import GPT2Config, GPT2LMHeadModel

    if len(set(layer0)) != 2 or not all(0 <= h < N_HEADS for h in (*layer0, mover)):
        raise InterpError(f"planted heads must be distinct heads in 0..{N_HEADS - 1}, got "
                          f"layer0={layer0}, mover={mover}")
    path = Path(path)
    cfg = GPT2Config(vocab_size=len(VOCAB), n_embd=D, n_layer=2, n_head=N_HEADS,
                     n_positions=N_POS, bos_token_id=0, eos_token_id=0, pad_token_id=0,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg).eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        wte = model.transformer.wte.weight
        wte[2:2 + len(TASK_TOKENS), T] = _zero_sum_block(gen, len(TASK_TOKENS), 4.0)
        wte[2 + len(TASK_TOKENS):, F] = _zero_sum_block(gen, len(FILLERS), 4.0)
        wpe = model.transformer.wpe.weight
        wpe[:, P] = 3.0 * (torch.eye(16) - 1 / 16)
        wpe[:, BAL] = 10.0 * torch.tensor([1.0, -1.0] * 8)
        for block in model.transformer.h:
            block.ln_1.weight.fill_(1.0)
            block.ln_2.weight.fill_(1.0)
        model.transformer.ln_f.weight.fill_(1.0)
        kinds0 = {layer0[0]: ("pos", 1), layer0[1]: ("pos", 2)}
        kinds1 = {mover: ("pos", 3)}
        spare = iter([("self", 0), ("uniform", 0), ("self", 0), ("uniform", 0), ("posF", 4)])
        for layer, kinds in ((0, kinds0), (1, kinds1)):
            for h in range(N_HEADS):
                kind = kinds.get(h) or next(spare)
                _wire(model.transformer.h[layer].attn, h, kind, task=h in kinds)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    _tokenizer(path).save_pretrained(path)
    return path


def _wire(attn: Any, h: int, kind: tuple[str, int], task: bool) -> None:
    """Set one head's Q, K, V (c_attn: x @ W + b, [D, 3D]) and O (c_proj, [D, D])."""
    w, b, o = attn.c_attn.weight, attn.c_attn.bias, attn.c_proj.weight
    q, k, v = (slice(i * D + h * D_HEAD, i * D + (h + 1) * D_HEAD) for i in range(3))
    eye = torch.eye(16)
    name, where = kind
    if name in ("pos", "posF"):  # constant query, key = "is this position `where`"
        b[q.start] = 12.0
        w[P.start + where, k.start] = 12.0
    elif name == "self":  # query and key both read the filler dims
        w[F, q] = 10.0 * eye
        w[F, k] = 10.0 * eye
    read = T if task and name == "pos" else F
    w[read, v] = 5.0 * eye  # undo LayerNorm's ~1/5 scale
    o[h * D_HEAD:(h + 1) * D_HEAD, read] = (1.0 if task else 0.5) * eye


def planted_task(n: int = 40, seed: int = 0, *, shared_fillers: bool = True) -> Task:
    """n pairs of "X X f f f f f" (positive, answer " X") and "_ _ f f f f f" (negative);
    negatives keep their positive's fillers (minimal pairs, as the paper's tasks) unless
    shared_fillers=False draws fresh ones. Metric: logit(X) -
    logit(another task token)."""
    rng = random.Random(seed)
    ids = {w: i for i, w in enumerate(VOCAB)}
    pos, neg, good, bad, meta = [], [], [], [], []
    for _ in range(n):
        x, y = rng.sample(TASK_TOKENS, 2)
        fill = rng.choices(FILLERS, k=N_FILL)
        fill_neg = fill if shared_fillers else rng.choices(FILLERS, k=N_FILL)
        pos.append(" ".join([x, x, *fill]))
        neg.append(" ".join([BLANK, BLANK, *fill_neg]))
        good.append([ids[x]])
        bad.append([ids[y]])
        meta.append({"answer": x, "contrast": y})
    return Task("planted-copy", pos, neg, good, bad, "logit_diff", meta)
