"""Engine pieces of the timeline: multi-load solves, graft strain operator, PARDISO numeric
refactorization, reuse of unchanged weeks, healing modifiers."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.fem.materials import Isotropic
from spinesim.fem.post import cell_strain_operator, cell_values, solid_fields
from spinesim.mesh.generate import box
from spinesim.scenario import Scenario
from spinesim.simulate import (
    healing_odds_ratio,
    healing_rate,
    run_timeline,
    segment_options,
)


@pytest.fixture(scope="module")
def seg():
    from spinesim.model.segment import build_segment

    return build_segment(segment_options(Scenario.default(), 0.3))


def test_solve_many_equals_one_solve_per_case(seg):
    rng = np.random.default_rng(1)
    loads = [np.zeros((seg.model.layout.n_extra, 6)) for _ in range(3)]
    for m in loads:
        m[-1] = rng.normal(size=6) * [100, 100, 100, 5e3, 5e3, 5e3]
    many = seg.model.solve_many(loads)
    for m, sol in zip(loads, many):
        one = seg.model.solve(node_loads=m)
        scale = np.abs(one.displacement).max()
        assert np.abs(sol.displacement - one.displacement).max() <= 1e-9 * scale
        assert np.allclose(sol.node_dofs, one.node_dofs, rtol=1e-9, atol=1e-12)
        assert np.isclose(sol.strain_energy, one.strain_energy, rtol=1e-9)


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra10"])
def test_cell_strain_operator_matches_the_full_field_cell_average(cell_type):
    mesh = box((2.0, 1.0, 1.5), (3, 2, 2), cell_type)
    rng = np.random.default_rng(0)
    u = rng.normal(size=(mesh.n_nodes, 3))
    cells = np.array([5, 0, 3, mesh.n_solid_cells - 1])
    mat = Isotropic(np.full(mesh.n_solid_cells, 10.0), np.full(mesh.n_solid_cells, 0.3))
    for bbar in (False, True):  # the B-bar correction averages out over a cell
        ref = cell_values(solid_fields(mesh, u, mat, bbar=bbar), "strain")[cells]
        assert np.allclose(cell_strain_operator(mesh, cells)(u), ref, atol=1e-12)
    op = cell_strain_operator(mesh, np.arange(mesh.n_solid_cells))
    assert np.isclose(op.volume.sum(), 2.0 * 1.0 * 1.5)
    with pytest.raises(ValueError, match="cell ids"):
        cell_strain_operator(mesh, [mesh.n_solid_cells])


def test_pardiso_numeric_refactorization_matches_a_fresh_one():
    pytest.importorskip("pypardiso")
    import scipy.sparse as sp

    from spinesim.fem.solvers import make_solver

    n = 400
    rng = np.random.default_rng(3)
    A = sp.random(n, n, density=0.01, random_state=4)
    A = (A + A.T + sp.identity(n) * 10).tocsr()
    B = A.copy()
    B.data = B.data * (1 + 0.5 * rng.random(B.nnz))
    B = ((B + B.T) * 0.5).tocsr()
    b = rng.normal(size=n)
    s = make_solver(A, method="pardiso")
    s.update(B)  # same pattern: phase 22 only
    x = s.solve(b)
    assert np.allclose(B @ x, b, rtol=1e-10, atol=1e-10)
    fresh = make_solver(B, method="pardiso").solve(b)
    assert np.allclose(x, fresh, rtol=1e-10, atol=1e-12)


def test_pardiso_refills_sharing_a_pattern_factorize_their_own_upper_triangle():
    """Refills of a model share the pattern arrays; PARDISO's upper triangle is then
    gathered by a kept map, which must follow the new values (and a new pattern)."""
    pytest.importorskip("pypardiso")
    import scipy.sparse as sp

    from spinesim.fem.solvers import make_solver

    n = 300
    rng = np.random.default_rng(8)
    A = sp.random(n, n, density=0.02, random_state=9)
    A = (A + A.T + sp.identity(n) * 10).tocsr()
    A.sort_indices()
    b = rng.normal(size=n)
    s = make_solver(A, method="pardiso")
    for _ in range(3):
        sym = A.copy()
        sym.data = sym.data * (1 + rng.random(sym.nnz))
        sym = ((sym + sym.T) * 0.5).tocsr()
        sym.sort_indices()
        # the same pattern arrays as A, new values
        B = sp.csr_matrix((_values_on(A, sym), A.indices, A.indptr), shape=A.shape)
        s.update(B)
        assert s._triu_map[0] is s.A.indptr  # the kept map, not a new one
        assert np.array_equal(s._upper().toarray(), sp.triu(B).toarray())
        x = s.solve(b)
        assert np.allclose(B @ x, b, rtol=1e-10, atol=1e-10)
    extra = sp.random(n, n, density=0.01, random_state=10)
    C = (A + extra + extra.T).tocsr()  # another pattern: a new map
    assert C.nnz > A.nnz
    C.sort_indices()
    s.update(C)
    assert np.array_equal(s._upper().toarray(), sp.triu(C).toarray())
    assert np.allclose(C @ s.solve(b), b, rtol=1e-10, atol=1e-10)


def _values_on(A, M):
    """M's values at A's stored entries, in A's storage order."""
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return np.asarray(M[rows, A.indices]).ravel()


