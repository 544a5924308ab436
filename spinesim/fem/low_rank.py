"""Solves of a model whose springs changed since its factorization, by a low-rank update of
that factorization instead of a new one.

An active-set iteration (:mod:`spinesim.fem.active_set`) changes only the stiffness of the
one-sided springs that switch, and after its first iterations only a few of them. An axial
spring's matrix is rank one, ``k g g^T`` with ``g = T^T P [d, -d]`` its unit axial vector in
the reduced DOFs (``d`` the unit axis, ``P`` the model's DOF order, ``T`` the constraint
reduction). With ``A_f`` the reduced matrix that was factorized and ``C`` the springs whose
stiffness changed since, by ``delta_i``, the current matrix is

    A = A_f + G_C D G_C^T,    D = diag(delta_C),

and the Woodbury identity in its capacitance form solves it exactly with the factors of
``A_f`` (``Z = A_f^{-1} G_C``: one solve per changed spring, kept until the next
factorization, so a spring that changes again costs nothing more):

    x0 = A_f^{-1} b,    (I + D G_C^T Z) y = D G_C^T x0,    x = x0 - Z y.

A factorization of the intact L4-L5 segment (95k DOFs, PARDISO, 2 cores) takes about 5 s and
one more right-hand side about 20 ms in a block (105 ms alone), so an update by up to a few
hundred springs costs less than refactorizing (:data:`LOW_RANK_MAX_SPRINGS`). The solution
is checked by its residual against the current matrix; a solve that misses the solver's
tolerance (round-off in a nearly singular state) returns None and the caller refactorizes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from spinesim.fem.solvers import _rel_residual

if TYPE_CHECKING:
    from spinesim.fem.solvers import LinearSolver
    from spinesim.fem.springs import SpringSet
    from spinesim.fem.static import LinearElasticModel

__all__ = ["LOW_RANK_MAX_SPRINGS", "SpringUpdate"]

log = logging.getLogger(__name__)

#: At most this many springs may differ from the factorized state for a low-rank solve;
#: more refactorize. Each needs one solve with the old factors (about 20 ms in a block on
#: the 95k-DOF intact segment, against about 5 s for its factorization), so 200 cost under
#: a factorization, and the kept columns (8 bytes per reduced DOF each) stay below 160 MB.
LOW_RANK_MAX_SPRINGS = 200


class SpringUpdate:
    """Low-rank solves of ``model`` after its spring sets ``sets`` changed stiffness.

    The updater keeps no reference to the model (a per-model cache may hold it).

    Parameters
    ----------
    model : LinearElasticModel
        With a direct or PARDISO solver; the spring sets are element sets of it.
    sets : sequence of SpringSet
    max_springs : int, optional
        Changed springs allowed per solve; default :data:`LOW_RANK_MAX_SPRINGS`.

    Attributes
    ----------
    factored : (n,) float or None
        Axial stiffness of every spring (the sets concatenated, N/mm) in the factorized
        matrix; None when unknown (the next solve must refactorize).
    """

    def __init__(self, model: LinearElasticModel, sets: Sequence[SpringSet], *,
                 max_springs: int | None = None) -> None:
        self.sets = tuple(sets)
        self.names = tuple(s.name for s in sets)
        self.max_springs = int(LOW_RANK_MAX_SPRINGS if max_springs is None else max_springs)
        rank, lay = model.system.dof_rank, model.layout
        #: unit axis of every spring of each set, (n_set, 3)
        self._axes = [s.direction / np.linalg.norm(s.direction, axis=1)[:, None] for s in sets]
        rows, cols, vals, start = [], [], [], 0
        for s, d in zip(sets, self._axes):
            rows.append(rank[s.dofs(lay)].ravel())
            cols.append(np.repeat(np.arange(start, start + s.n), 6))
            vals.append(np.hstack([d, -d]).ravel())
            start += s.n
        self.n = start
        g_full = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                       np.concatenate(cols))),
                               shape=(lay.n_dofs, self.n))
        self._G = sp.csc_matrix(model.constraints.T.T @ g_full)  # (n_r, n) unit axial vectors
        self.factored: np.ndarray | None = None
        self._slot = np.full(self.n, -1, np.int64)  # spring -> its column of Z, -1 none
        self._Z: np.ndarray | None = None
        self._used = 0

    def stiffness(self, k: dict[str, np.ndarray]) -> np.ndarray:
        """The per-set stiffnesses ``k`` (name -> (n_set,) N/mm) as one (n,) array."""
        return np.concatenate([np.asarray(k[name], float) for name in self.names])

    def values_stiffness(self, model: LinearElasticModel) -> np.ndarray | None:
        """Axial stiffness (n,) N/mm of every spring in ``model``'s current element values
        (the factorized ones when no refill is pending); None if a set's values are not
        axial spring matrices of its springs."""
        ks = []
        for s, d in zip(self.sets, self._axes):
            V = model.system.values(s.name)
            k = np.einsum("pij,pi,pj->p", V[:, :3, :3], d, d)
            if not np.allclose(V, s.matrices(k), rtol=0.0,
                               atol=1e-12 * max(np.abs(V).max(), 1.0)):
                return None
            ks.append(k)
        return np.concatenate(ks) if ks else np.zeros(0)

    def set_factored(self, k: np.ndarray | None) -> None:
        """The model was factorized with spring stiffnesses ``k`` (n,) N/mm (None: unknown);
        forgets the columns of the old factors."""
        self.factored = None if k is None else np.asarray(k, float).copy()
        self._slot[:] = -1
        self._used = 0

    def changed(self, k: np.ndarray) -> np.ndarray | None:
        """Springs whose stiffness ``k`` differs from the factorized one; None if unknown."""
        return None if self.factored is None else np.flatnonzero(k != self.factored)

    def solve(self, k: np.ndarray, B: np.ndarray, A: sp.spmatrix,
              solver: LinearSolver | None) -> np.ndarray | None:
        """``X`` of ``A X = B`` (reduced DOFs) for the current spring stiffnesses ``k`` (n,)
        N/mm, by the update of the factors of ``solver`` (the model's direct or PARDISO
        solver, factorized with :attr:`factored`); ``A`` is the current reduced matrix, for
        the residual check. None when the update is not possible or not accurate: too many
        changed springs, no known factorized state, a singular capacitance matrix or a
        relative residual above the solver's tolerance."""
        C = self.changed(k)
        log.debug("low-rank: %s springs changed since the factorization",
                  None if C is None else len(C))
        if C is None or len(C) > self.max_springs:
            return None
        if solver is None or not getattr(solver, "_factored", False):
            return None
        B = np.asarray(B, float).reshape(B.shape[0], -1)
        X0 = solver._factor_solve(B)
        if len(C) == 0:
            X = X0
        else:
            new = C[self._slot[C] < 0]
            if len(new):
                if self._Z is None:
                    self._Z = np.empty((self._G.shape[0], self.max_springs), order="F")
                if self._used + len(new) > self.max_springs:
                    return None  # the kept columns are full: cheaper to refactorize
                slots = np.arange(self._used, self._used + len(new))
                self._Z[:, slots] = solver._factor_solve(self._G[:, new].toarray())
                self._slot[new] = slots
                self._used += len(new)
            Z = self._Z[:, self._slot[C]]
            G = self._G[:, C]
            delta = (k[C] - self.factored[C])[:, None]
            M = delta * np.asarray((G.T @ Z))
            M[np.diag_indices_from(M)] += 1.0
            try:
                y = sla.lu_solve(sla.lu_factor(M, check_finite=False),
                                 delta * np.asarray(G.T @ X0), check_finite=False)
            except (np.linalg.LinAlgError, ValueError):
                return None
            X = X0 - Z @ y
        res = _rel_residual(A, X, B)  # the largest over the columns, as the solvers check
        if not res <= solver.rtol:
            log.debug("low-rank update by %d springs: relative residual %.2e above %.1e; "
                      "refactorizing", len(C), res, solver.rtol)
            return None
        return X
