"""Linear static analysis: a model that assembles, constrains and solves load cases, reusing
its pattern, reduction map and factorization or preconditioner across load cases and
material updates."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from spinesim.errors import ConstraintError, SolverError
from spinesim.fem.assembler import Assembler
from spinesim.fem.constraints import (
    ConstraintSet,
    MultiPointConstraint,
    Support,
    free_rigid_modes,
)
from spinesim.fem.dofs import DofLayout
from spinesim.fem.materials import Material
from spinesim.fem.system import ElementSet, SystemAssembler
from spinesim.mesh.mesh import Mesh

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StaticSolution:
    """Result of one load case, in the mesh's node order.

    Attributes
    ----------
    displacement : (n_nodes, 3) mm
    reactions : (n_nodes, 3) N; support and constraint reactions (zero on free DOFs)
    external : (n_nodes, 3) N; the applied nodal forces
    strain_energy : N·mm
    info : solver information (method, iterations, residual, seconds)
    node_dofs : (n_extra, 6) displacements (mm) and rotations (rad) of the 6-DOF nodes
    node_reactions : (n_extra, 6) reaction forces (N) and moments (N·mm) on the 6-DOF nodes
    """

    displacement: np.ndarray
    reactions: np.ndarray
    external: np.ndarray
    strain_energy: float
    info: dict = field(default_factory=dict)
    node_dofs: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))
    node_reactions: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))


class LinearElasticModel:
    """A meshed solid with material, supports and MPCs, ready to solve load cases.

    Parameters
    ----------
    mesh : Mesh
    E, nu : moduli (MPa) and Poisson's ratios per solid cell or scalars, or a Material as ``E``
    supports : sequence of Support
    mpcs : sequence of MultiPointConstraint
    bbar : bool
        Mean-dilatation B-bar for hex8/tet10 (nearly incompressible materials).
    solver : "auto", "direct", "amg" or "pardiso"
    rtol : relative residual for iterative solves
    extra_points : (n_extra, 3) mm, optional
        Positions of 6-DOF nodes (beam nodes, reference nodes); their model node ids follow
        the mesh nodes: ``mesh.n_nodes + k``.
    element_sets : sequence of ElementSet
        Beams, springs and couplings over model DOFs (``spinesim.fem.dofs.DofLayout``); their
        values are given in ``element_values`` and refilled with ``set_elements``.

    Raises
    ------
    ConstraintError
        If supports and constraints leave a rigid-body motion of any part free; the message
        names the part and the free modes.
    """

    def __init__(self, mesh: Mesh, E: ArrayLike | Material, nu: ArrayLike | None = None, *,
                 supports: Sequence[Support] = (), mpcs: Sequence[MultiPointConstraint] = (),
                 bbar: bool = False, solver: str = "auto", rtol: float = 1e-8,
                 extra_points: ArrayLike | None = None, element_sets: Sequence[ElementSet] = (),
                 element_values: dict[str, np.ndarray] | None = None) -> None:
        self.mesh = mesh
        self.assembler = Assembler(mesh, bbar=bbar)
        extra = np.zeros((0, 3)) if extra_points is None else np.asarray(extra_points, float)
        if extra.ndim != 2 or extra.shape[1] != 3 or not np.all(np.isfinite(extra)):
            raise ValueError(f"extra_points must be finite with shape (n, 3), got {extra.shape}")
        self.extra_points = extra
        self.layout = DofLayout(mesh.n_nodes, len(extra))
        self.system = SystemAssembler(self.assembler, self.layout, element_sets)
        self.constraints = ConstraintSet(self.layout, supports, mpcs,
                                         dof_rank=self.system.dof_rank)
        self.system.set_values(**(element_values or {}))
        self._check_rigid_modes()
        self.solver_method = solver
        self.rtol = rtol
        self._solver_obj = None
        self._pending = None  # reduced matrix not yet factorized (see ``_solver``)
        #: Counts the refills of the matrix (every ``update``): a factorization kept for
        #: later (a condensation's reference state) is still valid while it is unchanged.
        self.revision = 0
        self._near_nullspace = None
        self.set_material(E, nu)

    # ----------------------------------------------------------------- set-up
    @property
    def points(self) -> np.ndarray:
        """All node positions (mm) in internal order: solid nodes (RCM), then 6-DOF nodes."""
        return np.vstack([self.assembler.points, self.extra_points])

    def _check_rigid_modes(self) -> None:
        cs, lay = self.constraints, self.layout
        A = cs.rows_user()
        graph = self.system.node_graph()
        A_int = sp.csr_matrix(A @ cs._perm.T) if A.shape[0] else sp.csr_matrix((0, lay.n_dofs))
        if A.shape[0]:  # nodes tied by constraints belong to one part
            node_of = lay.node_of_dof(np.arange(lay.n_dofs))
            to_node = sp.csr_matrix((np.ones(lay.n_dofs), (np.arange(lay.n_dofs), node_of)),
                                    shape=(lay.n_dofs, lay.n_nodes))
            An = abs(A_int) @ to_node
            graph = graph + (An.T @ An)
        free = free_rigid_modes(self.points, sp.csr_matrix(graph), A_int, lay)
        if free:
            user_node = np.concatenate([self.assembler.node_order,
                                        np.arange(self.mesh.n_nodes, lay.n_nodes)])
            parts = []
            for nodes, names in free:
                user = np.sort(user_node[nodes])
                parts.append(f"the part with {len(user)} nodes (e.g. node ids "
                             f"{user[:5].tolist()}) can move freely: {', '.join(names)}")
            raise ConstraintError("the model is under-constrained; " + "; ".join(parts)
                                  + ". Add supports or constraints that fix these motions.")

    def _refresh(self, K: sp.csr_matrix) -> None:
        """Reduce the refilled matrix; the solver set-up (factorization, hierarchy) waits for
        the first solve, so refills without a solve in between (a segment built and then
        given its day-0 moduli) cost no set-up."""
        cs = self.constraints
        if cs.penalty_mpcs:
            K = cs.add_penalties(K, np.zeros(K.shape[0]))[0]
        self._pending = cs.reduce_matrix(K)
        self.revision += 1

    @property
    def _solver(self):
        """The solver of the current matrix, set up (or updated) on first use after a refill."""
        if self._pending is not None:
            K_r, self._pending = self._pending, None
            if self._solver_obj is None:
                from spinesim.fem.solvers import make_solver

                B = self.layout.rigid_modes(self.points)
                self._near_nullspace = np.ascontiguousarray(self.constraints.T.T @ B)
                self._solver_obj = make_solver(K_r, method=self.solver_method,
                                               near_nullspace=self._near_nullspace,
                                               rtol=self.rtol)
            else:
                self._solver_obj.update(K_r)
        return self._solver_obj

    def update(self, E: ArrayLike | Material | None = None, nu: ArrayLike | None = None,
               **values: np.ndarray) -> None:
        """Refill new moduli (MPa) and/or element sets' values in one assembly, pattern and
        maps reused; the solver is updated (one factorization or hierarchy) at the next
        solve."""
        material = None if E is None else self.assembler.material(E, nu)
        self._refresh(self.system.assemble(material, **values))

    def set_material(self, E: ArrayLike | Material, nu: ArrayLike | None = None) -> None:
        """Refill the stiffness for new moduli ``E`` (MPa) and ``nu`` (-), or a Material (pattern
        and maps reused); the solver follows at the next solve."""
        self.update(E, nu)

    def set_elements(self, **values: np.ndarray) -> None:
        """Refill element sets (e.g. loosened screw springs); the solver follows at the next
        solve."""
        self.update(**values)

    # ----------------------------------------------------------------- solve
    def solve(self, forces: ArrayLike | None = None, *, node_loads: ArrayLike | None = None,
              support_values: ArrayLike | None = None,
              x0: np.ndarray | None = None) -> StaticSolution:
        """Solve one load case.

        Parameters
        ----------
        forces : (n_nodes, 3) N, optional
            Nodal forces on the mesh nodes (sums of ``spinesim.fem.loads`` results).
        node_loads : (n_extra, 6), optional
            Forces (N) and moments (N·mm) on the 6-DOF nodes.
        support_values : (n_fixed,) mm or rad, optional
            New values of the prescribed DOFs, in the order of ``constraints.fixed_user``;
            default the supports' own values.
        x0 : (n_nodes, 3) mm, optional
            Initial guess of the mesh displacements for iterative solvers.
        """
        g = self.constraints.g(None if support_values is None
                               else np.asarray(support_values, float))
        f_user, f = self._load_vector(forces, node_loads)
        x0_r = None
        if x0 is not None:
            x_full = np.concatenate([self.assembler.vector_to_internal(
                np.asarray(x0, float)).ravel(), np.zeros(6 * self.layout.n_extra)])
            x0_r = self.constraints.T.T @ x_full
        return self._solve_columns([(f_user, f)], g, x0_r)[0]

    def solve_many(self, node_loads: Sequence[ArrayLike],
                   forces: Sequence[ArrayLike | None] | None = None) -> list[StaticSolution]:
        """Solve several load cases in one multi-right-hand-side call (one pass over the
        stored factors for all of them; supports at their own values).

        Parameters
        ----------
        node_loads : sequence of (n_extra, 6) arrays
            Forces (N) and moments (N·mm) on the 6-DOF nodes, one array per load case.
        forces : sequence of (n_nodes, 3) arrays or None, optional
            Nodal forces (N) on the mesh nodes, one per load case (None: none).
        """
        forces = [None] * len(node_loads) if forces is None else list(forces)
        if len(forces) != len(node_loads):
            raise ValueError(f"forces has {len(forces)} load cases, node_loads "
                             f"{len(node_loads)}")
        g = self.constraints.g(None)
        return self._solve_columns([self._load_vector(f, m) for f, m in zip(forces, node_loads)],
                                   g, None)

    def solve_reduced(self, B: np.ndarray) -> np.ndarray:
        """Solve the constrained system ``T^T K T X = B`` for right-hand sides ``B`` (n_r, k)
        given in the reduced DOFs (``constraints.T``; loads in N and N·mm, X in mm and rad),
        with the current factorization or preconditioner; for condensation
        (:mod:`spinesim.fem.condense`)."""
        return self._solver.solve(np.asarray(B, float))

    def reduced_matrix(self) -> sp.csr_matrix:
        """The reduced matrix ``T^T K T`` of the current values (N/mm), whether or not the
        solver has been set up for it yet."""
        return self._pending if self._pending is not None else self._solver.A

    def solve_by(self, reduced_solve: Callable[[np.ndarray], np.ndarray],
                 forces: ArrayLike | None = None, *, node_loads: ArrayLike | None = None,
                 support_values: ArrayLike | None = None) -> StaticSolution:
        """Solve one load case like :meth:`solve` (same arguments and units), with
        ``reduced_solve`` (reduced right-hand sides (n_r, k) -> displacements (n_r, k)) in
        place of the model's solver, which is neither set up for a refilled matrix nor used;
        e.g. a low-rank update of an older factorization (:mod:`spinesim.fem.low_rank`).
        Reactions and strain energy come from the current matrix values."""
        g = self.constraints.g(None if support_values is None
                               else np.asarray(support_values, float))
        return self._solve_columns([self._load_vector(forces, node_loads)], g, None,
                                   reduced_solve)[0]

    def _load_vector(self, forces: ArrayLike | None, node_loads: ArrayLike | None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Checked user forces (n_nodes, 3) and the full internal load vector."""
        lay, asm = self.layout, self.assembler
        n = self.mesh.n_nodes
        f_user = np.zeros((n, 3)) if forces is None else np.asarray(forces, dtype=float)
        m_user = np.zeros((lay.n_extra, 6)) if node_loads is None else \
            np.asarray(node_loads, dtype=float)
        for name, arr, shape in (("forces", f_user, (n, 3)),
                                 ("node_loads", m_user, (lay.n_extra, 6))):
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                bad = np.unique(np.argwhere(~np.isfinite(arr))[:, 0])
                raise ValueError(f"{name} contain NaN/inf at node ids {bad[:10].tolist()}")
        return f_user, np.concatenate([asm.vector_to_internal(f_user).ravel(), m_user.ravel()])

    def _solve_columns(self, loads: list[tuple[np.ndarray, np.ndarray]], g: np.ndarray,
                       x0_r: np.ndarray | None,
                       reduced_solve: Callable[[np.ndarray], np.ndarray] | None = None
                       ) -> list[StaticSolution]:
        cs, asm = self.constraints, self.assembler
        n = self.mesh.n_nodes
        K = self.system.matrix
        if cs.penalty_mpcs:  # the penalised matrix does not depend on the loads
            fs = [cs.add_penalties(K, f)[1] for _, f in loads]
            K = cs.add_penalties(K, np.zeros(K.shape[0]))[0]
        else:
            fs = [f for _, f in loads]
        rhs = [cs.reduce_rhs(K, f, g) for f in fs]
        t0 = time.perf_counter()
        B = np.column_stack(rhs)
        if reduced_solve is None:
            U_r = self._solver.solve(B if len(rhs) > 1 else B[:, 0], x0=x0_r).reshape(B.shape)
            info = dict(vars(self._solver.info)) if not isinstance(self._solver.info, dict) \
                else dict(self._solver.info)
        else:
            U_r = np.asarray(reduced_solve(B), float).reshape(B.shape)
            info = {"method": "reduced_solve", "iterations": 0}
        info["total_solve_s"] = time.perf_counter() - t0
        if not np.all(np.isfinite(U_r)):
            raise SolverError("the solver returned non-finite displacements; the model is "
                              "probably singular (a mechanism or a missing support)")
        out = []
        ns = 3 * n
        for j, ((f_user, _), f) in enumerate(zip(loads, fs)):
            u = cs.expand(U_r[:, j], g)
            Ku = K @ u
            reactions = Ku - f
            reactions[~cs.involved] = 0.0
            out.append(StaticSolution(
                displacement=asm.vector_to_user(u[:ns].reshape(n, 3)),
                reactions=asm.vector_to_user(reactions[:ns].reshape(n, 3)),
                external=f_user,
                strain_energy=0.5 * float(u @ Ku),
                info=info,
                node_dofs=u[ns:].reshape(-1, 6),
                node_reactions=reactions[ns:].reshape(-1, 6),
            ))
        return out
