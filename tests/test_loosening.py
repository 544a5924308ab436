"""Screw-interface loosening rule: hand values, monotonicity, steady states, bad inputs."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import spinesim.failure.loosening as loosening_module
from spinesim.failure.loosening import LooseningError, LooseningRule, loosening_rule
from spinesim.scenario import Scenario

E1 = math.exp(-1.0)


def rule(**kw):
    base = {"bone_threshold_um": 28.0, "fibrous_threshold_um": 150.0,
                "fibrous_stiffness_fraction": 0.055, "transition_weeks": 4.0}
    base.update(kw)
    return LooseningRule(**base)


def test_rule_from_default_scenario_uses_schema_values():
    r = loosening_rule(Scenario.default())
    assert (r.bone_threshold_um, r.fibrous_threshold_um, r.fibrous_stiffness_fraction,
            r.transition_weeks) == (28.0, 150.0, 0.055, 4.0)
    assert loosening_rule({}) == r
    assert loosening_rule({"bone_threshold_um": 20.0}).bone_threshold_um == 20.0
    assert (r.loosened_factor, r.screw_share) == (0.5, 0.5)
    custom = loosening_rule(Scenario.default().with_values({"loosening.loosened_factor": 0.3,
                                                             "loosening.screw_share": 0.1}))
    assert (custom.loosened_factor, custom.screw_share) == (0.3, 0.1)
    assert loosening_rule(Scenario.default(), screw_share=0.2).screw_share == 0.2
    assert r.between == "hold"
    linear = Scenario.default().with_values({"loosening.between": "linear"})
    assert loosening_rule(linear).between == "linear"
    assert loosening_rule(linear, between="hold").between == "hold"  # an option overrides
    assert loosening_rule({"loosening.between": "linear"}).between == "linear"


def test_low_micromotion_osseointegrates_by_hand():
    # f0 = 0.4, m = 10 µm <= 28: T = 1; after 2 weeks (tau 4) f = 1 - 0.6 exp(-0.5)
    got = rule().step([0.4], [10.0], 2.0)
    assert got[0] == pytest.approx(1.0 - 0.6 * math.exp(-0.5))
    # the threshold itself counts as bone
    assert rule().step([0.4], [28.0], 4.0)[0] == pytest.approx(1.0 - 0.6 * E1)


def test_high_micromotion_goes_fibrous_by_hand():
    # f0 = 1, m = 200 µm >= 150: T = 0.055; after 4 weeks f = 0.055 + 0.945 exp(-1)
    got = rule().step([1.0], [200.0], 4.0)
    assert got[0] == pytest.approx(0.055 + 0.945 * E1)
    assert rule().step([1.0], [150.0], 4.0)[0] == pytest.approx(0.055 + 0.945 * E1)


def test_between_thresholds_hold_keeps_the_factor():
    f = np.array([0.055, 0.3, 0.9, 1.0])
    np.testing.assert_array_equal(rule().step(f, np.full(4, 80.0), 10.0), f)


def test_between_thresholds_linear_by_hand():
    # m = 89 µm: s = (89 - 28) / 122 = 0.5, T = 1 - 0.945 x 0.5 = 0.5275
    r = rule(between="linear")
    assert r.target([1.0], [89.0])[0] == pytest.approx(0.5275)
    assert r.step([1.0], [89.0], 4.0)[0] == pytest.approx(0.5275 + 0.4725 * E1)


def test_zero_step_changes_nothing_and_steps_compose():
    r = rule()
    f = np.array([0.2, 0.7, 1.0])
    m = np.array([5.0, 100.0, 300.0])
    np.testing.assert_array_equal(r.step(f, m, 0.0), f)
    two = r.step(r.step(f, m, 1.5), m, 2.5)
    np.testing.assert_allclose(two, r.step(f, m, 4.0), rtol=1e-13)


@pytest.mark.parametrize("between", ["hold", "linear"])
@pytest.mark.parametrize("f0", [0.0, 0.03, 0.3, 1.0, 1.5])
def test_more_micromotion_never_gives_a_stiffer_interface(between, f0):
    r = rule(between=between)
    m = np.linspace(0.0, 500.0, 2001)
    f = np.full_like(m, f0)
    for dt in (0.5, 4.0, 50.0):
        out = r.step(f, m, dt)
        assert np.all(np.diff(out) <= 1e-15)


@pytest.mark.parametrize("between", ["hold", "linear"])
def test_steady_states(between):
    r = rule(between=between)
    f = np.array([0.3, 0.3, 0.8])
    m = np.array([1.0, 1000.0, 28.0])
    for _ in range(200):
        f = r.step(f, m, 1.0)
    np.testing.assert_allclose(f, [1.0, 0.055, 1.0], atol=1e-12)
    np.testing.assert_allclose(r.steady_state([0.3, 0.3, 0.8], m), [1.0, 0.055, 1.0])


def test_vectorised_over_many_nodes():
    r = rule()
    rng = np.random.default_rng(1)
    f = rng.uniform(0.055, 1.0, 100_000)
    m = rng.uniform(0.0, 300.0, 100_000)
    out = r.step(f, m, 1.0)
    assert out.shape == f.shape and np.all((out >= 0.055 - 1e-12) & (out <= 1.0 + 1e-12))


def test_loosened_screws_by_node_share():
    r = rule()
    f = np.array([1.0, 0.3, 0.3, 0.9, 0.2, 0.9, 0.1])
    screw = ["L4L", "L4L", "L4L", "L4R", "L4R", "L5L", "L5L"]
    # L4L 2/3 loose, L4R 1/2 loose (share 0.5 counts), L5L 1/2
    assert r.loosened_screws(f, screw) == {"L4L": True, "L4R": True, "L5L": True}
    strict = rule(screw_share=0.6)
    assert strict.loosened_screws(f, screw) == {"L4L": True, "L4R": False, "L5L": False}
    any_node = rule(screw_share=1e-9)
    assert any_node.loosened_screws(np.ones(3), ["a", "b", "a"]) == {"a": False, "b": False}
    np.testing.assert_array_equal(r.loosened_nodes([0.49, 0.5, 1.0]), [True, False, False])


@pytest.mark.parametrize("kw, words", [
    ({"bone_threshold_um": 150.0}, ["loosening.bone_threshold_um = 150.0", "below",
                                     "loosening.fibrous_threshold_um = 150.0"]),
    ({"bone_threshold_um": 200.0}, ["loosening.bone_threshold_um = 200.0", "below"]),
    ({"bone_threshold_um": 0.0}, ["loosening.bone_threshold_um", "allowed range"]),
    ({"fibrous_stiffness_fraction": 1.5}, ["loosening.fibrous_stiffness_fraction",
                                           "allowed range"]),
    ({"transition_weeks": 0.0}, ["loosening.transition_weeks", "allowed range"]),
    ({"transition_weeks": float("nan")}, ["loosening.transition_weeks", "finite"]),
    ({"between": "sigmoid"}, ["between", "'hold', 'linear'"]),
    ({"loosened_factor": 0.0}, ["loosening.loosened_factor = 0.0", "(0, 1]"]),
    ({"screw_share": 2.0}, ["loosening.screw_share = 2.0", "(0, 1]"]),
    ({"screw_share": float("nan")}, ["loosening.screw_share", "finite"]),
])
def test_bad_parameters_give_clear_errors(kw, words):
    with pytest.raises(LooseningError) as err:
        rule(**kw)
    for w in words:
        assert w in str(err.value)


def test_bad_states_are_rejected():
    r = rule()
    with pytest.raises(LooseningError, match="micromotion must be finite and >= 0"):
        r.step([1.0], [-1.0], 1.0)
    with pytest.raises(LooseningError, match="micromotion"):
        r.step([1.0], [np.nan], 1.0)
    with pytest.raises(LooseningError, match="interface factor"):
        r.step([-0.1], [1.0], 1.0)
    with pytest.raises(LooseningError, match="dt_weeks"):
        r.step([1.0], [1.0], -1.0)
    with pytest.raises(LooseningError, match="do not match"):
        r.step([1.0, 1.0], [1.0, 2.0, 3.0], 1.0)
    with pytest.raises(LooseningError, match="one per node"):
        r.loosened_screws([1.0, 1.0], ["a"])


def test_module_doctests():
    assert doctest.testmod(loosening_module).failed == 0


def test_loosening_rule_passes_a_rule_through_unchanged():
    """loosening_rule(rule) of an existing LooseningRule returns that very rule."""
    rule = LooseningRule(bone_threshold_um=20.0, fibrous_threshold_um=150.0,
                         fibrous_stiffness_fraction=0.1, transition_weeks=4.0)
    assert loosening_rule(rule) is rule
