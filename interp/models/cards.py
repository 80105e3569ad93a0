"""Model cards of the real models: measured identity, held-out loss, checks and tasks.

The cards are JSON files in package data `interp.data/model-cards/<name>.json`, written by
`experiments/model_cards.py` (rerun it to refresh them). `load_card` reads one;
`card_lines` renders a compact human-readable summary; `model_info` gathers a model's facts,
fingerprint, sites and card (`interp info`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interp.models.model import Model
    from interp.options import ModelOptions


def load_card(name: str) -> dict[str, Any] | None:
    """The committed model card of a real model, or None when there is none."""
    from interp.models.load import bundled_dir

    path = bundled_dir("model-cards") / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _loss(part: dict[str, Any] | None) -> str:
    if not part or part.get("loss") is None:
        return "n/a"
    return f"{part['loss']:.3f} ({part['tokens']} tokens, {part['docs']} docs)"


def card_lines(card: dict[str, Any]) -> list[str]:
    """A compact summary of a card, one line per fact."""
    lines = [
        f"{card.get('title', card['name'])} ({card['name']})",
        f"source: {card.get('origin', '?')}",
        f"licence: {card.get('licence', '?')}",
        (f"quantisation: {card.get('quantisation', '?')}; sha256 "
         f"{card.get('sha256', '?')[:16]}..., fingerprint {card.get('fingerprint', '?')}"),
        f"caveat: {card.get('quantisation_caveat', '')}",
    ]
    if n := card.get("n_parameters"):
        facts = card.get("facts", {})
        lines.append(f"parameters: {n:,}; {facts.get('architecture', '?')}, "
                     f"{facts.get('n_layers', '?')} layers, d_model {facts.get('d_model', '?')},"
                     f" vocab {facts.get('d_vocab', '?')}")
    loss = card.get("heldout_loss")
    if loss:
        overall = loss.get("overall", {})
        ci = overall.get("ci95")
        ci_text = f", 95% CI [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        lines.append(f"held-out loss ({loss.get('corpus', '?')}, {loss.get('unit', '')}): "
                     f"prose {_loss(loss.get('prose'))}; code {_loss(loss.get('code'))}; "
                     f"overall {_loss(overall)}{ci_text}")
    for check in card.get("checks", []):
        verdict = "pass" if check.get("pass") else "FAIL"
        lines.append(f"check {check['name']}: {verdict}: {check.get('continuation', '')!r}")
    tasks = card.get("tasks", {})
    if ioi := tasks.get("ioi"):
        lines.append(f"IOI ({ioi['n_prompts']} prompts): accuracy {ioi['accuracy']:.2f}, "
                     f"mean logit diff (IO - S) {ioi['mean_logit_diff']:.2f}, "
                     f"top-1 IO {ioi.get('top1_is_io', float('nan')):.2f}")
    if gt := tasks.get("greater_than"):
        lines.append(f"greater-than ({gt['n_prompts']} prompts): P(>t) - P(<t) "
                     f"{gt['prob_diff']:.3f}, share P(>=t) > P(<t) {gt['share_ge_gt_lt']:.2f}")
    return lines


def model_info(model: Model | ModelOptions | str, layer: int | None = None) -> dict[str, Any]:
    """A model's name, path, fingerprint, device, dtype, facts and hook sites (with `layer`,
    also that layer's hook name per site), its GGUF source when converted, and under "card"
    its committed model card (None when it has none)."""
    from interp.models.devices import dtype_name
    from interp.options import as_model

    model = as_model(model)
    info = {"model": model.name, "path": str(model.path), "fingerprint": model.fingerprint,
            "device": str(model.device), "dtype": dtype_name(model.dtype),
            **model.facts.to_dict(), "sites": ", ".join(model.sites)}
    if model.source_info is not None:
        info["converted from"] = (f"{model.source_info['gguf_file']} (sha256 "
                                  f"{model.source_info['sha256'][:16]}...)")
    if layer is not None:
        info.update({f"hook {site}": model.hook_name(site, layer) for site in model.sites})
    return {**info, "card": load_card(str(model.name))}
