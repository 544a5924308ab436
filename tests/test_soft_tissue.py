"""One-sided springs (tension-only ligaments, compression-only facet contact) solved by the
active-set loop, against closed forms on small hex8 blocks under uniaxial stress, and the soft
tissue parameter tables."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import record

from spinesim.errors import MaterialError, SolverError
from spinesim.fem.active_set import solve_active_set
from spinesim.fem.constraints import Support
from spinesim.fem.springs import SpringSet, spring_forces, spring_matrices
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.generate import box
from spinesim.mesh.mesh import CellBlock, Mesh
from spinesim.model import soft_tissue as st

E = 1000.0  # MPa, the blocks' modulus
RTOL = 1e-10  # closed forms hold to round-off on these meshes


def _rollers(mesh: Mesh, bottom: np.ndarray) -> list[Support]:
    """Uniaxial-stress supports: bottom face in z, the x = 0 and y = 0 faces in x and y."""
    p = mesh.points
    return [Support(bottom, (2,), name="bottom"), Support(np.flatnonzero(p[:, 0] == 0), (0,)),
            Support(np.flatnonzero(p[:, 1] == 0), (1,))]


def _below(points: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Pairs (lower node, upper node) with the same x, y."""
    key = lambda n: np.round(points[n, :2], 9).tolist()
    lo = {tuple(k): n for k, n in zip(key(lower), lower)}
    return np.array([[lo[tuple(k)], n] for k, n in zip(key(upper), upper)])


def _column(L: float = 2.0, nz: int = 2):
    """A 1 x 1 x L mm hex8 column on rollers with its top and bottom corner nodes paired."""
    mesh = box((1, 1, L), (1, 1, nz), "hexahedron")
    bot, top = mesh.node_sets["zmin"], mesh.node_sets["zmax"]
    return mesh, _below(mesh.points, top, bot), top, E * 1.0 / L


def _model(mesh, sets, supports, solver="direct"):
    return LinearElasticModel(mesh, E, 0.3, supports=supports, solver=solver,
                              element_sets=[s.element_set(mesh.n_nodes) for s in sets])


def _top_force(mesh, top, F):
    f = np.zeros((mesh.n_nodes, 3))
    f[top, 2] = F / len(top)
    return f


def test_spring_matrix_is_k_nn_blocks_and_forces_follow_elongation():
    n = np.array([[3.0, 0.0, 4.0]]) / 5.0
    K = spring_matrices(n * 5.0, [2.0])[0]
    nn = 2.0 * np.outer(n[0], n[0])
    assert np.allclose(K, np.block([[nn, -nn], [-nn, nn]]), atol=1e-15)
    s = SpringSet("s", [[0, 1]], n, [[2.0, 6.0]], breaks_mm=[[0.5]], slack_mm=0.1)
    delta = np.array([-1.0, 0.1, 0.3, 1.1])
    s4 = SpringSet("s", np.zeros((4, 2), int), np.tile(n, (4, 1)), [[2.0, 6.0]],
                   breaks_mm=[[0.5]], slack_mm=0.1)
    # e = delta - 0.1: -1.1, 0, 0.2, 1.0 -> F = 0, 0, 0.4, 2*0.5 + 6*0.5
    assert np.allclose(s4.force(delta), [0, 0, 0.4, 4.0])
    assert np.array_equal(s4.state(delta), [-1, -1, 0, 1])
    k, c = s4.linearised(s4.state(delta))
    assert np.allclose(k * delta - c, s4.force(delta))
    assert np.allclose(s4.energy(delta), [0, 0, 0.04, 0.25 + 0.5 + 0.75])
    with pytest.raises(ValueError, match="non-decreasing"):
        SpringSet("bad", [[0, 1]], n, [[6.0, 2.0]], breaks_mm=[[0.5]])
    assert s.n == 1