def test_unchanged_weeks_reuse_the_factorization_and_the_responses():
    r = run_timeline(Scenario.default(), weeks=10, resolution=0.3)
    t = r.timeline
    # the default graft matures in a few weeks, then nothing changes: no new factorization
    assert r.info["factorizations"] < 10 and r.info["solves"] == r.info["factorizations"]
    # where the steps' time went: refills and solves (factorizations inside) within the steps
    info = r.info
    assert info["refill_s"] > 0 and 0 < info["factorize_s"] < info["solve_s"]
    assert info["refill_s"] + info["solve_s"] <= sum(info["step_s"])
    settled = t.iloc[-3:].drop(columns=["week", "rod_damage", "screw_damage"])
    assert (settled.nunique() == 1).all()


def test_healing_modifiers_multiply_odds_and_divide_the_rate():
    s = Scenario.default()
    assert healing_odds_ratio(s) == 1.0 and healing_rate(s) == 1.0
    smoker = s.with_values({"healing.modifiers.smoker": True})
    assert healing_odds_ratio(smoker) == pytest.approx(3.0)
    assert healing_rate(smoker) == pytest.approx(1.0 / 3.0)
    old = smoker.with_values({"healing.modifiers.age_years": 70,
                              "healing.modifiers.reference_age_years": 60})
    assert healing_odds_ratio(old) == pytest.approx(3.0 * 1.06 ** 10)
    osteo = s.with_values({"bone.quality": "osteoporotic",
                           "healing.modifiers.osteoporosis_odds_ratio": 2.0})
    assert healing_odds_ratio(osteo) == pytest.approx(2.0)


def test_an_odds_ratio_outside_the_float_range_is_refused_before_the_build(monkeypatch):
    """An age odds ratio inside its range (0, 10] per year can still make the product over
    decades underflow to 0 (the rate infinite) or overflow (a Python OverflowError): refused
    with the keys, before any model is built."""
    import spinesim.simulate as sim
    from spinesim.errors import SpinesimError

    def no_build(opts):
        raise AssertionError("the segment was built")

    monkeypatch.setattr(sim, "cached_segment", no_build)
    for age, ref in ((100, 18), (18, 100)):
        s = Scenario.default().with_values({"healing.modifiers.age_years": age,
                                            "healing.modifiers.reference_age_years": ref,
                                            "healing.modifiers.age_odds_ratio_per_year": 1e-4})
        with pytest.raises(SpinesimError, match="age_odds_ratio_per_year = 0.0001"):
            run_timeline(s, weeks=2, resolution=0.3)
        with pytest.raises(SpinesimError, match="outside the floating-point range"):
            healing_rate(s)


def test_a_reused_model_starts_each_run_from_day_0():
    import spinesim.timeline_model as sim

    loose = {"loosening.bone_threshold_um": 1.0, "loosening.fibrous_threshold_um": 2.0}
    sim._LAST_BUILT.clear()
    fresh = run_timeline(Scenario.default(), weeks=4, resolution=0.3)
    assert fresh.info["model_reused"] is False
    loosened = run_timeline(Scenario.default().with_values(loose), weeks=4, resolution=0.3)
    assert loosened.info["model_reused"] is True
    factors = loosened.timeline.filter(like="interface_factor_").iloc[-1]
    assert factors.min() < 0.99  # the interfaces of the shared model were softened
    again = run_timeline(Scenario.default(), weeks=4, resolution=0.3)
    assert again.info["model_reused"] is True
    cols = [c for c in fresh.timeline.columns]
    np.testing.assert_allclose(again.timeline[cols].to_numpy(float),
                               fresh.timeline[cols].to_numpy(float), rtol=1e-9, atol=1e-12)


def test_mesh_strain_operator_gives_every_cell_of_a_mixed_mesh_its_mean_strain_and_stress():
    """The VTU fields' shortcut: cell-mean strain of all blocks (hex8 and tet10 here) and the
    isotropic stress of it equal the cell averages of the quadrature-point fields, with and
    without B-bar, and so does the von Mises stress of that mean."""
    from spinesim.fem.post import isotropic_stress, mesh_strain_operator, von_mises
    from spinesim.mesh.mesh import CellBlock, Mesh

    hexes = box((2.0, 1.0, 1.5), (3, 2, 2), "hexahedron")
    tets = box((1.0, 1.0, 1.0), (2, 2, 2), "tetra10")
    n = hexes.n_nodes
    mesh = Mesh(np.vstack([hexes.points, tets.points + [5.0, 0.0, 0.0]]),
                (CellBlock("hexahedron", hexes.solid_blocks[0].cells,
                           np.ones(hexes.n_solid_cells, np.int32)),
                 CellBlock("tetra10", tets.solid_blocks[0].cells + n,
                           np.ones(tets.n_solid_cells, np.int32))))
    rng = np.random.default_rng(3)
    u = rng.normal(size=(mesh.n_nodes, 3))
    E = rng.uniform(1.0, 100.0, mesh.n_solid_cells)
    nu = rng.uniform(0.1, 0.45, mesh.n_solid_cells)
    op = mesh_strain_operator(mesh)
    strain = op(u)
    assert strain.shape == (mesh.n_solid_cells, 3, 3)
    for bbar in (False, True):
        fields = solid_fields(mesh, u, Isotropic(E, nu), bbar=bbar)
        assert np.allclose(strain, cell_values(fields, "strain"), atol=1e-12)
        stress = cell_values(fields, "stress")
        assert np.allclose(isotropic_stress(strain, E, nu), stress, rtol=1e-12, atol=1e-9)
        assert np.allclose(von_mises(isotropic_stress(strain, E, nu)), von_mises(stress),
                           rtol=1e-12, atol=1e-9)
