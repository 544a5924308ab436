"""The coupled healing timeline (spinesim.simulate): short runs at resolution 0.3."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from spinesim.errors import SpinesimError
from spinesim.failure import healing
from spinesim.failure.fatigue import section_fatigue, sn_curve
from spinesim.model.hardware import Interface
from spinesim.outcomes import outcomes
from spinesim.report import report_dict, report_text
from spinesim.scenario import Scenario, ScenarioError
from spinesim.scenario_schema import field
from spinesim.simulate import COLUMNS, healing_rule, run_timeline, segment_options
from spinesim.verdicts import (
    VERDICT_KEYS,
    lasting_union_week,
    nonunion_horizon,
    timeline_verdicts,
)

RES = 0.3
WEEKS = 6
#: A low endurance limit so that the default activities damage the rod within a few weeks
#: (the default Ti-6Al-4V rod sees about 19 MPa amplitude, far below its endurance limit).
WEAK = {"fatigue.ti6al4v.endurance_mpa": 10.0}
NO_ACTIVITY = {f"activity.{a}.per_day": 0.0
               for a in ("walking", "bending", "full_flexion", "lifting")}


@pytest.fixture(scope="module")
def default_run():
    return run_timeline(Scenario.default(), weeks=WEEKS, resolution=RES)


@pytest.fixture(scope="module")
def weak_run():
    return run_timeline(Scenario.default().with_values(WEAK), weeks=WEEKS, resolution=RES)


def test_timeline_has_one_row_per_week_and_finite_values(default_run):
    t = default_run.timeline
    assert isinstance(t, pd.DataFrame)
    assert tuple(t.columns[:len(COLUMNS)]) == COLUMNS
    screws = default_run.info["screws"]
    assert screws == ["L4_left", "L4_right", "L5_left", "L5_right"]
    extra = [f"{c}_{s}{u}" for s in screws for c, u in
             (("micromotion", "_um"), ("interface_factor", ""), ("loosened_share", ""))]
    assert set(extra) <= set(t.columns)
    assert (t[[f"loosened_share_{s}" for s in screws]] == 0.0).all().all()  # bonded
    phases = t[[c for c in t.columns if c.startswith("fraction_")]]
    assert phases.shape[1] == len(healing.Phase)
    assert np.allclose(phases.sum(axis=1), 1.0)
    assert np.allclose(t[[f"micromotion_{s}_um" for s in screws]].max(axis=1),
                       t["max_micromotion_um"])
    assert len(t) == WEEKS
    assert t["week"].tolist() == [float(w) for w in range(1, WEEKS + 1)]
    numeric = t.drop(columns=["bridged"]).to_numpy(float)
    assert np.all(np.isfinite(numeric))
    assert t["bridged"].dtype == bool
    assert np.all((t["graft_bone_fraction"] >= 0) & (t["graft_bone_fraction"] <= 1))
    assert np.all(t["max_rod_stress_amplitude_mpa"] > 0)
    assert np.all(t["max_micromotion_um"] > 0)
    assert np.all(t["rom_flexion_deg"] > 0)
    assert len(default_run.info["step_s"]) == WEEKS


def test_median_graft_strain_is_the_volume_median_of_the_peak_strains(default_run):
    """The median column lies between the smallest and the largest element strain and is
    below the maximum (the day-0 maximum sits in a corner element); after the graft turns to
    bone both drop."""
    t = default_run.timeline
    med, top = t["median_graft_shear_strain"], t["max_graft_shear_strain"]
    assert np.all(med > 0) and np.all(med <= top)
    assert med.iloc[0] < top.iloc[0]
    bone = t["graft_bone_fraction"] == 1.0
    assert bone.any() and med[bone].max() < med.iloc[0]
    assert outcomes(default_run)["initial_graft_strain"] == med.iloc[0]
    # the fused graft's stimulus, and its share in the resorption window, at the end
    o = outcomes(default_run)
    assert o["final_graft_strain"] == med.iloc[-1] < 0.1 * med.iloc[0]
    assert o["final_resorption_window_fraction"] == \
        t["graft_resorption_window_fraction"].iloc[-1] > 0.5
    # the share of the fusion area bridged by bone: 0 until the graft bridges, then rising to
    # the whole cross-section of the all-bone graft; grade I from the first week above 1/2
    area = t["graft_bridged_area_fraction"]
    assert ((area > 0) == t["bridged"]).all() and area.between(0.0, 1.0).all()
    assert area.iloc[-1] == pytest.approx(1.0, rel=1e-5) and area.iloc[0] == 0.0
    assert o["final_bridged_area_fraction"] == area.iloc[-1]
    assert o["grade_i_week"] == int(t["week"][area > 0.5].iloc[0])
    grade = report_dict(default_run, Scenario.default())["fusion_grade"]
    assert grade == {"final_grade": "I", "final_bridged_area_fraction": area.iloc[-1],
                     "grade_i_week": o["grade_i_week"], "grade_i_fraction": 0.5}
    assert f"CT grade I (narrowest bony cross-section; over 50 % from week " \
           f"{o['grade_i_week']})" in report_text(report_dict(default_run, Scenario.default()))


def test_initial_graft_strain_is_that_of_the_first_loaded_step(default_run):
    """No activity in weeks 1-2 (ramp held at 0): the graft does not change, so the first
    loaded step (week 3) sees the day-0 graft, the same strain as week 1 of the default."""
    s = Scenario.default().with_values({"activity.ramp_weeks": [2.0, 3.0],
                                        "activity.ramp_fraction": [0.0, 1.0]})
    r = run_timeline(s, weeks=3, resolution=RES)
    med = r.timeline["median_graft_shear_strain"]
    assert med.iloc[0] == 0 and med.iloc[1] == 0 and med.iloc[2] > 0
    day0 = default_run.timeline["median_graft_shear_strain"].iloc[0]
    assert med.iloc[2] == pytest.approx(day0, rel=1e-9)
    assert outcomes(r)["initial_graft_strain"] == pytest.approx(day0, rel=1e-9)


def test_verdicts_have_the_exact_keys_and_types(default_run):
    v = default_run.verdicts
    assert tuple(v) == VERDICT_KEYS
    for mode in VERDICT_KEYS:
        assert set(v[mode]) == {"fails", "week", "driver", "value", "threshold"}
        assert isinstance(v[mode]["fails"], bool)
        assert v[mode]["week"] is None or isinstance(v[mode]["week"], int)
        assert isinstance(v[mode]["driver"], str)
        assert isinstance(v[mode]["value"], float)
        assert isinstance(v[mode]["threshold"], float)
    # a 6-week run decides nonunion at week 6; the default graft bridges before that
    assert v["nonunion"]["fails"] is False and v["nonunion"]["threshold"] == float(WEEKS)


def test_zero_activity_gives_no_damage_and_no_healing_progress():
    s = Scenario.default().with_values({**NO_ACTIVITY, **WEAK})
    r = run_timeline(s, weeks=4, resolution=RES)
    t = r.timeline
    assert r.info["active_activities"] == []
    assert np.all(t["rod_damage"] == 0) and np.all(t["screw_damage"] == 0)
    assert np.all(t["max_rod_stress_amplitude_mpa"] == 0)
    assert np.all(t["median_graft_shear_strain"] == 0)
    assert outcomes(r)["initial_graft_strain"] == outcomes(r)["final_graft_strain"] == 0.0
    assert outcomes(r)["final_resorption_window_fraction"] == 0.0  # no stimulus, no window
    assert np.all(t["graft_bone_fraction"] == 0) and not t["bridged"].any()
    assert np.all(t["max_micromotion_um"] == 0) and np.all(t["loosened_screws"] == 0)
    assert not r.verdicts["insufficient_support"]["fails"]
    assert not r.verdicts["hardware_fatigue"]["fails"]
    # weeks=4 shortens the nonunion horizon like timeline.weeks = 4 would (the README's "a
    # short run whose graft has not bridged fails nonunion at its last week")
    assert r.verdicts["nonunion"] == {"fails": True, "week": 4, "driver": "weeks_to_union",
                                      "value": math.inf, "threshold": 4.0}


def test_the_nonunion_horizon_follows_the_run_length_unless_given():
    default = Scenario.default()
    assert nonunion_horizon(default, 4.0) == 4.0
    assert nonunion_horizon(default, 80.0) == 52.0
    assert nonunion_horizon(default.with_values({"timeline.weeks": 6}), 6.0) == 6.0
    given = default.with_values({"timeline.nonunion_horizon_weeks": 30})
    assert given.is_given("timeline.nonunion_horizon_weeks")
    assert not default.is_given("timeline.nonunion_horizon_weeks")
    assert nonunion_horizon(given, 4.0) == 30.0  # a shorter run is then undecided


def test_rod_damage_is_positive_and_non_decreasing(weak_run):
    d = weak_run.timeline["rod_damage"].to_numpy()
    assert d[-1] > 0
    assert np.all(np.diff(d) >= 0)
    assert np.all(np.diff(weak_run.timeline["screw_damage"].to_numpy()) >= 0)


def test_a_further_activity_acts_exactly_as_a_built_in_one_with_the_same_loads():
    """A copy of lifting listed in activity.custom gives the lifting run's timeline (its ROM
    column renamed), and it adds damage: the further activity is solved and counted."""
    copy = {"name": "lift_copy", "per_day": 10.0, "compression_n": 1650.0, "moment_nm": 7.5}
    base = Scenario.default().with_values(WEAK)
    lifting = run_timeline(base.with_values({"activity.lifting.per_day": 10.0}), weeks=3,
                           resolution=RES)
    custom = run_timeline(base.with_values({"activity.custom": [copy]}), weeks=3,
                          resolution=RES)
    without = run_timeline(base, weeks=3, resolution=RES)
    assert custom.info["active_activities"] == ["walking", "bending", "full_flexion",
                                                "lift_copy"]
    expected = lifting.timeline.rename(
        columns={"activity_rom_lifting_deg": "activity_rom_lift_copy_deg"})
    pd.testing.assert_frame_equal(custom.timeline, expected, check_exact=False, rtol=1e-9,
                                  atol=1e-9)
    assert custom.timeline["rod_damage"].iloc[-1] > without.timeline["rod_damage"].iloc[-1] > 0
    assert custom.timeline["activity_rom_lift_copy_deg"].abs().max() > 0


def test_thicker_rod_gives_lower_rod_damage(weak_run):
    thick = run_timeline(Scenario.default().with_values({**WEAK,
                                                         "hardware.rod.diameter_mm": 6.5}),
                         weeks=WEEKS, resolution=RES)
    thin_d = weak_run.timeline["rod_damage"].iloc[-1]
    thick_d = thick.timeline["rod_damage"].iloc[-1]
    assert 0 < thick_d < thin_d
    assert (thick.timeline["max_rod_stress_amplitude_mpa"].iloc[0]
            < weak_run.timeline["max_rod_stress_amplitude_mpa"].iloc[0])


def test_default_graft_heals_under_shear_only_prendergast(default_run):
    # fluid velocity 0 and one phase step per week: granulation -> immature bone in 3 weeks
    t = default_run.timeline
    assert t["graft_bone_fraction"].iloc[0] == 0
    assert t["graft_bone_fraction"].iloc[-1] == 1.0 and t["bridged"].iloc[-1]
    assert default_run.verdicts["nonunion"]["value"] == 3.0


def test_claes_rule_runs_with_pressure():
    r = run_timeline(Scenario.default().with_values({"healing.rule": "claes"}), weeks=2,
                     resolution=RES)
    assert len(r.timeline) == 2
    assert np.all(np.isfinite(r.timeline.drop(columns=["bridged"]).to_numpy(float)))


@pytest.mark.parametrize("threshold_mpa", [0.15, 0.26])
def test_claes_rule_sorts_the_undrained_graft_by_its_strain_and_pressure(threshold_mpa):
    """Walking alone (400 N compression, no moment) on the undrained day-0 graft, with a
    healing rate that lets each cell reach its target in week 1: the Claes-Heigele phases of
    the timeline equal those computed here from the day-0 solution, each cell's mean strain
    and its pressure p = -K tr(eps), K = E / (3 (1 - 2 nu)) of undrained granulation tissue:
    mature bone where |strain| < 5 % and |p| < threshold, cartilage (endochondral) where the
    compressive p > threshold and |strain| < 15 %, fibrous otherwise. The undrained pore
    fluid carries about 0.26 MPa: above the rule's 0.15 MPa everywhere (all cartilage), and
    a threshold of 0.26 MPa splits the graft. A pressure of the wrong sign would make it
    fibrous."""
    from spinesim.fem.post import cell_strain_operator
    from spinesim.simulate import day0_activity_peaks

    idle = {f"activity.{a}.per_day": 0.0 for a in ("bending", "full_flexion", "lifting")}
    scenario = Scenario.default().with_values(
        {**idle, "healing.rule": "claes", "healing.claes.pressure_mpa": threshold_mpa,
         "healing.rate_per_week": 4.0, "graft.drainage": "undrained"})
    row = run_timeline(scenario, weeks=1, resolution=RES).timeline.iloc[0]
    seg, active, (sol,) = day0_activity_peaks(scenario, RES)
    assert [a.name for a in active] == ["walking"]
    mesh = seg.geometry.mesh
    strain_of = cell_strain_operator(mesh, np.flatnonzero(mesh.cells_in_region("graft")))
    eps = strain_of(sol.displacement)
    (E,), (nu,) = healing.tissue_properties(np.zeros(1, dtype=int), undrained=True)
    p = -E / (3.0 * (1.0 - 2.0 * nu)) * np.trace(eps, axis1=1, axis2=2)
    strain = np.abs(np.linalg.eigvalsh(eps)).max(axis=1)
    bone = (strain < 0.05) & (np.abs(p) < threshold_mpa)
    cartilage = ~bone & (p > threshold_mpa) & (strain < 0.15)
    volume = strain_of.volume / strain_of.volume.sum()
    expected = {"mature_bone": volume[bone].sum(), "cartilage": volume[cartilage].sum(),
                "fibrous": volume[~bone & ~cartilage].sum()}
    assert {k: row[f"fraction_{k}"] for k in expected} == pytest.approx(expected, abs=1e-12)
    if threshold_mpa == 0.15:
        assert expected["cartilage"] == 1.0
    else:
        assert 0.1 < expected["cartilage"] < 0.9 and expected["fibrous"] == 0.0


def test_unilateral_cage_runs_with_two_screws():
    s = Scenario.default().with_values({"segment.construct": "unilateral-cage"})
    r = run_timeline(s, weeks=1, resolution=RES)
    assert len(r.timeline) == 1 and r.timeline["max_rod_stress_amplitude_mpa"].iloc[0] > 0


def test_the_rom_is_measured_from_the_preloaded_position():
    """The ROM columns count the rotation from the preloaded position (the preload alone is
    one more load case). In the linear bonded model superposition then makes every column
    independent of the preload; with the cage in contact the preload seats the cage and
    changes the ROM (and only the ROM columns are asked to change there: the activities
    carry their own compression)."""
    base = Scenario.default()
    runs = [run_timeline(base.with_values({"protocol.preload_n": p}), weeks=1, resolution=RES,
                         fields=False).timeline for p in (0.0, 500.0)]
    numeric = runs[0].select_dtypes("number").columns
    np.testing.assert_allclose(runs[1][numeric].to_numpy(float),
                               runs[0][numeric].to_numpy(float), rtol=1e-7, atol=1e-10)
    contact = base.with_values({"cage.interface": "contact"})
    runs = [run_timeline(contact.with_values({"protocol.preload_n": p}), weeks=1,
                         resolution=RES, fields=False).timeline for p in (0.0, 500.0)]
    rom = [c for c in runs[0].columns if c.startswith("rom_")]
    assert len(rom) == 4
    # without a preload the lifted cage leaves extension to the rods; 500 N seats it
    assert runs[1]["rom_extension_deg"].iloc[0] < 0.9 * runs[0]["rom_extension_deg"].iloc[0]
    rest = [c for c in numeric if c not in rom]
    np.testing.assert_allclose(runs[1][rest].to_numpy(float), runs[0][rest].to_numpy(float),
                               rtol=1e-7, atol=1e-10)


def test_two_week_steps_give_one_row_per_step():
    s = Scenario.default().with_values({"timeline.step_weeks": 2.0})
    r = run_timeline(s, weeks=3, resolution=RES)
    assert r.timeline["week"].tolist() == [2.0, 3.0]


def test_invalid_weeks_is_an_error():
    with pytest.raises(SpinesimError, match="weeks"):
        run_timeline(Scenario.default(), weeks=0, resolution=RES)


@pytest.mark.parametrize("weeks", [10**6, 1e300, True, "2", float("inf"), -1])
def test_weeks_argument_must_be_a_number_in_the_range_of_timeline_weeks(weeks, monkeypatch):
    """Found by the bad-input audit: ``run_timeline(weeks=...)`` bypasses the scenario's
    range, so a million weeks started a run of days, and a string or a bool was taken as a
    number. Refused, naming the value, before the segment is built."""
    monkeypatch.setattr("spinesim.simulate.cached_segment", _not_reached)
    with pytest.raises(SpinesimError, match=rf"weeks = {re.escape(repr(weeks))} must be a "
                       r"number of weeks > 0 and at most 520 \(the range of timeline.weeks\)"):
        run_timeline(Scenario.default(), weeks=weeks, resolution=RES)


@pytest.mark.parametrize("resolution, match", [
    ("fine", r"segment.resolution = 'fine' has the wrong type: expected a number, got string"),
    (True, r"segment.resolution = True has the wrong type"),
    (0.0, r"segment.resolution = 0.0 is out of range; allowed range \[0.3, 4\]"),
    (float("nan"), r"segment.resolution = nan is not a finite number"),
])
def test_resolution_argument_is_checked_like_segment_resolution(resolution, match,
                                                                monkeypatch):
    """Found by the bad-input audit: a ``resolution`` argument of the timeline (and of every
    analysis built on segment_options) was passed through float(): 'fine' gave a bare
    ValueError, True a resolution of 1. Refused, naming the argument, before the segment is
    built; a numpy number is a number."""
    monkeypatch.setattr("spinesim.simulate.cached_segment", _not_reached)
    with pytest.raises(SpinesimError, match=r"resolution argument: " + match):
        run_timeline(Scenario.default(), weeks=2, resolution=resolution)
    assert segment_options(Scenario.default(), np.float64(0.5)).resolution == 0.5


def _not_reached(*args, **kwargs):
    raise AssertionError("the segment was built for a bad argument")


def test_segment_options_follow_the_scenario_without_soft_tissue():
    s = Scenario.default().with_values({"hardware.rod.diameter_mm": 6.0,
                                        "bone.quality": "osteoporotic"})
    opts = segment_options(s, resolution=0.5)
    assert opts.construct == "bilateral-cage" and opts.resolution == 0.5
    assert opts.rod_diameter_mm == 6.0 and opts.bone_quality == "osteoporotic"
    assert opts.soft_tissue is False and opts.interface_scale == pytest.approx(1.0)
    assert opts.screw_length_mm == s.get("hardware.screw.length_mm")


def test_every_allowed_bonded_tie_factor_builds_segment_options():
    """The scenario range of loosening.bonded_tie_factor (up to 10,000 x host E per mm) maps
    into the segment's interface_scale range; the top of it used to stop the run with an
    internal name."""
    f = field("loosening.bonded_tie_factor")
    for end in (f.low, f.high):
        opts = segment_options(Scenario.default().with_values({f.key: end}))
        assert opts.interface_scale * Interface().tie_factor == pytest.approx(end)
    # below the guard the screws float (1e-300 made the factorization fail without a name)
    with pytest.raises(ScenarioError, match=r"loosening.bonded_tie_factor.*1e-300"):
        Scenario.default().with_values({f.key: 1e-300})


@pytest.mark.parametrize("values, match", [
    ({"hardware.screw.diameter_mm": 4.0}, "hardware.screw.diameter_mm = 4.0 mm leaves no thread "
     "around the default core diameter 4.5 mm"),
    ({"cage.width_mm": 5.0}, r"cage.width_mm = 5.0 mm leaves no 1 mm wall around the graft "
     r"window \(12 mm that way\); allowed from 14 mm"),
    ({"segment.construct": "intact"}, "graft and screws"),
    ({"segment.construct": "cage-only"}, "graft and screws"),
])
def test_segment_options_reject_unsupported_scenarios(values, match):
    s = Scenario.default().with_values(values, drop_inapplicable=True)
    with pytest.raises(SpinesimError, match=match):
        segment_options(s)


@pytest.mark.parametrize("rule, cls", [("prendergast", healing.PrendergastLacroix),
                                       ("claes", healing.ClaesHeigele),
                                       ("strain_window", healing.StrainWindow)])
def test_healing_rule_of_the_scenario(rule, cls):
    r = healing_rule(Scenario.default().with_values({"healing.rule": rule}))
    assert isinstance(r, cls)
    if rule == "prendergast":
        assert r.b_mm_s == pytest.approx(0.003)


UTS = {"rod": 860.0, "screw": 900.0}


def _table(rod, screw, loose, bridged, weeks=None, rod_over=None, rod_stress=None):
    n = len(rod)
    return pd.DataFrame({"week": [float(w) for w in (weeks or range(1, n + 1))],
                         "rod_damage": rod, "screw_damage": screw,
                         "loosened_screws": loose, "bridged": bridged,
                         "max_rod_stress_mpa": rod_stress or [100.0] * n,
                         "max_screw_stress_mpa": [50.0] * n,
                         "rod_overloaded": rod_over or [False] * n,
                         "screw_overloaded": [False] * n})


def test_verdicts_name_first_failure_week_and_driver():
    t = _table([0.2, 0.7, 1.3], [0.1, 0.2, 0.3], [0, 1, 2], [False] * 3)
    v = timeline_verdicts(t, critical=1.0, horizon=52.0, uts=UTS)
    assert v["hardware_fatigue"] == {"fails": True, "week": 3, "driver": "rod_damage",
                                     "value": 1.3, "threshold": 1.0}
    assert v["insufficient_support"]["fails"] and v["insufficient_support"]["week"] == 2
    assert v["insufficient_support"]["value"] == 2.0
    assert v["nonunion"]["fails"] is False and v["nonunion"]["value"] == math.inf


def test_nonunion_is_decided_at_the_horizon():
    late = _table([0.0] * 3, [0.5] * 3, [0] * 3, [False, False, True], weeks=[10, 20, 30])
    v = timeline_verdicts(late, critical=1.0, horizon=20.0, uts=UTS)
    assert v["nonunion"] == {"fails": True, "week": 20, "driver": "weeks_to_union",
                             "value": 30.0, "threshold": 20.0}
    assert v["hardware_fatigue"]["driver"] == "screw_damage"
    assert not v["hardware_fatigue"]["fails"]
    early = timeline_verdicts(late, critical=1.0, horizon=30.0, uts=UTS)
    assert early["nonunion"]["fails"] is False and early["nonunion"]["value"] == 30.0


def test_union_is_lasting_a_bridge_lost_by_the_horizon_is_a_nonunion():
    """"No continuous bridging bone at 12 months": union counts from the week the graft is
    bridged without a break through the horizon."""
    def nonunion(bridged, horizon):
        n = len(bridged)
        return timeline_verdicts(_table([0.0] * n, [0.0] * n, [0] * n, bridged), critical=1.0,
                         horizon=horizon, uts=UTS)["nonunion"]

    lost = [False, True, True, False]
    assert nonunion(lost, 4.0) == {"fails": True, "week": 4, "driver": "weeks_to_union",
                                   "value": math.inf, "threshold": 4.0}
    assert nonunion(lost, 3.0)["value"] == 2.0 and not nonunion(lost, 3.0)["fails"]
    # lost and bridged again: union from the last bridged run
    assert nonunion([False, True, False, True, True], 5.0)["value"] == 4.0
    assert nonunion([False, True, False, True, True], 5.0)["fails"] is False
    # lost before the horizon and bridged again only after it: a nonunion, union week 5
    late = nonunion([False, True, False, False, True], 4.0)
    assert late["fails"] and late["value"] == 5.0
    # never lost: the first bridged week, as always
    assert nonunion([False, False, True, True], 4.0)["value"] == 3.0
    assert lasting_union_week(_table([0.0] * 3, [0.0] * 3, [0] * 3, [False] * 3), 3.0) is None


def test_a_static_overload_fails_the_hardware_in_its_week():
    t = _table([0.0, 0.0, 0.0], [0.1, 0.1, 0.1], [0] * 3, [False] * 3,
               rod_over=[False, True, True], rod_stress=[500.0, 1200.0, 900.0])
    v = timeline_verdicts(t, critical=1.0, horizon=52.0, uts=UTS)
    assert v["hardware_fatigue"] == {"fails": True, "week": 2, "driver": "rod_static_overload",
                                     "value": 1200.0, "threshold": 860.0}


def test_static_points_leave_the_fatigue_count_and_are_flagged():
    from types import SimpleNamespace

    from spinesim.simulate import _damage, _static_split

    # two surface points (n=1, 2 ends), two cases; point (0, 1) peaks at 1000 MPa > UTS
    a = SimpleNamespace(sigma_at_max=np.array([[100.0, 1000.0]]), tau_at_max=np.zeros((1, 2)))
    b = SimpleNamespace(sigma_at_max=np.array([[50.0, 20.0]]), tau_at_max=np.zeros((1, 2)))
    curve = (sn_curve("ti6al4v"), 860.0, 795.0, "goodman")
    sigma, tau, static, peak = _static_split([a, b], np.array([1e6, 1e6]), curve)
    assert static.tolist() == [[False, True]] and peak.tolist() == [[100.0, 1000.0]]
    assert np.all(sigma[0, 1] == 0.0) and sigma[0, 0].tolist() == [100.0, 50.0]
    # a case without cycles cannot break the part
    _, _, idle, _ = _static_split([a, b], np.array([0.0, 1e6]), curve)
    assert not idle.any()
    damage, amp, top, over = _damage([a, b], np.array([1e6, 1e6]), curve)
    assert over and top == 1000.0 and amp == 500.0 and damage[0, 1] == 0.0
    with pytest.raises(Exception, match="fails statically"):  # what it replaced
        section_fatigue(np.stack([a.sigma_at_max, b.sigma_at_max], -1) * 2.0,
                        np.zeros((1, 2, 2)), np.array([1e6, 1e6]), curve[0], 860.0)
