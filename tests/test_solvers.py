"""Tests of spinesim.fem.solvers (AMG-CG, SuperLU, PARDISO) on small tet4 cantilever boxes.

The stiffness matrices come from scikit-fem so that these tests check the solvers independently
of spinesim's own assembly (skfem's ElementVector DOFs are already ordered 3*node + component).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from spinesim.errors import SolverError
from spinesim.fem.solvers import (RIGID_MODE_NAMES, make_solver, pardiso_available,
                                  rigid_body_modes)
from spinesim.mesh.generate import box


def _skfem_stiffness(mesh, E: float = 1000.0, nu: float = 0.3) -> sp.csr_matrix:
    from skfem import Basis, ElementTetP1, ElementVector, MeshTet, asm
    from skfem.models.elasticity import lame_parameters, linear_elasticity

    m = MeshTet(mesh.points.T.copy(), mesh.blocks[0].cells.T.copy())
    basis = Basis(m, ElementVector(ElementTetP1()))
    K = asm(linear_elasticity(*lame_parameters(E, nu)), basis)
    perm = basis.nodal_dofs.T.ravel()  # new DOF 3*i + c  <-  skfem DOF nodal_dofs[c, i]
    return K[perm][:, perm].tocsr()


@pytest.fixture(scope="module")
def cantilever():
    """A 40 x 10 x 10 mm tet4 box fixed at xmin, loaded at xmax (z and y loads)."""
    mesh = box((40.0, 10.0, 10.0), (16, 4, 4))
    K = _skfem_stiffness(mesh)
    n = K.shape[0]
    fixed = (3 * mesh.node_sets["xmin"][:, None] + np.arange(3)).ravel()
    free = np.setdiff1d(np.arange(n), fixed)
    F = np.zeros((n, 2))
    F[3 * mesh.node_sets["xmax"] + 2, 0] = -1.0
    F[3 * mesh.node_sets["xmax"] + 1, 1] = 2.0
    Kf = K[free][:, free].tocsr()
    B = rigid_body_modes(mesh.points, free)
    ref = np.column_stack([spsolve(Kf.tocsc(), F[free, j]) for j in range(2)])
    return {"mesh": mesh, "K": K, "Kf": Kf, "F": F[free], "B": B, "ref": ref}


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_rigid_body_modes_in_null_space(cantilever):
    K, mesh = cantilever["K"], cantilever["mesh"]
    B = rigid_body_modes(mesh.points)
    assert B.shape == (K.shape[0], 6) and len(RIGID_MODE_NAMES) == 6
    Knorm = sp.linalg.norm(K)
    for j in range(6):
        assert np.linalg.norm(K @ B[:, j]) / (Knorm * np.linalg.norm(B[:, j])) < 1e-12
    # rotation about z at a point (x, y) relative to the centroid is (-y, x, 0)
    c = mesh.points.mean(0)
    p = mesh.points[7] - c
    np.testing.assert_allclose(B[21:24, 5], [-p[1], p[0], 0.0])
    dofs = np.array([0, 5, 10])
    np.testing.assert_array_equal(rigid_body_modes(mesh.points, dofs), B[dofs])


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_matches_reference(cantilever, method):
    s = make_solver(cantilever["Kf"], method=method, near_nullspace=cantilever["B"], rtol=1e-10)
    x = s.solve(cantilever["F"][:, 0])
    assert x.shape == (cantilever["Kf"].shape[0],)
    assert _rel(x, cantilever["ref"][:, 0]) < 1e-8
    assert s.info.method == method and s.info.residual < 1e-10


def test_amg_and_direct_agree_multiple_rhs(cantilever):
    Kf, F, B = cantilever["Kf"], cantilever["F"], cantilever["B"]
    amg = make_solver(Kf, method="amg", near_nullspace=B)
    direct = make_solver(Kf, method="direct")
    Xa, Xd = amg.solve(F), direct.solve(F)
    assert Xa.shape == Xd.shape == F.shape
    for j in range(F.shape[1]):
        assert _rel(Xa[:, j], Xd[:, j]) < 1e-7
        assert _rel(Xd[:, j], cantilever["ref"][:, j]) < 1e-10
    assert amg.info.residual < 1e-8 and 0 < amg.info.iterations < 50


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_second_rhs_reuses_setup(cantilever, method):
    s = make_solver(cantilever["Kf"], method=method, near_nullspace=cantilever["B"])
    assert s.info.n_setups == 1
    x1 = s.solve(cantilever["F"][:, 0])
    x2 = s.solve(cantilever["F"][:, 1])
    assert s.info.n_setups == 1 and s.info.n_solves == 2
    assert _rel(x1, cantilever["ref"][:, 0]) < 1e-7 and _rel(x2, cantilever["ref"][:, 1]) < 1e-7


def test_warm_start_with_exact_solution(cantilever):
    s = make_solver(cantilever["Kf"], method="amg", near_nullspace=cantilever["B"])
    x = s.solve(cantilever["F"][:, 0], x0=cantilever["ref"][:, 0])
    assert s.info.iterations <= 1
    assert _rel(x, cantilever["ref"][:, 0]) < 1e-8


def test_update(cantilever):
    Kf, f, B = cantilever["Kf"], cantilever["F"][:, 0], cantilever["B"]
    ref = cantilever["ref"][:, 0]
    for method in ("amg", "direct"):
        s = make_solver(Kf, method=method, near_nullspace=B)
        s.update(2.0 * Kf)
        assert s.info.n_setups == 2
        assert _rel(s.solve(f), 0.5 * ref) < 1e-7
    s = make_solver(Kf, method="amg", near_nullspace=B)
    s.update(Kf * 1.05, keep_preconditioner=True)  # e.g. a healing step with new moduli
    assert s.info.n_setups == 1 and s.info.reused_preconditioner
    assert _rel(s.solve(f), ref / 1.05) < 1e-7


def test_non_convergence_raises(cantilever):
    s = make_solver(cantilever["Kf"], method="amg", near_nullspace=cantilever["B"], maxiter=1)
    with pytest.raises(SolverError, match=r"did not converge.*after 1 iterations"):
        s.solve(cantilever["F"][:, 0])


def test_singular_matrix_raises(cantilever):
    with pytest.raises(SolverError, match="under-constrained"):
        make_solver(cantilever["K"], method="direct")  # no supports: six rigid-body modes


def test_input_checks(cantilever):
    Kf, f = cantilever["Kf"], cantilever["F"][:, 0]
    with pytest.raises(SolverError, match="square"):
        make_solver(Kf[:-3], method="direct")
    bad = Kf.copy()
    bad.data[5] = np.nan
    with pytest.raises(SolverError, match="NaN"):
        make_solver(bad, method="direct")
    s = make_solver(Kf, method="direct")
    with pytest.raises(SolverError, match="shape"):
        s.solve(f[:-1])
    g = f.copy()
    g[3] = np.inf
    with pytest.raises(SolverError, match="NaN/inf"):
        s.solve(g)
    with pytest.raises(SolverError, match="unknown solver method"):
        make_solver(Kf, method="cholmod")
    assert s.solve(np.zeros_like(f)).tolist() == [0.0] * len(f)


def test_auto_logs_choice(cantilever, caplog):
    with caplog.at_level(logging.INFO, logger="spinesim.fem.solvers"):
        s = make_solver(cantilever["Kf"], near_nullspace=cantilever["B"])
    assert s.info.method in ("direct", "pardiso")
    assert f"{cantilever['Kf'].shape[0]} DOFs" in caplog.text
    assert _rel(s.solve(cantilever["F"][:, 0]), cantilever["ref"][:, 0]) < 1e-8


@pytest.mark.skipif(not pardiso_available(), reason="pypardiso not installed")
def test_pardiso(cantilever):
    s = make_solver(cantilever["Kf"], method="pardiso")
    X = s.solve(cantilever["F"])
    assert _rel(X, cantilever["ref"]) < 1e-10
    s.solve(cantilever["F"][:, 0])
    assert s.info.n_setups == 1 and s.info.n_solves == 2
    with pytest.raises(SolverError, match="under-constrained"):
        make_solver(cantilever["K"], method="pardiso").solve(np.ones(cantilever["K"].shape[0]))


@pytest.mark.skipif(not pardiso_available(), reason="pypardiso not installed")
def test_pardiso_frees_its_factors_when_the_solver_goes(cantilever):
    """MKL keeps PARDISO's factors until phase -1; a discarded solver must release them (a
    Monte Carlo or sweep worker discards one model per stratum or case: 0.7 GB each)."""
    import gc

    s = make_solver(cantilever["Kf"], method="pardiso")
    calls = []
    real = s._ps.free_memory
    s._ps.free_memory = lambda everything=False: (calls.append(everything), real(everything))
    del s
    gc.collect()
    assert calls == [True]


def test_pardiso_missing_gives_install_hint(cantilever, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pypardiso", None)  # makes "import pypardiso" fail
    with pytest.raises(SolverError, match="pip install pypardiso"):
        make_solver(cantilever["Kf"], method="pardiso")


def test_recycled_solutions_make_combined_loads_free(cantilever):
    """A load that combines earlier loads (reversed moment, scaled preload) needs no CG
    iteration; an unrelated one still converges to the reference."""
    Kf, F, B, ref = cantilever["Kf"], cantilever["F"], cantilever["B"], cantilever["ref"]
    s = make_solver(Kf, method="amg", near_nullspace=B)
    s.solve(F[:, 0])
    first = s.info.iterations
    x = s.solve(F[:, 1])  # unrelated direction: full solve
    assert s.info.iterations > first // 2
    assert _rel(x, ref[:, 1]) < 1e-8
    x = s.solve(-2.0 * F[:, 0] + 0.5 * F[:, 1])
    assert s.info.iterations == 0
    assert _rel(x, -2.0 * ref[:, 0] + 0.5 * ref[:, 1]) < 1e-8
    s.update(2.0 * Kf)  # the matrix changed: earlier solutions no longer apply
    x = s.solve(F[:, 0])
    assert s.info.iterations > 0
    assert _rel(x, 0.5 * ref[:, 0]) < 1e-8