def test_tension_spring_adds_its_stiffness_only_when_the_block_is_pulled():
    mesh, pairs, top, K0 = _column()
    k = 300.0  # N/mm in total, split over the four corner springs
    lig = SpringSet.between("lig", mesh.points, pairs, k / 4, kind="tension")
    model = _model(mesh, [lig], _rollers(mesh, mesh.node_sets["zmin"]))
    for F, expected in ((50.0, 50.0 / (K0 + k)), (-50.0, -50.0 / K0)):
        sol, rep = solve_active_set(model, _top_force(mesh, top, F), lig)
        assert np.allclose(sol.displacement[top, 2], expected, rtol=RTOL, atol=0)
        assert rep.converged and rep.residual < 1e-8
        assert rep.active[-1]["tension"] == (4 if F > 0 else 0)
        assert np.allclose(rep.forces["lig"], (k / 4) * max(expected, 0.0), rtol=RTOL, atol=1e-12)
        assert sol.reactions[:, 2].sum() == pytest.approx(-F, rel=1e-10)
        assert np.array_equal(sol.external, _top_force(mesh, top, F))


def test_slack_ligament_engages_past_its_slack():
    mesh, pairs, top, K0 = _column()
    k, s, F = 300.0, 0.02, 50.0
    lig = SpringSet.between("lig", mesh.points, pairs, k / 4, slack_mm=s)
    model = _model(mesh, [lig], _rollers(mesh, mesh.node_sets["zmin"]))
    sol, rep = solve_active_set(model, _top_force(mesh, top, F), lig)
    expected = (F + k * s) / (K0 + k)  # F = K0 d + k (d - s), d > s
    assert expected > s
    assert np.allclose(sol.displacement[top, 2], expected, rtol=RTOL, atol=0)
    # energy: block + springs
    assert sol.strain_energy == pytest.approx(0.5 * K0 * expected**2 + 0.5 * k * (expected - s)**2,
                                              rel=1e-10)
    sol, rep = solve_active_set(model, _top_force(mesh, top, 0.5 * K0 * s), lig)
    assert np.allclose(sol.displacement[top, 2], 0.5 * s, rtol=RTOL)  # below the slack: block only
    assert rep.active[-1]["tension"] == 0 and rep.iterations == 2


def test_gap_contact_closes_exactly_at_the_gap_then_adds_parallel_stiffness():
    """Compression-only springs beside the column: open until the shortening reaches the gap,
    then F = K0 |d| + k (|d| - g)."""
    mesh, pairs, top, K0 = _column()
    k, g = 2000.0, 0.01
    gap = SpringSet("gap", pairs, [0, 0, 1.0], k / 4, kind="compression", slack_mm=g)
    model = _model(mesh, [gap], _rollers(mesh, mesh.node_sets["zmin"]))
    F_close = K0 * g
    for F, expected, closed in ((0.5 * F_close, -0.5 * g, 0), (F_close, -g, 0),
                                (3 * F_close, -(3 * F_close + k * g) / (K0 + k), 4)):
        sol, rep = solve_active_set(model, _top_force(mesh, top, -F), gap)
        assert np.allclose(sol.displacement[top, 2], expected, rtol=RTOL, atol=0)
        assert rep.active[-1]["compression"] == closed and rep.residual < 1e-8
    # post-contact stiffness from two loads beyond closure
    d = [solve_active_set(model, _top_force(mesh, top, -F), gap)[0].displacement[top[0], 2]
         for F in (2 * F_close, 4 * F_close)]
    assert 2 * F_close / (d[0] - d[1]) == pytest.approx(K0 + k, rel=1e-10)
    assert np.all(rep.forces["gap"] < 0)  # contact forces are compressive


def _two_blocks(LA: float = 2.0, LB: float = 2.0, gap: float = 0.05, n: int = 1, nz: int = 2):
    """Block A (z in [0, LA]) under block B (z in [LA + gap, LA + gap + LB]), 1 x 1 mm, with
    their facing nodes paired (A's top node, B's bottom node)."""
    a, b = box((1, 1, LA), (n, n, nz), "hexahedron"), \
        box((1, 1, LB), (n, n, nz), "hexahedron", origin=(0, 0, LA + gap))
    mesh = Mesh(np.vstack([a.points, b.points]),
                (CellBlock("hexahedron", np.vstack([a.blocks[0].cells,
                                                    b.blocks[0].cells + a.n_nodes]), 1),),
                {1: "solid"})
    pairs = _below(mesh.points, b.node_sets["zmin"] + a.n_nodes, a.node_sets["zmax"])
    return mesh, pairs, a.node_sets["zmin"], b.node_sets["zmax"] + a.n_nodes


