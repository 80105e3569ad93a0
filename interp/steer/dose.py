"""dose_response: the probability of a concept at the next position as a clamp value sweeps,
for target neurons and for random control neurons of the same layers at the same values.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError
from interp.hooks import intervene
from interp.options import DoseResponseOptions
from interp.steer.clamps import Clamp, parse_value
from interp.steer.concepts import concept_token_ids
from interp.steer.scale import ActivationScale
from interp.steer.table import write_table

if TYPE_CHECKING:
    from interp.models.model import Model

NeuronSpec = str | tuple[int, int] | Clamp | Sequence[str | tuple[int, int] | Clamp]


def check_prompts(prompts: str | Sequence[str]) -> list[str]:
    """A non-empty list of non-empty prompts, or InterpError."""
    if isinstance(prompts, str):
        prompts = [prompts]
    prompts = list(prompts)
    if not prompts:
        raise InterpError("no prompts given; pass at least one prompt")
    for i, prompt in enumerate(prompts):
        if not isinstance(prompt, str) or not prompt.strip():
            raise InterpError(f"prompt {i} is empty; every prompt needs some text")
    return prompts


def next_token_probs(model: Model, prompts: Sequence[str], batch_size: int = 16
                     ) -> Float[Tensor, "prompts vocab"]:
    """Next-token probabilities after each prompt (float32, CPU); active hooks apply.

    Prompts are right-padded with an attention mask, so position ids and interventions at
    "last" see each prompt's own last token.
    """
    out = []
    for start in range(0, len(prompts), batch_size):
        rows = [model.to_tokens(p)[0].cpu() for p in prompts[start:start + batch_size]]
        lengths = torch.tensor([len(r) for r in rows])
        tokens = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
        for i, row in enumerate(rows):
            tokens[i, : len(row)] = row
        mask = (torch.arange(tokens.shape[1]) < lengths[:, None]).long()
        logits = model.logits(tokens, attention_mask=mask.to(model.device))
        last = logits[torch.arange(len(rows)), (lengths - 1).to(logits.device)]
        out.append(last.float().softmax(-1).cpu())
    return torch.cat(out)


def _targets(neurons: NeuronSpec) -> list[tuple[int, int]]:
    """(layer, neuron) pairs from "L:N" / "L:N,M" strings, pairs or Clamps."""
    if isinstance(neurons, (str, Clamp)) or (
        isinstance(neurons, tuple) and len(neurons) == 2
        and all(isinstance(v, int) for v in neurons)
    ):
        neurons = [neurons]  # type: ignore[list-item]
    out: list[tuple[int, int]] = []
    for item in neurons:  # type: ignore[union-attr]
        if isinstance(item, str):
            text = item if "=" in item else item + "=0"
            item = Clamp.parse(text)
        if isinstance(item, Clamp):
            out += [(item.layer, n) for n in item.neuron_list]
        elif isinstance(item, tuple) and len(item) == 2:
            out.append((int(item[0]), int(item[1])))
        else:
            raise InterpError(
                f"expected neurons as 'LAYER:NEURON' or (layer, neuron), got {item!r}"
            )
    if not out:
        raise InterpError("no neurons given; pass e.g. '5:123' or [(5, 123)]")
    return list(dict.fromkeys(out))


def _controls(model: Model, targets: list[tuple[int, int]], n: int, seed: int
              ) -> list[list[tuple[int, int]]]:
    """n groups of random neurons, one per target, each in its target's layer (no targets)."""
    rng = random.Random(seed)
    taken = set(targets)
    groups = []
    for _ in range(n):
        group = []
        for layer, _neuron in targets:
            pool = [i for i in range(model.facts.d_mlp) if (layer, i) not in taken]
            pick = rng.choice(pool)
            taken.add((layer, pick))
            group.append((layer, pick))
        groups.append(group)
    return groups


def _label(group: list[tuple[int, int]]) -> str:
    return " ".join(f"{layer}:{n}" for layer, n in group)


