"""Screws and rods as beams tied into a solid block: load paths, micromotion, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.errors import MaterialError, MeshError
from spinesim.fem.constraints import Support
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.generate import box
from spinesim.model.hardware import (CrossLink, Interface, Rod, Screw, build_hardware,
                                     hardware_results, interface_values)


def _block(E: float):
    mesh = box((40.0, 30.0, 30.0), (8, 6, 6), "hexahedron")
    return mesh, np.full(mesh.n_solid_cells, E)


def _screw(name: str, z: float, **kw) -> Screw:
    return Screw(name, head=(20.0, -10.0, z), entry=(20.0, 0.0, z), direction=(0, 1.0, 0),
                 length_mm=20.0, **kw)


def _model(mesh, E, hw, **kw):
    return LinearElasticModel(mesh, E, 0.3, supports=[Support(mesh.node_sets["zmin"])],
                              mpcs=hw.mpcs, extra_points=hw.points, element_sets=hw.element_sets,
                              element_values=hw.element_values, solver="direct", **kw)


def _rod_mid_load(hw, rod: str, force) -> np.ndarray:
    loads = np.zeros((len(hw.points), 6))
    ids = hw.rod_nodes[rod]
    loads[ids[len(ids) // 2] - hw.layout.n_solid, :3] = force
    return loads


def _mid_displacement(hw, sol, rod: str) -> np.ndarray:
    ids = hw.rod_nodes[rod]
    return sol.node_dofs[ids[len(ids) // 2] - hw.layout.n_solid, :3]


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


def test_loosening_refills_the_interface_without_rebuilding_the_model():
    mesh, E = _block(1e7)
    hw = build_hardware(mesh, [_screw("s", 15.0, n_segments=8)], [], E,
                        Interface(k_axial=100.0, k_normal=400.0))
    model = _model(mesh, E, hw)
    pull = np.zeros((len(hw.points), 6))
    pull[0, 1] = -50.0
    _, before = hardware_results(hw, model.solve(node_loads=pull))
    pattern = model.system.matrix.indices.copy()
    model.set_elements(**interface_values(hw, np.full(9, 0.25)))  # fibrous: a quarter
    sol = model.solve(node_loads=pull)
    _, after = hardware_results(hw, sol, np.full(9, 0.25))
    assert np.array_equal(model.system.matrix.indices, pattern)
    assert after.axial_um.mean() == pytest.approx(4 * before.axial_um.mean(), rel=0.02)
    # the softened springs' forces still balance the pull (with the bonded stiffness they
    # would be 4x the load)
    for tie in (before, after):
        assert np.allclose(tie.force_n.sum(axis=0), -pull[0, :3], atol=1e-8 * 50.0)
    per_set = {name: np.full(9, 0.25) for name in hw.ties}  # the same, keyed like hw.ties
    assert np.allclose(hardware_results(hw, sol, per_set)[1].force_n, after.force_n)
    with pytest.raises(ValueError, match="one factor per tied screw node"):
        interface_values(hw, np.ones(3))


def test_screw_outside_the_bone_is_reported_by_screw_and_node():
    mesh, E = _block(1000.0)
    long = Screw("too long", head=(20.0, -10.0, 15.0), entry=(20.0, 0.0, 15.0),
                 direction=(0, 1.0, 0), length_mm=45.0, n_segments=9)
    with pytest.raises(MeshError, match="screw 'too long' node") as err:
        build_hardware(mesh, [long], [], E)
    # how far outside, and what to change
    msg = str(err.value)
    assert "node 9 (screw node 9) at (20, 45, 15) mm, 15 mm from the nearest mesh node" in msg
    assert "hardware.screw.length_mm" in msg and "segment.resolution" in msg


def test_material_without_a_sourced_poisson_ratio_is_refused_with_the_reason(monkeypatch):
    import dataclasses

    from spinesim.model import implant_materials as im

    unsourced = dataclasses.replace(im.IMPLANT_MATERIALS["ss316l"], nu=None)
    monkeypatch.setitem(im.IMPLANT_MATERIALS, "ss316l", unsourced)
    mesh, E = _block(1000.0)
    screws = [_screw("a", 20.0), _screw("b", 10.0)]
    with pytest.raises(MaterialError, match="Poisson"):
        build_hardware(mesh, screws, [Rod("r", ("a", "b"), material="ss316l")], E)


def test_polyaxial_heads_add_compliance_and_stiff_ones_match_the_rigid_joint():
    mesh, E = _block(1e5)  # a stiff block, so that the joints' share of the compliance shows
    screws = [_screw("upper", 25.0), _screw("lower", 5.0)]
    F = [0.0, 30.0, 0.0]  # sagittal: the rod bends between the heads, the joints rotate
    w = {}
    for label, k in (("rigid", None), ("stiff", 1e12), ("soft", 1e3)):
        hw = build_hardware(mesh, screws, [Rod("rod", ("upper", "lower"),
                                               tulip_stiffness_nmm_per_rad=k)], E)
        sol = _model(mesh, E, hw).solve(node_loads=_rod_mid_load(hw, "rod", F))
        w[label] = _mid_displacement(hw, sol, "rod")[1]
    assert w["stiff"] == pytest.approx(w["rigid"], rel=1e-5)
    assert w["soft"] > 1.2 * w["rigid"] > 0


def test_cross_link_shares_load_between_rods():
    mesh, E = _block(1000.0)
    screws = [Screw(f"{lvl} {side}", head=(x, -10.0, z), entry=(x, 0.0, z),
                    direction=(0, 1.0, 0), length_mm=20.0)
              for lvl, z in (("up", 25.0), ("low", 5.0)) for side, x in (("l", 10.0), ("r", 30.0))]
    rods = [Rod(f"rod {s}", (f"up {s}", f"low {s}")) for s in ("l", "r")]
    out = {}
    for label, links in (("free", []), ("linked", [CrossLink("cl", "rod l", "rod r",
                                                              (20.0, -10.0, 15.0))])):
        hw = build_hardware(mesh, screws, rods, E, crosslinks=links)
        sol = _model(mesh, E, hw).solve(node_loads=_rod_mid_load(hw, "rod l", [40.0, 0, 0]))
        out[label] = (_mid_displacement(hw, sol, "rod l")[0], _mid_displacement(hw, sol, "rod r")[0])
    assert out["linked"][0] < 0.9 * out["free"][0]  # the loaded rod deflects less
    assert abs(out["linked"][1]) > 2 * abs(out["free"][1])  # and the other rod takes load


def test_contoured_rod_follows_its_path_through_the_heads():
    mesh, E = _block(1000.0)
    screws = [_screw("upper", 25.0), _screw("lower", 5.0)]
    # a circular arc bulging posteriorly (-y) through both heads, 12 segments
    t = np.linspace(0.0, 1.0, 13)
    path = np.column_stack([np.full(13, 20.0), -10.0 - 3.0 * np.sin(np.pi * t), 5.0 + 20.0 * (1 - t)])
    hw = build_hardware(mesh, screws, [Rod("rod", ("upper", "lower"), path=path)], E)
    assert len(hw.beams["rod_beams"]["nodes"]) == 12
    with pytest.raises(ValueError, match="pass through the heads"):
        build_hardware(mesh, screws, [Rod("rod", ("upper", "lower"), path=path[:-1])], E)


@pytest.mark.parametrize("spacing", [1.25, None])
def test_screw_ties_are_free_in_rigid_motion_also_where_the_bone_surface_cuts_them(spacing):
    """A screw entering a distorted tet10 block obliquely (its first tie patches are cut by
    the block face): a rigid motion of screw and bone together loads no tie spring, and a
    twist of the screw alone (about the axis through its tie patch's centroid) is resisted
    with k_normal r^2 per unit length."""
    from spinesim.mesh.generate import distorted

    mesh = distorted(box((30.0, 30.0, 30.0), (5, 5, 5), "tetra10"), 0.15, seed=3)
    E = np.full(mesh.n_solid_cells, 500.0)
    d = np.array([0.3, 1.0, 0.2])
    screw = Screw("oblique", head=(14.0, -6.0, 15.0), entry=(14.0, 0.0, 15.0), direction=d,
                  length_mm=18.0, n_segments=6)
    hw = build_hardware(mesh, [screw], [], E, Interface(surface_spacing_mm=spacing))
    (name, tie), = hw.ties.items()
    K = hw.element_values[name]
    if spacing is not None:  # the entry node's patch is cut by the face y = 0
        assert np.linalg.norm(tie["lever"][0]) > 0
    x = np.vstack([mesh.points, hw.points])
    a, omega = np.array([0.2, -0.1, 0.3]), np.array([1e-3, -2e-3, 1.5e-3])
    u = lambda p: a + np.cross(omega, p)  # noqa: E731
    t = d / np.linalg.norm(d)
    for e in range(len(K)):
        host = tie["host"][e]
        rigid = np.concatenate([u(x[tie["node"][e]]), omega, u(x[host]).ravel()])
        assert np.abs(K[e] @ rigid).max() < 1e-9 * np.abs(K[e]).max()
        # the screw twists about the axis through its patch's centroid, the bone at rest
        twist = np.concatenate([-np.cross(0.01 * t, tie["lever"][e]), 0.01 * t,
                                np.zeros(3 * len(host))])
        kt = 10.0 * 500.0 * tie["tributary_mm"][e] * (0.5 * screw.outer_diameter_mm) ** 2
        assert twist @ K[e] @ twist == pytest.approx(kt * 0.01**2, rel=1e-9)