def _pressed(mesh, pairs, bottom, top, k_c, g, w, tilt=0.0):
    """Contact springs of total stiffness k_c; B's top moved down by w (and tilted about y)."""
    share = np.ones(len(pairs)) / len(pairs)
    contact = SpringSet("contact", pairs, [0, 0, 1.0], k_c * share, kind="compression",
                        slack_mm=g)
    uz = -w + tilt * (mesh.points[top, 0] - 0.5)
    sup = _rollers(mesh, bottom) + [Support(top, (2,), value=uz[:, None], name="press")]
    model = _model(mesh, [contact], sup)
    sol, rep = solve_active_set(model, None, contact)
    return sol, rep, contact


def test_contact_between_two_blocks_has_the_series_stiffness():
    LA, LB, g = 2.0, 1.0, 0.05
    mesh, pairs, bottom, top = _two_blocks(LA, LB, g)
    k_c = 800.0
    flex = LA / E + LB / E + 1 / k_c  # series: block A, contact, block B (unit area)
    for w in (0.5 * g, g, 3 * g):
        sol, rep, _ = _pressed(mesh, pairs, bottom, top, k_c, g, w)
        F = sol.reactions[bottom, 2].sum()
        assert F == pytest.approx(max(w - g, 0.0) / flex, rel=1e-10, abs=1e-10)
        assert rep.residual < 1e-8
    assert rep.active[-1]["compression"] == 4 and rep.iterations <= 3


def test_contact_results_are_insensitive_to_the_penalty_factor():
    """Penalty from contact_penalty (factor x the adjacent element's E A / h): against the
    impenetrable limit the force error is (h / factor) / (LA + LB), below 1/factor."""
    LA, LB, g, w, nz = 2.0, 2.0, 0.02, 0.1, 2
    mesh, pairs, bottom, top = _two_blocks(LA, LB, g, nz=nz)
    F_rigid = (w - g) / (LA / E + LB / E)
    errors = {}
    for factor in (10.0, 100.0, 1000.0):
        k_c = len(pairs) * st.contact_penalty(E, 1.0 / len(pairs), LA / nz, factor)
        sol, _rep, _ = _pressed(mesh, pairs, bottom, top, k_c, g, w)
        errors[factor] = abs(sol.reactions[bottom, 2].sum() / F_rigid - 1)
        x = (LA / nz / factor) / (LA + LB)  # penalty compliance over the blocks' compliance
        assert errors[factor] == pytest.approx(x / (1 + x), rel=1e-8)
        assert errors[factor] < 1 / factor
    record("contact penalty (uniaxial, vs impenetrable): relative force error "
           + ", ".join(f"factor {f:g}: {e:.2e}" for f, e in errors.items()))


