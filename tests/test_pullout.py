"""Screw pullout (spinesim.failure.pullout): loads by hand and by equilibrium, the predicted
strength (Chapman's thread shear-out with the bone's shear strength) by hand and from the
bone cells a screw's ties lie in, bad input, and the check in the timeline's
insufficient-support verdict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spinesim.failure.pullout import (SHEAR_STRENGTH_RATIO, SHEAR_STRENGTH_RATIO_SD,
                                      PulloutError, bone_shear_strength_mpa, pullout_strengths_n,
                                      screw_loads, thread_shape_factor,
                                      tie_pullout_strengths_n)
from spinesim.fem.constraints import Support
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.generate import box
from spinesim.model.hardware import Interface, Screw, build_hardware, hardware_results


def test_loads_of_two_screws_by_hand():
    """A screw along +y and one along (1, 1, 0)/sqrt 2, forces on each summed and split."""
    s = 1 / math.sqrt(2)
    names = ["a", "b", "a", "b"]
    force = np.array([[1.0, 20.0, 0.0], [0.0, -4.0, 0.0], [2.0, 10.0, -4.0], [6.0, 0.0, 0.0]])
    axis = np.array([[0, 2.0, 0], [s, s, 0], [0, 2.0, 0], [s, s, 0]])  # any length
    loads = screw_loads(names, force, axis)
    assert list(loads) == ["a", "b"]
    assert loads["a"].pullout_n == pytest.approx(30.0)
    assert loads["a"].transverse_n == pytest.approx(5.0)  # (3, 0, -4)
    # b: total (6, -4, 0); along (1, 1, 0)/sqrt 2: 2/sqrt 2; across: (6, -4) - (1, 1) = (5, -5)
    assert loads["b"].pullout_n == pytest.approx(math.sqrt(2))
    assert loads["b"].transverse_n == pytest.approx(math.sqrt(50.0))


def _pull_screw_in_block(tie_factor: float, head_force) -> tuple[dict, np.ndarray]:
    mesh = box((40.0, 30.0, 30.0), (8, 6, 6), "hexahedron")
    E = np.full(mesh.n_solid_cells, 100.0)  # cancellous bone
    screw = Screw("s", head=(20.0, -10.0, 15.0), entry=(20.0, 0.0, 15.0),
                  direction=(0, 1.0, 0), length_mm=20.0)
    hw = build_hardware(mesh, [screw], [], E, Interface(tie_factor=tie_factor))
    model = LinearElasticModel(mesh, E, 0.3, supports=[Support(mesh.node_sets["ymax"])],
                               mpcs=hw.mpcs, extra_points=hw.points,
                               element_sets=hw.element_sets, element_values=hw.element_values,
                               solver="direct")
    loads = np.zeros((len(hw.points), 6))
    loads[0, :3] = head_force  # node 0: the screw head
    _, tie = hardware_results(hw, model.solve(node_loads=loads))
    return screw_loads(tie.screw, tie.force_n, tie.axis), tie.micromotion_um


def test_pullout_load_is_the_head_load_whatever_the_interface_stiffness():
    """Equilibrium: the bone holds the screw against the load on its head, so the pullout
    and transverse loads are the head load's components, for a bonded and a 100x softer
    interface, while the micromotion changes several-fold."""
    head = np.array([3.0, -50.0, 4.0])  # 50 N out of the block (-y), 5 N across
    stiff, m_stiff = _pull_screw_in_block(10.0, head)
    soft, m_soft = _pull_screw_in_block(0.1, head)
    for loads in (stiff, soft):
        assert loads["s"].pullout_n == pytest.approx(50.0, rel=1e-6)
        assert loads["s"].transverse_n == pytest.approx(5.0, rel=1e-6)
    assert m_soft.max() > 3 * m_stiff.max()
    pushed, _ = _pull_screw_in_block(10.0, -head)
    assert pushed["s"].pullout_n == pytest.approx(-50.0, rel=1e-6)


def test_strength_by_hand():
    """Chapman's F = S pi D L TSF, S = 0.44 x 0.84 % x E, summed per screw over its nodes."""
    assert thread_shape_factor(6.5, 4.5, 2.5) == pytest.approx(0.5 + 0.57735 * 1.0 / 2.5)
    assert thread_shape_factor(6.0, 6.0, 3.0) == 0.5  # no thread depth: the bare cylinder
    assert SHEAR_STRENGTH_RATIO == 0.44
    from spinesim.scenario import Scenario

    s = Scenario.default()  # the scenario's default and Monte Carlo range: mean and SD kept
    assert s.get("loosening.bone_shear_strength_ratio") == SHEAR_STRENGTH_RATIO
    dist, (lo, hi) = s.uncertain()["loosening.bone_shear_strength_ratio"]
    assert dist == "uniform" and (lo + hi) / 2 == pytest.approx(SHEAR_STRENGTH_RATIO)
    assert (hi - lo) / math.sqrt(12) == pytest.approx(SHEAR_STRENGTH_RATIO_SD, rel=1e-3)
    S = bone_shear_strength_mpa([100.0, 34.0, 3500.0])
    assert S == pytest.approx([0.3696, 0.12566, 12.936], rel=1e-4)
    assert bone_shear_strength_mpa([100.0], ratio=0.22) == pytest.approx(0.5 * S[0])
    f = pullout_strengths_n(["b", "a", "b"], S, [10.0, 5.0, 2.0], 6.5, 0.7)
    assert list(f) == ["b", "a"]
    assert f["b"] == pytest.approx(0.7 * math.pi * 6.5 * (0.3696 * 10.0 + 12.936 * 2.0),
                                   rel=1e-4)
    assert f["a"] == pytest.approx(0.7 * math.pi * 6.5 * 0.12566 * 5.0, rel=1e-4)


