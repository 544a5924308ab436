"""Nonlinear statics with one-sided springs (tension-only ligaments and fibres, compression-only
facet contact) by an active-set iteration on the linear machinery.

Each iteration fixes every spring's law segment (disengaged, or segment m of a piecewise-linear
law, see ``spinesim.fem.springs``), refills the springs' element values in the model's fixed
pattern (disengaged springs get zero stiffness), moves the segments' offset forces to the
right-hand side, solves the linear system and reads the new segments off the solution's spring
elongations. It stops when no spring changes segment: the solution then satisfies the one-sided
laws exactly (up to the linear solver's tolerance). For a bilinear law this is Newton's method
on the tangent stiffness, which is exact on each segment.

Cycling guard: plain active-set steps can revisit a set of segments (e.g. two springs switching
each other on and off). When a set repeats, the iteration switches to damped steps: from the
current displacement ``u_k`` towards the new solution ``u_N`` it takes the step ``alpha`` that
minimises the total potential energy along the line (exactly, by bisection on its derivative).
With convex spring laws (non-decreasing segment stiffness, enforced by ``SpringSet``) the energy
is convex, every such step descends, and the iteration converges to the unique equilibrium.
At the equilibrium a spring may sit at its switch point (force about zero on both sides) and
flip between two sets that both solve the problem: the damped step then falls to round-off
(:data:`STALLED_STEP`), and the solution is accepted when it meets the spring laws to
:data:`STALLED_RESIDUAL` (``ActiveSetReport.stalled``).

Solver reuse: the pattern and the constraint reduction map are never rebuilt, and a set whose
stiffnesses did not change is not refilled. Direct and PARDISO solvers refactor when spring
values change (``LinearElasticModel.set_elements``). With AMG, ``reuse_preconditioner=True``
keeps the first iteration's hierarchy as preconditioner for the later ones (CG stays exact)
and rebuilds it only when the CG iteration count more than doubles. Measured (2 cores, two
clamped blocks in tilted contact, 15.6k DOFs, 289 contact springs, 3 iterations): PARDISO
1.4 s (0.44 s per refactor), SuperLU 5.9 s, AMG-CG rebuilding every iteration 1.1 s (CG
25/59/35 iterations), AMG keeping the hierarchy 2.5 s (CG 25/128/35: the first set, all
contacts open, preconditions the closed contact poorly). Rebuilding is therefore the
default; keeping pays off when few springs switch per iteration relative to the hierarchy's
set-up cost (large models, warm starts from ``report.states``).

With a direct or PARDISO solver, ``reuse_preconditioner=True`` instead solves a state that
differs from the factorized one in at most :data:`~spinesim.fem.low_rank.LOW_RANK_MAX_SPRINGS`
springs by a low-rank (Woodbury) update of that factorization (:mod:`spinesim.fem.low_rank`:
exact, checked by its residual). The factorized state is remembered
per model across calls, so a solve that starts from an earlier one's ``report.states``
(the timeline's weekly cases) may need no factorization at all; any other refill of the model
(new moduli, other element sets) voids it. :func:`first_states` solves the first iteration of
several load cases, which all start from the default state, in one multi-right-hand-side
solve. On the intact L4-L5 at resolution 1.0 (95k DOFs, 5,563 springs, PARDISO, this
project's 2-core VM) the intact reference of ``spinesim run`` (the default scenario's four
protocol cases and three activity peaks) took 103 s with both against 184 s before (README,
"Lumbar segment models"); against refactorizing every iteration the rotations agree to
round-off (``tests/test_low_rank.py``).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SolverError
from spinesim.fem.low_rank import SpringUpdate
from spinesim.fem.springs import KINDS, SpringSet, node_translations
from spinesim.fem.static import LinearElasticModel, StaticSolution

if TYPE_CHECKING:
    from spinesim.fem.condense import CondensedModel

log = logging.getLogger(__name__)

_LOAD_KEYS = ("forces", "node_loads", "support_values")
#: A damped step shorter than this makes no progress: the energy no longer decreases along
#: the Newton direction of the current set, i.e. the iterate is at the minimum up to round-off
#: and only springs sitting at a switch point (force about zero on both sides) flip back and
#: forth between the sets.
STALLED_STEP = 1e-12
#: Nor does a step between iterates that differ by less than this, relative to the
#: displacement: the line search then measures round-off, and its step length is arbitrary
#: (springs at their switch point, both sets' solutions the same to round-off: a fibre
#: bundle loaded to exactly a fibre's slack alternated between steps of 1 and 0.76 for 50
#: solves with exact low-rank solves, ``tests/test_low_rank.py``).
STALLED_MOVE = 1e-9
#: Such a stalled iteration is accepted as converged when the solution of the current set
#: satisfies the spring laws themselves to this relative residual (``ActiveSetReport.residual``).
#: Measured on the intact L4-L5 (resolution 0.3): converged contact cases end at 0.9-3.3e-6,
#: a lateral bend with a 25 mm disc stalls at 4.1e-6 (before: "did not converge" after 50
#: solves).
STALLED_RESIDUAL = 1e-5


@dataclass(frozen=True, eq=False)
class ActiveSetReport:
    """How an active-set solve went.

    Attributes
    ----------
    converged : bool
    iterations : int
        Linear solves done.
    active : tuple of dict
        Per iteration, the engaged springs of the segments solved for: totals per kind
        (``"tension"``, ``"compression"``) and per spring set (by set name).
    switches : tuple of int
        Per iteration, the springs whose segment changed after the solve (0 at convergence).
    steps : tuple of float
        Per iteration, the step length taken (1 for a plain active-set step; < 1 when damped).
    damped : bool
        Whether the cycling guard switched to damped steps.
    low_rank_solves : int
        Solves done by a low-rank update of an older factorization instead of a new one
        (:mod:`spinesim.fem.low_rank`; factored solvers with ``reuse_preconditioner``).
    stalled : bool
        Whether the damped steps stalled (:data:`STALLED_STEP`) at a solution accepted by its
        residual (:data:`STALLED_RESIDUAL`); its last ``switches`` entry counts the springs
        that still flip at their switch points.
    residual : float
        Relative equilibrium residual of the returned solution, computed with the spring laws
        themselves: ``||T^T (f_int(u) - f_ext)|| / max(||f_ext||, ||f_int(u) - f_ext||,
        1e-6 || |K| |u| ||)`` over the free DOFs (``T``: the constraint reduction; the last
        term only matters for load-free rigid motions, where all forces are round-off).
    seconds, solve_seconds, refill_seconds : float
        Wall time in total, in linear solves, and in refilling values plus solver set-ups (s).
    factorizations : int
        Solver set-ups (factorizations or AMG hierarchies) done during the solve.
    linear_iterations : tuple of int
        CG iterations per solve (0 for direct solvers).
    pattern_reused : bool
        True if the system matrix and its index arrays are the same objects before and after.
    states : dict
        Final law segment of every spring, by set name ((n,) int, -1 disengaged).
    forces : dict
        Final axial force (n,) N of every spring (tension positive), by set name.
    """

    converged: bool
    iterations: int
    active: tuple[dict[str, int], ...]
    switches: tuple[int, ...]
    steps: tuple[float, ...]
    damped: bool
    residual: float
    seconds: float
    solve_seconds: float
    refill_seconds: float
    factorizations: int
    linear_iterations: tuple[int, ...]
    pattern_reused: bool
    states: dict = field(default_factory=dict)
    forces: dict = field(default_factory=dict)
    stalled: bool = False
    low_rank_solves: int = 0

    def summary(self) -> str:
        """One line for logs and reports."""
        counts = "; ".join(f"{k} " + "->".join(str(a[k]) for a in self.active) for k in KINDS)
        stalled = f" (stalled: {self.switches[-1]} springs at their switch point)" \
            if self.stalled else ""
        return (f"{'converged' if self.converged else 'NOT converged'} in {self.iterations} "
                f"iterations{' (damped)' if self.damped else ''}{stalled}; engaged {counts}; "
                f"residual {self.residual:.2e}; {self.seconds:.3f} s (solve "
                f"{self.solve_seconds:.3f} s, refill {self.refill_seconds:.3f} s, "
                f"{self.factorizations} set-ups"
                + (f", {self.low_rank_solves} low-rank" if self.low_rank_solves else "")
                + "); pattern "
                f"{'reused' if self.pattern_reused else 'REBUILT'}")


def _parse_loads(model: LinearElasticModel, loads) -> dict:
    if loads is None:
        d: dict = {}
    elif isinstance(loads, Mapping):
        d = dict(loads)
        bad = sorted(set(d) - set(_LOAD_KEYS))
        if bad:
            raise ValueError(f"unknown load keys {bad}; allowed: {list(_LOAD_KEYS)}")
    else:
        d = {"forces": loads}
    n, ne = model.mesh.n_nodes, model.layout.n_extra
    for key, shape in (("forces", (n, 3)), ("node_loads", (ne, 6))):
        v = np.zeros(shape) if d.get(key) is None else np.asarray(d[key], float)
        if v.shape != shape:
            raise ValueError(f"{key} must have shape {shape}, got {v.shape}")
        d[key] = v
    return d


def _check_sets(model: LinearElasticModel, sets: Sequence[SpringSet]) -> None:
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise ValueError(f"spring set names must be unique, got {names}")
    for s in sets:
        es = model.system.sets.get(s.name)
        if es is None:
            raise ValueError(f"the model has no element set {s.name!r} (sets: "
                             f"{sorted(model.system.sets)}); build it with element_sets="
                             f"[springs.element_set(layout), ...]")
        if not np.array_equal(es.dofs, s.dofs(model.layout)):
            raise ValueError(f"the model's element set {s.name!r} does not match the spring "
                             "set's node pairs (build it with springs.element_set(layout))")


def _to_internal(model: LinearElasticModel, v_user: np.ndarray) -> np.ndarray:
    out = np.empty_like(v_user)
    out[model.system.dof_rank] = v_user
    return out


def _user_vector(sol: StaticSolution) -> np.ndarray:
    return np.concatenate([sol.displacement.ravel(), np.asarray(sol.node_dofs).ravel()])


def _translations(model: LinearElasticModel, u_user: np.ndarray) -> np.ndarray:
    ns = 3 * model.mesh.n_nodes
    return np.vstack([u_user[:ns].reshape(-1, 3), u_user[ns:].reshape(-1, 6)[:, :3]])


def _system(model: LinearElasticModel, f_user: np.ndarray):
    """System matrix (current values, penalty MPCs added) and external load, internal order."""
    K, f = model.system.matrix, _to_internal(model, f_user)
    if model.constraints.penalty_mpcs:
        K, f = model.constraints.add_penalties(K, f)
    return K, f


def _line_search(model: LinearElasticModel, sets: Sequence[SpringSet], k_state: dict,
                 u_k: np.ndarray, u_n: np.ndarray, f_user: np.ndarray) -> float:
    """Step in (0, 1] minimising the potential energy on ``u_k + alpha (u_n - u_k)``.

    The matrix holds the values of the segments solved for (``k_state``); the springs' share
    is taken out so that only the spring laws themselves enter the energy."""
    K, f = _system(model, f_user)
    d = u_n - u_k
    di, ui = _to_internal(model, d), _to_internal(model, u_k)
    Kd = K @ di
    a, b = float(di @ Kd), float(Kd @ ui - f @ di)
    tk, td = _translations(model, u_k), _translations(model, d)
    parts = []
    for s in sets:
        dk, dd = s.elongation(tk), s.elongation(td)
        a -= float(np.sum(k_state[s.name] * dd * dd))
        b -= float(np.sum(k_state[s.name] * dd * dk))
        parts.append((s, dk, dd))

    def slope(alpha: float) -> float:
        return b + a * alpha + sum(float(s.force(dk + alpha * dd) @ dd) for s, dk, dd in parts)

    if slope(1.0) <= 0.0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if slope(mid) < 0.0 else (lo, mid)
    return hi


class _NoUpdate(Exception):
    """The low-rank update cannot solve this state: refactorize."""


#: Per model (weakly held): its :class:`SpringUpdate`, the model revision at the end of the
#: last active-set solve and the solver's set-up count then. While both are unchanged, the
#: model's values differ from its factorization only in the springs the update knows of.
_UPDATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _spring_update(model: LinearElasticModel, sets: Sequence[SpringSet]) -> SpringUpdate | None:
    """The low-rank updater of ``model`` for ``sets`` with its factorized spring state, or
    None for a solver without factors (AMG)."""
    from spinesim.fem.solvers import _FactoredSolver

    kept = _UPDATES.get(model)
    same = kept is not None and len(kept[0].sets) == len(sets) and \
        all(a is b for a, b in zip(kept[0].sets, sets))
    if same and kept[1] == model.revision and model._solver_obj is not None \
            and kept[2] == model._solver_obj.info.n_setups:
        return kept[0]  # refilled since only by the last solve's springs
    solver = model._solver  # sets up a pending refill
    if not isinstance(solver, _FactoredSolver):
        return None
    up = kept[0] if same else SpringUpdate(model, sets)
    # no refill pending: the factors are of the model's current values
    up.set_factored(up.values_stiffness(model))
    return up


def _low_rank_solve(model: LinearElasticModel, low: SpringUpdate, k_state: dict,
                    case: tuple) -> StaticSolution | None:
    """The solution of ``case`` ((forces, keywords of ``model.solve``)) with the springs at
    ``k_state`` by a low-rank update of the model's factorization, or None."""
    k = low.stiffness(k_state)
    A = model.reduced_matrix()

    def reduced(B: np.ndarray) -> np.ndarray:
        X = low.solve(k, B, A, model._solver_obj)
        if X is None:
            raise _NoUpdate
        return X

    try:
        return model.solve_by(reduced, case[0], **case[1])
    except _NoUpdate:
        return None


