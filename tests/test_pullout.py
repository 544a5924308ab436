"""Screw pullout (spinesim.failure.pullout): loads by hand and by equilibrium, the strength
table, bad input, and the check in the timeline's insufficient-support verdict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spinesim.failure.pullout import (PULLOUT_STRENGTH_N, PulloutError, pullout_strength_n,
                                      screw_loads)
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


def test_strength_by_bone_quality_or_given():
    assert pullout_strength_n("healthy") == 970.0
    assert pullout_strength_n("osteoporotic") == 370.0
    assert PULLOUT_STRENGTH_N["osteoporotic"] < PULLOUT_STRENGTH_N["healthy"]
    assert pullout_strength_n("osteoporotic", 180.0) == 180.0


@pytest.mark.parametrize("call, match", [
    (lambda: screw_loads(["a"], np.zeros((2, 3)), np.ones((1, 3))), "one force"),
    (lambda: screw_loads(["a"], [[np.nan, 0, 0]], [[0, 1, 0]]), "finite"),
    (lambda: screw_loads(["a", "b"], np.zeros((2, 3)), [[0, 1, 0], [0, 0, 0]]),
     "tied node 1 is zero"),
    (lambda: pullout_strength_n("brittle"), "bone.quality = 'brittle'"),
    (lambda: pullout_strength_n("healthy", -5.0), "pullout_strength_n = -5.0"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(PulloutError, match=match):
        call()


def _table(pullout: list[float], loosened: list[int]) -> pd.DataFrame:
    n = len(pullout)
    return pd.DataFrame({"week": np.arange(1.0, n + 1), "rod_damage": 0.0, "screw_damage": 0.0,
                         "rod_overloaded": False, "screw_overloaded": False,
                         "max_rod_stress_mpa": 10.0, "max_screw_stress_mpa": 10.0,
                         "loosened_screws": loosened, "bridged": True,
                         "max_screw_pullout_n": pullout})


def test_verdict_pullout_outranks_loosening():
    from spinesim.simulate import _verdicts

    uts = {"rod": 860.0, "screw": 860.0}
    v = _verdicts(_table([100.0, 400.0, 380.0], [0, 0, 2]), 1.0, 2.0, uts, 370.0)
    s = v["insufficient_support"]
    assert s == {"fails": True, "week": 2, "driver": "screw_pullout", "value": 400.0,
                 "threshold": 370.0}
    v = _verdicts(_table([100.0, 300.0, 300.0], [0, 0, 2]), 1.0, 2.0, uts, 370.0)
    assert v["insufficient_support"] == {"fails": True, "week": 3, "driver": "loosened_screws",
                                         "value": 2.0, "threshold": 1.0}
    v = _verdicts(_table([100.0, 300.0, 300.0], [0, 0, 0]), 1.0, 2.0, uts, 370.0)
    assert not v["insufficient_support"]["fails"]


@pytest.fixture(scope="module")
def timelines():
    from spinesim.scenario import Scenario
    from spinesim.simulate import run_timeline

    base = Scenario.default().with_values({"activity.lifting.per_day": 20.0})
    return {s: run_timeline(base.with_values({"loosening.pullout_strength_n": s}), weeks=2,
                            resolution=0.4, fields=False)
            for s in (None, 1.0)}


def test_timeline_reports_screw_loads_and_pulls_out_below_them(timelines):
    default, weak = timelines[None], timelines[1.0]
    t = default.timeline
    per_screw = [c for c in t.columns if c.startswith("pullout_") and c.endswith("_n")]
    assert len(per_screw) == 4
    assert np.allclose(t["max_screw_pullout_n"], t[per_screw].max(axis=1))
    assert np.all(t["max_screw_pullout_n"] > 0) and np.all(t["max_screw_transverse_n"] > 0)
    p = default.info["pullout"]
    assert p["strength_n"] == PULLOUT_STRENGTH_N["healthy"]
    assert p["safety_factor"] == pytest.approx(p["strength_n"] / p["max_pullout_n"])
    assert not default.verdicts["insufficient_support"]["fails"]
    s = weak.verdicts["insufficient_support"]
    assert s["fails"] and s["week"] == 1 and s["driver"] == "screw_pullout"
    assert s["value"] == pytest.approx(p["max_pullout_n"]) and s["threshold"] == 1.0


def test_module_doctest():
    import doctest

    import spinesim.failure.pullout as module

    assert doctest.testmod(module).failed == 0