def test_tilted_contact_opens_on_one_side_and_is_penalty_insensitive():
    """Two clamped blocks, B's top pressed down and tilted: the contact closes under one side
    only. The reaction force and moment change little from penalty factor 100 to 1000."""
    LA, LB, g, nz, n = 2.0, 2.0, 0.01, 2, 4
    mesh, pairs, bottom, top = _two_blocks(LA, LB, g, n=n, nz=nz)
    area = np.full(len(pairs), 1.0 / n**2)
    x = mesh.points[pairs[:, 0], 0]
    area[(x == 0) | (x == 1)] /= 2  # tributary areas of a uniform grid
    y = mesh.points[pairs[:, 0], 1]
    area[(y == 0) | (y == 1)] /= 2
    out = {}
    for factor in (100.0, 1000.0):
        k = st.contact_penalty(E, area, LA / nz, factor)
        contact = SpringSet("contact", pairs, [0, 0, 1.0], k, kind="compression", slack_mm=g)
        uz = -0.05 + 0.1 * (mesh.points[top, 0] - 0.5)  # B's top pushed down at x = 0 only
        u_top = np.stack([0 * uz, 0 * uz, uz], axis=1)
        sup = [Support(bottom, name="clamped"), Support(top, value=u_top, name="pressed")]
        model = _model(mesh, [contact], sup)
        sol, rep = solve_active_set(model, None, contact)
        Rz = sol.reactions[bottom, 2]
        out[factor] = (Rz.sum(), (Rz * mesh.points[bottom, 0]).sum(), rep)
        closed = rep.states["contact"] >= 0
        assert 0 < closed.sum() < len(pairs) and x[closed].max() < x[~closed].min()
        assert rep.residual < 1e-8 and rep.iterations <= 6
    (F1, M1, r1), (F2, M2, r2) = out[100.0], out[1000.0]
    assert abs(F1 / F2 - 1) < 5e-3 and abs(M1 / M2 - 1) < 5e-3  # stated: within 1/factor / 2
    record(f"tilted contact, penalty factor 100 vs 1000: force {abs(F1 / F2 - 1):.2e}, "
           f"moment {abs(M1 / M2 - 1):.2e} relative; iterations {r1.iterations}, "
           f"{r2.iterations}; closed {r1.active[-1]['compression']} of {len(pairs)}")


def _bundle(slacks):
    """Fibres recruited one after the other: four corner springs per slack value."""
    mesh, pairs, top, K0 = _column()
    n = len(slacks)
    k = np.linspace(100.0, 400.0, n)  # N/mm per fibre group
    fib = SpringSet.between("fibres", mesh.points, np.tile(pairs, (n, 1)),
                            np.repeat(k / 4, len(pairs)), slack_mm=np.repeat(slacks, len(pairs)))
    return mesh, top, K0, k, fib


def _bundle_closed_form(F, K0, k, slacks):
    """F = K0 d + sum_{s_i < d} k_i (d - s_i): the piecewise-linear root, scanning segments."""
    order = np.argsort(slacks)
    for m in range(len(slacks) + 1):
        on = order[:m]
        d = (F + np.sum(k[on] * slacks[on])) / (K0 + np.sum(k[on]))
        lo = slacks[order[m - 1]] if m else -np.inf
        hi = slacks[order[m]] if m < len(slacks) else np.inf
        if lo <= d <= hi:
            return d
    raise AssertionError("no root")


def test_recruited_fibre_bundle_converges_in_few_iterations():
    slacks = np.array([0.0, 0.01, 0.02, 0.04, 0.08, 0.16])
    mesh, top, K0, k, fib = _bundle(slacks)
    model = _model(mesh, [fib], _rollers(mesh, mesh.node_sets["zmin"]))
    F = 30.0
    sol, rep = solve_active_set(model, _top_force(mesh, top, F), fib)
    d = _bundle_closed_form(F, K0, k, slacks)
    assert np.allclose(sol.displacement[top, 2], d, rtol=RTOL)
    engaged = 4 * int(np.sum(slacks < d))
    assert 0 < engaged < 4 * len(slacks)
    assert rep.converged and rep.iterations <= 5 and rep.switches[-1] == 0
    assert rep.active[0]["tension"] == 4 * len(slacks) and rep.active[-1]["tension"] == engaged
    assert rep.residual < 1e-8 and not rep.damped
    assert "converged in" in rep.summary()
    assert np.allclose(spring_forces(fib, sol), rep.forces["fibres"])
    record(f"fibre bundle (24 springs, 6 slacks): {rep.summary()}")


def test_pattern_is_built_once_and_the_solver_refactors_per_changed_set():
    slacks = np.array([0.0, 0.01, 0.02, 0.04, 0.08, 0.16])
    mesh, top, _K0, _k, fib = _bundle(slacks)
    model = _model(mesh, [fib], _rollers(mesh, mesh.node_sets["zmin"]))
    K = model.system.matrix
    ids = (id(K), id(K.indices), id(K.indptr), id(model.constraints.reduce_matrix(K).indices))
    _sol, rep = solve_active_set(model, _top_force(mesh, top, 30.0), fib)
    K2 = model.system.matrix
    assert (id(K2), id(K2.indices), id(K2.indptr),
            id(model.constraints.reduce_matrix(K2).indices)) == ids
    assert rep.pattern_reused
    assert rep.factorizations == rep.iterations  # one refill + refactor per active set


