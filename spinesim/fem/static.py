"""Linear static analysis: a model that assembles, constrains and solves load cases, reusing
its pattern, reduction map and factorization or preconditioner across load cases and
material updates."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from spinesim.errors import ConstraintError, SolverError
from spinesim.fem.assembler import Assembler
from spinesim.fem.constraints import ConstraintSet, MultiPointConstraint, Support, free_rigid_modes
from spinesim.fem.materials import Material
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
    """

    displacement: np.ndarray
    reactions: np.ndarray
    external: np.ndarray
    strain_energy: float
    info: dict = field(default_factory=dict)


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

    Raises
    ------
    ConstraintError
        If supports and constraints leave a rigid-body motion of any part free; the message
        names the part and the free modes.
    """

    def __init__(self, mesh: Mesh, E: ArrayLike | Material, nu: ArrayLike | None = None, *,
                 supports: Sequence[Support] = (), mpcs: Sequence[MultiPointConstraint] = (),
                 bbar: bool = False, solver: str = "auto", rtol: float = 1e-8) -> None:
        self.mesh = mesh
        self.assembler = Assembler(mesh, bbar=bbar)
        asm = self.assembler
        self.constraints = ConstraintSet(mesh.n_nodes, supports, mpcs, dof_rank=asm.user_dofs())
        self._check_rigid_modes()
        self.solver_method = solver
        self.rtol = rtol
        self._solver = None
        self._near_nullspace = None
        self.set_material(E, nu)

    # ----------------------------------------------------------------- set-up
    def _check_rigid_modes(self) -> None:
        asm, cs = self.assembler, self.constraints
        A = cs.rows_user()
        graph = asm.node_graph()
        if A.shape[0]:  # nodes tied by constraints belong to one part
            A_int = A @ cs._perm.T
            node_of = sp.csr_matrix((np.ones(A.shape[1]), (np.arange(A.shape[1]),
                                     np.arange(A.shape[1]) // 3)), shape=(A.shape[1], self.mesh.n_nodes))
            An = abs(A_int) @ node_of
            graph = graph + (An.T @ An)
        else:
            A_int = A
        free = free_rigid_modes(asm.points, sp.csr_matrix(graph), sp.csr_matrix(A_int))
        if free:
            parts = []
            for nodes, names in free:
                user = np.sort(asm.node_order[nodes])
                parts.append(f"the part with {len(user)} nodes (e.g. node ids "
                             f"{user[:5].tolist()}) can move freely: {', '.join(names)}")
            raise ConstraintError("the model is under-constrained; " + "; ".join(parts)
                                  + ". Add supports or constraints that fix these motions.")

    def set_material(self, E: ArrayLike | Material, nu: ArrayLike | None = None) -> None:
        """Refill the stiffness for new moduli (pattern and maps reused) and update the solver."""
        from spinesim.fem.solvers import make_solver, rigid_body_modes

        K = self.assembler.assemble(E, nu)
        K_r = self.constraints.reduce_matrix(K)
        if self.constraints.penalty_mpcs:
            K_r = self.constraints.reduce_matrix(self.constraints.add_penalties(K, np.zeros(K.shape[0]))[0])
        self._K_r = K_r
        if self._solver is None:
            if self._near_nullspace is None:
                B = rigid_body_modes(self.assembler.points)
                self._near_nullspace = np.ascontiguousarray(self.constraints.T.T @ B)
            self._solver = make_solver(K_r, method=self.solver_method,
                                       near_nullspace=self._near_nullspace, rtol=self.rtol)
        else:
            self._solver.update(K_r)

    # ----------------------------------------------------------------- solve
    def solve(self, forces: ArrayLike | None = None, *, support_values: ArrayLike | None = None,
              x0: np.ndarray | None = None) -> StaticSolution:
        """Solve one load case.

        Parameters
        ----------
        forces : (n_nodes, 3) N, optional
            Nodal forces (sum of ``spinesim.fem.loads`` results), mesh node order.
        support_values : (n_fixed,) mm, optional
            New values of the prescribed displacements, in the order of
            ``constraints.fixed_user``; default the supports' own values.
        x0 : (n_nodes, 3) mm, optional
            Initial guess for iterative solvers.
        """
        asm, cs = self.assembler, self.constraints
        n = self.mesh.n_nodes
        f_user = np.zeros((n, 3)) if forces is None else np.asarray(forces, dtype=float)
        if f_user.shape != (n, 3):
            raise ValueError(f"forces must have shape ({n}, 3), got {f_user.shape}")
        if not np.all(np.isfinite(f_user)):
            bad = np.unique(np.argwhere(~np.isfinite(f_user))[:, 0])
            raise ValueError(f"forces contain NaN/inf at node ids {bad[:10].tolist()}")
        K = asm.matrix
        f = asm.vector_to_internal(f_user).ravel()
        g = cs.g(None if support_values is None else np.asarray(support_values, float))
        if cs.penalty_mpcs:
            K, f = cs.add_penalties(K, f)
        b = cs.reduce_rhs(K, f, g)
        x0_r = None
        if x0 is not None:
            x0_r = cs.T.T @ asm.vector_to_internal(np.asarray(x0, float)).ravel()
        t0 = time.perf_counter()
        u_r = self._solver.solve(b, x0=x0_r)
        info = dict(self._solver.info) if isinstance(self._solver.info, dict) else \
            dict(vars(self._solver.info))
        info["total_solve_s"] = time.perf_counter() - t0
        if not np.all(np.isfinite(u_r)):
            raise SolverError("the solver returned non-finite displacements; the model is "
                              "probably singular (a mechanism or a missing support)")
        u = cs.expand(u_r, g)
        Ku = K @ u
        reactions = Ku - f
        reactions[~cs.involved] = 0.0
        energy = 0.5 * float(u @ Ku)
        return StaticSolution(
            displacement=asm.vector_to_user(u.reshape(n, 3)),
            reactions=asm.vector_to_user(reactions.reshape(n, 3)),
            external=f_user,
            strain_energy=energy,
            info=info,
        )
