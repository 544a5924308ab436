"""Fatigue: S-N curves, mean-stress correction, rainflow counting, Miner's rule, sections."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from spinesim.failure.fatigue import (
    FatigueError,
    SNCurve,
    equivalent_amplitude,
    fails_statically,
    life,
    miner_damage,
    notch_factor_range,
    rainflow_cycles,
    safety_factor,
    section_fatigue,
    sn_curve,
)
from spinesim.fem.beam import BeamSectionResults, surface_stresses
from spinesim.fem.sections import CircularSection
from spinesim.model.implant_materials import implant_material

MATERIALS = ("ti6al4v", "cocr", "ss316l")
TI = implant_material("ti6al4v")


# ----------------------------------------------------------------------------- S-N curve
@pytest.mark.parametrize("name", MATERIALS)
def test_basquin_round_trip_recovers_cycles(name):
    curve = sn_curve(name)
    n = np.logspace(2, 6.9, 12)
    np.testing.assert_allclose(curve.cycles_to_failure(curve.amplitude_at(n)), n, rtol=1e-10)


@pytest.mark.parametrize("name, b_table, limit", [("ti6al4v", -0.044, 600.0),
                                                  ("cocr", -0.056, 600.0),
                                                  ("ss316l", -0.061, 430.0)])
def test_default_curve_meets_endurance_limit_at_1e7_with_table_exponent(name, b_table, limit):
    curve = sn_curve(name)
    assert curve.b == pytest.approx(b_table, abs=5e-4)       # table rounds b to 3 decimals
    assert float(curve.amplitude_at(1e7)) == pytest.approx(limit, rel=1e-12)
    assert curve.knee_cycles == pytest.approx(1e7, rel=1e-9)
    assert curve.confidence == "L" and curve.source


def test_endurance_limit_gives_infinite_life():
    curve = sn_curve("ti6al4v")
    n = curve.cycles_to_failure([0.0, 300.0, 599.999, 600.0, 700.0])
    assert np.all(np.isinf(n[:3]))
    assert n[3] == pytest.approx(1e7, rel=1e-9) and np.isfinite(n[4]) and n[4] < 1e7
    assert float(curve.amplitude_at(np.inf)) == 600.0
    assert float(curve.amplitude_at(1e9)) == 600.0


def test_ti_curve_carries_source_ranges():
    curve = sn_curve("ti6al4v")
    assert curve.sigma_f_range_mpa == (1205.0, 1250.0)
    assert curve.endurance_range_mpa == (500.0, 620.0)
    lo, hi = curve.b_range
    assert lo == pytest.approx(math.log(500 / 1250) / math.log(2e7))
    assert hi == pytest.approx(math.log(620 / 1205) / math.log(2e7))
    assert lo < curve.b < hi
    assert sn_curve("cocr").b_range is None                  # no range stated in the source


def test_overrides_rederive_exponent_through_the_knee():
    curve = sn_curve("ti6al4v", sigma_f_mpa=1205.0, endurance_mpa=500.0)
    assert curve.b == pytest.approx(math.log(500 / 1205) / math.log(2e7))
    assert float(curve.amplitude_at(1e7)) == pytest.approx(500.0)
    fixed = sn_curve("ti6al4v", b=-0.05)
    assert fixed.b == -0.05 and fixed.knee_cycles != pytest.approx(1e7)


def test_knockdown_factors_scale_the_amplitude_capacity():
    smooth = sn_curve("ti6al4v")
    notched = sn_curve("ti6al4v", notch_factor=2.0, surface_factor=0.9, size_factor=0.95)
    k = 0.9 * 0.95 / 2.0
    assert notched.knockdown == pytest.approx(k)
    assert notched.endurance_effective_mpa == pytest.approx(600.0 * k)
    s = np.array([400.0, 700.0, 900.0])
    np.testing.assert_allclose(notched.cycles_to_failure(k * s), smooth.cycles_to_failure(s))
    np.testing.assert_allclose(notched.amplitude_at(1e5), k * smooth.amplitude_at(1e5))
    assert notch_factor_range("Ti6Al4V") == (1.5, 2.5)
    assert notch_factor_range("cocr") is None


@pytest.mark.parametrize("kwargs, match", [
    ({"b": 0.01}, "b must be"),
    ({"notch_factor": 0.8}, "notch_factor must be >= 1"),
    ({"surface_factor": 1.2}, "surface_factor must be in"),
    ({"size_factor": float("nan")}, "size_factor"),
    ({"endurance_mpa": 2000.0, "b": -0.05}, "endurance_mpa must be in"),
])
def test_bad_curve_parameters_raise(kwargs, match):
    with pytest.raises(FatigueError, match=match):
        sn_curve("ti6al4v", **kwargs)


def test_unknown_material_and_missing_source_raise():
    with pytest.raises(FatigueError, match="allowed: cocr, ss316l, ti6al4v"):
        sn_curve("peek")
    with pytest.raises(FatigueError, match="needs a source"):
        dataclasses.replace(sn_curve("cocr"), source=" ")


# ----------------------------------------------------------------------------- mean stress
def test_mean_stress_corrections_at_known_points():
    # sigma_m = UTS / 2: Goodman doubles, Gerber multiplies by 4/3.
    assert float(equivalent_amplitude(100.0, 430.0, 860.0)) == pytest.approx(200.0)
    assert float(equivalent_amplitude(100.0, 430.0, 860.0, method="gerber")) \
        == pytest.approx(400.0 / 3.0)
    assert float(equivalent_amplitude(100.0, 345.0, 860.0, yield_=690.0,
                                      method="soderberg")) == pytest.approx(200.0)
    assert float(equivalent_amplitude(100.0, 0.0, 860.0)) == 100.0


@pytest.mark.parametrize("method", ["goodman", "gerber", "soderberg"])
def test_compressive_mean_gives_no_benefit(method):
    out = equivalent_amplitude([100.0, 50.0], [-400.0, -10.0], 860.0, 795.0, method)
    np.testing.assert_array_equal(out, [100.0, 50.0])


def test_mean_stress_at_the_limit_raises_naming_the_value():
    with pytest.raises(FatigueError, match=r"mean stress 860 MPa .*\(UTS = 860 MPa\)"):
        equivalent_amplitude([10.0, 10.0], [100.0, 860.0], 860.0)
    with pytest.raises(FatigueError, match=r"yield strength = 795 MPa"):
        equivalent_amplitude(10.0, 800.0, 860.0, yield_=795.0, method="soderberg")
    with pytest.raises(FatigueError, match="needs the yield strength"):
        equivalent_amplitude(10.0, 10.0, 860.0, method="soderberg")
    with pytest.raises(FatigueError, match="allowed: goodman, gerber, soderberg"):
        equivalent_amplitude(10.0, 10.0, 860.0, method="sines")


# ----------------------------------------------------------------------------- rainflow
ASTM_E1049_RANGES = {3.0: 0.5, 4.0: 1.5, 6.0: 0.5, 8.0: 1.0, 9.0: 0.5}


def test_rainflow_reproduces_astm_e1049_worked_example():
    # ASTM E1049-85 rainflow example (turning points A..I = -2, 1, -3, 5, -1, 3, -4, 4, -2);
    # the range histogram is the test data of the `rainflow` package (iamlikeme/rainflow,
    # tests/test_rainflow.py): closed cycle E-F plus six half cycles.
    rng, mean, count = rainflow_cycles([-2, 1, -3, 5, -1, 3, -4, 4, -2])
    totals: dict[float, float] = {}
    for r, c in zip(rng, count):
        totals[float(r)] = totals.get(float(r), 0.0) + float(c)
    assert totals == ASTM_E1049_RANGES
    assert count.sum() == 4.0                               # 8 reversals -> 4 cycles
    # the one full cycle is E-F (-1 -> 3): range 4, mean 1
    full = count == 1.0
    assert rng[full].tolist() == [4.0] and mean[full].tolist() == [1.0]


def test_rainflow_trivial_and_bad_series():
    assert all(a.size == 0 for a in rainflow_cycles([1.0]))
    with pytest.raises(FatigueError, match="series must be finite"):
        rainflow_cycles([0.0, np.nan, 1.0])
    with pytest.raises(FatigueError, match="1-D"):
        rainflow_cycles(np.zeros((2, 3)))


# ----------------------------------------------------------------------------- damage, life
def test_miner_constant_amplitude_block_gives_n_over_N():
    curve = sn_curve("cocr")
    nf = float(curve.cycles_to_failure(800.0))
    assert miner_damage(800.0, 0.0, 1234.0, curve, 1172.0) == pytest.approx(1234.0 / nf)
    # with a mean stress the Goodman-equivalent amplitude is used
    sar = 400.0 / (1.0 - 586.0 / 1172.0)
    assert miner_damage(400.0, 586.0, 10.0, curve, 1172.0) \
        == pytest.approx(10.0 / float(curve.cycles_to_failure(sar)))
    # below the endurance limit: no damage
    assert miner_damage([100.0, 500.0], 0.0, [1e9, 1e9], curve, 1172.0) == 0.0


def test_miner_adds_rainflow_cycles():
    curve = sn_curve("ti6al4v")
    rng, mean, count = rainflow_cycles(200.0 * np.array([-2, 1, -3, 5, -1, 3, -4, 4, -2]))
    d = miner_damage(rng / 2, mean, count, curve, TI.uts_mpa)
    sar = (rng / 2) / (1 - np.maximum(mean, 0) / TI.uts_mpa)
    expected = sum(c / float(curve.cycles_to_failure(s)) for s, c in zip(sar, count)
                   if s >= 600.0)
    assert d == pytest.approx(expected) and d > 0


def test_life_scales_inversely_with_damage_rate():
    assert float(life(1e-3, 100.0)) == pytest.approx(10.0)
    np.testing.assert_allclose(life([1e-3, 2e-3], 200.0), [5.0, 2.5])
    assert np.isinf(life(0.0, 1e6))


def test_safety_factor():
    np.testing.assert_allclose(safety_factor([300.0, 600.0, 0.0], 600.0), [2.0, 1.0, np.inf])


@pytest.mark.parametrize("call, match", [
    (lambda c: miner_damage(800.0, 0.0, -1.0, c, 860.0), "counts must be >= 0"),
    (lambda c: miner_damage(np.nan, 0.0, 1.0, c, 860.0), "sigma_a must be finite"),
    (lambda c: miner_damage(800.0, np.inf, 1.0, c, 860.0), "sigma_m must be finite"),
    (lambda c: c.cycles_to_failure(-5.0), "sigma_a must be >= 0"),
    (lambda c: life(-1e-3), "damage_per_block must be >= 0"),
    (lambda c: life(1e-3, 0.0), "blocks_per_year must be > 0"),
    (lambda c: c.amplitude_at(0.0), "n_cycles must be > 0"),
    (lambda c: equivalent_amplitude(1.0, 0.0, -860.0), "uts must be"),
])
def test_bad_inputs_raise_value_error_with_message(call, match):
    with pytest.raises(ValueError, match=match):
        call(sn_curve("ti6al4v"))


# ----------------------------------------------------------------------------- sections
def test_section_fatigue_single_case_matches_hand_calculation():
    curve = sn_curve("ti6al4v")
    res = section_fatigue([[800.0]], [[100.0]], [1e5], curve, TI.uts_mpa)
    sa = math.sqrt(400.0 ** 2 + 3 * 50.0 ** 2)              # von Mises of the amplitudes
    sar = sa / (1 - 400.0 / 860.0)                          # Goodman, mean 400 MPa
    b = math.log(600.0 / 1250.0) / math.log(2e7)
    nf = 0.5 * (sar / 1250.0) ** (1 / b)
    assert res.sigma_a_vm[0, 0] == pytest.approx(sa)
    assert res.sigma_m[0, 0] == 400.0
    assert res.sigma_ar[0, 0] == pytest.approx(sar)
    assert res.damage_per_year[0] == pytest.approx(1e5 / nf)
    assert res.years[0] == pytest.approx(nf / 1e5)
    assert res.critical_index == (0,) and res.critical_years == pytest.approx(nf / 1e5)
    assert res.safety_factor[0] == pytest.approx(600.0 / sar)


def test_section_fatigue_sums_cases_and_finds_the_critical_point():
    curve = sn_curve("ti6al4v")
    sigma = np.array([[900.0, 200.0], [-900.0, -200.0], [1000.0, 1000.0]])
    cycles = np.array([1e4, 1e6])
    res = section_fatigue(sigma, np.zeros_like(sigma), cycles, curve, TI.uts_mpa)
    per_case = cycles / curve.cycles_to_failure(res.sigma_ar)
    np.testing.assert_allclose(res.damage_per_year, per_case.sum(axis=-1))
    assert res.years[0] < res.years[1]          # tensile mean is worse than compressive
    assert res.critical_index == (2,)
    # a tensile baseline (e.g. residual stress) raises the mean and shortens life
    shifted = section_fatigue(sigma, np.zeros_like(sigma), cycles, curve, TI.uts_mpa,
                              baseline_sigma=100.0)
    assert shifted.sigma_m[0, 0] == 500.0 and shifted.sigma_a_vm[0, 0] == 400.0


def test_section_fatigue_on_beam_surface_stresses():
    """Two zero-to-peak bending cases of a 5.5 mm Ti rod with K_f 2 (effective endurance limit
    300 MPa); the tensile side (theta = pi/2 for +My) is critical. By hand: the peak bending
    stress 32 M / (pi d^3) is 673.4 MPa for 11 000 N·mm: amplitude = mean = 336.7 MPa,
    Goodman 553.2 MPa, life N = 0.5 (2 x 553.2 / 1 250)^(1/b); the half load (168.4 MPa
    amplitude, 209.4 MPa Goodman) stays below 300 MPa and adds no damage."""
    n = 3
    zeros = np.zeros((n, 2))
    my = np.full((n, 2), 11_000.0)                          # N*mm
    cases = []
    for scale in (1.0, 0.5):
        r = BeamSectionResults(N=zeros, Vy=zeros, Vz=zeros, T=zeros, My=scale * my, Mz=zeros,
                               von_mises_max=zeros, theta_max=zeros, sigma_at_max=zeros,
                               tau_at_max=zeros)
        cases.append(surface_stresses(r, CircularSection(5.5), np.linspace(0, 2 * np.pi, 8,
                                                                          endpoint=False)))
    sigma = np.stack([c[0] for c in cases], axis=-1)         # (n, 2, m, K)
    tau = np.stack([c[1] for c in cases], axis=-1)
    res = section_fatigue(sigma, tau, [1e5, 1e6], sn_curve("ti6al4v", notch_factor=2.0),
                          TI.uts_mpa)
    assert res.years.shape == (n, 2, 8)
    assert res.critical_index[2] == 2                        # theta = pi / 2
    peak = 32.0 * 11_000.0 / (math.pi * 5.5 ** 3)
    sar = 0.5 * peak / (1.0 - 0.5 * peak / 860.0)
    b = math.log(600.0 / 1250.0) / math.log(2e7)
    assert 0.5 * 0.5 * peak / (1.0 - 0.25 * peak / 860.0) < 300.0 < sar
    assert res.critical_years == pytest.approx(0.5 * (2.0 * sar / 1250.0) ** (1 / b) / 1e5,
                                               rel=1e-9)


def test_section_fatigue_bad_inputs_raise():
    curve = sn_curve("ti6al4v")
    with pytest.raises(FatigueError, match="cycles_per_case must be >= 0"):
        section_fatigue([[100.0]], [[0.0]], [-1.0], curve, 860.0)
    with pytest.raises(FatigueError, match=r"cycles_per_case must have shape \(2,\)"):
        section_fatigue([[100.0, 1.0]], [[0.0, 0.0]], [1.0], curve, 860.0)
    with pytest.raises(FatigueError, match="same shape"):
        section_fatigue([[100.0]], [[0.0, 0.0]], [1.0], curve, 860.0)
    with pytest.raises(FatigueError, match="sigma_cases must be finite"):
        section_fatigue([[np.nan]], [[0.0]], [1.0], curve, 860.0)


def test_user_curve_without_endurance_limit_has_finite_life_everywhere():
    curve = SNCurve(name="test", sigma_f_mpa=1000.0, b=-0.1, endurance_mpa=0.0, source="test")
    assert np.all(np.isfinite(curve.cycles_to_failure([1.0, 100.0])))
    assert math.isinf(curve.knee_cycles)


def test_a_cycle_past_the_uts_or_the_mean_stress_limit_fails_statically():
    """Peak 860 MPa reaches the Ti-6Al-4V UTS; a mean of 800 MPa reaches the Soderberg limit
    (yield 795 MPa) but not the Goodman one (UTS); without a yield strength Soderberg falls
    back on the UTS."""
    peak, mean = np.array([860.0, 850.0, 850.0]), np.array([430.0, 800.0, 300.0])
    assert fails_statically(peak, mean, 860.0).tolist() == [True, False, False]
    assert fails_statically(peak, mean, 860.0, 795.0, "soderberg").tolist() == [True, True, False]
    assert fails_statically(peak, mean, 860.0, None, "soderberg").tolist() == [True, False, False]


def test_section_fatigue_shear_baseline_is_subtracted_from_the_loaded_shear():
    """A shear baseline tau0 (residual torsion) changes the shear amplitude to |tau - tau0| / 2
    (docstring: 'likewise for the shear stress'). By hand: sigma = 0, tau = 100, tau0 = 40 MPa
    gives tau_a = 30 MPa, sigma_a_vm = sqrt(3) * 30 MPa, mean 0 (the shear mean is ignored)."""
    curve = sn_curve("ti6al4v")
    res = section_fatigue([[0.0]], [[100.0]], [1e5], curve, TI.uts_mpa, baseline_tau=40.0)
    assert res.sigma_a_vm[0, 0] == pytest.approx(math.sqrt(3.0) * 30.0)
    assert res.sigma_m[0, 0] == 0.0


def test_a_mean_stress_exactly_at_the_soderberg_limit_fails_statically():
    """At mean == yield the Soderberg denominator 1 - sigma_m / yield is 0 and
    equivalent_amplitude raises; fails_statically must flag that cycle ('reaches' the limit),
    also when the peak (= mean, zero amplitude) is below the UTS: 795 < 860 MPa."""
    assert fails_statically([795.0], [795.0], 860.0, 795.0, "soderberg").tolist() == [True]
    with pytest.raises(FatigueError):
        equivalent_amplitude(0.0, 795.0, 860.0, 795.0, "soderberg")


def test_curve_without_endurance_limit_has_a_positive_infinite_knee():
    """With no endurance limit the Basquin line never meets it: the knee is at +inf cycles."""
    curve = SNCurve(name="test", sigma_f_mpa=1000.0, b=-0.1, endurance_mpa=0.0, source="test")
    assert curve.knee_cycles == math.inf


def test_deriving_b_with_a_zero_endurance_limit_raises_fatigue_error():
    """b = ln(endurance / sigma_f') / ln(2 N_e) is undefined at endurance 0: the library must
    say so with a FatigueError (not a bare math domain error from log(0)); likewise at
    endurance == sigma_f' (b = ln 1 / ln(2 N_e) = 0, no Basquin slope)."""
    with pytest.raises(FatigueError, match="cannot derive b"):
        sn_curve("ti6al4v", endurance_mpa=0.0)
    with pytest.raises(FatigueError, match="cannot derive b"):
        sn_curve("ti6al4v", endurance_mpa=1250.0)


@pytest.mark.parametrize("key", ["surface_factor", "size_factor"])
def test_knockdown_factor_above_one_is_refused(key):
    """Surface and size factors lie in (0, 1]: 1.0 is allowed, 1.05 would raise the capacity."""
    sn_curve("ti6al4v", **{key: 1.0})
    with pytest.raises(FatigueError, match=key):
        sn_curve("ti6al4v", **{key: 1.05})


def test_section_fatigue_of_one_point_given_as_a_1d_case_row():
    """Shape (K,) is one point with K cases (P = ()): same numbers as the (1, K) input; a scalar
    (no case axis) is refused with a FatigueError."""
    curve = sn_curve("ti6al4v")
    one = section_fatigue([800.0], [100.0], [1e5], curve, TI.uts_mpa)
    two = section_fatigue([[800.0]], [[100.0]], [1e5], curve, TI.uts_mpa)
    assert one.critical_index == () and one.critical_years == pytest.approx(two.critical_years)
    with pytest.raises(FatigueError, match="same shape"):
        section_fatigue(800.0, 100.0, [1e5], curve, TI.uts_mpa)


def test_zero_damage_and_zero_amplitude_give_infinity_without_a_division():
    """life = 1 / (D * blocks) is +inf at D = 0 and the safety factor endurance / sigma_a is +inf
    at sigma_a = 0, also for a curve without endurance limit (0 / 0 is not NaN here), and
    neither divides by zero (no RuntimeWarning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert life([0.0, 0.5]).tolist() == [math.inf, 2.0]
        assert safety_factor([0.0, 0.0, 300.0], [600.0, 0.0, 600.0]).tolist() == [
            math.inf, math.inf, 2.0]