def _linearised(model: LinearElasticModel, sets: Sequence[SpringSet], state: dict
                ) -> tuple[dict, np.ndarray, np.ndarray]:
    """The springs' law segments ``state`` linearised: per set the stiffness (n,) N/mm, and
    the segments' offset forces on the mesh nodes (n_nodes, 3) N and on the 6-DOF nodes
    (n_extra, 6) N, to add to the loads."""
    lin = {s.name: s.linearised(state[s.name]) for s in sets}
    f = sum((s.nodal_forces(lin[s.name][1], model.layout) for s in sets),
            np.zeros(model.layout.n_dofs))
    ns = 3 * model.mesh.n_nodes
    return ({name: kc[0] for name, kc in lin.items()}, f[:ns].reshape(-1, 3),
            f[ns:].reshape(-1, 6))


def _refill(model: LinearElasticModel, values: dict, keep_preconditioner: bool) -> None:
    """Refill spring values; an AMG solver keeps its hierarchy with ``keep_preconditioner``
    (factored solvers take the low-rank updates of :func:`solve_active_set` instead)."""
    from spinesim.fem.solvers import AMGSolver

    solver = model._solver
    if keep_preconditioner and isinstance(solver, AMGSolver):
        K = model.system.assemble(**values)
        cs = model.constraints
        if cs.penalty_mpcs:
            K = cs.add_penalties(K, np.zeros(K.shape[0]))[0]
        solver.update(cs.reduce_matrix(K), keep_preconditioner=True)
    else:
        model.set_elements(**values)


