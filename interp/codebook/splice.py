"""Codebooks at named sites of a model, spliced in through the hook machinery.

`Codebooks.create(model, ["2:mlp_out", "3:attn_z"], n_codes=512, k=8)` builds one `Codebook`
per site; `splice(model, codebooks)` is a context manager under which each site's activation
is replaced by its codebook output (forward passes, `model.generate`, training), always
restored on exit; `attach` does the same until `handle.remove()`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor, nn

from interp.artifact import check_model
from interp.codebook.layer import Codebook
from interp.errors import InterpError, choices_error
from interp.options import CodebookTrainOptions

if TYPE_CHECKING:
    from interp.models.model import Model

#: Sites a codebook may replace: residual-width outputs (one codebook) or per-head z
#: (attention-weighted values before the output projection; one codebook per head).
CODEBOOK_SITES = ("mlp_out", "attn_out", "attn_z")


@dataclass(frozen=True)
class CodebookSite:
    """A site with a codebook: `layer` and `site` (one of CODEBOOK_SITES)."""

    layer: int
    site: str

    @property
    def key(self) -> str:
        return f"L{self.layer}_{self.site}"

    def __str__(self) -> str:
        return f"{self.layer}:{self.site}"

    @classmethod
    def parse(cls, text: str | CodebookSite | tuple[int, str]) -> CodebookSite:
        """"2:mlp_out" (or a CodebookSite, or a (layer, site) tuple) -> CodebookSite."""
        if isinstance(text, CodebookSite):
            return text
        if isinstance(text, tuple) and len(text) == 2:
            layer, site = text
        else:
            layer, _, site = str(text).partition(":")
            if not site:
                raise InterpError(f"bad codebook site {text!r}; expected LAYER:SITE such as "
                                  f"'2:mlp_out' (sites: {', '.join(CODEBOOK_SITES)})")
        try:
            layer = int(layer)
        except ValueError:
            raise InterpError(f"bad layer {layer!r} in codebook site {text!r}") from None
        if site not in CODEBOOK_SITES:
            raise choices_error("codebook site", site, CODEBOOK_SITES)
        return cls(layer, site)


def site_shape(model: Model, site: CodebookSite) -> tuple[int, int]:
    """(groups, dim) of a site in `model`; validates the layer and the hook's existence."""
    model.hook_name(site.site, site.layer)
    f = model.facts
    return (f.n_heads, f.d_head) if site.site == "attn_z" else (1, f.d_model)


