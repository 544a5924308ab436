"""Activity spectrum: cycles per week over the post-operative ramp, load cases, bad values."""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest

import spinesim.model.activity as activity_module
from spinesim.model.activity import (
    ACTIVITIES,
    ActivityError,
    activity_spectrum,
    cycles_between,
    cycles_per_week,
)
from spinesim.model.loadcases import LOAD_CASES
from spinesim.scenario import Scenario

# Defaults of the schema, written out by hand: per day, ramp (1, 2, 4, 8) -> (.29, .63, .77, 1).
PER_DAY = {"walking": 5624.0, "bending": 4400.0, "full_flexion": 50.0, "lifting": 0.0}
# ramp fraction by hand: held at 0.29 before week 1; week 3 halfway between 0.63 and 0.77.
RAMP = {0.0: 0.29, 1.0: 0.29, 3.0: 0.70, 8.0: 1.0, 30.0: 1.0}


@pytest.mark.parametrize("week", sorted(RAMP))
def test_default_cycles_per_week_match_hand_values(week):
    got = cycles_per_week(Scenario.default(), week)
    assert set(got) == set(ACTIVITIES)
    for name, per_day in PER_DAY.items():
        assert got[name] == pytest.approx(per_day * RAMP[week] * 7.0, rel=1e-12)


def test_hand_numbers_walking():
    # 5 624 x 0.29 x 7 = 11 416.72; 5 624 x 0.70 x 7 = 27 557.6; 5 624 x 7 = 39 368
    spec = activity_spectrum({})
    assert cycles_per_week(spec, 0)["walking"] == pytest.approx(11416.72)
    assert cycles_per_week(spec, 3)["walking"] == pytest.approx(27557.6)
    assert cycles_per_week(spec, 30)["walking"] == pytest.approx(39368.0)


def test_scenario_and_plain_mapping_agree():
    sc = Scenario.default()
    assert activity_spectrum(sc) == activity_spectrum({})


def test_ramp_interpolates_linearly_and_holds_outside():
    params = {"activity.ramp_weeks": [2.0, 6.0], "activity.ramp_fraction": [0.2, 1.0],
              "walking.per_day": 1000.0}
    spec = activity_spectrum(params)
    assert spec.ramp(0.0) == pytest.approx(0.2)
    assert spec.ramp(2.0) == pytest.approx(0.2)
    assert spec.ramp(3.0) == pytest.approx(0.4)
    assert spec.ramp(5.0) == pytest.approx(0.8)
    assert spec.ramp(6.0) == pytest.approx(1.0)
    assert spec.ramp(100.0) == pytest.approx(1.0)
    assert cycles_per_week(params, 3.0)["walking"] == pytest.approx(1000 * 0.4 * 7)


def test_level_scales_every_activity():
    base = cycles_per_week({}, 5.0)
    half = cycles_per_week({"activity.level": 0.5}, 5.0)
    for name in ACTIVITIES:
        assert half[name] == pytest.approx(0.5 * base[name])


def test_cycles_between_integrates_the_ramp_exactly():
    spec = activity_spectrum({})
    # weeks 0-1 held at 0.29, 1-2 mean 0.46: (0.29 + 0.46) x 5 624 x 7
    got = cycles_between(spec, 0.0, 2.0)["walking"]
    assert got == pytest.approx((0.29 + 0.46) * 5624 * 7)
    # sum of fine steps equals the whole interval
    edges = np.linspace(0.0, 12.0, 49)
    steps = sum(cycles_between(spec, a, b)["bending"] for a, b in itertools.pairwise(edges))
    assert steps == pytest.approx(cycles_between(spec, 0.0, 12.0)["bending"])
    # after the ramp, one week holds exactly one week of cycles
    assert cycles_between(spec, 20, 21) == pytest.approx(cycles_per_week(spec, 20))


def test_lifting_is_off_by_default():
    spec = activity_spectrum(Scenario.default())
    assert spec.load("lifting").per_day == 0.0
    assert "lifting" not in [a.name for a in spec.active()]
    assert [a.name for a in spec.active()] == ["walking", "bending", "full_flexion"]
    assert cycles_per_week(spec, 30)["lifting"] == 0.0
    on = activity_spectrum({"lifting.per_day": 10.0})
    assert cycles_per_week(on, 30)["lifting"] == pytest.approx(70.0)