def test_amg_keeps_its_hierarchy_across_active_set_iterations():
    slacks = np.array([0.0, 0.01, 0.02, 0.04, 0.08, 0.16])
    mesh, top, K0, k, fib = _bundle(slacks)
    model = _model(mesh, [fib], _rollers(mesh, mesh.node_sets["zmin"]), solver="amg")
    sol, rep = solve_active_set(model, _top_force(mesh, top, 30.0), fib,
                                reuse_preconditioner=True)
    d = _bundle_closed_form(30.0, K0, k, slacks)
    assert np.allclose(sol.displacement[top, 2], d, rtol=1e-6)
    assert rep.iterations > 1 and rep.factorizations == 1 and rep.residual < 1e-6


def test_bilinear_ligament_law_is_solved_exactly_by_newton_on_the_segments():
    mesh, pairs, top, K0 = _column()
    lig = st.ligament_springs("LF", mesh.points, pairs, prestrain=0.0)
    model = _model(mesh, [lig], _rollers(mesh, mesh.node_sets["zmin"]))
    L = 2.0
    lf = st.LIGAMENTS["LF"]
    k1, k2 = lf.E_small_mpa * lf.area_mm2 / L, lf.E_large_mpa * lf.area_mm2 / L
    dt = lf.transition_strain * L
    F = (K0 + k1) * dt * 3  # well past the transition
    sol, rep = solve_active_set(model, _top_force(mesh, top, F), lig)
    d = (F + (k2 - k1) * dt) / (K0 + k2)  # F = K0 d + k1 dt + k2 (d - dt)
    assert d > dt
    assert np.allclose(sol.displacement[top, 2], d, rtol=RTOL)
    assert np.all(rep.states["LF"] == 1) and rep.iterations == 2 and rep.residual < 1e-8
    assert rep.forces["LF"].sum() == pytest.approx(k1 * dt + k2 * (d - dt), rel=1e-10)


def test_prestrained_ligament_pulls_the_unloaded_block():
    mesh, pairs, top, K0 = _column()
    lig = st.ligament_springs("ISL", mesh.points, pairs, prestrain=0.05, law="k_measured")
    model = _model(mesh, [lig], _rollers(mesh, mesh.node_sets["zmin"]))
    sol, rep = solve_active_set(model, None, lig)
    k, s = st.LIGAMENTS["ISL"].k_measured_n_per_mm, -0.05 * 2.0
    d = k * s / (K0 + k)  # K0 d + k (d - s) = 0, shortening
    assert d < 0 and np.allclose(sol.displacement[top, 2], d, rtol=RTOL)
    assert rep.forces["ISL"].sum() == pytest.approx(-K0 * d, rel=1e-10)


def test_non_convergence_raises_a_solver_error_that_names_the_switching_springs():
    slacks = np.array([0.0, 0.01, 0.02, 0.04, 0.08, 0.16])
    mesh, top, _K0, _k, fib = _bundle(slacks)
    model = _model(mesh, [fib], _rollers(mesh, mesh.node_sets["zmin"]))
    with pytest.raises(SolverError, match=r"did not converge in max_iter=1") as info:
        solve_active_set(model, _top_force(mesh, top, 30.0), fib, max_iter=1)
    msg = str(info.value)
    assert "springs still switched in the last iteration" in msg and "'fibres'" in msg
    assert "nodes" in msg and " mm" in msg
    assert info.value.report.iterations == 1 and not info.value.report.converged


