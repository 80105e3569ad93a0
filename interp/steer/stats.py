"""Rates with confidence intervals: the Wilson score interval for a binomial proportion."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from interp.errors import InterpError


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials.

    With p = k/n and z the two-sided normal quantile for `confidence`:
        centre = (p + z^2 / 2n) / (1 + z^2 / n)
        half   = z * sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)
    It stays inside [0, 1] and behaves well at k = 0 and k = n, unlike the normal interval.
    """
    if isinstance(k, bool) or isinstance(n, bool) or int(k) != k or int(n) != n:
        raise InterpError(f"wilson_interval needs integer counts, got k={k!r}, n={n!r}")
    k, n = int(k), int(n)
    if n <= 0 or not 0 <= k <= n:
        raise InterpError(f"wilson_interval needs 0 <= k <= n and n > 0, got k={k}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise InterpError(f"confidence must be in (0, 1), got {confidence!r}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """k of n (e.g. samples that mention a concept), with its Wilson interval."""

    k: int
    n: int
    confidence: float = 0.95

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.k, self.n, self.confidence)

    def to_dict(self) -> dict[str, float | int]:
        lo, hi = self.interval
        return {"k": self.k, "n": self.n, "rate": self.value, "ci_low": lo, "ci_high": hi,
                "confidence": self.confidence}

    def __str__(self) -> str:
        lo, hi = self.interval
        pct = round(self.confidence * 100)
        return f"{self.k}/{self.n} = {self.value:.1%} ({pct}% CI {lo:.1%}-{hi:.1%})"
