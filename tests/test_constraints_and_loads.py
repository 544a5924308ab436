"""Supports, multi-point constraints, reactions and consistent loads."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spinesim.errors import ConstraintError
from spinesim.fem.constraints import MultiPointConstraint, Support
from spinesim.fem.loads import body_force, nodal_forces, surface_load
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.facets import boundary_facets
from spinesim.mesh.generate import box, hollow_cylinder
from spinesim.mesh.mesh import CellBlock, Mesh


def test_unsupported_model_names_all_six_free_modes():
    mesh = box((1, 1, 1), (2, 2, 2))
    with pytest.raises(ConstraintError) as err:
        LinearElasticModel(mesh, 100.0, 0.3, solver="direct")
    for name in ("translation x", "translation y", "translation z", "rotation about x",
                 "rotation about y", "rotation about z"):
        assert name in str(err.value)


def test_roller_support_leaves_in_plane_motion_free_and_says_so():
    mesh = box((1, 1, 1), (2, 2, 2))
    with pytest.raises(ConstraintError) as err:
        LinearElasticModel(mesh, 100.0, 0.3, supports=[Support(mesh.node_sets["zmin"], (2,))])
    msg = str(err.value)
    assert "translation x" in msg and "translation y" in msg and "rotation about z" in msg
    assert "translation z" not in msg and "rotation about x" not in msg


def test_floating_second_part_is_reported():
    a = box((1, 1, 1), (1, 1, 1))
    b = box((1, 1, 1), (1, 1, 1), origin=(3, 0, 0))
    pts = np.vstack([a.points, b.points])
    cells = np.vstack([a.blocks[0].cells, b.blocks[0].cells + a.n_nodes])
    mesh = Mesh(pts, (CellBlock("tetra", cells, 1),))
    with pytest.raises(ConstraintError, match="node ids \\[8, 9"):
        LinearElasticModel(mesh, 100.0, 0.3, supports=[Support(a.node_sets["xmin"])])


def test_conflicting_support_values_are_refused():
    mesh = box((1, 1, 1), (1, 1, 1))
    s1 = Support(mesh.node_sets["xmin"], (0,), 0.0)
    s2 = Support(mesh.node_sets["ymin"], (0,), 0.1)
    with pytest.raises(ConstraintError, match="different values"):
        LinearElasticModel(mesh, 100.0, 0.3, supports=[s1, s2])


@pytest.mark.parametrize("cell_type", ["tetra", "hexahedron"])
def test_prescribed_stretch_gives_exact_reaction(cell_type):
    L, area, E, delta = 4.0, 1.0, 200.0, 0.01
    mesh = box((L, 1, 1), (4, 2, 2), cell_type)
    ns = mesh.node_sets
    sup = [Support(ns["xmin"], (0,)), Support(ns["xmax"], (0,), delta),
           Support(ns["ymin"], (1,)), Support(ns["zmin"], (2,))]
    sol = LinearElasticModel(mesh, E, 0.0, supports=sup, solver="direct").solve()
    reaction = sol.reactions[ns["xmax"], 0].sum()
    assert reaction == pytest.approx(E * area * delta / L, rel=1e-10)
    assert sol.reactions[:, 0].sum() == pytest.approx(0.0, abs=1e-10)
    assert sol.strain_energy == pytest.approx(0.5 * E * area * delta**2 / L, rel=1e-10)


def test_reactions_balance_the_applied_load():
    mesh = box((5, 1, 1), (10, 2, 2), "hexahedron")
    f = nodal_forces(mesh, mesh.node_sets["xmax"], [0.3, -0.2, 1.0])
    sol = LinearElasticModel(mesh, 1000.0, 0.3, supports=[Support(mesh.node_sets["xmin"])],
                             solver="direct").solve(f)
    assert np.allclose(sol.reactions.sum(axis=0), -f.sum(axis=0), atol=1e-10)


def _face_tie(mesh, method, penalty=0.0):
    """u_x of every xmax node equals u_x of the first xmax node (a plane that stays plane)."""
    nodes = mesh.node_sets["xmax"]
    master, slaves = nodes[0], nodes[1:]
    n_dofs = 3 * mesh.n_nodes
    C = sp.csr_matrix((np.ones(len(slaves)), (np.arange(len(slaves)),
                                                 np.full(len(slaves), 3 * master))),
                      shape=(len(slaves), n_dofs))
    return MultiPointConstraint(3 * slaves, C, method=method, penalty=penalty, name="face tie")


def test_mpc_by_transformation_holds_exactly_and_penalty_converges_to_it():
    mesh = box((3, 1, 1), (6, 2, 2), "hexahedron")
    f = nodal_forces(mesh, mesh.node_sets["xmax"][:1], [5.0, 0.0, 0.0])
    sup = [Support(mesh.node_sets["xmin"])]
    exact = LinearElasticModel(mesh, 100.0, 0.3, supports=sup,
                               mpcs=[_face_tie(mesh, "transformation")], solver="direct").solve(f)
    ux = exact.displacement[mesh.node_sets["xmax"], 0]
    assert np.ptp(ux) < 1e-14 * abs(ux).max()
    pen = LinearElasticModel(mesh, 100.0, 0.3, supports=sup,
                             mpcs=[_face_tie(mesh, "penalty", 1e7)], solver="direct").solve(f)
    rel = np.abs(pen.displacement - exact.displacement).max() / np.abs(exact.displacement).max()
    assert rel < 1e-4
    free = LinearElasticModel(mesh, 100.0, 0.3, supports=sup, solver="direct").solve(f)
    assert np.ptp(free.displacement[mesh.node_sets["xmax"], 0]) > 0.01 * abs(ux).max()
    # equilibrium holds with the constraint forces included
    assert np.allclose(exact.reactions.sum(axis=0), -f.sum(axis=0), atol=1e-9)


@pytest.mark.parametrize("cell_type", ["tetra", "tetra10", "hexahedron"])
def test_traction_and_body_force_integrate_to_their_resultants(cell_type):
    mesh = box((2.0, 1.0, 3.0), (2, 2, 3), cell_type)
    face = boundary_facets(mesh, mesh.node_sets["zmax"])
    f = surface_load(mesh, face, traction=[0.1, 0.2, -0.3])
    assert np.allclose(f.sum(axis=0), np.array([0.1, 0.2, -0.3]) * 2.0, rtol=1e-12)
    fb = body_force(mesh, [0.0, 0.0, -0.01])
    assert np.allclose(fb.sum(axis=0), [0.0, 0.0, -0.01 * 6.0], rtol=1e-12)


def test_pressure_on_the_inner_wall_pushes_outward_with_the_right_resultant():
    r_in, h, p = 2.0, 1.5, 0.7
    mesh = hollow_cylinder(r_in, 4.0, h, 6, 24, 2, "hexahedron", angle=np.pi / 2)
    f = surface_load(mesh, "inner_surface", pressure=p)
    # quarter cylinder: resultant in x = p * h * r_in * (chord projection = 1) for a polygon
    pts = mesh.points[mesh.node_sets["inner"]]
    assert f[:, 0].sum() == pytest.approx(p * h * r_in, rel=1e-12)
    assert f[:, 1].sum() == pytest.approx(p * h * r_in, rel=1e-12)
    radial = np.einsum("ij,ij->i", f[mesh.node_sets["inner"], :2], pts[:, :2])
    assert np.all(radial >= -1e-14)


@pytest.mark.parametrize("method", ["transformation", "penalty"])
def test_refilling_a_few_cells_under_constraints_equals_a_fresh_model(method):
    """A refill of a few cells (a healing graft) is reduced by transforming the change only
    (T^T dK T added to the last reduced matrix); after many such refills the reduced
    matrix is the full triple product's and the solution a fresh model's."""
    mesh = box((3, 1, 1), (6, 2, 2), "hexahedron")
    n = mesh.n_solid_cells
    f = nodal_forces(mesh, mesh.node_sets["xmax"][:1], [5.0, 1.0, -2.0])
    sup = [Support(mesh.node_sets["xmin"])]
    mpcs = [_face_tie(mesh, method, 1e6)]
    rng = np.random.default_rng(7)
    E, nu = rng.uniform(50.0, 500.0, n), np.full(n, 0.3)
    model = LinearElasticModel(mesh, E, nu, supports=sup, mpcs=mpcs, solver="direct")
    model.solve(f)
    cs = model.constraints
    for _ in range(12):
        cells = rng.choice(n, 2, replace=False)
        E[cells] = 10.0 ** rng.uniform(-1.0, 4.0, 2)
        model.update(E, nu)
    K = model.system.matrix
    if cs.penalty_mpcs:
        K = cs.add_penalties(K, np.zeros(K.shape[0]))[0]
    incremental = model._pending
    full = sp.csr_matrix(cs.T.T @ K @ cs.T)
    assert np.abs(incremental - full).max() <= 1e-13 * np.abs(full).max()
    fresh = LinearElasticModel(mesh, E, nu, supports=sup, mpcs=mpcs, solver="direct").solve(f)
    got = model.solve(f)
    scale = np.abs(fresh.displacement).max()
    assert np.abs(got.displacement - fresh.displacement).max() <= 1e-10 * scale


def test_a_change_outside_the_reduced_pattern_is_reduced_in_full():
    """The reduced product drops entries that sum to zero; a later change that fills one
    cannot be added to the old pattern, so the whole product is formed again."""
    from spinesim.fem.constraints import ConstraintSet

    mesh = box((3, 1, 1), (6, 2, 2), "hexahedron")
    sup, mpcs = [Support(mesh.node_sets["xmin"])], [_face_tie(mesh, "transformation")]
    model = LinearElasticModel(mesh, 100.0, 0.3, supports=sup, mpcs=mpcs, solver="direct")
    cs = ConstraintSet(model.layout, sup, mpcs, dof_rank=model.system.dof_rank)  # unused yet
    K = model.system.matrix.copy()
    # zero the row and column of a free DOF no constraint refers to: gone from the product
    free_dof = int(cs.free[~cs.involved[cs.free]][0])
    K0 = K.copy()
    rows = np.repeat(np.arange(K.shape[0]), np.diff(K.indptr))
    K0.data[(rows == free_dof) | (K.indices == free_dof)] = 0.0
    first = cs.reduce_matrix(K0)
    assert first.nnz < sp.csr_matrix(cs.T.T @ K @ cs.T).nnz
    again = cs.reduce_matrix(K)
    full = sp.csr_matrix(cs.T.T @ K @ cs.T)
    assert again.nnz == full.nnz
    assert np.abs(again - full).max() <= 1e-14 * np.abs(full).max()
