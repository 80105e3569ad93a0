"""Tokens a reader of decoded neurons should know about: special, unreachable (their string does
not encode back to them) and under-trained (Land & Bartolo 2024, "Fishing for Magikarp",
arXiv 2405.05417), found once per model and cached by fingerprint.

Under-trained tokens, as the paper finds them: (1) take the unembedding matrix (for tied
models the same as the embedding) and remove its first principal component; (2) average the
rows of reference tokens known to be unused (here: unreachable tokens and special tokens that
are not BOS/EOS/PAD/UNK, as the paper does with "known unused" ids); (3) the indicator of each
token is the cosine similarity of its row with that mean; (4) the `candidate_share` of tokens
with the highest indicator are candidates; (5) a candidate is confirmed when the model, asked
to repeat it, gives it less than `max_prob` probability (the paper's threshold, 1 %).

Departure: the paper's repeat prompts are plain instructions; a 135M model does not follow
them (with such prompts SmolLM2-135M gives under 1 % to 18 % of random tokens), so the prompt
here shows the token `REPEAT_COPIES` times, separated by `REPEAT_SEPARATOR`, and asks for it
once more (in-context copying: 4 % of random tokens fall under 1 %).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from interp.models.cache import cache_root, cached_json

if TYPE_CHECKING:
    from interp.models.model import Model

KINDS = ("special", "unreachable", "undertrained")
#: Verification prompt: REPEAT_PREFIX, then (token, REPEAT_SEPARATOR) REPEAT_COPIES times;
#: the probability of the token at the next position is its repeat probability.
REPEAT_PREFIX = "Repeat the token exactly:"
REPEAT_SEPARATOR = " |"
REPEAT_COPIES = 3
CANDIDATE_SHARE = 0.02
MAX_PROB = 0.01
METHOD_VERSION = 1


@dataclass(frozen=True)
class TokenFlags:
    """Token ids of each kind (sorted) and how they were found."""

    special: tuple[int, ...]
    unreachable: tuple[int, ...]
    undertrained: tuple[int, ...]
    method: dict[str, Any] = field(default_factory=dict)

    def ids(self, kinds: tuple[str, ...] = KINDS) -> list[int]:
        """Sorted ids flagged as any of `kinds`."""
        return sorted({t for kind in kinds for t in getattr(self, kind)})

    def reasons(self) -> dict[int, list[str]]:
        """id -> the kinds it is flagged as."""
        out: dict[int, list[str]] = {}
        for kind in KINDS:
            for t in getattr(self, kind):
                out.setdefault(t, []).append(kind)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"special": list(self.special), "unreachable": list(self.unreachable),
                "undertrained": list(self.undertrained), "method": self.method}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenFlags:
        return cls(*(tuple(int(t) for t in data[k]) for k in KINDS), method=dict(data["method"]))


def vocab_strings(model: Model) -> list[str]:
    """Decoded string of every vocabulary id (ids beyond the tokenizer: "<id N>")."""
    tok = model.tokenizer
    n_tok = min(len(tok), model.facts.d_vocab)
    strings = tok.batch_decode([[i] for i in range(n_tok)], skip_special_tokens=False,
                               clean_up_tokenization_spaces=False)
    return list(strings) + [f"<id {i}>" for i in range(n_tok, model.facts.d_vocab)]


def special_ids(model: Model) -> list[int]:
    """Special and added-special tokens, plus ids the tokenizer does not cover."""
    tok = model.tokenizer
    ids = set(tok.all_special_ids)
    for i, added in getattr(tok, "added_tokens_decoder", {}).items():
        if getattr(added, "special", False):
            ids.add(int(i))
    ids |= set(range(min(len(tok), model.facts.d_vocab), model.facts.d_vocab))
    return sorted(t for t in ids if 0 <= t < model.facts.d_vocab)


def unreachable_ids(model: Model, strings: list[str] | None = None) -> list[int]:
    """Ids whose decoded string does not encode back to exactly that one id."""
    strings = strings or vocab_strings(model)
    n_tok = min(len(model.tokenizer), model.facts.d_vocab)
    encoded = model.tokenizer(strings[:n_tok], add_special_tokens=False).input_ids
    return [i for i, ids in enumerate(encoded) if list(ids) != [i]]


def indicator(model: Model, reference: list[int]) -> torch.Tensor:
    """Cosine similarity of each token's unembedding row (first principal component removed)
    with the mean row of the `reference` tokens (the paper's under-training indicator)."""
    head = model.hf_model.get_output_embeddings().weight.detach().float().cpu()  # [vocab, d]
    centred = head - head.mean(0, keepdim=True)
    _, _, v = torch.linalg.svd(centred[:: max(1, head.shape[0] // 20000)], full_matrices=False)
    pc = v[0]
    rows = head - (head @ pc)[:, None] * pc[None, :]
    mean = rows[reference].mean(0)
    return torch.nn.functional.cosine_similarity(rows, mean[None, :], dim=1)


@torch.no_grad()
def repeat_probability(model: Model, ids: list[int], batch_size: int = 64) -> torch.Tensor:
    """Probability the model gives token t after the verification prompt (built from ids, so
    the token never merges with its neighbours); logits of the last position only."""
    tok = model.tokenizer
    bos = [tok.bos_token_id] if model.bridge.cfg.default_prepend_bos and tok.bos_token_id \
        is not None else []
    pre = bos + tok(REPEAT_PREFIX, add_special_tokens=False).input_ids
    sep = tok(REPEAT_SEPARATOR, add_special_tokens=False).input_ids
    hf = model.hf_model
    head = hf.get_output_embeddings()
    out = torch.zeros(len(ids))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        seqs = torch.tensor([pre + [t, *sep] * REPEAT_COPIES for t in chunk], device=model.device)
        hidden = hf.base_model(seqs).last_hidden_state[:, -1]
        logits = model.cap_logits(head(hidden).float())
        probs = logits.softmax(-1)[torch.arange(len(chunk)), torch.tensor(chunk)]
        out[start:start + len(chunk)] = probs.cpu()
    return out


def find_token_flags(model: Model, *, candidate_share: float = CANDIDATE_SHARE,
                     max_prob: float = MAX_PROB, verify: bool = True) -> TokenFlags:
    """Compute the flags (no cache); see the module docstring for the method."""
    strings = vocab_strings(model)
    special = special_ids(model)
    unreachable = unreachable_ids(model, strings)
    tok = model.tokenizer
    keep_special = {tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id}
    reference = sorted(set(unreachable) | {t for t in special if t not in keep_special})
    undertrained: list[int] = []
    n_candidates = 0
    if reference:
        score = indicator(model, reference)
        n_candidates = max(1, round(candidate_share * model.facts.d_vocab))
        flagged = set(special) | set(unreachable)
        order = [int(t) for t in score.argsort(descending=True)]
        candidates = [t for t in order if t not in flagged][:n_candidates]
        if verify:
            probs = repeat_probability(model, candidates)
            undertrained = sorted(t for t, p in zip(candidates, probs.tolist(), strict=True)
                                  if p < max_prob)
        else:
            undertrained = sorted(candidates)
    method = {"paper": "Land & Bartolo 2024, arXiv 2405.05417", "version": METHOD_VERSION,
              "reference_tokens": len(reference), "candidate_share": candidate_share,
              "candidates": n_candidates, "verified": verify, "max_prob": max_prob,
              "prompt": {"prefix": REPEAT_PREFIX, "separator": REPEAT_SEPARATOR,
                         "copies": REPEAT_COPIES}}
    return TokenFlags(tuple(special), tuple(unreachable), tuple(undertrained), method)


def token_flags(model: Model, *, verify: bool = True) -> TokenFlags:
    """The model's TokenFlags, computed once and cached under the cache root by fingerprint
    (measured on 2 cores: about 35 s for SmolLM2's 49k vocabulary, about 12 minutes under
    load for Gemma's 262k, most of it the repeat verification of 5,243 candidates)."""
    key = hashlib.sha256(json.dumps([model.fingerprint, METHOD_VERSION, CANDIDATE_SHARE,
                                     MAX_PROB, verify]).encode()).hexdigest()[:16]
    path = cache_root() / "token-flags" / f"{model.fingerprint}-{key}.json"
    data = cached_json(path, lambda: find_token_flags(model, verify=verify).to_dict())
    return TokenFlags.from_dict(data)
