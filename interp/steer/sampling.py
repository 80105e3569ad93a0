"""steer: sampled generations with and without clamps, and how often they mention a concept
(with a Wilson confidence interval). Both arms use the same random seed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from interp.errors import InterpError
from interp.hooks import intervene
from interp.options import SteerOptions
from interp.progress import Progress
from interp.steer.clamps import ClampLike, as_clamps, to_interventions
from interp.steer.concepts import mention_pattern, mentions, resolve_concept, word_count
from interp.steer.dose import check_prompts
from interp.steer.scale import ActivationScale
from interp.steer.stats import Rate

if TYPE_CHECKING:
    from interp.models.model import Model


@dataclass
class SteerResult:
    """Continuations (prompt excluded) without (`baseline`) and with (`steered`) the clamps.

    `baseline_rate` / `steered_rate`: samples that mention the concept at least once, with
    a Wilson interval (None when no concept was given). `*_word_share`: concept words as a
    fraction of all words generated.
    """

    prompt: str
    clamps: list[str]
    baseline: list[str]
    steered: list[str]
    concept: list[str] | None = None
    confidence: float = 0.95
    meta: dict = field(default_factory=dict)

    def _rate(self, samples: list[str]) -> Rate | None:
        if self.concept is None:
            return None
        pattern = mention_pattern(self.concept)
        hits = sum(mentions(s, pattern) > 0 for s in samples)
        return Rate(hits, len(samples), self.confidence)

    def _share(self, samples: list[str]) -> float | None:
        if self.concept is None:
            return None
        pattern = mention_pattern(self.concept)
        words = sum(word_count(s) for s in samples)
        return sum(mentions(s, pattern) for s in samples) / words if words else 0.0

    @property
    def baseline_rate(self) -> Rate | None:
        return self._rate(self.baseline)

    @property
    def steered_rate(self) -> Rate | None:
        return self._rate(self.steered)

    @property
    def baseline_word_share(self) -> float | None:
        return self._share(self.baseline)

    @property
    def steered_word_share(self) -> float | None:
        return self._share(self.steered)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prompt": self.prompt, "clamps": self.clamps,
                               "concept": self.concept, "meta": self.meta,
                               "baseline": self.baseline, "steered": self.steered}
        for arm in ("baseline", "steered"):
            rate = getattr(self, f"{arm}_rate")
            out[f"{arm}_rate"] = None if rate is None else rate.to_dict()
            out[f"{arm}_word_share"] = getattr(self, f"{arm}_word_share")
        return out

    def report(self, show: int = 5) -> str:
        """Plain-text summary: the concept rates and the first `show` samples of each arm."""
        lines = [f"prompt: {self.prompt!r}", f"clamps: {' '.join(self.clamps)}"]
        for arm in ("baseline", "steered"):
            samples = getattr(self, arm)
            lines.append(f"--- {arm} ({len(samples)} samples)")
            lines += [f"  {i + 1:>3}. {s.strip()!r}" for i, s in enumerate(samples[:show])]
        if self.concept is not None:
            shown = ",".join(self.concept[:8]) + (",..." if len(self.concept) > 8 else "")
            lines.append(f"concept ({shown}): samples mentioning it")
            for arm in ("baseline", "steered"):
                share = getattr(self, f"{arm}_word_share")
                lines.append(f"  {arm:<8}  {getattr(self, f'{arm}_rate')}; "
                             f"{share:.1%} of words")
        return "\n".join(lines)


def check_sampling(model: Model, prompt: str, n_samples: int, max_new_tokens: int,
                   batch_size: int, temperature: float, top_k: int | None = None,
                   top_p: float | None = None) -> None:
    """InterpError naming the first bad sampling setting: counts are positive integers, the
    temperature a finite number > 0, top_k an integer >= 1, top_p in (0, 1], and the prompt
    plus max_new_tokens within the model's context (Model.check_length). Checked before any
    sampling by `steer` and codebook steering (one place)."""
    for name, value in (("n_samples", n_samples), ("max_new_tokens", max_new_tokens),
                        ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InterpError(f"{name} must be a positive integer, got {value!r}")
    if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
            or not math.isfinite(temperature) or not temperature > 0):
        raise InterpError(f"temperature must be a finite number > 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                              or top_k < 1):
        raise InterpError(f"top_k must be an integer >= 1, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float))
                              or not 0 < top_p <= 1):
        raise InterpError(f"top_p must be in (0, 1], got {top_p!r}")
    n_prompt = model.to_tokens(prompt).shape[-1]
    model.check_length(n_prompt + max_new_tokens,
                       f"max_new_tokens {max_new_tokens} after a prompt of {n_prompt} tokens")


def _sample(model: Model, prompt: str, n: int, seed: int, batch_size: int, use_cache: bool,
            gen: dict[str, Any]) -> list[str]:
    tokens = model.to_tokens(prompt)
    devices = [model.device.index or 0] if model.device.type == "cuda" else []
    texts: list[str] = []
    # more than one batch: a bar on a terminal, a line about every tenth otherwise
    with torch.random.fork_rng(devices=devices), Progress(
            "sample", total=n, unit="sample", enabled=n > batch_size) as bar:
        torch.manual_seed(seed)
        for start in range(0, n, batch_size):
            k = min(batch_size, n - start)
            out = model.generate(tokens.expand(k, -1), do_sample=True, use_cache=use_cache,
                                 **gen)
            new = out[:, tokens.shape[1]:].cpu()
            texts += [model.tokenizer.decode(row.tolist(), skip_special_tokens=True)
                      for row in new]
            bar.update(k)
            if (start + k) * 10 // n > start * 10 // n:  # about every tenth
                bar.note(f"{start + k}/{n} samples")
    return texts


def steer(
    model: Model,
    prompt: str,
    clamps: ClampLike | Sequence[ClampLike],
    n_samples: int = SteerOptions.n_samples,
    *,
    concept: str | Sequence[str] | None = None,
    max_new_tokens: int = SteerOptions.max_new_tokens,
    temperature: float = SteerOptions.temperature,
    top_k: int | None = SteerOptions.top_k,
    top_p: float | None = SteerOptions.top_p,
    seed: int = SteerOptions.seed,
    batch_size: int = 64,
    use_cache: bool = True,
    confidence: float = 0.95,
    scales: ActivationScale | None = None,
) -> SteerResult:
    """Sample `n_samples` continuations of `prompt` without and with `clamps`.

    clamps: Clamp objects or strings such as "5:123=10x" (see interp.steer.Clamp).
    concept: named concept ("animals"), "dog,cat" or a list of words; a sample mentions it
        when any word (or its plural) occurs as a whole word, in any case.
    Both arms start from the same seed (common random numbers), so differences come from
    the clamps, not the draw; the draw depends on `seed` and `batch_size` (not on use_cache).
    Sampling does not stop at end-of-text. The clamps' positions keep their meaning under the
    KV cache (interp.hooks.Intervention); "last" then covers every generated token.
    """
    prompt = check_prompts(prompt)[0]
    specs = as_clamps(clamps)
    check_sampling(model, prompt, n_samples, max_new_tokens, batch_size, temperature, top_k,
                   top_p)
    words = None if concept is None else resolve_concept(concept)
    gen = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_k": top_k,
           "top_p": top_p, "stop_at_eos": False}
    interventions = to_interventions(model, *specs, scales=scales)  # validate before sampling
    baseline = _sample(model, prompt, n_samples, seed, batch_size, use_cache, gen)
    with intervene(model, *interventions):
        steered = _sample(model, prompt, n_samples, seed, batch_size, use_cache, gen)
    return SteerResult(prompt=prompt, clamps=[str(c) for c in specs], baseline=baseline,
                       steered=steered, concept=words, confidence=confidence,
                       meta={"model": model.name, "seed": seed, "temperature": temperature,
                             "top_k": top_k, "top_p": top_p, "max_new_tokens": max_new_tokens,
                             "positions": [str(c.positions) for c in specs]})