class Codebooks(nn.Module):
    """Codebooks keyed by site, with the model they were made for (name, fingerprint)."""

    def __init__(self, sites: Sequence[CodebookSite], books: Sequence[Codebook], *,
                 model_name: str, fingerprint: str) -> None:
        super().__init__()
        if len(sites) != len(books) or not sites:
            raise InterpError("Codebooks needs one codebook per site and at least one site")
        keys = [s.key for s in sites]
        if len(set(keys)) != len(keys):
            raise InterpError(f"duplicate codebook sites: {', '.join(map(str, sites))}")
        self.sites = list(sites)
        self.books = nn.ModuleDict(dict(zip(keys, books)))
        self.model_name = model_name
        self.fingerprint = fingerprint

    @classmethod
    def create(cls, model: Model, sites: Sequence[str | CodebookSite],
               n_codes: int = CodebookTrainOptions.codes, k: int = CodebookTrainOptions.k, *,
               similarity: str = CodebookTrainOptions.similarity,
               layer_norm: bool = CodebookTrainOptions.layer_norm, seed: int = 0) -> Codebooks:
        """One codebook of `n_codes` codes (k active) per site; see CODEBOOK_SITES and
        interp.codebook.Codebook (layer_norm: a LayerNorm before snapping, as the paper's
        code)."""
        if isinstance(sites, str):
            sites = [sites]
        parsed = [CodebookSite.parse(s) for s in sites]
        books = []
        for i, s in enumerate(parsed):
            groups, dim = site_shape(model, s)
            books.append(Codebook(dim, n_codes, k, groups=groups, similarity=similarity,
                                  layer_norm=layer_norm, seed=seed + i))
        out = cls(parsed, books, model_name=str(model.name), fingerprint=model.fingerprint)
        return out.to(model.device)

    def __getitem__(self, site: str | CodebookSite | tuple[int, str]) -> Codebook:
        s = CodebookSite.parse(site)
        if s.key not in self.books:
            raise choices_error("codebook site", str(s), [str(x) for x in self.sites])
        return self.books[s.key]  # type: ignore[return-value]

    def items(self) -> Iterator[tuple[CodebookSite, Codebook]]:  # type: ignore[override]
        for s in self.sites:
            yield s, self.books[s.key]  # type: ignore[misc]

    def values(self) -> list[Codebook]:
        return [self.books[s.key] for s in self.sites]  # type: ignore[misc]

    def check_model(self, model: Model) -> None:
        """InterpError unless these codebooks were made for `model` (same fingerprint)."""
        check_model("these codebooks were made for", self.model_name, self.fingerprint, model)
        for s, book in self.items():
            if site_shape(model, s) != (book.groups, book.dim):
                raise InterpError(f"codebook at {s} has shape {(book.groups, book.dim)}; the "
                                  f"model's site is {site_shape(model, s)}")

    def reset_counts(self) -> None:
        for book in self.values():
            book.reset_counts()

    def last_ids(self) -> dict[str, Tensor]:
        """{"2:mlp_out": ids [batch, pos, groups, k]} from the last forward pass."""
        return {str(s): b.last_ids for s, b in self.items() if b.last_ids is not None}


@dataclass(frozen=True)
class CodebookSplice:
    """The spec recorded for a spliced codebook (shows in active_interventions)."""

    layer: int
    site: str
    n_codes: int
    k: int


def _hook_fn(site: CodebookSite, book: Codebook) -> Any:
    per_head = site.site == "attn_z"

    def fn(x: Float[Tensor, "batch pos ..."], hook: Any = None) -> Tensor:
        xs = x if per_head else x.unsqueeze(-2)
        out, _ = book(xs)
        return out.reshape(x.shape).to(x.dtype)

    return fn


def compiled_splices(model: Model, codebooks: Codebooks) -> list[Any]:
    """Validated (spec, hook name, fn) records for interp.hooks.apply.Handle."""
    from interp.hooks.interventions import Compiled

    if not isinstance(codebooks, Codebooks):
        raise InterpError(f"expected Codebooks, got {type(codebooks).__name__}")
    codebooks.check_model(model)
    out = []
    for s, book in codebooks.items():
        spec = CodebookSplice(s.layer, s.site, book.n_codes, book.k)
        out.append(Compiled(spec, model.hook_name(s.site, s.layer), _hook_fn(s, book)))  # type: ignore[arg-type]
    return out


def attach(model: Model, codebooks: Codebooks) -> Any:
    """Splice the codebooks in persistently; returns a Handle (undo: `handle.remove()`)."""
    from interp.hooks.apply import Handle

    return Handle(model, compiled_splices(model, codebooks))


def splice(model: Model, codebooks: Codebooks) -> Any:
    """Context manager: inside, each site's activation is its codebook output; restored on
    exit, even on an exception. Codebooks are validated against the model first."""
    from interp.hooks.apply import scoped

    return scoped(model, compiled_splices(model, codebooks))


def run_with_codes(model: Model, codebooks: Codebooks, tokens: Tensor, *, grad: bool = False
                   ) -> tuple[Tensor, dict[str, Tensor]]:
    """(logits, {site: ids [batch, pos, groups, k]}) of one forward with the codebooks in."""
    with splice(model, codebooks), torch.set_grad_enabled(grad):
        logits = model.bridge(tokens.to(model.device), return_type="logits")
        return logits, {k: v.cpu() for k, v in codebooks.last_ids().items()}
