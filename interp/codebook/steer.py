"""Steering by codes: activate a code at chosen token positions, either the paper's way (the
code replaces the `strength` least similar of the k active codes: a discrete strength) or
continuously (add `strength` times the code vector to the codebook's output).

`activate(model, codebooks, CodeSteer(...))` is a context manager that always restores;
`steer_codes` samples with and without activation and reports a concept rate (Wilson CI).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from interp.codebook.splice import Codebooks, CodebookSite, splice
from interp.errors import InterpError, choices_error
from interp.hooks.modules import ModuleHooks
from interp.hooks.positions import PositionSpec, parse_positions
from interp.hooks.tracker import tracker_for
from interp.options import CodebookSteerOptions

if TYPE_CHECKING:
    from interp.models.model import Model

MODES = ("slot", "add")


@dataclass(frozen=True)
class CodeSteer:
    """Activate `code` of the codebook at `site` ("2:mlp_out"; head `group` for attn_z).

    mode "slot": the code takes the `strength` least similar of the k slots (1..k; k makes
    it the only code). mode "add": the output gets `strength` x the code vector added.
    positions: "all", "last", an int, a list or a slice (see interp.hooks.positions).
    rows: the batch rows it applies to (None: every row), so that one batch can hold several
    arms (unsteered rows, target codes, control codes) of the same prompt.
    """

    site: str | CodebookSite
    code: int
    mode: str = "slot"
    strength: float = 1
    group: int = 0
    positions: PositionSpec = "all"
    rows: tuple[int, ...] | None = None

    def __str__(self) -> str:
        site = CodebookSite.parse(self.site)
        head = f"/h{self.group}" if self.group or site.site == "attn_z" else ""
        where = "" if self.rows is None else f" rows={','.join(map(str, self.rows))}"
        return f"{site}{head}#{self.code} {self.mode}={self.strength:g}{where}"

    @classmethod
    def parse(cls, unit: str, mode: str = "slot", strength: float = 1,
              positions: PositionSpec = "all") -> CodeSteer:
        """From a code card's unit: "2:mlp_out#17" or "3:attn_z/h1#5" (head 1)."""
        site, sep, code = str(unit).partition("#")
        site, _, head = site.partition("/h")
        try:
            group = int(head) if head else 0
            number = int(code)
        except ValueError:
            number = -1
        if not sep or number < 0 or group < 0:
            raise InterpError(f"bad code {unit!r}; expected LAYER:SITE#CODE such as "
                              "'2:mlp_out#17', or '3:attn_z/h1#5' for head 1")
        return cls(CodebookSite.parse(site), number, mode, strength, group, positions)


def _validate(codebooks: Codebooks, spec: CodeSteer) -> tuple[Any, Any]:
    if not isinstance(spec, CodeSteer):
        raise InterpError(f"expected a CodeSteer, got {type(spec).__name__}")
    book = codebooks[spec.site]
    if spec.mode not in MODES:
        raise choices_error("code steering mode", spec.mode, MODES)
    if isinstance(spec.code, bool) or not isinstance(spec.code, int) or not (
            0 <= spec.code < book.n_codes):
        raise InterpError(f"code {spec.code!r} out of range; valid: 0..{book.n_codes - 1}")
    if not 0 <= spec.group < book.groups:
        raise InterpError(f"group (head) {spec.group!r} out of range; valid: "
                          f"0..{book.groups - 1}")
    if spec.rows is not None and (not spec.rows or any(
            isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in spec.rows)):
        raise InterpError(f"rows {spec.rows!r} must be a non-empty tuple of batch row indices "
                          ">= 0, or None for every row")
    if not math.isfinite(spec.strength):
        raise InterpError(f"strength must be a finite number, got {spec.strength!r}")
    if spec.mode == "slot" and (int(spec.strength) != spec.strength
                                or not 1 <= spec.strength <= book.k):
        raise InterpError(f"slot strength {spec.strength!r} must be an integer in 1..{book.k} "
                          "(how many of the k active codes the steered code replaces)")
    return book, parse_positions(spec.positions)