def _equilibrium(model: LinearElasticModel, sets: Sequence[SpringSet], k_state: dict,
                 u_user: np.ndarray, f_user: np.ndarray) -> tuple[float, float]:
    """(relative residual, strain energy N·mm) of ``u`` with the spring laws themselves."""
    K, f = _system(model, f_user)
    ui = _to_internal(model, u_user)
    Ku = K @ ui
    tr = _translations(model, u_user)
    corr = np.zeros(model.layout.n_dofs)
    energy = 0.5 * float(ui @ Ku)
    for s in sets:
        delta, k = s.elongation(tr), k_state[s.name]
        corr += s.nodal_forces(s.force(delta) - k * delta, model.layout)
        energy += float(np.sum(s.energy(delta)) - 0.5 * np.sum(k * delta * delta))
    r = Ku + _to_internal(model, corr) - f
    # floor for load-free rigid motions, where forces and residual are both round-off
    floor = 1e-6 * float(np.linalg.norm(abs(K) @ np.abs(ui)))
    scale = max(float(np.linalg.norm(f)), float(np.linalg.norm(r)), floor)
    res = float(np.linalg.norm(model.constraints.T.T @ r))
    return (res / scale if scale > 0 else res), energy


def _counts(sets: Sequence[SpringSet], state: dict) -> dict[str, int]:
    out = {k: 0 for k in KINDS}
    for s in sets:
        on = state[s.name] >= 0
        for k in KINDS:
            out[k] += int(np.sum(on & (s.kind == k)))
        out[s.name] = int(np.sum(on))
    return out


