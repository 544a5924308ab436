"""Screws and rods as beams tied into a solid block: load paths, micromotion, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.errors import MaterialError, MeshError
from spinesim.fem.constraints import Support
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.generate import box
from spinesim.model.hardware import Interface, Rod, Screw, build_hardware, hardware_results


def _block(E: float):
    mesh = box((40.0, 30.0, 30.0), (8, 6, 6), "hexahedron")
    return mesh, np.full(mesh.n_solid_cells, E)


def _screw(name: str, z: float, **kw) -> Screw:
    return Screw(name, head=(20.0, -10.0, z), entry=(20.0, 0.0, z), direction=(0, 1.0, 0),
                 length_mm=20.0, **kw)


def _model(mesh, E, hw, **kw):
    rot_free = []  # every 6-DOF node here is attached to a beam; no extra support needed
    return LinearElasticModel(mesh, E, 0.3, supports=[Support(mesh.node_sets["zmin"]), *rot_free],
                              extra_points=hw.points, element_sets=hw.element_sets,
                              element_values=hw.element_values, solver="direct", **kw)


def test_load_on_a_screw_head_reaches_the_supports_through_the_interface():
    mesh, E = _block(1000.0)
    screws = [_screw("upper", 20.0), _screw("lower", 10.0)]
    hw = build_hardware(mesh, screws, [Rod("rod", ("upper", "lower"))], E)
    model = _model(mesh, E, hw)
    F = np.array([3.0, -40.0, 25.0])
    loads = np.zeros((len(hw.points), 6))
    loads[0, :3] = F  # node 0 of the 6-DOF nodes is the upper screw's head
    sol = model.solve(node_loads=loads)
    assert np.allclose(sol.reactions.sum(axis=0), -F, atol=1e-8 * np.abs(F).max())
    sections, tie = hardware_results(hw, sol)
    # the interface forces on the screws balance the applied load
    assert np.allclose(tie.force_n.sum(axis=0), -F, atol=1e-8 * np.abs(F).max())
    assert tie.micromotion_um.max() > 0
    assert set(tie.screw) == {"upper", "lower"}
    # the rod carries part of the load from the upper to the lower screw: non-zero moments
    rod = sections["rod_beams"]
    assert np.abs(rod.My).max() + np.abs(rod.Mz).max() > 0


def test_micromotion_scales_with_the_interface_compliance_in_a_rigid_block():
    mesh, E = _block(1e7)  # practically rigid host
    pull = np.zeros((1 + 8 + 1, 6))
    um = []
    for k in (100.0, 50.0):
        screws = [_screw("s", 15.0, n_segments=8)]
        hw = build_hardware(mesh, screws, [], E, Interface(k_axial=k, k_normal=4 * k))
        model = _model(mesh, E, hw)
        pull[0, 1] = -50.0  # pull the head out of the block (-y)
        sol = model.solve(node_loads=pull[: len(hw.points)])
        _, tie = hardware_results(hw, sol)
        um.append(tie.axial_um.mean())
        # uniform pull-out of a stiff screw: mean slip = F / (k * embedded length)
        assert tie.axial_um.mean() == pytest.approx(1e3 * 50.0 / (k * 20.0), rel=0.02)
    assert um[1] == pytest.approx(2 * um[0], rel=0.02)


def test_screw_outside_the_bone_is_reported_by_screw_and_node():
    mesh, E = _block(1000.0)
    long = Screw("too long", head=(20.0, -10.0, 15.0), entry=(20.0, 0.0, 15.0),
                 direction=(0, 1.0, 0), length_mm=45.0, n_segments=9)
    with pytest.raises(MeshError, match="screw 'too long' node"):
        build_hardware(mesh, [long], [], E)


def test_material_without_a_sourced_poisson_ratio_is_refused_with_the_reason():
    mesh, E = _block(1000.0)
    screws = [_screw("a", 20.0), _screw("b", 10.0)]
    with pytest.raises(MaterialError, match="Poisson"):
        build_hardware(mesh, screws, [Rod("r", ("a", "b"), material="ss316l")], E)