@contextmanager
def activate(model: Model, codebooks: Codebooks, *steers: CodeSteer) -> Iterator[None]:
    """Inside the block, the steered codes are active wherever the codebooks are spliced in
    (use inside `splice`, or through `steer_codes`). Hooks are removed on exit, even on an
    exception; the codebooks' weights are never modified."""
    if not steers:
        raise InterpError("no code steering given; pass one or more CodeSteer specs")
    checked = [(s, *_validate(codebooks, s)) for s in steers]
    tracker = tracker_for(model.bridge)
    with ExitStack() as stack:
        tracker.acquire()
        stack.callback(tracker.release)
        hooks = stack.enter_context(ModuleHooks())  # on the codebook modules, not hook points
        for spec, book, positions in checked:
            fn = _slot_hook if spec.mode == "slot" else _add_hook
            target = book.hook_ids if spec.mode == "slot" else book
            hooks.post(target, fn(spec, book, positions, tracker))
        yield


def _where(spec: CodeSteer, tracker: Any, positions: Any, t: Tensor) -> Tensor:
    """[batch, pos] bool: where `spec` is active in this call."""
    b, p = t.shape[0], t.shape[1]
    where = positions.select(tracker.positions(b, p, t.device))
    if spec.rows is None:
        return where
    if max(spec.rows) >= b:
        raise InterpError(f"code steering rows {spec.rows} do not exist in a batch of {b}")
    keep = torch.zeros(b, dtype=torch.bool, device=t.device)
    keep[list(spec.rows)] = True
    return where & keep[:, None]


def _slot_hook(spec: CodeSteer, book: Any, positions: Any, tracker: Any) -> Any:
    n = int(spec.strength)

    def hook(module: Any, args: Any, ids: Tensor) -> Tensor:
        if ids.dim() < 4:  # not a [batch, pos, groups, k] call (e.g. a direct codebook call)
            return ids
        where = _where(spec, tracker, positions, ids)
        out = ids.clone()
        block = out[:, :, spec.group, book.k - n:]
        out[:, :, spec.group, book.k - n:] = torch.where(
            where.unsqueeze(-1), torch.full_like(block, spec.code), block)
        return out

    return hook


def _add_hook(spec: CodeSteer, book: Any, positions: Any, tracker: Any) -> Any:
    def hook(module: Any, args: Any, result: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        out, ids = result
        if out.dim() < 4:
            return result
        where = _where(spec, tracker, positions, out)
        vec = book.codes[spec.group, spec.code].detach().to(out.dtype)
        delta = torch.zeros_like(out)
        delta[:, :, spec.group] = spec.strength * vec
        return out + delta * where.view(*where.shape, 1, 1).to(out.dtype), ids

    return hook


def steer_codes(
    model: Model, codebooks: Codebooks, prompt: str, steers: CodeSteer | Sequence[CodeSteer],
    n_samples: int = CodebookSteerOptions.n_samples, *,
    concept: str | Sequence[str] | None = None,
    max_new_tokens: int = CodebookSteerOptions.max_new_tokens,
    temperature: float = CodebookSteerOptions.temperature,
    seed: int = CodebookSteerOptions.seed, batch_size: int = 64, use_cache: bool = True,
    confidence: float = 0.95,
) -> Any:
    """Sample `n_samples` continuations with the codebooks spliced in, without (baseline) and
    with the code activation, from the same seed; returns an interp.steer.SteerResult (rates
    of samples mentioning `concept`, with Wilson intervals)."""
    from interp.steer.concepts import resolve_concept
    from interp.steer.dose import check_prompts
    from interp.steer.sampling import SteerResult, _sample, check_sampling

    prompt = check_prompts(prompt)[0]
    specs = [steers] if isinstance(steers, CodeSteer) else list(steers)
    for spec in specs:
        _validate(codebooks, spec)
    check_sampling(model, prompt, n_samples, max_new_tokens, batch_size, temperature)
    words = None if concept is None else resolve_concept(concept)
    gen = {"max_new_tokens": max_new_tokens, "temperature": temperature, "stop_at_eos": False}
    with splice(model, codebooks):
        baseline = _sample(model, prompt, n_samples, seed, batch_size, use_cache, gen)
        with activate(model, codebooks, *specs):
            steered = _sample(model, prompt, n_samples, seed, batch_size, use_cache, gen)
    return SteerResult(prompt=prompt, clamps=[str(s) for s in specs], baseline=baseline,
                       steered=steered, concept=words, confidence=confidence,
                       meta={"model": model.name, "seed": seed, "temperature": temperature,
                             "max_new_tokens": max_new_tokens, "codebooks": True})