def test_strength_from_the_cells_the_ties_lie_in():
    """A screw from y = 1 to 21 mm in a block whose cells below y = 10 mm are 100 MPa and above
    34 MPa: 8.75 mm of its thread (nodes at 1, 3.5, 6, 8.5 mm) is held by the stiffer bone,
    11.25 mm by the softer; a given strength replaces the prediction for every screw."""
    mesh = box((40.0, 30.0, 30.0), (8, 6, 6), "hexahedron")
    centre_y = mesh.points[mesh.solid_blocks[0].cells].mean(axis=1)[:, 1]
    E = np.where(centre_y < 10.0, 100.0, 34.0)
    screws = [Screw(n, head=(x, -10.0, 15.0), entry=(x, 1.0, 15.0), direction=(0, 1.0, 0),
                    length_mm=20.0) for n, x in (("p", 12.0), ("q", 28.0))]
    hw = build_hardware(mesh, screws, [], E)
    tsf = thread_shape_factor(6.5, 4.5, 2.5)
    got = tie_pullout_strengths_n(hw.ties, E, 6.5, tsf)
    expect = tsf * math.pi * 6.5 * 0.44 * 0.0084 * (100.0 * 8.75 + 34.0 * 11.25)
    assert got == pytest.approx({"p": expect, "q": expect}, rel=1e-12)
    assert tie_pullout_strengths_n(hw.ties, E, 6.5, tsf, given=500.0) == {"p": 500.0,
                                                                          "q": 500.0}


