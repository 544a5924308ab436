"""Pure-moment protocol: the signs of the six load cases, checked on a block, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.errors import SpinesimError
from spinesim.fem.constraints import Support
from spinesim.fem.couplings import distributing_coupling
from spinesim.fem.dofs import DofLayout
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.generate import box
from spinesim.model.loadcases import (DIRECTIONS, STANDARD_MOMENT_NM, load_case,
                                      moment_load_cases, rom_deg)

W, D, H = 40.0, 30.0, 20.0  # a vertebra-sized block: x lateral (left +), y anterior, z up


@pytest.fixture(scope="module")
def block():
    mesh = box((W, D, H), (8, 6, 4), "hexahedron", origin=(-W / 2, -D / 2, 0.0))
    ref_point = np.array([0.0, 0.0, H])
    layout = DofLayout(mesh.n_nodes, 1)
    mpc = distributing_coupling(layout, mesh.n_nodes, ref_point, mesh.node_sets["zmax"],
                                mesh.points)
    model = LinearElasticModel(mesh, 100.0, 0.2, extra_points=[ref_point], mpcs=[mpc],
                               supports=[Support(mesh.node_sets["zmin"])], solver="direct")
    return mesh, model


def _solve(block, name):
    mesh, model = block
    case = load_case(name)
    sol = model.solve(node_loads=case.reference_load()[None])
    return mesh, sol, case


def _top_point(mesh, x, y):
    top = mesh.node_sets["zmax"]
    p = mesh.points[top]
    return top[np.argmin(np.hypot(p[:, 0] - x, p[:, 1] - y))]


@pytest.mark.parametrize("name", DIRECTIONS)
def test_every_load_case_gives_a_positive_one_sided_rom(block, name):
    _, sol, case = _solve(block, name)
    rom = rom_deg(sol.node_dofs[0, 3:], case)
    assert rom > 0
    # the rotation is about the loading axis only (symmetric block, centred reference node)
    rot = sol.node_dofs[0, 3:]
    assert np.linalg.norm(rot - np.radians(rom) * np.asarray(case.axis)) < 1e-6 * abs(rot).max()


def test_flexion_tips_the_anterior_edge_down_and_extension_up(block):
    mesh, sol, _ = _solve(block, "flexion")
    ant, post = _top_point(mesh, 0.0, D / 2), _top_point(mesh, 0.0, -D / 2)
    assert sol.displacement[ant, 2] < 0 < sol.displacement[post, 2]
    mesh, sol, _ = _solve(block, "extension")
    assert sol.displacement[ant, 2] > 0 > sol.displacement[post, 2]


def test_lateral_bending_left_lowers_the_left_edge(block):
    mesh, sol, _ = _solve(block, "lateral_bending_left")
    left, right = _top_point(mesh, W / 2, 0.0), _top_point(mesh, -W / 2, 0.0)  # x to the left
    assert sol.displacement[left, 2] < 0 < sol.displacement[right, 2]
    mesh, sol, _ = _solve(block, "lateral_bending_right")
    assert sol.displacement[left, 2] > 0 > sol.displacement[right, 2]


def test_axial_rotation_left_turns_the_anterior_surface_to_the_left(block):
    mesh, sol, _ = _solve(block, "axial_rotation_left")
    ant = _top_point(mesh, 0.0, D / 2)
    assert sol.displacement[ant, 0] > 0  # +x is the patient's left
    mesh, sol, _ = _solve(block, "axial_rotation_right")
    assert sol.displacement[ant, 0] < 0


def test_opposite_directions_are_mirror_loads():
    for a, b in (("flexion", "extension"), ("lateral_bending_left", "lateral_bending_right"),
                 ("axial_rotation_left", "axial_rotation_right")):
        assert np.allclose(load_case(a).moment_nmm, -load_case(b).moment_nmm)


def test_units_standard_moment_and_errors():
    cases = moment_load_cases()
    assert [c.name for c in cases] == list(DIRECTIONS)
    assert STANDARD_MOMENT_NM == 7.5
    assert np.allclose(load_case("flexion").moment_nmm, [-7500.0, 0.0, 0.0])
    with pytest.raises(SpinesimError, match="allowed: flexion"):
        load_case("torsion")
    with pytest.raises(SpinesimError, match=r"moment must be in \(0, 30\] N·m"):
        load_case("flexion", moment_nm=-1.0)
    with pytest.raises(SpinesimError, match="preload must be in"):
        load_case("flexion", preload_n=float("nan"))
