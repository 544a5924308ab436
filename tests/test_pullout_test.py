"""The simulated axial pullout test (spinesim.screw_pullout.pullout_test_stiffness and
axial_pullout_stiffness): against the closed form of a screw in an elastic block, its limits
in the interface stiffness, and on the generated segment."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ellipk

from conftest import record
from spinesim.errors import SpinesimError
from spinesim.fem.constraints import Support
from spinesim.mesh.generate import grid
from spinesim.model.hardware import Screw
from spinesim.model.implant_materials import implant_material
from spinesim.scenario import Scenario
from spinesim.screw_pullout import axial_pullout_stiffness, pullout_test_stiffness

#: Block half-width c and height L (mm), bone modulus (MPa) and Poisson's ratio.
HALF, HEIGHT, E_BONE, NU = 15.0, 30.0, 10.0, 0.3
#: Conformal radius of a square about its centre over its half side: z -> int_0^z dt /
#: sqrt(1 + t^4) maps the unit disk onto a square (derivative 1 at 0) whose half-diagonal is
#: int_0^1 dt / sqrt(1 - t^4) = K(1/2) / sqrt(2) = 1.31103, so r / c = 2 / K(1/2) = 1.0787.
CONFORMAL = 2.0 / float(ellipk(0.5))


def _closed_form(tie_factor: float, screw: Screw) -> float:
    """Shear-lag stiffness (N/mm; Cox, Br J Appl Phys 3:72, 1952) of a screw pulled at one
    end, bonded over its whole length into an elastic square prism whose sides are held and
    whose ends can only slide along the axis: per mm the bone gives
    kappa_b = 2 pi G / ln(r_conf / a) (anti-plane shear between the thread crests, radius a,
    and the held sides), the interface kappa_i = tie_factor E, in series; the screw's core
    stretches with E A. Then k = sqrt(kappa E A) tanh(L sqrt(kappa / E A))."""
    G = E_BONE / (2.0 * (1.0 + NU))
    k_bone = 2.0 * math.pi * G / math.log(CONFORMAL * HALF / (screw.outer_diameter_mm / 2))
    kappa = 1.0 / (1.0 / k_bone + 1.0 / (tie_factor * E_BONE))
    EA = implant_material(screw.material).E_mpa * math.pi * screw.core_diameter_mm ** 2 / 4
    return math.sqrt(kappa * EA) * math.tanh(HEIGHT * math.sqrt(kappa / EA))


def _block_stiffness(h: float, tie_factors) -> np.ndarray:
    n, m = round(2 * HALF / h), round(HEIGHT / h)
    xy = np.linspace(-HALF, HALF, n + 1)
    mesh = grid(xy, xy, np.linspace(-HEIGHT, 0.0, m + 1))
    sets = mesh.node_sets
    sides = np.concatenate([sets[k] for k in ("xmin", "xmax", "ymin", "ymax")])
    ends = np.concatenate([sets["zmin"], sets["zmax"]])
    supports = [Support(sides, name="sides"), Support(ends, (0, 1), name="ends slide")]
    screw = Screw("s", head=(0, 0, 0), entry=(0, 0, 0), direction=(0, 0, -1),
                  length_mm=HEIGHT, n_segments=24)
    cells = mesh.n_solid_cells
    return axial_pullout_stiffness(mesh, np.full(cells, E_BONE), np.full(cells, NU), screw,
                                   supports, tie_factors), screw


def test_screw_in_a_block_converges_to_the_shear_lag_closed_form():
    """A screw bonded through a 30 x 30 x 30 mm block (E 10 MPa): the simulated stiffness
    approaches the closed form from above as the mesh is refined, at about first order
    (measured: 4.9, 3.4, 2.7 % at 3, 2, 1.5 mm elements; 2.2 % at 1 mm, 1.3 % at 0.75 mm);
    with a soft interface (0.1 x E per mm) the interface dominates and the match is within
    0.4 % on every mesh."""
    errors = []
    for h in (3.0, 2.0, 1.5):
        (stiff, soft), screw = _block_stiffness(h, [10.0, 0.1])
        errors.append(stiff[0] / _closed_form(10.0, screw) - 1.0)
        assert abs(soft[0] / _closed_form(0.1, screw) - 1.0) < 4e-3
        assert stiff[1] == pytest.approx(100.0 / stiff[0], rel=1e-12)  # 100 N, mm
    order = math.log(errors[0] / errors[2]) / math.log(2.0)
    record("pullout test, screw in a block vs shear-lag closed form, 3/2/1.5 mm elements: "
           "errors " + ", ".join(f"{100 * e:.2f} %" for e in errors) + f"; order {order:.2f}")
    assert 0.0 < errors[2] < errors[1] < errors[0] < 0.06
    assert errors[2] < 0.03
    assert 0.6 < order < 1.5


def test_interface_limits_and_monotonicity_on_the_segment():
    """Default segment at resolution 0.3: the stiffness rises with the tie factor, stays
    below both the interface springs alone and the rigid interface's (a softer spring can
    only soften a linear elastic structure), tends to the springs alone as they soften
    (1e-4 x E: within 0.2 %; 0.07-0.09 % below them even at 1e-6 x E, measured, because the
    patches of thread cut by the bone's surface at the entry sit off the axis, so their springs
    also tilt the screw), and the left and right screws, mirror images, agree."""
    table = pullout_test_stiffness(Scenario.default(), 0.3, [1e-4, 0.1, 10.0, 1e4])
    assert set(table["screw"]) == {"L4 left", "L4 right", "L5 left", "L5 right"}
    for _, t in table.groupby("screw"):
        k = t["stiffness_n_per_mm"].to_numpy()
        assert np.all(np.diff(k) > 0)
        assert np.all(k < t["interface_n_per_mm"].to_numpy())
        assert k[0] == pytest.approx(t["interface_n_per_mm"].iloc[0], rel=2e-3)
    by = table.set_index(["screw", "tie_factor"])["stiffness_n_per_mm"]
    for level in ("L4", "L5"):
        assert np.allclose(by[f"{level} left"], by[f"{level} right"], rtol=1e-6)
    assert np.all(table["potted_nodes"] > 0)


def test_osteoporotic_bone_lowers_the_stiffness_softer_posterior_bone_much_more():
    """Resolution 0.3, default tie factor: osteoporosis scales the body's bone, which holds
    the screw's tip half, so the stiffness falls a little; the posterior elements at 1 % of
    their modulus (35 MPa) take most of it away (the thread's entry half holds in them)."""
    base = Scenario.default()
    k = {name: pullout_test_stiffness(s, 0.3).set_index("screw")["stiffness_n_per_mm"]
         for name, s in (("healthy", base),
                         ("osteoporotic", base.replace(**{"bone.quality": "osteoporotic"})),
                         ("soft arch", base.replace(**{"bone.posterior_modulus_scale": 0.01})))}
    assert np.all(k["osteoporotic"] < k["healthy"])
    assert np.all(k["osteoporotic"] > 0.8 * k["healthy"])
    assert np.all(k["soft arch"] < 0.4 * k["healthy"])


@pytest.mark.parametrize("factors, load, match", [
    ([0.0], 100.0, r"tie_factors\[0\] = 0.0 is out of range; allowed range \[1e-06, 1e\+06\]"),
    ([10.0, float("nan")], 100.0, r"tie_factors\[1\] = nan is not a finite number"),
    ([float("inf")], 100.0, r"tie_factors\[0\] = inf is not a finite number"),
    ([-1.0], 100.0, r"tie_factors\[0\] = -1.0 is out of range"),
    ([], 100.0, r"no tie factors given \(tie_factors = \[\]\)"),
    ([10.0], -5.0, r"load_n = -5.0 is out of range; allowed range \[0.001, 100000\] \(N\)"),
    ([10.0], 0.0, r"load_n = 0.0 is out of range"),
    # found by the bad-input audit: each of these got past the check
    ([10.0], 1e-320, r"load_n = 1e-320 is out of range"),      # ZeroDivisionError
    ([10.0], "100", r"load_n = '100' is not a number"),         # TypeError from numpy
    ([10.0], None, r"load_n = None is not a number"),           # TypeError from numpy
    ([10.0], True, r"load_n = True is not a number"),           # taken as 1 N
    (["ten"], 100.0, r"tie_factors\[0\] = 'ten' is not a number"),  # float() ValueError
    ([10.0, None], 100.0, r"tie_factors\[1\] = None is not a number"),  # TypeError
    ([True], 100.0, r"tie_factors\[0\] = True is not a number"),       # taken as 1
    ([1e-300], 100.0, r"tie_factors\[0\] = 1e-300 is out of range"),  # singular matrix
    ([1e308], 100.0, r"tie_factors\[0\] = 1e\+308 is out of range"),  # overflow, NaN matrix
])
def test_bad_tie_factors_or_load_are_refused_by_value(factors, load, match, monkeypatch):
    """Refused by name and value before the segment is built (its mesher is not reached)."""
    def not_reached(*args, **kwargs):
        raise AssertionError("the segment was built for a bad tie factor or load")

    monkeypatch.setattr("spinesim.screw_pullout.graft_state_segment", not_reached)
    with pytest.raises(SpinesimError, match=match):
        pullout_test_stiffness(Scenario.default(), 0.3, factors, load)


def test_tie_factors_may_be_one_number_or_numpy_values():
    """A single tie factor and numpy scalars are numbers; the check does not build a model."""
    from spinesim.screw_pullout import _checked

    assert _checked(10.0, 100.0) == [10.0]
    assert _checked(np.array([0.1, 10.0]), np.float64(50.0)) == [0.1, 10.0]
    assert _checked([np.int64(3)], 100) == [3.0]
    with pytest.raises(SpinesimError, match=r"tie_factors\[0\] = \[1.0\] is not a number"):
        _checked([[1.0], [1.0, 2.0]], 100.0)  # ragged


def test_a_construct_without_screws_is_refused():
    with pytest.raises(SpinesimError, match="cage-only"):
        pullout_test_stiffness(Scenario.default().replace(**{"segment.construct": "cage-only"}),
                               0.3)