def _key(state: dict) -> bytes:
    return b"".join(v.astype(np.int16).tobytes() for v in state.values())


def solve_active_set(model: LinearElasticModel,
                     loads: ArrayLike | Mapping[str, ArrayLike] | None,
                     springs: SpringSet | Sequence[SpringSet], *, max_iter: int = 50,
                     initial: Mapping[str, ArrayLike] | None = None,
                     reuse_preconditioner: bool = False, cycle_guard: bool = True
                     ) -> tuple[StaticSolution, ActiveSetReport]:
    """Solve one load case with tension-only / compression-only springs by an active-set loop.

    Parameters
    ----------
    model : LinearElasticModel
        Built with ``element_sets`` that include ``s.element_set(model.layout)`` for every
        spring set ``s`` (their values are refilled here; the pattern is reused). The model
        factorizes at construction: where a part is held only by springs, build it with
        ``element_values={s.name: s.matrices_for(state)}`` of engaged springs.
    loads : (n_nodes, 3) N, or mapping, or None
        Nodal forces on the mesh nodes, or a mapping with any of ``forces`` ((n_nodes, 3) N),
        ``node_loads`` ((n_extra, 6) N and N·mm) and ``support_values`` (mm, rad), as for
        ``LinearElasticModel.solve``.
    springs : SpringSet or sequence of SpringSet
    max_iter : int
        Linear solves allowed.
    initial : mapping, optional
        Starting law segment per set name ((n,) int, -1 disengaged), e.g. ``report.states``
        of a previous load step. Default: tension springs on their first segment (engaged),
        contacts open.
    reuse_preconditioner : bool
        Keep the first iteration's AMG hierarchy as CG preconditioner instead of rebuilding
        it after every change of the springs; with a direct/PARDISO solver, solve states
        that differ from the factorized one in few springs by a low-rank update of that
        factorization instead of refactorizing (exact; see the module notes).
    cycle_guard : bool
        Switch to damped steps when a set of segments repeats (see the module notes). Off,
        a cycling iteration runs into ``max_iter``.

    Returns
    -------
    solution : StaticSolution
        ``external`` holds the applied loads only; ``strain_energy`` includes the springs';
        ``info["active_set"]`` the report's summary line.
    report : ActiveSetReport

    Raises
    ------
    SolverError
        If the segments still change after ``max_iter`` solves; the message counts the springs
        that kept switching and names some of them (set, label, nodes, position). The partial
        report is attached as ``error.report``.
    """
    t_start = time.perf_counter()
    sets = (springs,) if isinstance(springs, SpringSet) else tuple(springs)
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    _check_sets(model, sets)
    kw = _parse_loads(model, loads)
    f_user = np.concatenate([kw["forces"].ravel(), kw["node_loads"].ravel()])
    points = np.vstack([model.mesh.points, model.extra_points])
    K0 = model.system.matrix
    pattern_ids = (id(K0), id(K0.indices), id(K0.indptr))
    low = _spring_update(model, sets) if reuse_preconditioner else None
    setups0 = (model._solver_obj if low is not None else model._solver).info.n_setups
    state = {s.name: (s.default_state() if initial is None or s.name not in
                      initial else np.asarray(initial[s.name], np.int64).copy()) for s in sets}
    for s in sets:
        if state[s.name].shape != (s.n,) or np.any(state[s.name] < -1) or \
                np.any(state[s.name] >= s.stiffness.shape[1]):
            raise ValueError(f"initial state of {s.name!r} must be (n,) ints in -1..m-1")
    seen: set[bytes] = set()
    k_used: dict[str, np.ndarray | None] = {s.name: None for s in sets}
    switch_count = {s.name: np.zeros(s.n, np.int64) for s in sets}
    active, switches, steps, lin_its = [], [], [], []
    t_solve = t_refill = 0.0
    damped = converged = stalled = False
    u_k, x0, amg_base = None, None, None
    sol = None
    n_low_rank = 0
    for it in range(1, max_iter + 1):
        k_state, f_mesh, f_nodes = _linearised(model, sets, state)
        values = {s.name: s.matrices(k_state[s.name]) for s in sets
                  if k_used[s.name] is None or not np.array_equal(k_used[s.name],
                                                                  k_state[s.name])}
        try:
            if values:
                t = time.perf_counter()
                if low is not None:  # refilled now, factorized only if no update will do
                    model.set_elements(**values)
                else:
                    _refill(model, values, reuse_preconditioner and amg_base is not None
                            and lin_its[-1] <= 2 * amg_base + 5)
                t_refill += time.perf_counter() - t
                k_used.update({name: k_state[name] for name in values})
            t = time.perf_counter()
            case = (kw["forces"] + f_mesh, {"node_loads": kw["node_loads"] + f_nodes,
                                            "support_values": kw.get("support_values")})
            sol = None if low is None else _low_rank_solve(model, low, k_state, case)
            if sol is None:
                sol = model.solve(case[0], **case[1], x0=x0)
                if low is not None:  # the model is now factorized with these springs
                    low.set_factored(low.stiffness(k_state))
            else:
                n_low_rank += 1
        except SolverError as exc:
            off = {s.name: int(np.sum(state[s.name] < 0)) for s in sets}
            raise SolverError(
                f"active-set iteration {it}: the linear solve failed with disengaged springs "
                f"{off} ({exc}). A part held only by one-sided springs is free when they are "
                "all disengaged: support it, or start with its springs engaged "
                "(initial={name: zeros})") from exc
        t_solve += time.perf_counter() - t
        lin_its.append(int(sol.info.get("iterations", 0)))
        if amg_base is None and sol.info.get("method") == "amg":
            amg_base = lin_its[-1]
        active.append(_counts(sets, state))
        u_n = _user_vector(sol)
        x0 = sol.displacement
        tr = node_translations(sol)
        new = {s.name: s.state(s.elongation(tr)) for s in sets}
        n_switch = sum(int(np.sum(new[k] != state[k])) for k in state)
        if n_switch == 0:
            switches.append(0)
            steps.append(1.0)
            converged = True
            break
        seen.add(_key(state))
        if cycle_guard and not damped and _key(new) in seen:
            damped = True
            log.info("active set: iteration %d returns to an earlier set of %d springs; "
                     "switching to damped (energy line-search) steps", it, n_switch)
        alpha = 1.0
        if damped and u_k is not None:
            alpha = _line_search(model, sets, k_state, u_k, u_n, f_user)
            still = alpha <= STALLED_STEP or \
                np.linalg.norm(u_n - u_k) <= STALLED_MOVE * np.linalg.norm(u_n)
            if still and _equilibrium(model, sets, k_state, u_n, f_user)[0] <= STALLED_RESIDUAL:
                log.info("active set: iteration %d, damped steps stalled with %d springs at "
                         "their switch point; the current set's solution is accepted by its "
                         "residual", it, n_switch)
                switches.append(n_switch)
                steps.append(alpha)
                converged = stalled = True
                break
            u_next = u_k + alpha * (u_n - u_k)
            trn = _translations(model, u_next)
            new = {s.name: s.state(s.elongation(trn)) for s in sets}
        else:
            u_next = u_n
        for s in sets:
            switch_count[s.name] += new[s.name] != state[s.name]
        switches.append(sum(int(np.sum(new[k] != state[k])) for k in state))
        steps.append(alpha)
        log.debug("active set: iteration %d, engaged %s, %d switches, step %.3g",
                  it, active[-1], switches[-1], alpha)
        state, u_k = new, u_next

    if low is not None:
        _UPDATES[model] = (low, model.revision, model._solver_obj.info.n_setups)
    res, energy = _equilibrium(model, sets, k_state, _user_vector(sol), f_user)
    K1 = model.system.matrix
    report = ActiveSetReport(
        converged=converged, iterations=len(active), active=tuple(active),
        switches=tuple(switches), steps=tuple(steps), damped=damped, residual=res,
        seconds=time.perf_counter() - t_start, solve_seconds=t_solve, refill_seconds=t_refill,
        factorizations=int(model._solver_obj.info.n_setups - setups0),
        low_rank_solves=n_low_rank,
        linear_iterations=tuple(lin_its),
        pattern_reused=(id(K1), id(K1.indices), id(K1.indptr)) == pattern_ids,
        states={k: v.copy() for k, v in state.items()},
        forces={s.name: s.force(s.elongation(node_translations(sol))) for s in sets},
        stalled=stalled)
    if not converged:
        err = SolverError(_not_converged_message(sets, switches, switch_count, points,
                                                 max_iter, steps, res))
        err.report = report  # type: ignore[attr-defined]
        raise err
    log.info("active set: %s", report.summary())
    return replace(sol, external=kw["forces"], strain_energy=energy,
                   info={**sol.info, "active_set": report.summary()}), report


