"""The TokFSM task of the codebook paper: a random finite state machine (N states, E out-edges
each, uniform), whose trajectories are written as base-10 digit strings (2 tokens per state
for N = 100); plus its metrics: transition accuracy and how purely codes map to states."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from jaxtyping import Int
from torch import Tensor

from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model

BOS = 0  #: token id of <|endoftext|>; digit d is token d + 1


@dataclass
class FSM:
    """`n_states` states, each with `n_edges` distinct random successors (uniform)."""

    n_states: int = 100
    n_edges: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.n_edges <= self.n_states:
            raise InterpError(f"n_edges {self.n_edges} must be in 1..n_states "
                              f"({self.n_states})")
        rng = np.random.default_rng(self.seed)
        self.successors = np.stack([np.sort(rng.choice(self.n_states, self.n_edges,
                                                       replace=False))
                                    for _ in range(self.n_states)])
        self.valid = np.zeros((self.n_states, self.n_states), dtype=bool)
        self.valid[np.arange(self.n_states)[:, None], self.successors] = True
        self.digits = max(1, math.ceil(math.log10(self.n_states)))

    def trajectories(self, n: int, n_states: int, seed: int) -> Int[Tensor, "n seq"]:
        """`n` random trajectories of `n_states` states as token rows, BOS first."""
        rng = np.random.default_rng(seed)
        states = np.empty((n, n_states), dtype=np.int64)
        states[:, 0] = rng.integers(self.n_states, size=n)
        for t in range(1, n_states):
            pick = rng.integers(self.n_edges, size=n)
            states[:, t] = self.successors[states[:, t - 1], pick]
        return self.encode(torch.from_numpy(states))

    def encode(self, states: Int[Tensor, "n t"]) -> Int[Tensor, "n seq"]:
        place = 10 ** torch.arange(self.digits - 1, -1, -1)
        digits = (states.unsqueeze(-1) // place) % 10 + 1  # [n, t, digits]
        bos = torch.full((len(states), 1), BOS, dtype=torch.long)
        return torch.cat([bos, digits.reshape(len(states), -1)], 1)

    def decode(self, tokens: Int[Tensor, " seq"]) -> list[int]:
        """States of a token row (BOS and a trailing partial state dropped; -1 for a
        non-digit token)."""
        body = [int(t) - 1 for t in tokens.tolist() if int(t) != BOS]
        out = []
        for i in range(0, len(body) - self.digits + 1, self.digits):
            chunk = body[i: i + self.digits]
            out.append(-1 if min(chunk) < 0 else int("".join(map(str, chunk))))
        return out

    def transition_accuracy(self, trajectories: list[list[int]]) -> float:
        """Fraction of consecutive state pairs that are edges of the machine."""
        ok = total = 0
        for traj in trajectories:
            for a, b in itertools.pairwise(traj):
                total += 1
                ok += 0 <= a < self.n_states and 0 <= b < self.n_states and bool(self.valid[a, b])
        return ok / max(total, 1)


def tokenizer(path: str | Path) -> Any:
    """A digit tokenizer (<|endoftext|> = 0, "0".."9" = 1..10), saved to `path`."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<|endoftext|>": BOS, **{str(d): d + 1 for d in range(10)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    tok.pre_tokenizer = pre_tokenizers.Digits(individual_digits=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, name_or_path=str(path),
                                   bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   unk_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast.save_pretrained(path)
    return fast


@torch.no_grad()
def sampled_transition_accuracy(model: Model, fsm: FSM, n: int = 200, new_states: int = 8,
                                seed: int = 0) -> float:
    """Sample continuations (temperature 1) of one random state and score their transitions
    (the prompt state included: the first sampled state must follow it)."""
    prompts = fsm.trajectories(n, 1, seed + 1)
    gen = torch.Generator().manual_seed(seed)
    tokens = prompts.to(model.device)
    for _ in range(new_states * fsm.digits):  # plain loop: every hook sees full sequences
        logits = model.bridge(tokens, return_type="logits")[:, -1].float()
        probs = logits.softmax(-1).cpu()
        tokens = torch.cat([tokens, torch.multinomial(probs, 1, generator=gen).to(tokens)], 1)
    return fsm.transition_accuracy([fsm.decode(row) for row in tokens.cpu()])


@torch.no_grad()
def next_state_accuracy(model: Model, fsm: FSM) -> float:
    """For every state as a one-state prompt, the model's top-E next states (P(first digit)
    x P(second digit | first)) against the true E successors; mean overlap (the paper's
    first-transition accuracy). Needs 2-digit states."""
    if fsm.digits != 2:
        raise InterpError("next_state_accuracy needs 2-digit states (10 < n_states <= 100)")
    states = torch.arange(fsm.n_states)
    prompts = fsm.encode(states.unsqueeze(1))  # [N, 3]
    rows = torch.cat([prompts.repeat_interleave(10, 0),
                      torch.arange(1, 11).repeat(fsm.n_states).unsqueeze(1)], 1)
    logp = model.bridge(rows.to(model.device), return_type="logits").float().log_softmax(-1)
    logp = logp.cpu()
    first = logp[:, -2].gather(1, rows[:, -1:]).squeeze(1)  # log P(d1)
    second = logp[:, -1, 1:11]  # log P(d2 | d1)
    joint = (first.unsqueeze(1) + second).view(fsm.n_states, 100)[:, : fsm.n_states]  # 10 d1 + d2
    top = joint.topk(fsm.n_edges, -1).indices.numpy()
    hits = [fsm.valid[s, top[s]].mean() for s in range(fsm.n_states)]
    return float(np.mean(hits))


def purity(unit_states: dict[int, set[int]]) -> float:
    """Fraction of units (codes or neurons) active on some state that are active on exactly
    one state (the paper's pure codes)."""
    used = [states for states in unit_states.values() if states]
    return sum(len(s) == 1 for s in used) / max(len(used), 1)


def one_to_one(state_units: dict[int, set[int]], unit_states: dict[int, set[int]]) -> float:
    """Fraction of states with a unit that is active on that state alone."""
    return float(np.mean([any(len(unit_states[u]) == 1 for u in units)
                          for units in state_units.values()]))


@torch.no_grad()
def state_inputs(fsm: FSM) -> Int[Tensor, "n_states seq"]:
    """BOS + each state's digits: the inputs the purity measures read (last position)."""
    return fsm.encode(torch.arange(fsm.n_states).unsqueeze(1))
