"""Model cards of the real models: measured identity, held-out loss, checks and tasks.

The cards are JSON files in package data `interp.data/model-cards/<name>.json`, written by
`experiments/model_cards.py` (rerun it to refresh them). `load_card` reads one;
`card_lines` renders a compact human-readable summary, `cards_table` a markdown table of
several cards (the docs' "Real models" page); `model_info` gathers a model's facts,
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


def cards_table(names: list[str]) -> str:
    """A markdown table of the named models' committed cards: held-out loss (with its
    interval), IOI and greater-than on many prompts, and each behaviour check's verdict."""
    cards = [card for name in names if (card := load_card(name)) is not None]
    rows = [("held-out loss, prose / code (nats per token)",
             lambda c: f"{c['heldout_loss']['prose']['loss']:.3f} / "
                       f"{c['heldout_loss']['code']['loss']:.3f}"),
            ("held-out loss, all 257 documents (95 % CI)",
             lambda c: "{:.3f} ({:.3f} to {:.3f})".format(
                 c["heldout_loss"]["overall"]["loss"], *c["heldout_loss"]["overall"]["ci95"])),
            ("IOI: accuracy, mean logit diff (prompts)",
             lambda c: f"{c['tasks']['ioi']['accuracy']:.2f}, "
                       f"{c['tasks']['ioi']['mean_logit_diff']:.2f} "
                       f"({c['tasks']['ioi']['n_prompts']})"),
            ("greater-than: P(>t) - P(<t) (prompts)",
             lambda c: f"{c['tasks']['greater_than']['prob_diff']:.3f} "
                       f"({c['tasks']['greater_than']['n_prompts']})")]
    checks = sorted({ch["name"] for c in cards for ch in c.get("checks", [])},
                    key=lambda n: min(i for c in cards for i, ch in enumerate(c["checks"])
                                      if ch["name"] == n))

    def verdict(card: dict[str, Any], name: str) -> str:
        found = [ch for ch in card.get("checks", []) if ch["name"] == name]
        if not found:
            return "not run"
        lines = [t.strip() for t in found[0].get("continuation", "").splitlines()]
        text = next((t for t in lines if t), "").replace("|", "/")  # its first non-empty line
        return f"{'pass' if found[0]['pass'] else 'FAIL'}: \"{text[:40]}\""

    lines = ["| | " + " | ".join(c["name"] for c in cards) + " |",
             "|---|" + "---|" * len(cards)]
    lines += [f"| {label} | " + " | ".join(fn(c) for c in cards) + " |" for label, fn in rows]
    lines += [f"| check `{name}` | " + " | ".join(verdict(c, name) for c in cards) + " |"
              for name in checks]
    return "\n".join(lines)


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