def first_states(model: LinearElasticModel, node_loads: Sequence[ArrayLike],
                 springs: SpringSet | Sequence[SpringSet]) -> list[dict[str, np.ndarray]]:
    """The springs' law segments after the first active-set iteration of each load case from
    the default state (tension springs engaged, contacts open), all cases in one
    multi-right-hand-side solve: pass each as ``initial`` to :func:`solve_active_set`, which
    then goes on exactly as it would have from its own first iteration, whose linear system
    is the same for every case (the default state's matrix, one factorization for all).

    Parameters
    ----------
    model : LinearElasticModel
        As for :func:`solve_active_set`; refilled with the default state.
    node_loads : sequence of (n_extra, 6)
        Forces (N) and moments (N·mm) on the 6-DOF nodes, one array per load case.
    springs : SpringSet or sequence of SpringSet

    Returns
    -------
    one dict per load case: set name -> (n,) int law segment (-1 disengaged)
    """
    sets = (springs,) if isinstance(springs, SpringSet) else tuple(springs)
    _check_sets(model, sets)
    k, f_mesh, f_nodes = _linearised(model, sets, {s.name: s.default_state() for s in sets})
    model.set_elements(**{s.name: s.matrices(k[s.name]) for s in sets})
    sols = model.solve_many([np.asarray(m, float) + f_nodes for m in node_loads],
                            forces=[f_mesh] * len(node_loads))
    return [{s.name: s.state(s.elongation(node_translations(sol))) for s in sets}
            for sol in sols]