@pytest.mark.parametrize("call, match", [
    (lambda: screw_loads(["a"], np.zeros((2, 3)), np.ones((1, 3))), "one force"),
    (lambda: screw_loads(["a"], [[np.nan, 0, 0]], [[0, 1, 0]]), "finite"),
    (lambda: screw_loads(["a", "b"], np.zeros((2, 3)), [[0, 1, 0], [0, 0, 0]]),
     "tied node 1 is zero"),
    (lambda: thread_shape_factor(6.5, 7.0, 2.5), "core diameter"),
    (lambda: thread_shape_factor(6.5, 4.5, 0.0), "pitch > 0"),
    (lambda: bone_shear_strength_mpa([100.0, -1.0]), "entry 1 is -1.0"),
    (lambda: bone_shear_strength_mpa([100.0], ratio=1.5), "ratio 1.5"),
    (lambda: pullout_strengths_n(["a"], [1.0, 2.0], [1.0], 6.5, 0.7), "one shear strength"),
    (lambda: pullout_strengths_n(["a"], [np.nan], [1.0], 6.5, 0.7), "finite"),
    (lambda: tie_pullout_strengths_n({}, [], 6.5, 0.7, given=-5.0),
     "pullout_strength_n = -5.0"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(PulloutError, match=match):
        call()


def _table(a: list[float], b: list[float], loosened: list[int]) -> pd.DataFrame:
    n = len(a)
    return pd.DataFrame({"week": np.arange(1.0, n + 1), "rod_damage": 0.0, "screw_damage": 0.0,
                         "rod_overloaded": False, "screw_overloaded": False,
                         "max_rod_stress_mpa": 10.0, "max_screw_stress_mpa": 10.0,
                         "loosened_screws": loosened, "bridged": True,
                         "max_screw_pullout_n": np.maximum(a, b), "pullout_a_n": a,
                         "pullout_b_n": b})


def test_verdict_pullout_per_screw_outranks_loosening():
    """Screw a (strength 370 N) is pulled out in week 2 though screw b carries more: b is
    stronger (1000 N); the verdict names a's load and strength."""
    from spinesim.verdicts import critical_screw, timeline_verdicts

    uts = {"rod": 860.0, "screw": 860.0}
    strength = {"a": 370.0, "b": 1000.0}
    table = _table([100.0, 400.0, 380.0], [500.0, 600.0, 900.0], [0, 0, 2])
    s = timeline_verdicts(table, 1.0, 2.0, uts, strength)["insufficient_support"]
    assert s == {"fails": True, "week": 2, "driver": "screw_pullout", "value": 400.0,
                 "threshold": 370.0}
    assert critical_screw(table, strength) == "a"
    v = timeline_verdicts(_table([100.0, 300.0, 300.0], [0.0, 999.0, 0.0], [0, 0, 2]),
                          1.0, 2.0, uts, strength)
    assert v["insufficient_support"] == {"fails": True, "week": 3, "driver": "loosened_screws",
                                         "value": 2.0, "threshold": 1.0}
    v = timeline_verdicts(_table([100.0, 300.0, 300.0], [0.0, 1000.0, 0.0], [0, 0, 0]),
                          1.0, 2.0, uts, strength)
    assert v["insufficient_support"]["week"] == 2  # b reaches its strength exactly
    v = timeline_verdicts(_table([100.0, 300.0, 300.0], [0.0, 999.0, 0.0], [0, 0, 0]),
                          1.0, 2.0, uts, strength)
    assert not v["insufficient_support"]["fails"]
    assert critical_screw(_table([-1.0], [-2.0], [0]), strength) is None


@pytest.fixture(scope="module")
def timelines():
    from spinesim.scenario import Scenario
    from spinesim.simulate import run_timeline

    base = Scenario.default().with_values({"activity.lifting.per_day": 20.0})
    runs = {s: run_timeline(base.with_values({"loosening.pullout_strength_n": s}), weeks=2,
                            resolution=0.4, fields=False)
            for s in (None, 1.0)}
    runs["half bonded"] = run_timeline(base.with_values({"loosening.initial_factor": 0.5}),
                                       weeks=2, resolution=0.4, fields=False)
    return runs


def test_a_softer_interface_moves_the_screws_more_but_does_not_load_them_more(timelines):
    """The screw loads come from the rods: an interface at half the bonded stiffness lets the
    screws move more in the bone, but the springs' forces (scaled by the factor) still sum to
    about the same load per screw, not to twice it."""
    bonded, soft = timelines[None].timeline, timelines["half bonded"].timeline
    cols = [c for c in bonded.columns if c.startswith("pullout_") and c.endswith("_n")]
    assert soft["max_micromotion_um"].iloc[0] > 1.3 * bonded["max_micromotion_um"].iloc[0]
    pulled = [c for c in cols if bonded[c].iloc[0] > 1.0]  # (a pushed screw's is 0)
    assert len(pulled) >= 2
    ratio = soft[pulled].iloc[0] / bonded[pulled].iloc[0]
    assert np.all((ratio > 0.75) & (ratio < 1.25)), ratio.to_dict()
    ratio = soft["max_screw_transverse_n"].iloc[0] / bonded["max_screw_transverse_n"].iloc[0]
    assert 0.75 < ratio < 1.25


def test_predicted_strength_of_the_default_segment():
    """The default construct's screws: the prediction is linear in the shear strength ratio,
    and osteoporosis (cancellous E x 0.34) takes 66 % off exactly the cancellous cells' share,
    summed here by hand from the ties' host cells and tributary lengths."""
    from spinesim.scenario import Scenario
    from spinesim.simulate import graft_state_segment, pullout_strengths

    base = Scenario.default()
    seg = graft_state_segment(base, 0.4, 0.0)
    healthy = pullout_strengths(base, seg)
    assert len(healthy) == 4 and min(healthy.values()) > 0
    half = pullout_strengths(base.with_values({"loosening.bone_shear_strength_ratio": 0.22}),
                             seg)
    assert half == pytest.approx({k: 0.5 * v for k, v in healthy.items()}, rel=1e-12)
    porotic_scenario = base.with_values({"bone.quality": "osteoporotic"})
    porotic = pullout_strengths(porotic_scenario, graft_state_segment(porotic_scenario, 0.4,
                                                                      0.0))
    t = seg.hardware.ties["screw_interface"]
    mesh = seg.geometry.mesh
    cancellous = mesh.solid_regions[t["host_cell"]] == mesh.region_id("cancellous")
    assert cancellous.any() and not cancellous.all()
    assert np.allclose(seg.E[t["host_cell"][cancellous]], 100.0)
    names = np.asarray(t["screw"])
    tsf = thread_shape_factor(6.5, 4.5, 2.5)
    for screw in healthy:
        on = (names == screw) & cancellous
        share = tsf * math.pi * 6.5 * 0.44 * 0.0084 * 100.0 * t["tributary_mm"][on].sum()
        assert healthy[screw] - porotic[screw] == pytest.approx(0.66 * share, rel=1e-9)


@pytest.mark.parametrize("key, region, modulus, other, other_modulus, scales", [
    ("bone.cancellous_modulus_scale", "cancellous", 100.0, "cortical", 12000.0, (0.5, 1.0, 2.0)),
    ("bone.posterior_modulus_scale", "posterior", 3500.0, "cancellous", 100.0, (0.25, 0.5, 1.0)),
])
def test_predicted_strength_is_linear_in_a_bone_modulus_factor(key, region, modulus, other,
                                                               other_modulus, scales):
    """bone.cancellous_modulus_scale and bone.posterior_modulus_scale multiply their
    region's cell moduli and nothing else, so each screw's strength is a + b x scale exactly
    (b the region's share of it)."""
    from spinesim.scenario import Scenario
    from spinesim.simulate import graft_state_segment, pullout_strengths

    got = {}
    for scale in scales:
        s = Scenario.default().with_values({key: scale})
        seg = graft_state_segment(s, 0.4, 0.0)
        got[scale] = pullout_strengths(s, seg)
        regions = seg.geometry.mesh.solid_regions
        mesh = seg.geometry.mesh
        assert np.allclose(seg.E[regions == mesh.region_id(region)], modulus * scale)
        assert np.allclose(seg.E[regions == mesh.region_id(other)], other_modulus)
    for screw in got[scales[1]]:
        a, b, c = (got[x][screw] for x in scales)
        assert c - b == pytest.approx(2.0 * (b - a), rel=1e-9) and b > a


def test_thread_strength_table_adds_up_by_region():
    """spinesim.screw_pullout.thread_strengths: per screw, the regions' thread lengths add up
    to the screw length and their strengths to the screw's predicted strength; a construct
    without screws is refused by name."""
    from spinesim.scenario import Scenario
    from spinesim.screw_pullout import THREAD_COLUMNS, thread_strengths
    from spinesim.simulate import graft_state_segment, pullout_strengths

    base = Scenario.default()
    table = thread_strengths(base, 0.4)
    assert list(table.columns) == list(THREAD_COLUMNS)
    total = pullout_strengths(base, graft_state_segment(base, 0.4, 0.0))
    by_screw = table.groupby("screw")
    assert by_screw["strength_n"].sum().to_dict() == pytest.approx(total, rel=1e-12)
    assert np.allclose(by_screw["thread_mm"].sum(), base.get("hardware.screw.length_mm"))
    assert np.allclose(by_screw["share"].sum(), 1.0)
    canc = table[table["region"] == "cancellous"]
    assert len(canc) == 4 and np.allclose(canc["modulus_mpa"], 100.0)
    assert np.allclose(canc["shear_strength_mpa"], 0.44 * 0.0084 * 100.0)
    from spinesim.errors import SpinesimError

    with pytest.raises(SpinesimError,
                       match="'cage-only': the fused-segment analyses .* need a graft and screws"):
        thread_strengths(base.with_values({"segment.construct": "cage-only"},
                                          drop_inapplicable=True), 0.4)


def test_timeline_reports_screw_loads_and_pulls_out_below_them(timelines):
    default, weak = timelines[None], timelines[1.0]
    t = default.timeline
    per_screw = [c for c in t.columns if c.startswith("pullout_") and c.endswith("_n")]
    assert len(per_screw) == 4
    assert np.allclose(t["max_screw_pullout_n"], t[per_screw].max(axis=1))
    assert np.all(t["max_screw_pullout_n"] > 0) and np.all(t["max_screw_transverse_n"] > 0)
    p = default.info["pullout"]
    k = p["critical_screw"]
    assert p["strengths_n"][k] == p["strength_n"] > 0 and len(p["strengths_n"]) == 4
    assert p["critical_pullout_n"] == pytest.approx(t[f"pullout_{k}_n"].max())
    assert p["safety_factor"] == pytest.approx(p["strength_n"] / p["critical_pullout_n"])
    assert p["safety_factor"] == pytest.approx(min(
        p["strengths_n"][c] / t[f"pullout_{c}_n"].max() for c in p["strengths_n"]
        if t[f"pullout_{c}_n"].max() > 0))
    assert not default.verdicts["insufficient_support"]["fails"]
    s = weak.verdicts["insufficient_support"]
    assert s["fails"] and s["week"] == 1 and s["driver"] == "screw_pullout"
    assert s["value"] == pytest.approx(p["max_pullout_n"]) and s["threshold"] == 1.0


def test_module_doctest():
    import doctest

    import spinesim.failure.pullout as module

    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("call, match", [
    (lambda: thread_shape_factor(6.5, 0.0, 2.5), "core diameter"),
    (lambda: bone_shear_strength_mpa([100.0, 0.0]), "entry 1 is 0.0"),
    (lambda: bone_shear_strength_mpa([100.0], ratio=0.0), "ratio 0.0"),
    (lambda: bone_shear_strength_mpa([100.0], ratio=1.05), "ratio 1.05"),
    (lambda: bone_shear_strength_mpa([100.0], yield_strain=0.0), "strain 0.0"),
    (lambda: bone_shear_strength_mpa([100.0], yield_strain=1.0), "strain 1.0"),
])
def test_bad_input_on_the_bounds_is_refused(call, match):
    """The documented open bounds: a core diameter > 0, a bone modulus > 0 (a zero-modulus cell
    would hold a screw with zero strength), a ratio in (0, 1], a yield strain in (0, 1)."""
    with pytest.raises(PulloutError, match=match):
        call()


def test_shear_strength_ratio_of_one_is_allowed():
    """ratio = 1 is the closed end of (0, 1]: S = 1 x 0.01 x 200 MPa = 2 MPa."""
    assert bone_shear_strength_mpa([200.0], ratio=1.0, yield_strain=0.01) == pytest.approx(2.0)


def test_chapman_strength_accepts_zero_strength_and_length_nodes():
    """S and l must be >= 0 (zero allowed): F = TSF pi D sum(S_i l_i) = 1.0 x pi x 6 mm x
    (0 x 1 + 2 MPa x 3 mm + 4 MPa x 0) = 36 pi N; TSF 1.5 (the closed end of (0, 1.5]) scales
    it by 1.5."""
    got = pullout_strengths_n(["a", "a", "a"], [0.0, 2.0, 4.0], [1.0, 3.0, 0.0], 6.0, 1.0)
    assert got == {"a": pytest.approx(36.0 * math.pi)}
    got = pullout_strengths_n(["a", "a", "a"], [0.0, 2.0, 4.0], [1.0, 3.0, 0.0], 6.0, 1.5)
    assert got == {"a": pytest.approx(54.0 * math.pi)}


@pytest.mark.parametrize("call, match", [
    (lambda: pullout_strengths_n(["a"], [1.0], [1.0], 0.0, 0.7), "outer diameter 0.0"),
    (lambda: pullout_strengths_n(["a"], [1.0], [1.0], 6.5, 0.0), "shape factor 0.0"),
    (lambda: pullout_strengths_n(["a"], [1.0], [1.0], 6.5, 1.6), "shape factor 1.6"),
    (lambda: tie_pullout_strengths_n({}, [], 6.5, 0.7, given=0.0), "pullout_strength_n = 0.0"),
])
def test_zero_diameter_shape_factor_or_given_strength_is_refused(call, match):
    """Outer diameter > 0, thread shape factor in (0, 1.5], a given strength > 0 N."""
    with pytest.raises(PulloutError, match=match):
        call()
