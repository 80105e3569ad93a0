"""Clamp specs: neurons, a value (raw or in multiples of the neuron's activation scale), a
mode (set / add / scale) and positions, compiled to `interp.hooks` interventions.

`clamp(model, ...)` is a context manager over `interp.hooks.intervene` (restored on exit,
composable, correct under the KV cache); `apply_clamps` is the persistent form, undone with
`handle.remove()`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from interp.errors import InterpError, choices_error
from interp.hooks.interventions import NEURON_SITES, Intervention, normalize_index
from interp.hooks.positions import PositionSpec, parse_positions
from interp.steer.scale import ActivationScale, default_scale

if TYPE_CHECKING:
    from interp.models.model import Model

MODES = ("set", "add", "scale")
#: "raw": the value as given; "max": multiples of the neuron's max |activation| (see scale.py).
UNITS = ("raw", "max")
_OPS = {"=": "set", "+=": "add", "*=": "scale"}
_SYNTAX = re.compile(r"^\s*(-?\d+)\s*:\s*([-\d,\s]+?)\s*(\+=|\*=|=)\s*(\S+)\s*$")
_HELP = ("expected LAYER:NEURON=VALUE, e.g. 3:17=10x (set to 10 x its max activation), "
         "3:17,40=2.5 (set two neurons), 3:17+=5 (add), 3:17*=0 (scale)")


def parse_value(text: str | float) -> tuple[float, str]:
    """(value, unit) from "10x"/"10X" (multiples of max |activation|) or a plain number."""
    if isinstance(text, bool):
        raise InterpError(f"bad clamp value {text!r}; expected a number or e.g. '10x'")
    if isinstance(text, (int, float)):
        value, unit = float(text), "raw"
    else:
        body = str(text).strip()
        unit = "max" if body[-1:] in ("x", "X") else "raw"
        try:
            value = float(body[:-1] if unit == "max" else body)
        except ValueError:
            raise InterpError(
                f"bad clamp value {text!r}; expected a number (raw activation) or a multiple "
                "of the neuron's max activation such as '10x'"
            ) from None
    if not math.isfinite(value):
        raise InterpError(f"clamp value {text!r} is not finite; give a finite number")
    return value, unit


@dataclass(frozen=True)
class Clamp:
    """Neurons of one layer and what to do to them.

    mode "set" overwrites the activation with `value`, "add" adds it, "scale" multiplies by
    it. unit "max" reads `value` as multiples of each neuron's own max |activation| over a
    reference corpus (per neuron, so one Clamp may set several neurons to 10x each); "raw"
    uses it as is. `neurons` (an int or a sequence) is stored as a tuple. `positions`: "all",
    "last", an int, a list or a slice (see interp.hooks.Intervention for their meaning under
    the KV cache). `site`: mlp_post (the down projection's input), or mlp_pre / mlp_pre_linear.
    """

    layer: int
    neurons: int | Sequence[int]
    value: float
    mode: str = "set"
    unit: str = "raw"
    positions: PositionSpec = "all"
    site: str = "mlp_post"

    def __post_init__(self) -> None:
        neurons = self.neurons
        if isinstance(neurons, torch.Tensor):
            neurons = neurons.reshape(-1).tolist()
        if not isinstance(neurons, (list, tuple, range)):
            neurons = [neurons]
        try:
            neurons = tuple(int(n) for n in neurons)
        except (TypeError, ValueError):
            raise InterpError(f"clamp neurons must be integers, got {self.neurons!r}") from None
        if not neurons:
            raise InterpError("a clamp needs at least one neuron")
        object.__setattr__(self, "neurons", neurons)
        if self.mode not in MODES:
            raise choices_error("clamp mode", self.mode, MODES)
        if self.unit not in UNITS:
            raise choices_error("clamp unit", self.unit, UNITS)
        if self.site not in NEURON_SITES:
            raise choices_error("clamp site", self.site, NEURON_SITES)
        value, _ = parse_value(self.value)
        object.__setattr__(self, "value", value)
        if self.mode == "scale" and self.unit != "raw":
            raise InterpError(
                f"clamp {self}: mode 'scale' multiplies the activation by a plain factor; "
                "it takes no 'x' unit"
            )
        parse_positions(self.positions)

    @property
    def neuron_list(self) -> list[int]:
        return list(self.neurons)  # type: ignore[arg-type]  # a tuple after __post_init__

    def __str__(self) -> str:
        op = {"set": "=", "add": "+=", "scale": "*="}[self.mode]
        value = f"{self.value:g}" + ("x" if self.unit == "max" else "")
        return f"{self.layer}:{','.join(map(str, self.neuron_list))}{op}{value}"

    @classmethod
    def parse(cls, text: str, *, mode: str | None = None, positions: PositionSpec = "all",
              site: str = "mlp_post") -> Clamp:
        """Clamp from "LAYER:NEURON[,NEURON...]{=,+=,*=}VALUE[x]", e.g. "3:17=10x".

        `mode`, when given, overrides "=" (e.g. mode="add" turns "3:17=5" into an add).
        """
        match = _SYNTAX.match(text) if isinstance(text, str) else None
        if match is None:
            raise InterpError(f"malformed clamp {text!r}; {_HELP}")
        layer_s, neurons_s, op, value_s = match.groups()
        try:
            neurons = tuple(int(n) for n in neurons_s.split(",") if n.strip())
        except ValueError:
            raise InterpError(f"malformed clamp {text!r}; {_HELP}") from None
        if not neurons:
            raise InterpError(f"malformed clamp {text!r}; {_HELP}")
        value, unit = parse_value(value_s)
        chosen = _OPS[op]
        if mode is not None and op == "=":
            chosen = mode
        return cls(int(layer_s), neurons, value, chosen, unit, positions, site)

    def raw_values(self, model: Model, scales: ActivationScale | None = None) -> torch.Tensor:
        """The value per neuron in activation units ([k] float32), after checking ranges."""
        model.hook_name(self.site, self.layer)  # validates site-for-arch and layer
        index = normalize_index(self.neuron_list, model.facts.d_mlp, "neuron")
        if self.unit == "raw":
            return torch.full((len(index),), self.value)
        scales = scales if scales is not None else default_scale(model, self.site)
        scales.check_model(model)
        if scales.site != self.site:
            raise InterpError(f"activation scale is for {scales.site!r}, clamp is on {self.site!r}")
        return self.value * scales.unit(self.layer, index).float()

    def intervention(self, model: Model, scales: ActivationScale | None = None) -> Intervention:
        """The `interp.hooks.Intervention` this clamp stands for on `model`."""
        from interp.hooks.ops import add, scale, set_to

        values = self.raw_values(model, scales)
        value: float | torch.Tensor = float(values[0]) if len(values) == 1 else values
        op = {"set": set_to, "add": add, "scale": scale}[self.mode](value)
        return Intervention(self.site, self.layer, op, self.neuron_list, self.positions)


ClampLike = Clamp | str | Sequence["Clamp | str"]


def as_clamps(clamps: Sequence[ClampLike] | ClampLike) -> list[Clamp]:
    """Flatten Clamps, clamp strings ("3:17=10x") and lists of them into a list of Clamps."""
    if isinstance(clamps, (Clamp, str)):
        clamps = [clamps]
    out: list[Clamp] = []
    for item in clamps:
        if isinstance(item, Clamp):
            out.append(item)
        elif isinstance(item, str):
            out.append(Clamp.parse(item))
        elif isinstance(item, (list, tuple)):
            out.extend(as_clamps(item))
        else:
            raise InterpError(f"expected a Clamp or a clamp string like '3:17=10x', got {item!r}")
    if not out:
        raise InterpError(f"no clamps given; {_HELP}")
    return out


def to_interventions(model: Model, *clamps: ClampLike,
                     scales: ActivationScale | None = None) -> list[Intervention]:
    """Validated interventions for `clamps` (scales: default_scale(model) when needed)."""
    return [c.intervention(model, scales) for c in as_clamps(list(clamps))]


def clamp(model: Model, *clamps: ClampLike, scales: ActivationScale | None = None) -> Any:
    """Context manager: the clamps apply inside the `with` body and are removed on exit, even
    on an exception. Nests and composes with any other interp.hooks intervention.

        with clamp(model, "5:123=10x", Clamp(5, [7, 9], 0.0)):
            model.generate("Once upon a time")
    """
    from interp.hooks import intervene

    return intervene(model, *to_interventions(model, *clamps, scales=scales))


def apply_clamps(model: Model, *clamps: ClampLike, scales: ActivationScale | None = None) -> Any:
    """Attach clamps until `handle.remove()` (persistent form for notebooks); returns the
    interp.hooks.Handle. `interp.hooks.remove_all(model)` also removes them."""
    from interp.hooks import apply

    return apply(model, *to_interventions(model, *clamps, scales=scales))


def parse_positions_text(text: str) -> PositionSpec:
    """A position spec from text: "all", "last", "5", "2,4,6" or a slice "3:" / "0:10:2"."""
    body = text.strip()
    if body in ("all", "last"):
        return body
    try:
        if ":" in body:
            parts = [int(p) if p.strip() else None for p in body.split(":")]
            if len(parts) > 3:
                raise ValueError
            return slice(*parts)
        values = [int(p) for p in body.split(",")]
    except ValueError:
        raise InterpError(
            f"bad positions {text!r}; expected all, last, an index (5), a list (2,4) or a "
            "slice (3: or 0:10:2)"
        ) from None
    parse_positions(values)
    return values[0] if len(values) == 1 else values
