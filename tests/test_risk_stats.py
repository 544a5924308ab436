"""Monte Carlo statistics: sampling, Wilson intervals, Spearman rank sensitivity."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest

import spinesim.risk_stats as risk_stats_module
from spinesim.risk_stats import (
    RiskStatsError,
    probability_ci,
    rank_sensitivity,
    sample_inputs,
)
from spinesim.scenario import Scenario


def test_wilson_interval_matches_hand_value():
    # k = 5, n = 100, z = 1.959964: centre = (0.05 + z^2/200) / (1 + z^2/100) = 0.066647,
    # half = z sqrt(0.05 x 0.95 / 100 + z^2 / 40 000) / (1 + z^2/100) = 0.045103
    ci = probability_ci(5, 100)
    assert ci.estimate == 0.05
    assert ci.low == pytest.approx(0.021544, abs=2e-6)
    assert ci.high == pytest.approx(0.111750, abs=2e-6)
    assert ci.level == 0.95


def test_wilson_interval_edges_and_level():
    zero = probability_ci(0, 50)
    assert zero.low == 0.0 and 0.0 < zero.high < 0.1
    # k = 0: upper = z^2 / (n + z^2)
    z2 = 1.959963984540054**2
    assert zero.high == pytest.approx(z2 / (50 + z2))
    full = probability_ci(50, 50)
    assert full.high == 1.0 and full.low == pytest.approx(1 - zero.high)
    assert probability_ci(5, 100, 0.99).low < probability_ci(5, 100).low


@pytest.mark.parametrize("k, n, level", [(-1, 10, 0.95), (11, 10, 0.95), (0, 0, 0.95),
                                         (1, 10, 1.0), (1.5, 10, 0.95)])
def test_wilson_bad_inputs(k, n, level):
    with pytest.raises(RiskStatsError):
        probability_ci(k, n, level)


def test_lognormal_ci95_percentiles_match_the_range():
    x = sample_inputs({"or": ("lognormal_ci95", (1.68, 5.44))}, 200_000, seed=3)["or"]
    lo, med, hi = np.percentile(x, [2.5, 50, 97.5])
    assert lo == pytest.approx(1.68, rel=0.01)
    assert hi == pytest.approx(5.44, rel=0.01)
    assert med == pytest.approx(math.sqrt(1.68 * 5.44), rel=0.01)
    assert np.all(x > 0)


def test_uniform_stays_in_range_and_covers_it():
    x = sample_inputs({"a": ("uniform", (20.0, 40.0))}, 50_000, seed=1)["a"]
    assert x.min() >= 20.0 and x.max() <= 40.0
    assert x.mean() == pytest.approx(30.0, abs=0.1)


def test_draws_are_reproducible_by_seed_and_independent_of_other_inputs():
    unc = Scenario.default().uncertain()
    a = sample_inputs(unc, 100, seed=7)
    b = sample_inputs(unc, 100, seed=7)
    c = sample_inputs(unc, 100, seed=8)
    assert list(a) == list(unc)
    for key in unc:
        np.testing.assert_array_equal(a[key], b[key])
        assert not np.array_equal(a[key], c[key])
    key = "activity.level"
    alone = sample_inputs({key: unc[key]}, 100, seed=7)
    np.testing.assert_array_equal(alone[key], a[key])
    g1 = sample_inputs(unc, 10, seed=np.random.default_rng(5))
    g2 = sample_inputs(unc, 10, seed=np.random.default_rng(5))
    for key in unc:
        np.testing.assert_array_equal(g1[key], g2[key])


@pytest.mark.parametrize("unc, words", [
    ({"x": ("normal", (0.0, 1.0))}, ["x", "unknown distribution 'normal'"]),
    ({"x": ("uniform", (2.0, 1.0))}, ["x", "low <= high"]),
    ({"x": ("lognormal_ci95", (0.0, 1.0))}, ["x", "0 < low < high"]),
    ({"x": ("uniform", 3.0)}, ["x", "expected (distribution, (low, high))"]),
])
def test_bad_uncertain_specs(unc, words):
    with pytest.raises(RiskStatsError) as err:
        sample_inputs(unc, 10, seed=0)
    for w in words:
        assert w in str(err.value)


def test_bad_sample_count_and_seed():
    with pytest.raises(RiskStatsError, match="n = 0"):
        sample_inputs({}, 0)
    with pytest.raises(RiskStatsError, match="seed"):
        sample_inputs({}, 1, seed=-1)


def test_spearman_is_one_for_monotone_relations():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 500)
    w = rng.uniform(0, 1, 500)
    rho = rank_sensitivity({"up": x, "down": w}, np.exp(3 * x))
    assert rho["up"] == pytest.approx(1.0)
    assert abs(rho["down"]) < 0.15
    rho = rank_sensitivity({"down": x}, -x**3)
    assert rho["down"] == pytest.approx(-1.0)


def test_spearman_is_nan_safe_and_constant_gives_zero_silently():
    x = np.arange(10.0)
    y = x**2
    y[3] = np.nan
    xn = x.copy()
    xn[7] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rho = rank_sensitivity({"x": xn, "const": np.full(10, 2.0)}, y)
        assert rho == {"x": pytest.approx(1.0), "const": 0.0}
        assert rank_sensitivity({"x": x}, np.zeros(10)) == {"x": 0.0}
        assert rank_sensitivity({"x": x}, np.full(10, np.nan)) == {"x": 0.0}
    fails = x > 4.5
    assert rank_sensitivity({"x": x}, fails)["x"] > 0.8


def test_spearman_shape_mismatch():
    with pytest.raises(RiskStatsError, match="3 samples but the outcome has 4"):
        rank_sensitivity({"x": [1, 2, 3]}, [1, 2, 3, 4])


def test_module_doctests():
    assert doctest.testmod(risk_stats_module).failed == 0


def test_stratify_maps_draws_to_the_medians_of_equiprobable_strata():
    from spinesim.risk_stats import stratify

    # uniform [2, 6], 4 strata of width 1: medians 2.5, 3.5, 4.5, 5.5
    np.testing.assert_allclose(stratify([2.0, 2.99, 3.0, 5.2, 6.0], "uniform", 2.0, 6.0, 4),
                               [2.5, 2.5, 3.5, 5.5, 5.5])
    # log-normal with 95 % interval [1, 4]: one stratum is its median sqrt(1 x 4) = 2; two
    # strata are its 25th and 75th percentiles exp(ln 2 -+ 0.6745 sigma)
    x = sample_inputs({"k": ("lognormal_ci95", (1.0, 4.0))}, 20_000, 7)["k"]
    np.testing.assert_allclose(stratify(x, "lognormal_ci95", 1.0, 4.0, 1), 2.0)
    sigma = math.log(4.0) / (2 * 1.959963984540054)
    two = stratify(x, "lognormal_ci95", 1.0, 4.0, 2)
    np.testing.assert_allclose(np.unique(two), 2.0 * np.exp([-0.6744897501960817 * sigma,
                                                              0.6744897501960817 * sigma]))
    assert np.array_equal(two > 2.0, x > 2.0)
    # five strata: equiprobable, ordered like the draws
    five = stratify(x, "lognormal_ci95", 1.0, 4.0, 5)
    values, counts = np.unique(five, return_counts=True)
    assert len(values) == 5 and np.all(np.abs(counts / x.size - 0.2) < 0.01)
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(five[order]) >= 0)
    with pytest.raises(RiskStatsError, match="strata = 0"):
        stratify(x, "uniform", 0.0, 1.0, 0)
    with pytest.raises(RiskStatsError, match="unknown distribution 'normal'"):
        stratify(x, "normal", 0.0, 1.0, 3)


def test_a_degenerate_uniform_range_is_a_constant():
    """low == high is allowed (the range check is low <= high): every draw and every stratum
    median is that value, 2.0."""
    from spinesim.risk_stats import stratify

    x = sample_inputs({"c": ("uniform", (2.0, 2.0))}, 4, seed=0)["c"]
    np.testing.assert_array_equal(x, [2.0] * 4)
    np.testing.assert_array_equal(stratify(x, "uniform", 2.0, 2.0, 3), [2.0] * 4)


def test_wilson_interval_of_a_single_trial():
    """n = 1 is a valid sample count. Wilson at k = 0: low 0, high = z^2 / (n + z^2); at k = n:
    low = n / (n + z^2), high 1 (z = 1.959964, z^2 = 3.841459): 0.793451 and 0.206549."""
    z2 = 1.959963984540054 ** 2
    zero, one = probability_ci(0, 1), probability_ci(1, 1)
    assert zero.estimate == 0.0 and zero.low == 0.0
    assert zero.high == pytest.approx(z2 / (1.0 + z2), rel=1e-9)
    assert one.estimate == 1.0 and one.high == 1.0
    assert one.low == pytest.approx(1.0 / (1.0 + z2), rel=1e-9)


def test_spearman_with_exactly_three_samples():
    """Three samples are enough (only fewer than 3 give 0.0): a monotone increasing relation
    has rho = 1, a decreasing one rho = -1."""
    rho = rank_sensitivity({"up": [1.0, 2.0, 3.0], "down": [3.0, 2.0, 1.0]}, [10.0, 20.0, 40.0])
    assert rho["up"] == pytest.approx(1.0) and rho["down"] == pytest.approx(-1.0)


def test_lognormal_range_must_be_strictly_ordered():
    """lognormal_ci95 needs 0 < low < high: low == high would give sigma = ln(high/low) / 3.92
    = 0, a degenerate log-normal (and a 0/0 in stratify)."""
    with pytest.raises(RiskStatsError, match="0 < low < high"):
        sample_inputs({"x": ("lognormal_ci95", (2.0, 2.0))}, 3, seed=0)
