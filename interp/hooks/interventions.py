"""Intervention specs (site, layer, units, op, positions) and their compilation to hook fns.

Specs are model-free values; `compile_intervention` validates one against a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError, range_error
from interp.hooks.ops import Op, Value, add, as_op, mean_ablate, set_to, zero_ablate
from interp.hooks.positions import PositionSpec, parse_positions
from interp.hooks.tracker import tracker_for

if TYPE_CHECKING:
    from interp.models.model import Model

IndexSpec = int | Sequence[int] | slice | Tensor | None

#: Sites an intervention may target, by unit axis (dim 2 of the hooked tensor).
NEURON_SITES = ("mlp_post", "mlp_pre", "mlp_pre_linear")
HEAD_SITES = ("attn_z",)
VECTOR_SITES = ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out")
INTERVENABLE = NEURON_SITES + HEAD_SITES + VECTOR_SITES


@dataclass(frozen=True, eq=False)
class Intervention:
    """Apply `op` to units `index` of `site` at `layer`, at token `positions`.

    site: a neuron site (mlp_post, mlp_pre, mlp_pre_linear: units are neurons), attn_z
        (units are heads; each head's [d_head] block is acted on) or a residual-width site
        (resid_pre/mid/post, attn_out, mlp_out: units are d_model dimensions).
    index: int, list, slice, 1-D int (or boolean) tensor, or None for every unit.
    positions: "all", "last", int, list, slice or 1-D tensor (see interp.hooks.positions).

    Positions are token indices within each sequence, padding excluded (left-padded rows
    of a batched generate count from their first real token). Under the KV cache each step
    runs only the new token, whose position is the cache length, so: "all" covers every
    position including generated ones; an int p applies once, at the step that computes
    position p (never at each step's local column 0); "last" is the newest token of each
    forward call, which under the cache hits every position from the prompt's last token
    on (cached "last" == uncached slice(prompt_len - 1, None)), while an uncached forward
    touches only its final position. Cached and uncached generation agree for every spec
    except "last", and padded slots are never touched.
    """

    site: str
    layer: int
    op: Op | str
    index: IndexSpec = None
    positions: PositionSpec = "all"
    _parsed_op: Op = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parsed_op", as_op(self.op))
        parse_positions(self.positions)  # fail early on a malformed spec (range: at compile)


@dataclass(frozen=True)
class Compiled:
    """A validated intervention: the hook name and the hook function to attach there."""

    spec: Intervention
    hook_name: str
    fn: Callable[..., Tensor]


def _unit_axis(model: Model, site: str) -> tuple[str, int, tuple[int, ...]]:
    """(unit name, number of units, trailing shape per unit) for an intervenable site."""
    f = model.facts
    if site in NEURON_SITES:
        return "neuron", f.d_mlp, ()
    if site in HEAD_SITES:
        return "head", f.n_heads, (f.d_head,)
    return "dimension", f.d_model, ()


def normalize_index(index: IndexSpec, n: int, unit: str) -> slice | Tensor:
    """slice(None) for every unit, else a LongTensor of unit indices in 0..n-1."""
    if index is None:
        return slice(None)
    if isinstance(index, slice):
        for bound in (index.start, index.stop):
            if bound is not None and not 0 <= bound <= n:
                raise range_error(f"{unit} slice bound", bound, n)
        values = list(range(n)[index])
    elif isinstance(index, Tensor):
        if index.dtype == torch.bool:
            if index.shape != (n,):
                raise InterpError(
                    f"boolean {unit} mask has shape {tuple(index.shape)}; expected ({n},)"
                )
            values = index.nonzero().reshape(-1).tolist()
        elif index.dtype.is_floating_point or index.dim() > 1:
            raise InterpError(
                f"{unit} index tensor must be 1-D integer, got {index.dtype} {tuple(index.shape)}"
            )
        else:
            values = index.reshape(-1).tolist()
    elif isinstance(index, (list, tuple, range)):
        values = list(index)
    else:
        values = [index]
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            try:
                v = int(v)  # numpy / torch integer scalars
            except (TypeError, ValueError):
                raise InterpError(f"{unit} index must be an integer, got {v!r}") from None
        if not 0 <= v < n:
            raise range_error(unit, v, n)
        out.append(v)
    if not out:
        raise InterpError(f"{unit} index {index!r} selects nothing; valid: 0..{n - 1}")
    return torch.tensor(out, dtype=torch.long)


def _prepare_value(
    op: Op, sel: slice | Tensor, n: int, unit_shape: tuple[int, ...], model: Model, where: str
) -> Tensor | None:
    """The op's value as a tensor broadcastable to the selected block [k, *unit_shape]."""
    if op.value is None:
        return None
    k = n if isinstance(sel, slice) else len(sel)
    want = (k, *unit_shape)
    value = torch.as_tensor(op.value).detach()
    if op.kind == "mean" and tuple(value.shape) == (n, *unit_shape):
        value = value[sel]
    try:
        ok = torch.broadcast_shapes(value.shape, want) == want
    except RuntimeError:
        ok = False
    if not ok:
        full = f" or the full means shape {[n, *unit_shape]}" if op.kind == "mean" else ""
        raise InterpError(
            f"{op.kind} value of shape {list(value.shape)} does not fit {where}: expected a "
            f"scalar or a shape broadcastable to {list(want)}{full}"
        )
    return value.to(device=model.device, dtype=model.dtype)


def compile_intervention(model: Model, spec: Intervention) -> Compiled:
    """Validate `spec` against `model` and build its hook fn; InterpError on bad input."""
    if not isinstance(spec, Intervention):
        raise InterpError(f"expected an Intervention, got {type(spec).__name__}: {spec!r}")
    if spec.site not in INTERVENABLE:
        raise InterpError(
            f"cannot intervene on site {spec.site!r}; valid: {', '.join(INTERVENABLE)}"
        )
    name = model.hook_name(spec.site, spec.layer)  # validates site-for-arch and layer
    unit, n, unit_shape = _unit_axis(model, spec.site)
    sel = normalize_index(spec.index, n, unit)
    op = spec._parsed_op
    value = _prepare_value(op, sel, n, unit_shape, model, f"{spec.site} {unit}s")
    positions = parse_positions(spec.positions, model.facts.n_ctx)
    tracker = tracker_for(model.bridge)
    devices: dict[torch.device, tuple[slice | Tensor, Tensor | None]] = {}

    def hook_fn(x: Float[Tensor, "batch pos ..."], hook: Any = None) -> Tensor:
        b, p = x.shape[0], x.shape[1]
        if x.device not in devices:
            idx = sel if isinstance(sel, slice) else sel.to(x.device)
            devices[x.device] = (idx, None if value is None else value.to(x.device))
        idx, val = devices[x.device]
        if val is not None and val.dtype != x.dtype:
            val = val.to(x.dtype)
        where = positions.select(tracker.positions(b, p, x.device))
        out = x.clone()
        block = out[:, :, idx]
        new = op.apply(block, val)
        where = where.view(b, p, *([1] * (block.dim() - 2)))
        out[:, :, idx] = torch.where(where, new, block)
        return out

    hook_fn._interp_intervention = spec  # type: ignore[attr-defined]
    return Compiled(spec, name, hook_fn)


# ---- helpers -----------------------------------------------------------------------------
def neurons(
    layer: int, index: IndexSpec, op: Op | str, positions: PositionSpec = "all",
    site: str = "mlp_post",
) -> Intervention:
    """`op` on MLP neurons `index` of `layer` (site mlp_post, or mlp_pre / mlp_pre_linear)."""
    return Intervention(site, layer, op, index, positions)


def heads(
    layer: int, index: IndexSpec, op: Op | str, positions: PositionSpec = "all"
) -> Intervention:
    """`op` on attention heads `index` of `layer` (their attn_z blocks, [d_head] each)."""
    return Intervention("attn_z", layer, op, index, positions)


def set_neurons(
    layer: int, index: IndexSpec, value: Value, positions: PositionSpec = "all",
    site: str = "mlp_post",
) -> Intervention:
    """Clamp neurons to `value` (scalar, or one value per selected neuron)."""
    return Intervention(site, layer, set_to(value), index, positions)


def ablate_neurons(
    layer: int, index: IndexSpec, positions: PositionSpec = "all", site: str = "mlp_post",
    means: Value | None = None,
) -> Intervention:
    """Zero-ablate neurons, or mean-ablate them when `means` ([d_mlp]) is given."""
    op = zero_ablate() if means is None else mean_ablate(means)
    return Intervention(site, layer, op, index, positions)


def ablate_heads(
    layer: int, index: IndexSpec, positions: PositionSpec = "all", means: Value | None = None
) -> Intervention:
    """Zero-ablate heads' attn_z, or mean-ablate them with `means` ([n_heads, d_head])."""
    op = zero_ablate() if means is None else mean_ablate(means)
    return Intervention("attn_z", layer, op, index, positions)


def steer(
    layer: int, vector: Float[Tensor, " d_model"], positions: PositionSpec = "all",
    site: str = "resid_post", coeff: float = 1.0,
) -> Intervention:
    """Add `coeff * vector` to a residual-width site (default resid_post) of `layer`."""
    return Intervention(site, layer, add(torch.as_tensor(vector) * coeff), None, positions)
