"""Code search: mark token positions with a regex (or a set of token strings), then rank
codes by precision and recall against the marks; the same search over MLP neurons
(binarised at a fraction of each neuron's maximum) for comparison. Results are code cards."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from interp.codebook.splice import Codebooks, splice
from interp.errors import InterpError
from interp.options import CodebookSearchOptions

if TYPE_CHECKING:
    from interp.models.model import Model


@dataclass
class CodeCard:
    """A code (or neuron) and how well it matches a marked set of tokens.

    unit: "2:mlp_out#17" (code 17; "/h3" for head 3 of attn_z) or "2:mlp_post#17" (neuron).
    precision: marked / active tokens; recall: active / marked tokens; top_tokens: the
    tokens it is most active on (with counts)."""

    unit: str
    description: str
    regex: str
    precision: float
    recall: float
    n_active: int
    n_marked: int
    top_tokens: list[tuple[str, int]] = field(default_factory=list)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"f1": self.f1}

    def __str__(self) -> str:
        tops = ", ".join(f"{t!r}x{n}" for t, n in self.top_tokens[:5])
        return (f"{self.unit:<18} P={self.precision:.2f} R={self.recall:.2f} "
                f"F1={self.f1:.2f} active={self.n_active} | {tops}")


@dataclass
class Marked:
    """Token ids and marks per text (each [pos]; BOS included when the model adds one)."""

    tokens: list[Tensor]
    marks: list[Tensor]
    regex: str

    @property
    def n_marked(self) -> int:
        return int(sum(int(m.sum()) for m in self.marks))


def mark_tokens(model: Model, texts: Sequence[str], regex: str | None = None,
                token_set: Sequence[str] | None = None) -> Marked:
    """Mark the tokens whose characters overlap a match of `regex`, or whose text (stripped,
    any case) is in `token_set`; exactly one of the two is required."""
    if (regex is None) == (token_set is None):
        raise InterpError("give exactly one of regex or token_set")
    if isinstance(texts, str) or not texts:
        raise InterpError("texts must be a non-empty list of strings")
    if regex is None:
        words = sorted({str(w).strip() for w in token_set or [] if str(w).strip()})
        if not words:
            raise InterpError("token_set is empty")
        regex = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
    try:
        pattern = re.compile(regex, re.IGNORECASE)
    except re.error as err:
        raise InterpError(f"bad regex {regex!r}: {err}") from None
    tokens, marks = [], []
    for text in texts:
        ids = model.to_tokens(text)[0].cpu()
        # the text's own tokens; the model may prepend a BOS (whatever its tokenizer would do)
        enc = model.tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
        offsets, enc_ids = list(enc["offset_mapping"]), list(enc["input_ids"])
        if enc_ids[:1] != ids[:1].tolist():
            offsets, enc_ids = [(0, 0), *offsets], [int(ids[0]), *enc_ids]
        offsets, enc_ids = offsets[: len(ids)], enc_ids[: len(ids)]  # the model truncates
        if enc_ids != ids.tolist():
            raise InterpError(f"cannot align tokenizer offsets with the model's tokens for "
                              f"text {text[:40]!r}")
        spans = [m.span() for m in pattern.finditer(text)]
        mark = torch.tensor([e > s and any(s < me and e > ms for ms, me in spans)
                             for s, e in offsets], dtype=torch.bool)
        tokens.append(ids)
        marks.append(mark)
    return Marked(tokens, marks, regex)


def _padded(tokens: list[Tensor], start: int, size: int) -> tuple[Tensor, Tensor]:
    rows = tokens[start: start + size]
    width = max(len(r) for r in rows)
    out = torch.zeros(len(rows), width, dtype=torch.long)
    real = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
        real[i, : len(r)] = True
    return out, real


def _rank(hits: Tensor, active: Tensor, n_marked: int, top: int, min_active: int
          ) -> list[int]:
    """Unit indices by F1 (then precision), among units active at least min_active times."""
    prec = hits / active.clamp_min(1)
    rec = hits / max(n_marked, 1)
    f1 = 2 * prec * rec / (prec + rec).clamp_min(1e-12)
    f1 = torch.where(active >= min_active, f1, torch.full_like(f1, -1.0))
    order = torch.argsort(f1 * 1e3 + prec, descending=True)
    return [int(i) for i in order[:top] if f1[i] > 0]


@dataclass
class CodeUse:
    """Which codes each real token of some texts activates: `ids[site]` [n, groups, k] with the
    codebook's (groups, n_codes) in `shapes[site]`, and the flat token ids [n]. Computed once
    (`code_use`), it ranks any number of marked sets of the same texts (`rank_codes`)."""

    tokens: Tensor
    ids: dict[str, Tensor]
    shapes: dict[str, tuple[int, int]]
    lengths: list[int]


@torch.no_grad()
def code_use(model: Model, codebooks: Codebooks, texts: list[Tensor], *, batch_size: int = 16
             ) -> CodeUse:
    """Run token rows `texts` (e.g. `Marked.tokens`) with the codebooks spliced in and keep
    every real token's codes; the codebooks' usage counts are left as they were."""
    codebooks.check_model(model)
    seen: dict[str, list[Tensor]] = {str(s): [] for s, _ in codebooks.items()}
    flat: list[Tensor] = []
    tracking = [book.track_usage for book in codebooks.values()]
    for book in codebooks.values():
        book.track_usage = False  # searching leaves the usage counts alone
    try:
        with splice(model, codebooks):
            for start in range(0, len(texts), batch_size):
                batch, real = _padded(texts, start, batch_size)
                model.bridge(batch.to(model.device), return_type="logits")
                for s, book in codebooks.items():
                    seen[str(s)].append(book.last_ids.cpu()[real])  # [n, groups, k]
                flat.append(batch[real])
    finally:
        for book, flag in zip(codebooks.values(), tracking):
            book.track_usage = flag
            book.last_ids = book.last_input = None
    return CodeUse(torch.cat(flat), {k: torch.cat(v) for k, v in seen.items()},
                   {str(s): (b.groups, b.n_codes) for s, b in codebooks.items()},
                   [len(t) for t in texts])


def _flat_marks(marked: Marked, lengths: list[int]) -> Tensor:
    if [len(m) for m in marked.marks] != lengths:
        raise InterpError("the marked texts are not the texts these codes were computed on")
    return torch.cat(marked.marks)


def rank_codes(model: Model, use: CodeUse, marked: Marked, *, top: int = CodebookSearchOptions.top,
               min_active: int = CodebookSearchOptions.min_active) -> list[CodeCard]:
    """Codes of every codebook in `use` ranked by F1 against the marks of the same texts."""
    mark = _flat_marks(marked, use.lengths)
    cards: list[CodeCard] = []
    for s, ids in use.ids.items():
        groups, n_codes = use.shapes[s]
        flat = ids + torch.arange(groups).view(1, -1, 1) * n_codes
        n_units = groups * n_codes
        active = torch.bincount(flat.reshape(-1), minlength=n_units).float()
        hits = torch.bincount(flat[mark].reshape(-1), minlength=n_units).float()
        for unit in _rank(hits, active, int(mark.sum()), top, min_active):
            g, code = divmod(unit, n_codes)
            where = (ids[:, g] == code).any(-1)
            name = f"{s}/h{g}#{code}" if groups > 1 else f"{s}#{code}"
            cards.append(_card(model, name, marked, hits[unit], active[unit], int(mark.sum()),
                               Counter(use.tokens[where].tolist())))
    return sorted(cards, key=lambda c: (c.f1, c.precision), reverse=True)[:top]


def search_codes(model: Model, codebooks: Codebooks, marked: Marked, *,
                 top: int = CodebookSearchOptions.top,
                 min_active: int = CodebookSearchOptions.min_active, batch_size: int = 16,
                 ) -> list[CodeCard]:
    """Codes of every spliced codebook ranked by F1 against the marked tokens."""
    use = code_use(model, codebooks, marked.tokens, batch_size=batch_size)
    return rank_codes(model, use, marked, top=top, min_active=min_active)


def _card(model: Model, unit: str, marked: Marked, hit: Tensor, act: Tensor, n_marked: int,
          counts: Counter) -> CodeCard:
    tops = [(model.tokenizer.decode([t]), n) for t, n in counts.most_common(8)]
    return CodeCard(unit=unit, description=f"tokens matching /{marked.regex}/",
                    regex=marked.regex, precision=float(hit / max(float(act), 1.0)),
                    recall=float(hit / max(n_marked, 1)), n_active=int(act),
                    n_marked=n_marked, top_tokens=tops)


@dataclass
class NeuronUse:
    """Where each MLP neuron is on (activation above `threshold` x its maximum over the same
    texts): `on[layer]` [n, d_mlp] bool, with the flat token ids [n]."""

    tokens: Tensor
    on: dict[int, Tensor]
    lengths: list[int]


@torch.no_grad()
def neuron_use(model: Model, texts: list[Tensor], layers: Sequence[int] | None = None, *,
               threshold: float = 0.5, batch_size: int = 16) -> NeuronUse:
    """Binarise every MLP neuron (mlp_post) of `layers` (None: all) on token rows `texts`."""
    from interp.hooks import capture

    layers = list(range(model.facts.n_layers)) if layers is None else list(layers)
    names = [model.hook_name("mlp_post", layer) for layer in layers]
    acts = capture(model, names, texts, batch_size=batch_size)
    on: dict[int, Tensor] = {}
    n = sum(len(t) for t in texts)
    for layer, name in zip(layers, names):
        x = acts.flat(name).float()  # [n, d_mlp]
        if len(x) != n:
            raise InterpError("captured activations do not line up with the marked tokens")
        on[layer] = x > threshold * x.max(0).values.clamp_min(1e-6)
    return NeuronUse(torch.cat(texts), on, [len(t) for t in texts])


def rank_neurons(model: Model, use: NeuronUse, marked: Marked, *,
                 top: int = CodebookSearchOptions.top,
                 min_active: int = CodebookSearchOptions.min_active) -> list[CodeCard]:
    """MLP neurons of `use` ranked by F1 against the marks of the same texts."""
    mark = _flat_marks(marked, use.lengths)
    cards = []
    for layer, on in use.on.items():
        act = on.sum(0).float()
        hit = on[mark].sum(0).float()
        for unit in _rank(hit, act, int(mark.sum()), top, min_active):
            counts = Counter(use.tokens[on[:, unit]].tolist())
            cards.append(_card(model, f"{layer}:mlp_post#{unit}", marked, hit[unit], act[unit],
                               int(mark.sum()), counts))
    return sorted(cards, key=lambda c: (c.f1, c.precision), reverse=True)[:top]


def search_neurons(model: Model, marked: Marked, layers: Sequence[int] | None = None, *,
                   threshold: float = 0.5, top: int = CodebookSearchOptions.top,
                   min_active: int = CodebookSearchOptions.min_active,
                   batch_size: int = 16) -> list[CodeCard]:
    """MLP neurons (mlp_post) ranked the same way; a neuron is active on a token when its
    activation exceeds `threshold` x its maximum over these texts."""
    use = neuron_use(model, marked.tokens, layers, threshold=threshold, batch_size=batch_size)
    return rank_neurons(model, use, marked, top=top, min_active=min_active)
