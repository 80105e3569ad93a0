"""Wilson interval against hand-computed values; Rate formatting."""

from __future__ import annotations

import math

import pytest

from interp.errors import InterpError
from interp.steer import Rate, wilson_interval


def test_wilson_matches_hand_computation():
    # k=7, n=20, z=1.959964: p=0.35, z^2=3.841459, denom=1+z^2/n=1.192073,
    # centre=(0.35+0.096036)/1.192073=0.374169,
    # half=1.959964*sqrt(0.35*0.65/20 + 3.841459/1600)/1.192073=0.192981
    lo, hi = wilson_interval(7, 20)
    assert lo == pytest.approx(0.181188, abs=1e-5)
    assert hi == pytest.approx(0.567150, abs=1e-5)


def test_wilson_formula_other_confidence():
    k, n, z = 45, 50, 2.5758293035489
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    assert wilson_interval(k, n, 0.99) == pytest.approx((centre - half, centre + half), abs=1e-9)


def test_wilson_edges():
    lo, hi = wilson_interval(0, 50)
    assert lo == 0.0 and hi == pytest.approx(0.071348, abs=1e-5)  # z^2/(n+z^2)
    lo, hi = wilson_interval(50, 50)
    assert hi == 1.0 and lo == pytest.approx(1 - 0.071348, abs=1e-5)


@pytest.mark.parametrize(("k", "n", "conf"), [(3, 2, 0.95), (-1, 5, 0.95), (1, 0, 0.95),
                                              (1, 5, 1.0), (1.5, 5, 0.95)])
def test_wilson_rejects_bad_input(k, n, conf):
    with pytest.raises(InterpError):
        wilson_interval(k, n, conf)


def test_rate():
    rate = Rate(7, 20)
    assert rate.value == 0.35
    assert str(rate) == "7/20 = 35.0% (95% CI 18.1%-56.7%)"
    assert rate.to_dict()["ci_low"] == pytest.approx(0.181188, abs=1e-5)
