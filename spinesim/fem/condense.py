"""Static condensation of a linear model onto the few DOFs whose stiffness changes between
solves (a healing graft's cells, scaled screw-bone interface springs).

A healing timeline re-solves one model week after week while only a small part of it
changes: the moduli of the graft cells and the stiffness factors of the screw-bone interface
springs. Refactorizing the whole matrix for every change costs seconds; this module instead
factorizes it once, at a reference state ``A0``, and writes every later matrix as a
low-rank-in-structure update on the changing DOFs:

    A = A0 + U D U^T,   U = [I_C, V]   (n_r x m),   D = blockdiag(D_cells, diag(d_sets))

* ``I_C`` selects the reduced DOFs ``C`` of the changing cells' nodes and ``D_cells`` is the
  change of their stiffness on ``C`` (assembled from those cells only, a few hundred);
* ``V`` holds, per changing element-set element (a tie spring of 24-30 DOFs), the square-root
  factors of its reference matrix ``K_i = V_i V_i^T`` (rank 3 for a tie), and ``d_sets`` the
  change of its scale factor (the element's matrix is ``s_i K_i``).

With ``Z = A0^{-1} U`` and ``W = U^T Z`` (both precomputed with the one factorization, ``m``
right-hand sides) the solution of ``A x = b`` is exactly (Woodbury, in its
"capacitance" form; no inverse of ``A0`` is formed)

    x0 = A0^{-1} b,   (I + W D) y = U^T x0,   x = x0 - Z D y,

so a new state costs one dense factorization of size ``m`` (about a thousand) instead of a
sparse one of size ``n_r``; ``x`` is formed only on the DOFs the caller reads (the output
nodes). ``W`` is symmetric positive definite (``U`` has full column rank), and so is
``S0 + D`` with ``S0 = W^{-1}`` (precomputed): for any ``y``, ``x = A0^{-1} U S0 y`` gives
``y^T (S0 + D) y = x^T A x > 0``. Multiplying the capacitance system by ``S0`` therefore gives
a symmetric one solved by Cholesky,

    (S0 + D) y = S0 U^T x0,

without forming ``W D`` and at half the flops of its LU (a 52-week case of the default
segment on a reused condensation: 1.42 -> 0.87 s); the capacitance form stays the fallback
when a Cholesky factorization fails (round-off at a nearly singular state). Loads must lie on
a fixed set of 6-DOF nodes (the reference nodes), whose unit loads are solved once as well,
and the supports must be homogeneous (zero prescribed values).

This is exact algebra, not a reduced-order approximation: a test compares it with the full
solve over the whole range of graft moduli (0.2 to 6000 MPa) and loosened interfaces.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.typing import ArrayLike

from spinesim.fem.assembler import Assembler

__all__ = ["CondensedModel", "CondensedSolution"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CondensedSolution:
    """One load case of a condensed solve, filled on the output nodes only.

    Attributes
    ----------
    displacement : (n_nodes, 3) mm
        Mesh-node displacements in user order; exact on the output nodes, zero elsewhere.
    node_dofs : (n_extra, 6) mm and rad
        Translations and rotations of every 6-DOF node (beam and reference nodes).
    """

    displacement: np.ndarray
    node_dofs: np.ndarray


def _sqrt_factors(K: np.ndarray, rtol: float = 1e-10) -> list[np.ndarray]:
    """Per element ``V_i`` (k, r_i) with ``K_i = V_i V_i^T`` (positive semi-definite K)."""
    lam, Q = np.linalg.eigh(0.5 * (K + np.swapaxes(K, 1, 2)))
    out = []
    for li, Qi in zip(lam, Q):
        keep = li > rtol * max(li.max(), 0.0)
        if np.any(li < -1e-8 * max(abs(li).max(), 1e-300)):
            raise ValueError("condensation: an element-set matrix is not positive "
                             "semi-definite; only scaled springs/ties can be condensed")
        out.append(Qi[:, keep] * np.sqrt(li[keep]))
    return out


class CondensedModel:
    """A :class:`~spinesim.fem.static.LinearElasticModel` condensed onto changing cells and
    scaled element sets (module notes). Build it while the model holds its reference state
    (factorized); the model itself is not changed afterwards.

    Parameters
    ----------
    model : LinearElasticModel
        Factorized at the reference state.
    cells : (n_cells,) int
        Solid cells (solid-block order) whose moduli will change.
    E_ref, nu_ref : (n_cells,)
        Their moduli (MPa) and Poisson's ratios in the reference state.
    sets : sequence of str
        Element sets whose elements will be scaled; their current values are the reference
        (scale 1).
    load_nodes : (k,) int
        6-DOF node indices (0-based among the extra nodes) that will carry loads.
    output_nodes : (p,) int
        Mesh nodes (user ids) whose displacements are returned (besides every 6-DOF node).
    chunk : int
        Right-hand sides per solve of the precomputation.
    """

    def __init__(self, model, cells: ArrayLike, E_ref: ArrayLike, nu_ref: ArrayLike, *,
                 sets: Sequence[str] = (), load_nodes: ArrayLike = (),
                 output_nodes: ArrayLike = (), chunk: int = 256) -> None:
        t0 = time.perf_counter()
        cs, lay, system = model.constraints, model.layout, model.system
        if cs.penalty_mpcs:
            raise ValueError("condensation: penalty MPCs are not supported")
        if np.any(cs.g(None)):
            raise ValueError("condensation needs homogeneous supports (zero prescribed values)")
        self.model = model
        n_mesh, n_full = model.mesh.n_nodes, lay.n_dofs
        T = sp.csr_matrix(cs.T)
        self.n_reduced = T.shape[1]
        rank = system.dof_rank  # model DOF -> internal index

        # -- changing cells: their own assembler over the mesh's points
        self.cells = np.asarray(cells, np.int64)
        self._cell_asm = Assembler(model.mesh.with_solid_cells(self.cells), bbar=model.assembler.bbar)
        self._E_ref = np.asarray(E_ref, float).copy()
        self._nu_ref = np.asarray(nu_ref, float).copy()
        if self._E_ref.shape != self.cells.shape or self._nu_ref.shape != self.cells.shape:
            raise ValueError(f"E_ref and nu_ref must have one value per changing cell "
                             f"({len(self.cells)}), got {self._E_ref.shape} and "
                             f"{self._nu_ref.shape}")
        user = self._cell_asm.user_dofs()  # internal index (sub-assembler) of each user DOF
        nodes = np.unique(np.concatenate([b.cells.ravel() for b in
                                          self._cell_asm.mesh.solid_blocks] + [[]])).astype(
            np.int64)
        udofs = (3 * nodes[:, None] + np.arange(3)).ravel()  # user = model DOF ids
        # sub-assembler internal DOF -> model-internal DOF, over the cells' nodes
        P = sp.csr_matrix((np.ones(len(udofs)), (user[udofs], rank[udofs])),
                          shape=(3 * n_mesh, n_full))
        TP = sp.csr_matrix(P @ T)  # sub-internal -> reduced
        self._C = np.unique(TP.indices)
        self._Q = sp.csr_matrix(TP[:, self._C])  # (3 n_mesh, |C|)
        self._K_ref = self._cells_matrix(self._E_ref, self._nu_ref)

        # -- scaled element sets: square-root factors of each element's reference matrix
        cols, self._set_slices = [], {}
        start = len(self._C)
        for name in sets:
            dofs = system.sets[name].dofs
            V = _sqrt_factors(system.values(name))
            r = np.array([v.shape[1] for v in V])
            rows = np.concatenate([rank[d][:, None].repeat(v.shape[1], 1).ravel()
                                   for d, v in zip(dofs, V)])
            vals = np.concatenate([v.ravel() for v in V])
            ccol = np.concatenate([np.repeat(np.arange(v.shape[1])[None, :], len(d), 0).ravel()
                                   + o for d, v, o in zip(dofs, V, np.cumsum(r) - r)])
            Vs = sp.csr_matrix((vals, (rows, ccol)), shape=(n_full, int(r.sum())))
            cols.append(sp.csr_matrix(T.T @ Vs))
            self._set_slices[name] = (start, start + int(r.sum()), np.repeat(np.arange(len(V)), r),
                                      len(V))
            start += int(r.sum())
        m = start
        U = sp.hstack([sp.csr_matrix((np.ones(len(self._C)), (self._C, np.arange(len(self._C)))),
                                     shape=(self.n_reduced, len(self._C)))] + cols, format="csc")
        self.m = m

        # -- output DOFs: changing-cell nodes, extra output nodes and every 6-DOF node
        out_nodes = np.union1d(nodes, np.asarray(output_nodes, np.int64))
        self._out_nodes = out_nodes
        out_model = np.concatenate([(3 * out_nodes[:, None] + np.arange(3)).ravel(),
                                    np.arange(3 * n_mesh, n_full)])
        T_out = sp.csr_matrix(T[rank[out_model]])
        self._O = np.unique(T_out.indices)
        self._T_out = sp.csr_matrix(T_out[:, self._O])

        # -- loads: unit loads of the loaded 6-DOF nodes
        self.load_nodes = np.unique(np.asarray(load_nodes, np.int64))
        ldofs = (3 * lay.n_solid + 6 * self.load_nodes[:, None] + np.arange(6)).ravel()
        R = sp.csr_matrix((np.ones(len(ldofs)), (rank[ldofs], np.arange(len(ldofs)))),
                          shape=(n_full, len(ldofs)))
        R_r = sp.csc_matrix(T.T @ R)
        self._load_dofs = ldofs

        # -- the precomputation: m + n_loads solves with the one factorization
        Z_O = np.empty((len(self._O), m))
        W = np.empty((m, m))
        for a in range(0, m, chunk):
            b = min(a + chunk, m)
            Zc = model.solve_reduced(U[:, a:b].toarray())
            Z_O[:, a:b] = Zc[self._O]
            W[:, a:b] = (U.T @ Zc)
        X0 = model.solve_reduced(R_r.toarray()) if len(ldofs) else \
            np.zeros((self.n_reduced, 0))
        self._U, self._R = U, R_r  # for full fields: x = A0^-1 (b - U D y)
        #: :attr:`LinearElasticModel.revision` of the reference state: the model's
        #: factorization is A0's while the two agree (:meth:`full_displacements`)
        self.reference_revision = model.revision
        self._W = 0.5 * (W + W.T)
        self._Z_O = Z_O
        self._X0_O = X0[self._O]
        self._Y0 = np.asarray(U.T @ X0)
        # the symmetric form (module notes): S0 = W^-1, S0 Y0
        try:
            S0 = sla.cho_solve(sla.cho_factor(self._W, check_finite=False), np.eye(m),
                               check_finite=False)
            self._S0: np.ndarray | None = 0.5 * (S0 + S0.T)
            self._S0Y0 = self._S0 @ self._Y0
        except np.linalg.LinAlgError:  # U without full column rank: capacitance form only
            log.warning("condensation: W is not positive definite; solving the capacitance "
                        "form (LU) instead of the symmetric one (Cholesky)")
            self._S0, self._S0Y0 = None, None
        self.setup_s = time.perf_counter() - t0
        log.info("condensed %d reduced DOFs onto %d changing ones (%d cell DOFs, %d set "
                 "factors) in %.1f s", self.n_reduced, m, len(self._C), m - len(self._C),
                 self.setup_s)

    def _cells_matrix(self, E: np.ndarray, nu: np.ndarray) -> np.ndarray:
        """Stiffness (|C|, |C|) of the changing cells on their reduced DOFs, N/mm."""
        K = self._cell_asm.assemble(np.asarray(E, float), np.asarray(nu, float))
        return np.asarray((self._Q.T @ K @ self._Q).todense())

    def _symmetric_solve(self, D_c: np.ndarray, d: np.ndarray, coef: np.ndarray
                         ) -> np.ndarray | None:
        """y of ``(S0 + D) y = S0 Y0 coef`` by Cholesky; None if not positive definite."""
        if self._S0 is None:
            return None
        n_c = len(self._C)
        S = self._S0.copy()
        S[:n_c, :n_c] += D_c
        S[np.arange(n_c, self.m), np.arange(n_c, self.m)] += d
        try:
            factor = sla.cho_factor(S, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:  # round-off at a singular state: the capacitance form
            return None
        return sla.cho_solve(factor, self._S0Y0 @ coef, check_finite=False)

    def solve_many(self, E: ArrayLike, nu: ArrayLike, scales: Mapping[str, ArrayLike],
                   node_loads: Sequence[ArrayLike]) -> list[CondensedSolution]:
        """Solve load cases for new moduli of the changing cells and new element-set scales.

        Parameters
        ----------
        E, nu : (n_cells,)
            Moduli (MPa) and Poisson's ratios of the changing cells.
        scales : dict name -> (n_elements,)
            Scale of each element of a condensed set against its reference matrix (-); a set
            left out keeps scale 1.
        node_loads : sequence of (n_extra, 6)
            Forces (N) and moments (N·mm) on the 6-DOF nodes, nonzero on ``load_nodes`` only.
        """
        coef, Dy = self._state(E, nu, scales, node_loads)
        x_O = self._X0_O @ coef - self._Z_O @ Dy
        u_out = self._T_out @ x_O  # model DOFs of the output nodes, then all 6-DOF nodes
        n3 = 3 * len(self._out_nodes)
        out = []
        for j in range(len(node_loads)):
            disp = np.zeros((self.model.mesh.n_nodes, 3))
            disp[self._out_nodes] = u_out[:n3, j].reshape(-1, 3)
            out.append(CondensedSolution(disp, u_out[n3:, j].reshape(-1, 6).copy()))
        return out

    def full_displacements(self, E: ArrayLike, nu: ArrayLike, scales: Mapping[str, ArrayLike],
                           node_loads: Sequence[ArrayLike]) -> list[np.ndarray]:
        """Displacement fields (n_nodes, 3) mm of every mesh node for the load cases of
        :meth:`solve_many` (same arguments), e.g. for VTU output of a condensed timeline:
        ``x = A0^-1 (b - U D y)`` (the Woodbury solution, module notes), one solve with the
        reference factorization for all cases.

        Raises
        ------
        ValueError
            The model has been refilled since its condensation (``reference_revision``), so
            its factorization is no longer the reference one: put the reference state back
            and set ``reference_revision = model.revision``.
        """
        if self.model.revision != self.reference_revision:
            raise ValueError("condensation: the model was refilled after it was condensed; its "
                             "factorization is not the reference one")
        coef, Dy = self._state(E, nu, scales, node_loads)
        X = self.model.solve_reduced(np.asarray(self._R @ coef - self._U @ Dy))
        u = np.asarray(self.model.constraints.T @ X)  # supports homogeneous: no prescribed part
        n, asm = self.model.mesh.n_nodes, self.model.assembler
        return [asm.vector_to_user(u[:3 * n, j].reshape(n, 3)) for j in range(u.shape[1])]

    def _state(self, E: ArrayLike, nu: ArrayLike, scales: Mapping[str, ArrayLike],
               node_loads: Sequence[ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
        """Load coefficients (n_load_dofs, k) and ``D y`` (m, k) of a new state."""
        E, nu = np.asarray(E, float), np.asarray(nu, float)
        if E.shape != self.cells.shape or nu.shape != self.cells.shape:
            raise ValueError(f"E and nu must have one value per changing cell "
                             f"({len(self.cells)}), got {E.shape} and {nu.shape}")
        lay = self.model.layout
        coef = np.empty((len(self._load_dofs), len(node_loads)))
        for j, m in enumerate(node_loads):
            m = np.asarray(m, float)
            if m.shape != (lay.n_extra, 6) or not np.all(np.isfinite(m)):
                raise ValueError(f"node_loads[{j}] must be finite with shape ({lay.n_extra}, 6)")
            off = np.ones(lay.n_extra, bool)
            off[self.load_nodes] = False
            if np.any(m[off]):
                bad = np.flatnonzero(np.any(m != 0, axis=1) & off)
                raise ValueError(f"node_loads[{j}] loads 6-DOF nodes {bad[:5].tolist()} that "
                                 f"were not condensed as load nodes {self.load_nodes.tolist()}")
            coef[:, j] = m[self.load_nodes].ravel()
        d = np.zeros(self.m - len(self._C))
        n_c = len(self._C)
        for name, (a, b, owner, n_el) in self._set_slices.items():
            s = np.asarray(scales.get(name, np.ones(n_el)), float).ravel()
            if len(s) != n_el or not np.all(np.isfinite(s)) or np.any(s < 0):
                raise ValueError(f"scales[{name!r}] must be {n_el} finite factors >= 0, one per "
                                 f"element, got shape {s.shape}")
            d[a - n_c:b - n_c] = s[owner] - 1.0
        D_c = self._cells_matrix(E, nu) - self._K_ref
        y = self._symmetric_solve(D_c, d, coef)
        if y is None:
            WD = np.hstack([self._W[:, :n_c] @ D_c, self._W[:, n_c:] * d])
            WD[np.diag_indices_from(WD)] += 1.0
            y = sla.lu_solve(sla.lu_factor(WD, check_finite=False), self._Y0 @ coef,
                             check_finite=False)
        return coef, np.vstack([D_c @ y[:n_c], d[:, None] * y[n_c:]])