def test_a_part_held_only_by_open_contacts_gives_a_clear_error():
    mesh, pairs, bottom, top = _two_blocks()
    contact = SpringSet("contact", pairs, [0, 0, 1.0], 100.0, kind="compression", slack_mm=0.0)
    p = mesh.points
    sup = [Support(bottom, (2,)), Support(np.flatnonzero(p[:, 0] == 0), (0,)),
           Support(np.flatnonzero(p[:, 1] == 0), (1,))]
    engaged = np.zeros(len(pairs), int)
    # the model factorizes at construction: give it the engaged contacts' values
    model = LinearElasticModel(mesh, E, 0.3, supports=sup, solver="direct",
                               element_sets=[contact.element_set(mesh.n_nodes)],
                               element_values={"contact": contact.matrices_for(engaged)})
    f = _top_force(mesh, top, -10.0)
    with pytest.raises(SolverError, match="start with its springs engaged"):
        solve_active_set(model, f, contact)  # default start: contacts open
    sol, rep = solve_active_set(model, f, contact, initial={"contact": engaged})
    assert rep.converged and sol.reactions[bottom, 2].sum() == pytest.approx(10.0, rel=1e-10)


def test_cycling_active_set_is_caught_and_damped():
    """Two free corners of a soft cube held by six stiff one-sided springs of skew directions
    (found by a seeded random search): plain active-set steps return to an earlier set and
    cycle; the energy line search ends it at the exact equilibrium."""
    mesh = box((1, 1, 1), (1, 1, 1), "hexahedron")
    free = [3, 5]
    walls = SpringSet(
        "walls", np.c_[[4, 1, 0, 0, 2, 1], [3, 5, 3, 3, 3, 3]],
        [[1.410529, -0.899427, -0.575460], [0.937669, 0.223612, 0.766953],
         [1.285012, -0.789263, -0.032334], [0.473939, 0.166901, -0.289202],
         [-0.101148, -0.710828, 0.532016], [-0.379882, -0.298370, -1.160590]],
        [5573.32, 618.462, 6697.82, 4305.82, 677.876, 42.3287],
        kind=["compression", "compression", "tension", "tension", "tension", "tension"],
        slack_mm=[0.00672621, -0.00113024, -0.00483784, 0.00735104, -0.00426622, 0.00371876])
    model = LinearElasticModel(mesh, 100.0, 0.3, supports=[Support(np.setdiff1d(range(8), free))],
                               solver="direct", element_sets=[walls.element_set(8)])
    f = np.zeros((8, 3))
    f[free] = [[-2.017596, -2.484469, 1.863205], [5.048350, -8.496757, 8.354698]]
    with pytest.raises(SolverError, match="switched more than once"):
        solve_active_set(model, f, walls, cycle_guard=False)
    _sol, rep = solve_active_set(model, f, walls)
    assert rep.converged and rep.damped and min(rep.steps) < 1.0 and rep.residual < 1e-8
    F = rep.forces["walls"]
    assert np.all(F[walls.kind == "tension"] >= 0) and np.all(F[walls.kind == "compression"] <= 0)
    assert np.array_equal(rep.states["walls"] >= 0, F != 0)
    record(f"cycling case: {rep.summary()}; steps {[round(a, 3) for a in rep.steps]}")


