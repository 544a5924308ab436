"""Low-rank (Woodbury) updates of a factorization by switched springs, and the shared first
active-set iteration: both must give the solutions of refactorizing, to round-off."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from conftest import record
from test_soft_tissue import E, _bundle_closed_form, _model, _rollers, _top_force
from test_soft_tissue import _bundle as fibre_bundle

from spinesim.fem import low_rank
from spinesim.fem.active_set import first_states, solve_active_set
from spinesim.fem.low_rank import SpringUpdate

SLACKS = np.array([0.0, 0.01, 0.02, 0.04, 0.08, 0.16])  # mm, one group of 4 fibres each


def _bundle():
    """A 1 x 1 x 2 mm hex8 column on rollers with fibre groups recruited one after the other
    (four corner springs per slack; tests/test_soft_tissue.py), direct solver."""
    mesh, top, K0, k, fib = fibre_bundle(SLACKS)
    return _model(mesh, [fib], _rollers(mesh, mesh.node_sets["zmin"])), fib, top, K0, k


def _pull(model, top, F):
    return _top_force(model.mesh, top, F)


def _closed_form(F, K0, k):
    """F = K0 d + sum_{s_i < d} k_i (d - s_i)."""
    return _bundle_closed_form(F, K0, k, SLACKS)


def test_the_update_solves_springs_switched_off_and_stiffened_exactly():
    model, fib, _top, _K0, _k = _bundle()
    k_all = fib.stiffness[:, 0].copy()
    model.set_elements(fibres=fib.matrices(k_all))
    model.solve()  # factorized with every fibre engaged
    up = SpringUpdate(model, [fib])
    up.set_factored(k_all)
    k_new = k_all.copy()
    k_new[::2] = 0.0       # half of them switched off: the update is indefinite
    k_new[1::4] *= 3.0     # some stiffer
    model.set_elements(fibres=fib.matrices(k_new))
    A = model.reduced_matrix()
    B = np.random.default_rng(1).normal(size=(A.shape[0], 3))
    X = up.solve(k_new, B, A, model._solver_obj)
    assert X is not None
    assert np.allclose(X, spla.spsolve(A.tocsc(), B), rtol=1e-10, atol=1e-14)
    assert len(up.changed(k_new)) == 18
    up.set_factored(None)  # unknown factorized state: no update
    assert up.solve(k_new, B, A, model._solver_obj) is None


def test_the_active_set_on_updates_matches_the_closed_form_without_a_factorization():
    model, fib, top, K0, k = _bundle()
    F = 30.0
    sol, rep = solve_active_set(model, _pull(model, top, F), fib, reuse_preconditioner=True)
    assert np.allclose(sol.displacement[top, 2], _closed_form(F, K0, k), rtol=1e-10)
    # factorized once, springless, when the solve began; every iteration an update of that
    assert rep.factorizations == 0 and rep.low_rank_solves == rep.iterations > 1
    assert rep.residual < 1e-8 and "low-rank" in rep.summary()
    plain, rep0 = solve_active_set(_bundle()[0], _pull(model, top, F), fib)
    assert rep0.factorizations == rep0.iterations and rep0.low_rank_solves == 0
    assert np.allclose(sol.displacement, plain.displacement, rtol=1e-10, atol=1e-14)
    assert sol.strain_energy == pytest.approx(plain.strain_energy, rel=1e-10)
    assert np.allclose(sol.reactions, plain.reactions, rtol=1e-8, atol=1e-9)


def test_a_solve_from_the_last_states_reuses_the_update_across_calls():
    model, fib, top, K0, k = _bundle()
    _sol, rep = solve_active_set(model, _pull(model, top, 30.0), fib, reuse_preconditioner=True)
    sol, rep2 = solve_active_set(model, _pull(model, top, 30.0), fib, initial=rep.states,
                                 reuse_preconditioner=True)
    assert rep2.iterations == 1 and rep2.factorizations == 0 and rep2.low_rank_solves == 1
    assert np.allclose(sol.displacement[top, 2], _closed_form(30.0, K0, k), rtol=1e-10)


def test_new_moduli_between_solves_are_factorized_not_updated():
    """A refill of the block's modulus is no spring change: the kept update must not be used
    with the old factors."""
    model, fib, top, K0, k = _bundle()
    solve_active_set(model, _pull(model, top, 30.0), fib, reuse_preconditioner=True)
    n0 = model._solver_obj.info.n_setups
    model.update(E=2 * E, nu=0.3)
    sol, rep = solve_active_set(model, _pull(model, top, 30.0), fib, reuse_preconditioner=True)
    # the new moduli factorized once, as the solve began; the springs updated on top of that
    assert model._solver_obj.info.n_setups == n0 + 1
    assert rep.low_rank_solves == rep.iterations
    assert np.allclose(sol.displacement[top, 2], _closed_form(30.0, 2 * K0, k), rtol=1e-10)


def test_more_changed_springs_than_the_limit_refactorize(monkeypatch):
    monkeypatch.setattr(low_rank, "LOW_RANK_MAX_SPRINGS", 2)
    model, fib, top, K0, k = _bundle()
    sol, rep = solve_active_set(model, _pull(model, top, 30.0), fib, reuse_preconditioner=True)
    assert rep.factorizations >= 1 and rep.low_rank_solves < rep.iterations
    assert np.allclose(sol.displacement[top, 2], _closed_form(30.0, K0, k), rtol=1e-10)


def test_intact_segment_updates_and_shared_first_iteration_match_refactorizing():
    """The intact L4-L5 (ligaments, annulus fibres, facet contact) under two protocol cases:
    solve_rom (one solve for both first iterations, then updates where few springs switch)
    against one plain active set per case that refactorizes every iteration."""
    from spinesim.model.loadcases import load_case
    from spinesim.model.segment import SegmentOptions, build_segment, case_loads, solve_rom

    seg = build_segment(SegmentOptions(construct="intact", resolution=0.3))
    cases = [load_case("flexion"), load_case("axial_rotation_left")]
    starts = first_states(seg.model, [case_loads(seg, c) for c in cases], list(seg.springs))
    fast = solve_rom(seg, cases)
    for c, start in zip(cases, starts):
        ref_seg = build_segment(SegmentOptions(construct="intact", resolution=0.3))
        ref, rep = solve_active_set(ref_seg.model, {"node_loads": case_loads(ref_seg, c)},
                                    list(ref_seg.springs))
        assert fast[c.name].rotation_rad == pytest.approx(ref.node_dofs[-1, 3:], rel=1e-7)
        assert fast[c.name].iterations == rep.iterations
        # the shared first iteration ends where the case's own first iteration did
        n_on = sum(int(np.sum(v >= 0)) for v in start.values())
        assert n_on == rep.active[1]["tension"] + rep.active[1]["compression"]
    record("intact L4-L5 (resolution 0.3), low-rank active set: " + ", ".join(
        f"{n} {r.rom_deg:.4f} deg in {r.iterations} iterations" for n, r in fast.items()))


def test_springs_at_their_switch_point_end_at_the_exact_solution():
    """Pulled to exactly a fibre group's slack (and one or a few ulps either side), the group
    sits at its switch point: both of its sets have the same solution to round-off, and the
    iteration may alternate between them. Every run must end at the exact displacement, with
    or without low-rank updates; where the damped steps alternate, the stall is accepted by
    the spring laws' residual (a step that no longer moves the iterate counts as stalled:
    with exact solves the line search's step length is then round-off)."""
    runs = stalled = 0
    for i in range(1, len(SLACKS)):
        for ulps in (0, 1, -1, 5, -5):
            model, fib, top, K0, k = _bundle()
            F = (K0 * SLACKS[i] + np.sum(k[:i] * (SLACKS[i] - SLACKS[:i]))) \
                * (1.0 + ulps * np.finfo(float).eps)
            for reuse in (False, True):
                model = _bundle()[0]
                sol, rep = solve_active_set(model, _pull(model, top, F), fib,
                                            reuse_preconditioner=reuse)
                assert rep.converged and rep.residual < 1e-12
                assert np.allclose(sol.displacement[top, 2], _closed_form(F, K0, k),
                                   rtol=1e-12)
                runs += 1
                stalled += rep.stalled
    record(f"fibre bundle at a switch point: {runs} runs end at the exact solution, "
           f"{stalled} of them accepted as stalled")