@dataclass
class DoseResponse:
    """P(concept) at the next position per curve (target first, then controls), value and prompt.

    probs: [curves, values, prompts]; baseline: [prompts] (no clamp). raw_values:
    [values, targets], the activation each target neuron was clamped to (controls get the
    same raw values as their target).
    """

    curves: list[str]
    kinds: list[str]
    values: list[float]
    unit: str
    mode: str
    raw_values: Float[Tensor, "values targets"]
    probs: Float[Tensor, "curves values prompts"]
    baseline: Float[Tensor, " prompts"]
    prompts: list[str]
    concept: list[int]
    meta: dict = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (curve, value), plus a first row for the unclamped baseline."""
        def stats(p: Tensor) -> dict[str, float]:
            std = float(p.std()) if len(p) > 1 else 0.0
            return {"mean": float(p.mean()), "std": std, "sem": std / len(p) ** 0.5,
                    "min": float(p.min()), "max": float(p.max())}

        rows = [{"curve": "baseline", "kind": "baseline", "value": "", "unit": "",
                 "raw_value": "", **stats(self.baseline), "n_prompts": len(self.prompts)}]
        for c, (curve, kind) in enumerate(zip(self.curves, self.kinds)):
            for v, value in enumerate(self.values):
                raw = ";".join(f"{float(x):.6g}" for x in self.raw_values[v])
                rows.append({"curve": curve, "kind": kind, "value": value, "unit": self.unit,
                             "raw_value": raw, **stats(self.probs[c, v]),
                             "n_prompts": len(self.prompts)})
        return rows

    def rise(self) -> list[float]:
        """Per curve: mean P(concept) at the largest value minus the baseline mean."""
        top = max(range(len(self.values)), key=lambda i: self.values[i])
        return [float(self.probs[c, top].mean() - self.baseline.mean())
                for c in range(len(self.curves))]

    def report(self) -> str:
        """The baseline, each curve's mean P(concept) per value with its rise, the values."""
        mean = float(self.baseline.mean())
        lines = [f"P(concept) baseline {mean:.4f} over {len(self.prompts)} prompts"]
        for c, (curve, kind, rise) in enumerate(zip(self.curves, self.kinds, self.rise())):
            means = " ".join(f"{float(p):.4f}" for p in self.probs[c].mean(-1))
            lines.append(f"  {kind:<7} {curve:<14} {means}   rise {rise:+.4f}")
        lines.append("values: " + ", ".join(f"{v:g}" for v in self.values) + f" ({self.unit})")
        return "\n".join(lines)

    def figure(self, title: str | None = None) -> Any:
        """Plotly figure (see interp.viz.dose_response)."""
        from interp.viz.dose_response import dose_response_figure

        return dose_response_figure(self, title=title)

    def save(self, path: str, fmt: str | None = None) -> str:
        """Write the table as CSV or JSON (by extension unless `fmt`), atomically."""
        return write_table(self.rows(), path, fmt, meta=self.meta)


def dose_response(
    model: Model,
    neurons: NeuronSpec,
    prompts: str | Sequence[str],
    concept_tokens: str | Sequence[str] | Sequence[int],
    values: Sequence[float | str] = (0, 1, 2, 5, 10, 20),
    *,
    unit: str = DoseResponseOptions.unit,
    mode: str = "set",
    positions: Any = DoseResponseOptions.positions,
    site: str = DoseResponseOptions.site,
    n_controls: int = DoseResponseOptions.controls,
    seed: int = DoseResponseOptions.seed,
    scales: ActivationScale | None = None,
    batch_size: int = 16,
) -> DoseResponse:
    """Sweep a clamp on `neurons` over `values` and measure P(concept) at the next position.

    neurons: "5:123", "5:123,140", (5, 123) or a list of them (clamped together).
    concept_tokens: a named concept ("animals"), words ("dog,cat" or a list; their
        single-token spelling variants are summed) or token ids.
    values: numbers in `unit` ("max": multiples of each neuron's max |activation| over the
        reference corpus; "raw": activations), or strings like "10x" / "2.5".
    Controls: `n_controls` groups of random neurons of the same layers (seeded by `seed`),
    clamped to the same raw values as the targets.
    """
    prompts = check_prompts(prompts)
    ids = concept_token_ids(model.tokenizer, concept_tokens)
    targets = _targets(neurons)
    if not values:
        raise InterpError("no clamp values given; pass e.g. values=[0, 1, 5, 10]")
    if isinstance(n_controls, bool) or not isinstance(n_controls, int) or n_controls < 0:
        raise InterpError(f"n_controls must be a non-negative integer, got {n_controls!r}")
    per_layer = Counter(layer for layer, _ in targets)
    for layer, count in sorted(per_layer.items()):
        room = (model.facts.d_mlp - count) // count
        if n_controls > room:
            raise InterpError(f"n_controls {n_controls} needs {n_controls * count} neurons of "
                              f"layer {layer} besides the targets; it has "
                              f"{model.facts.d_mlp - count}: use at most {room}")
    plain_unit = "raw" if mode == "scale" else unit  # a scale factor has no unit
    parsed = []
    for given in values:
        value, parsed_unit = parse_value(given)
        parsed.append((value, parsed_unit if isinstance(given, str) else plain_unit))
    raw = []
    for value, u in parsed:
        per_target = [Clamp(layer, n, value, mode, u, positions, site).raw_values(model, scales)
                      for layer, n in targets]
        raw.append(torch.cat(per_target))
    raw_values = torch.stack(raw)  # [values, targets]
    groups = [targets, *_controls(model, targets, n_controls, seed)]
    baseline = next_token_probs(model, prompts, batch_size)[:, ids].sum(-1)
    probs = torch.zeros(len(groups), len(parsed), len(prompts))
    for g, group in enumerate(groups):
        for v in range(len(parsed)):
            specs = [Clamp(layer, n, float(raw_values[v, t]), mode, "raw", positions, site)
                     .intervention(model) for t, (layer, n) in enumerate(group)]
            with intervene(model, *specs):
                probs[g, v] = next_token_probs(model, prompts, batch_size)[:, ids].sum(-1)
    shown = [v for v, _ in parsed]
    units = {u for _, u in parsed}
    return DoseResponse(
        curves=[_label(g) for g in groups], kinds=["target"] + ["control"] * n_controls,
        values=shown, unit=units.pop() if len(units) == 1 else "mixed", mode=mode,
        raw_values=raw_values, probs=probs, baseline=baseline, prompts=prompts,
        concept=ids, meta={"model": model.name, "fingerprint": model.fingerprint,
                           "positions": str(positions), "site": site, "seed": seed},
    )
