"""Reference nodes coupled to surfaces: pure moments, equilibrium, no artificial stiffening."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import record

from spinesim.fem.constraints import Support
from spinesim.fem.couplings import distributing_coupling, kinematic_coupling
from spinesim.fem.dofs import DofLayout
from spinesim.fem.loads import reference_load, surface_load
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.facets import boundary_facets
from spinesim.mesh.generate import box


def _model(mesh, coupling, ref_point, nodes, **kw):
    layout = DofLayout(mesh.n_nodes, 1)
    ref = mesh.n_nodes
    mpc = coupling(layout, ref, ref_point, nodes, mesh.points)
    return LinearElasticModel(mesh, 1000.0, 0.3, extra_points=[ref_point], mpcs=[mpc], **kw), ref


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_pure_moment_gives_zero_net_force_and_the_moment_in_the_reactions(axis):
    mesh = box((2.0, 3.0, 4.0), (3, 3, 4), "hexahedron")
    top = mesh.node_sets["zmax"]
    ref_point = np.array([1.0, 1.5, 4.0])
    model, _ = _model(mesh, distributing_coupling, ref_point, top,
                      supports=[Support(mesh.node_sets["zmin"])], solver="direct")
    moment_nm = np.zeros(3)
    moment_nm[axis] = 7.5  # the standard pure moment, N·m at the user edge
    M = reference_load(moment_nm=moment_nm)
    assert M[3 + axis] == 7500.0  # N·mm inside
    sol = model.solve(node_loads=M[None])
    R = sol.reactions
    bottom = mesh.node_sets["zmin"]
    assert np.abs(R.sum(axis=0)).max() < 1e-8 * 7500.0
    moment = np.cross(mesh.points[bottom] - ref_point, R[bottom]).sum(axis=0)
    assert np.allclose(moment, -M[3:], atol=1e-7 * 7500.0)
    # the reference node rotates about the loaded axis, in the moment's sense
    rot = sol.node_dofs[0, 3:]
    assert rot[axis] > 0 and np.abs(np.delete(rot, axis)).max() < 1e-6 * rot[axis]


def test_distributing_coupling_does_not_stiffen_a_cantilever_but_a_kinematic_one_does():
    L, h, M = 10.0, 1.0, 100.0
    mesh = box((L, h, h), (40, 4, 4), "hexahedron")
    tip = mesh.node_sets["xmax"]
    ref_point = np.array([L, h / 2, h / 2])
    I = h**4 / 12
    sup = [Support(mesh.node_sets["xmin"])]
    # reference: the moment as the linear bending traction sigma_xx = M (z - h/2) / I on the tip
    # (a moment about +y stretches the fibres above the axis)
    trac = LinearElasticModel(mesh, 1000.0, 0.3, supports=sup, solver="direct")
    face = boundary_facets(mesh, tip)
    f = surface_load(mesh, face, traction=lambda x: np.stack(
        [M * (x[:, 2] - h / 2) / I, 0 * x[:, 0], 0 * x[:, 0]], axis=1))
    w_trac = trac.solve(f).displacement[tip, 2].mean()
    loads = np.zeros((1, 6))
    loads[0, 4] = M  # moment about +y
    w = {}
    for name, coupling in (("distributing", distributing_coupling),
                           ("kinematic", kinematic_coupling)):
        model, _ = _model(mesh, coupling, ref_point, tip, supports=sup, solver="direct")
        w[name] = model.solve(node_loads=loads).displacement[tip, 2].mean()
    beam = -M * L**2 / (2 * 1000.0 * I)  # Euler-Bernoulli tip deflection for a tip moment
    assert w_trac == pytest.approx(beam, rel=0.05)  # hex8, 4 cells through the depth
    record(f"tip moment on a hex8 cantilever: traction {w_trac:.4f} mm, distributing coupling "
           f"{w['distributing']:.4f} mm, kinematic {w['kinematic']:.4f} mm, beam theory {beam:.4f} mm")
    assert w["distributing"] == pytest.approx(w_trac, rel=0.01)
    # pure bending keeps a beam's sections plane, so a rigid tip face changes little there. On a
    # wide, flat block (a vertebral endplate's proportions) a rigid top face clearly stiffens.
    flat = box((4.0, 4.0, 1.0), (8, 8, 4), "hexahedron")
    rot = {}
    for name, coupling in (("distributing", distributing_coupling),
                           ("kinematic", kinematic_coupling)):
        model, _ = _model(flat, coupling, np.array([2.0, 2.0, 1.0]), flat.node_sets["zmax"],
                          supports=[Support(flat.node_sets["zmin"])], solver="direct")
        rot[name] = model.solve(node_loads=[[0, 0, 0, 100.0, 0, 0]]).node_dofs[0, 3]
    record(f"flat block, 100 N·mm on the top face: rotation distributing {rot['distributing']:.3e}"
           f" rad, kinematic {rot['kinematic']:.3e} rad")
    assert rot["kinematic"] < 0.9 * rot["distributing"]


def test_collinear_surface_is_refused():
    from spinesim.errors import ConstraintError

    mesh = box((1, 1, 1), (2, 2, 2))
    layout = DofLayout(mesh.n_nodes, 1)
    line = np.flatnonzero((np.abs(mesh.points[:, 1]) < 1e-9) & (np.abs(mesh.points[:, 2]) < 1e-9))
    with pytest.raises(ConstraintError, match="collinear"):
        distributing_coupling(layout, mesh.n_nodes, [0, 0, 0], line, mesh.points)


def test_reference_node_without_coupling_is_reported_as_free():
    from spinesim.errors import ConstraintError

    mesh = box((1, 1, 1), (2, 2, 2))
    with pytest.raises(ConstraintError, match="rotation about x"):
        LinearElasticModel(mesh, 100.0, 0.3, supports=[Support(mesh.node_sets["zmin"])],
                           extra_points=[[0.5, 0.5, 2.0]], solver="direct")