# ------------------------------------------------------------------------- parameter tables
def test_ligament_table_is_the_reference_bilinear_and_stiffness_sets():
    expected = {  # E small, transition, E large, area, length, failure, k E·A/L, k measured
        "ALL": (7.8, 0.12, 20.0, 63.7, 13.0, 510.0, 8.74, 33.0),
        "PLL": (10.0, 0.11, 20.0, 20.0, 11.0, 384.0, 5.83, 20.4),
        "LF": (15.0, 0.062, 19.5, 40.0, 19.0, 340.0, 15.38, 27.2),
        "CL": (7.5, 0.25, 32.9, 30.0, None, None, None, 33.9),
        "ITL": (10.0, 0.18, 58.7, 1.8, 22.0, 70.0, 0.19, None),
        "ISL": (10.0, 0.14, 11.6, 40.0, 13.0, 130.0, 10.85, 11.5),
        "SSL": (8.0, 0.20, 15.0, 30.0, 11.0, 200.0, 2.39, 23.7),
    }
    assert set(st.LIGAMENTS) == set(expected)
    for name, v in expected.items():
        lg = st.ligament(name.lower())
        assert (lg.E_small_mpa, lg.transition_strain, lg.E_large_mpa, lg.area_mm2, lg.length_mm,
                lg.failure_load_n, lg.k_model_n_per_mm, lg.k_measured_n_per_mm) == v
        assert "BMC Musculoskelet Disord 14:220 (2013)" in lg.source and "Pintar" in lg.source
    assert st.LIGAMENTS["PLL"].E_large_range_mpa == (20.0, 50.0)
    assert st.LIGAMENTS["LF"].area_range_mm2 == (40.0, 67.0)
    assert st.LIGAMENTS["PLL"].with_values(E_large_mpa=50.0).E_large_mpa == 50.0
    with pytest.raises(MaterialError, match="outside the sourced range"):
        st.LIGAMENTS["ALL"].with_values(area_mm2=80.0)
    with pytest.raises(MaterialError, match="allowed"):
        st.ligament("XYZ")
    with pytest.raises(TypeError):  # pre-strain is not sourced: no default
        st.ligament_springs("ALL", np.eye(3), [[0, 1]])  # type: ignore[call-arg]


def test_bilinear_ligament_springs_split_E_A_over_L():
    pts = np.array([[0, 0, 0], [0, 0, 13.0], [1, 0, 0], [1, 0, 13.0]])
    s = st.ligament_springs("ALL", pts, [[0, 1], [2, 3]], prestrain=0.0)
    assert np.allclose(s.stiffness, [[7.8 * 63.7 / 2 / 13, 20 * 63.7 / 2 / 13]] * 2)
    assert np.allclose(s.breaks_mm, 0.12 * 13) and np.all(s.kind == "tension")
    assert np.allclose(st.ligament_springs("PLL", pts, [[0, 1]], prestrain=0.0,
                                           law="k_model").stiffness, 5.83)
    with pytest.raises(MaterialError, match="no k_model"):
        st.ligament_springs("CL", pts, [[0, 1]], prestrain=0.0, law="k_model")


def test_annulus_fibres_are_graded_and_at_thirty_degrees():
    assert [(g.E_mpa, g.area_mm2) for g in st.ANNULUS_FIBRE_LAYERS] == \
        [(550.0, 0.50), (495.0, 0.39), (413.0, 0.31), (358.0, 0.24)]
    assert st.ANNULUS_FIBRE_MODULI_FIVE_LAYER_MPA == (360.0, 408.0, 455.0, 503.0, 550.0)
    d = st.fibre_directions([[1.0, 0, 0], [1.0, 0, 0]], [0, 0, 1.0], [1, -1])
    assert np.allclose(np.degrees(np.arcsin(d[:, 2])), [30.0, -30.0])
    with pytest.raises(MaterialError):
        st.fibre_directions([[1.0, 0, 0]], [0, 0, 1.0], [1], angle_deg=45.0)
    pts = np.array([[0, 0, 0], [2.0, 0, 0]])
    s = st.annulus_fibre_springs("af", pts, [[0, 1], [0, 1]], [1, 8], prestrain=0.0,
                                 fibres_per_spring=1.0)
    assert np.allclose(s.stiffness[:, 0], [550 * 0.5 / 2, 358 * 0.24 / 2])


def test_facet_contact_parameters():
    cart = st.facet_cartilage()
    assert cart.E_mpa == 24.0 and cart.E_range_mpa == (10.0, 35.0)
    assert st.contact_penalty(24.0, 0.5, 1.0, factor=100.0) == pytest.approx(1200.0)
    s = st.facet_contact_springs("left", [[0, 1]], [0, 1.0, 0], gap_mm=0.5,
                                 stiffness_n_per_mm=1200.0)
    assert s.kind[0] == "compression" and s.slack_mm[0] == 0.5
    with pytest.raises(TypeError):  # the initial gap is not sourced: no default
        st.facet_contact_springs("left", [[0, 1]], [0, 1.0, 0],  # type: ignore[call-arg]
                                 stiffness_n_per_mm=1.0)