def test_further_activities_join_the_spectrum_after_the_built_in_ones():
    stairs = {"name": "stair_climbing", "per_day": 30.0, "compression_n": 700.0,
              "moment_nm": 2.5, "direction": "extension"}
    sit = {"name": "sit_to_stand", "per_day": 60.0, "compression_n": 500.0}
    params = {"activity.custom": [stairs, sit], "activity.level": 0.5}
    spec = activity_spectrum(params)
    assert [a.name for a in spec.loads] == [*ACTIVITIES, "stair_climbing", "sit_to_stand"]
    assert [a.name for a in spec.active()] == ["walking", "bending", "full_flexion",
                                               "stair_climbing", "sit_to_stand"]
    assert activity_spectrum({"custom": [stairs, sit], "level": 0.5}) == spec
    assert activity_spectrum(Scenario.default().with_values(params)) == spec
    # 30 x 0.5 x 0.29 x 7 = 30.45 in week 0; 60 x 0.5 x 7 = 210 after the ramp
    assert cycles_per_week(spec, 0.0)["stair_climbing"] == pytest.approx(30.45)
    assert cycles_per_week(spec, 30.0)["sit_to_stand"] == pytest.approx(210.0)
    assert cycles_between(spec, 20, 22)["sit_to_stand"] == pytest.approx(420.0)
    lc = spec.load("stair_climbing").load_case()
    assert lc.name == "extension" and lc.preload_n == 700.0 and lc.moment_nm == 2.5
    np.testing.assert_allclose(spec.load("stair_climbing").moment_nmm,
                               2500.0 * np.asarray(LOAD_CASES["extension"]))
    sitting = spec.load("sit_to_stand")
    assert (sitting.moment_nm, sitting.direction) == (0.0, "flexion")
    with pytest.raises(ActivityError, match="this spectrum has: walking, .*, sit_to_stand"):
        spec.load("running")
    with pytest.raises(ActivityError, match=r"activity.custom\[0\].per_day = -1.0"):
        activity_spectrum({"custom": [{**stairs, "per_day": -1.0}]})


def test_load_cases_carry_force_moment_and_direction():
    spec = activity_spectrum({"bending.direction": "lateral_bending_left"})
    bend = spec.load("bending")
    assert bend.compression_n == 330.0 and bend.moment_nm == 1.06
    assert bend.axis == LOAD_CASES["lateral_bending_left"]
    np.testing.assert_allclose(bend.moment_nmm, [0.0, 1060.0, 0.0])
    lc = bend.load_case()
    assert lc.name == "lateral_bending_left" and lc.preload_n == 330.0
    walk = spec.load("walking")
    assert walk.moment_nm == 0.0 and walk.compression_n == 400.0
    np.testing.assert_allclose(walk.moment_nmm, 0.0)
    assert spec.load("full_flexion").axis == LOAD_CASES["flexion"]


@pytest.mark.parametrize("params, words", [
    ({"walking.per_day": -1.0}, ["activity.walking.per_day", "-1.0", "allowed range"]),
    ({"activity.level": 5.0}, ["activity.level", "5.0", "allowed range"]),
    ({"bending.direction": "sideways"}, ["activity.bending.direction", "sideways"]),
    ({"full_flexion.moment_nm": float("nan")}, ["activity.full_flexion.moment_nm", "finite"]),
    ({"activity.ramp_weeks": [1.0, 2.0], "activity.ramp_fraction": [0.5]},
     ["activity.ramp_weeks", "2 point(s)", "activity.ramp_fraction"]),
    ({"activity.ramp_weeks": [2.0, 1.0], "activity.ramp_fraction": [0.5, 1.0]},
     ["activity.ramp_weeks", "strictly increasing"]),
    ({"walking.per_day": "many"}, ["activity.walking.per_day", "wrong type"]),
])
def test_bad_values_give_clear_errors(params, words):
    with pytest.raises(ActivityError) as err:
        activity_spectrum(params)
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("week", [-1.0, float("nan"), "soon"])
def test_bad_week_is_rejected(week):
    with pytest.raises(ActivityError, match="week"):
        cycles_per_week({}, week)


def test_unknown_activity_name():
    with pytest.raises(ActivityError, match="unknown activity 'running'; this spectrum has"):
        activity_spectrum({}).load("running")


def test_module_doctests():
    assert doctest.testmod(activity_module).failed == 0