def _not_converged_message(sets: Sequence[SpringSet], switches: list[int],
                           switch_count: dict, points: np.ndarray, max_iter: int,
                           steps: list[float], residual: float) -> str:
    chatter = {s.name: np.flatnonzero(switch_count[s.name] >= 2) for s in sets}
    moved = {s.name: np.flatnonzero(switch_count[s.name] >= 1) for s in sets}
    n_chatter = sum(len(v) for v in chatter.values())
    per_set = ", ".join(f"{s.name!r} {len(moved[s.name])} of {s.n}" for s in sets
                        if len(moved[s.name]))
    examples: list[str] = []
    for s in sets:
        pick = chatter[s.name] if len(chatter[s.name]) else moved[s.name]
        examples += s.where(pick[:max(0, 5 - len(examples))], points)
    stall = ""
    if steps and steps[-1] <= STALLED_STEP:
        stall = (f"the damped steps stalled (last step {steps[-1]:.1e}) at a relative residual "
                 f"of {residual:.1e}, above {STALLED_RESIDUAL:g}; ")
    return (f"active-set iteration did not converge in max_iter={max_iter} linear solves: "
            f"{stall}{switches[-1]} springs still switched in the last iteration, "
            f"{n_chatter} switched more than once (switches per iteration {switches}); "
            f"springs that changed, by set: {per_set}; e.g. {'; '.join(examples)}. "
            "Raise max_iter, apply the load in steps (pass report.states as initial), or "
            "check supports and loads")


def solve_condensed_active_set(condensed: CondensedModel, E: ArrayLike, nu: ArrayLike,
                               scales: Mapping[str, ArrayLike], node_loads: Sequence[ArrayLike],
                               springs: SpringSet, *,
                               initial: Sequence[np.ndarray | None] | None = None,
                               max_iter: int = 50) -> tuple[list, list[np.ndarray]]:
    """Solve load cases with compression-only contact springs on a condensed model.

    The springs must be one condensed element set of ``condensed``
    (:class:`spinesim.fem.condense.CondensedModel` built with the set engaged, i.e. at scale 1,
    and the springs' nodes among its output nodes) with a linear law and no gap: a spring is
    then its reference matrix when engaged and nothing when open, i.e. a scale of 1 or 0, and
    one iteration is one dense solve of the condensed size (no sparse refactorization). Each
    case iterates by itself: solve with the current set, engage the springs that are
    compressed, until the set repeats. The law has no offset force, so the plain iteration
    is Newton's method on a convex piecewise-quadratic energy; a set met twice without
    converging (cycling) raises SolverError.

    Parameters
    ----------
    condensed : CondensedModel
    E, nu, scales : the changing cells' moduli (MPa), Poisson's ratios and the other
        condensed sets' scales, as for ``CondensedModel.solve_many``
    node_loads : sequence of (n_extra, 6) N and N·mm
    springs : SpringSet (compression-only, one law segment, zero gap)
    initial : per case, the engaged springs (n,) bool to start from (None: all engaged,
        e.g. a seated cage), e.g. the returned states of an earlier call
    max_iter : dense solves allowed per case

    Returns
    -------
    (one ``CondensedSolution`` per case, the engaged springs (n,) bool per case)
    """
    if springs.stiffness.shape[1] != 1 or np.any(springs.kind != "compression") \
            or np.any(springs.slack_mm != 0):
        raise ValueError(f"spring set {springs.name!r}: the condensed active set takes "
                         "compression-only springs with one law segment and no gap")
    starts = list(initial) if initial is not None else [None] * len(node_loads)
    if len(starts) != len(node_loads):
        raise ValueError(f"initial has {len(starts)} states for {len(node_loads)} load cases")
    sols, states = [], []
    for j, load in enumerate(node_loads):
        engaged = np.ones(springs.n, bool) if starts[j] is None else np.asarray(starts[j], bool)
        seen = {engaged.tobytes()}
        for _ in range(max_iter):
            sol = condensed.solve_many(E, nu, {**scales, springs.name: engaged.astype(float)},
                                       [load])[0]
            compressed = springs.engagement(springs.elongation(node_translations(sol))) > 0
            if np.array_equal(compressed, engaged):
                break
            if compressed.tobytes() in seen:
                raise SolverError(f"{springs.name}: the contact set of load case {j} cycles "
                                  f"({int(np.sum(compressed != engaged))} springs switch back "
                                  "and forth)")
            seen.add(compressed.tobytes())
            engaged = compressed
        else:
            raise SolverError(f"{springs.name}: load case {j} did not settle its contact set "
                              f"in {max_iter} dense solves")
        sols.append(sol)
        states.append(engaged)
    return sols, states
