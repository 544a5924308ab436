"""Linear solvers for symmetric positive definite stiffness systems ``K u = f``.

``K`` in N/mm, ``f`` in N, ``u`` in mm; DOF order ``3*node + component``. Three methods:

* ``"amg"`` - conjugate gradients preconditioned by one V-cycle of pyamg smoothed aggregation
  (3x3 BSR blocks, rigid-body modes as near-nullspace), for large models;
* ``"direct"`` - scipy's SuperLU (``splu``) with a symmetric fill-reducing ordering;
* ``"pardiso"`` - Intel MKL PARDISO through the optional ``pypardiso`` package (SPD mode).

``make_solver(..., method="auto")`` picks one by size. pyamg and pypardiso are imported lazily.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from spinesim.errors import SolverError

log = logging.getLogger(__name__)

RIGID_MODE_NAMES = ("translation x", "translation y", "translation z",
                    "rotation about x", "rotation about y", "rotation about z")

# "auto" thresholds in DOFs, measured on tet4 cantilever boxes, 2-core machine (setup + 1 solve):
# SuperLU 0.027 s vs AMG-CG 0.025 s at 1.9k DOF, 0.105 vs 0.048 s at 3.6k, 0.86 vs 0.25 s at 9.5k,
# 8.8 vs 5.1 s at 30k (3D fill grows fast). PARDISO: 0.96 s vs AMG 0.16 s at 9.5k, 11.3 vs 4.0 s
# at 95k for one load case, but 0.4 s vs 2.5 s per further load case (break-even ~4 load cases),
# and it does not depend on the conditioning (stiff implants in soft tissue). At 286k PARDISO
# needs 43 s / 3.8 GB vs AMG 6 s / 0.8 GB (break-even ~10 load cases), hence the 150k limit.
AUTO_DIRECT_MAX_DOFS = 2_500
AUTO_PARDISO_MAX_DOFS = 150_000

# Smoothed-aggregation settings for 3D elasticity chosen by measurement (see benchmarks/solve.py).
AMG_DEFAULTS: dict[str, Any] = {
    "symmetry": "symmetric",
    "strength": ("symmetric", {"theta": 0.02}),
    "aggregate": "standard",
    "smooth": ("jacobi", {"omega": 4.0 / 3.0}),
    # forward pre- and backward post-sweep: the V-cycle stays symmetric (needed by CG) at half
    # the smoothing cost of symmetric sweeps on both sides
    "presmoother": ("block_gauss_seidel", {"sweep": "forward"}),
    "postsmoother": ("block_gauss_seidel", {"sweep": "backward"}),
    "improve_candidates": None,
    "max_levels": 15,
    "max_coarse": 100,         # in 3x3 (finest) / 6x6 (coarse) blocks
    "coarse_solver": "splu",   # "pinv" (dense) is computed lazily and takes seconds above ~1k DOF
}


def rigid_body_modes(points: np.ndarray, dofs: np.ndarray | None = None) -> np.ndarray:
    """Rigid-body displacement modes of a point cloud.

    Parameters
    ----------
    points : (n, 3) array
        Node coordinates in mm.
    dofs : int array, optional
        Global DOF indices (``3*node + component``) to keep, e.g. the free DOFs after supports
        have been removed. Default: all ``3n`` DOFs.

    Returns
    -------
    (3n, 6) or (len(dofs), 6) array
        Columns in the order of ``RIGID_MODE_NAMES``: unit translations (mm) and small rotations
        (rad, displacement in mm per rad) about the centroid, so the columns are well scaled.
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"rigid_body_modes: points must have shape (n, 3), got {pts.shape}")
    from spinesim.fem.dofs import DofLayout

    B = DofLayout(len(pts)).rigid_modes(pts) if len(pts) else np.zeros((0, 6))
    return B if dofs is None else B[np.asarray(dofs)]


@dataclass(frozen=True)
class SolverInfo:
    """Statistics of a solver. Times in s; ``residual`` is ``max ||b - A x|| / ||b||`` over the
    right-hand sides of the last solve; ``iterations`` is the max over them (0 for direct)."""

    method: str
    n: int
    setup_s: float = 0.0
    solve_s: float = 0.0
    iterations: int = 0
    residual: float = float("nan")
    n_setups: int = 0
    n_solves: int = 0
    reused_preconditioner: bool = False


def _check_matrix(A: Any) -> sp.csr_matrix:
    if not sp.issparse(A):
        raise SolverError(f"the matrix must be a scipy.sparse matrix, got {type(A).__name__}")
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise SolverError(f"the stiffness matrix must be square, got shape {A.shape}")
    A = sp.csr_matrix(A, dtype=np.float64)
    if A.shape[0] == 0:
        raise SolverError("the stiffness matrix is empty (no free DOFs)")
    if not np.all(np.isfinite(A.data)):
        bad = np.flatnonzero(~np.isfinite(A.data))[0]
        row = int(np.searchsorted(A.indptr, bad, side="right") - 1)
        raise SolverError(f"the stiffness matrix has NaN/inf entries (first in row {row}, "
                          f"column {A.indices[bad]}); check material parameters and the mesh")
    A.sum_duplicates()
    return A


def _check_rhs(b: Any, n: int) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    if b.ndim not in (1, 2) or b.shape[0] != n:
        raise SolverError(f"right-hand side has shape {b.shape}; expected ({n},) or ({n}, k)")
    if not np.all(np.isfinite(b)):
        raise SolverError(f"right-hand side has NaN/inf at rows "
                          f"{np.unique(np.nonzero(~np.isfinite(b))[0])[:10].tolist()}")
    return b


def _rel_residual(A: sp.spmatrix, x: np.ndarray, b: np.ndarray) -> float:
    bn = np.linalg.norm(b, axis=0)
    r = np.linalg.norm(b - A @ x, axis=0) / np.where(bn > 0, bn, 1.0)
    return float(np.max(r)) if r.size else 0.0


class LinearSolver:
    """A prepared solver for one matrix (see :func:`make_solver`); subclasses implement
    ``_setup`` (factorize / build hierarchy) and ``_solve_columns``."""

    method = "base"

    def __init__(self, A: sp.spmatrix, *, rtol: float = 1e-8, maxiter: int | None = None):
        self.A = _check_matrix(A)
        self.rtol, self.maxiter = float(rtol), maxiter
        self._info = SolverInfo(self.method, self.A.shape[0])
        self._timed_setup()

    @property
    def info(self) -> SolverInfo:
        """Statistics of the last setup and solve."""
        return self._info

    @property
    def n(self) -> int:
        """Size of the system (number of unknowns)."""
        return self.A.shape[0]

    def _timed_setup(self, **kw: Any) -> None:
        t = time.perf_counter()
        built = self._setup(**kw) is not False  # False: an old factorization/hierarchy was kept
        self._info = replace(self._info, setup_s=time.perf_counter() - t,
                             n_setups=self._info.n_setups + built)

    def _setup(self, **kw: Any) -> bool | None:
        raise NotImplementedError

    def _solve_columns(self, B: np.ndarray, X0: np.ndarray | None) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    def solve(self, b: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """Solve ``A x = b``.

        Parameters
        ----------
        b : (n,) or (n, k) array
            Load vector(s) in N.
        x0 : array like ``b``, optional
            Initial guess in mm (used by iterative methods; ignored by direct ones).

        Returns
        -------
        array like ``b``
            Displacements in mm.
        """
        b = _check_rhs(b, self.n)
        B = b.reshape(self.n, -1)
        X0 = None if x0 is None else _check_rhs(x0, self.n).reshape(self.n, -1)
        if X0 is not None and X0.shape != B.shape:
            raise SolverError(f"x0 has shape {np.shape(x0)} but b has shape {b.shape}")
        t = time.perf_counter()
        X, iters = self._solve_columns(B, X0)
        res = _rel_residual(self.A, X, B)
        if not res <= self.rtol and (X_ref := self._refined_solve(B)) is not None:
            X, res = X_ref, _rel_residual(self.A, X_ref, B)  # ill-conditioned: refine
        if not res <= max(1e-6, self.rtol):  # direct: garbage from (near-)singular factors
            raise SolverError(f"{self.method} solver: relative residual {res:.3e} after the solve; "
                              "the matrix is (nearly) singular - the model is probably "
                              "under-constrained")
        self._info = replace(self._info, solve_s=time.perf_counter() - t, iterations=iters,
                             residual=res, n_solves=self._info.n_solves + 1)
        return X.reshape(b.shape)

    def _refined_solve(self, B: np.ndarray) -> np.ndarray | None:
        """The solve again with iterative refinement, for a residual above ``rtol``; None
        where the method has none beyond its own."""
        return None

    def update(self, A_new: sp.spmatrix, **kw: Any) -> None:
        """Replace the matrix by one with the same size (new values) and redo the setup."""
        A_new = _check_matrix(A_new)
        if A_new.shape != self.A.shape:
            raise SolverError(f"update: new matrix has shape {A_new.shape}, expected {self.A.shape}")
        self.A = A_new
        self._timed_setup(**kw)


class _FactoredSolver(LinearSolver):
    """A direct solver: every setup factorizes the matrix, and the factors are kept for
    further right-hand sides (``_factor_solve``, also used by the low-rank spring updates of
    :mod:`spinesim.fem.low_rank`)."""

    def _setup(self) -> bool:
        self._factorize()
        self._factored = True
        return True

    def _factorize(self) -> None:
        raise NotImplementedError

    def _factor_solve(self, B: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _solve_columns(self, B: np.ndarray, X0: np.ndarray | None) -> tuple[np.ndarray, int]:
        return self._factor_solve(B), 0


class DirectSolver(_FactoredSolver):
    """scipy SuperLU with a symmetric minimum-degree ordering on ``A + A^T``; the factors are kept
    for further right-hand sides."""

    method = "direct"
    permc_spec = "MMD_AT_PLUS_A"

    def _factorize(self) -> None:
        from scipy.sparse.linalg import splu

        self._lu = None
        try:
            # SymmetricMode + no pivoting off the diagonal keeps the symmetric ordering (SPD)
            self._lu = splu(self.A.tocsc(), permc_spec=self.permc_spec, diag_pivot_thresh=0.0,
                            options={"SymmetricMode": True})
        except RuntimeError as exc:
            raise SolverError(f"direct solver: the stiffness matrix is singular ({exc}); the model is "
                              "probably under-constrained (missing supports or disconnected parts)"
                              ) from exc
        d = np.abs(self._lu.U.diagonal())
        if not np.all(np.isfinite(d)) or d.min() <= 1e-13 * d.max():
            i = int(self._lu.perm_c[np.argmin(d)]) if d.size else 0
            raise SolverError(f"direct solver: (near-)zero pivot {d.min():.3e} (largest {d.max():.3e})"
                              f" at DOF {i} (node {i // 3}, component {'xyz'[i % 3]}); the model is "
                              "probably under-constrained (missing supports or disconnected parts)")

    def _factor_solve(self, B: np.ndarray) -> np.ndarray:
        return self._lu.solve(B)


class PardisoSolver(_FactoredSolver):
    """MKL PARDISO (``pypardiso``) in SPD mode (mtype 2, upper triangle); factors are kept."""

    method = "pardiso"

    def _factorize(self) -> None:
        try:
            import pypardiso
        except ImportError as exc:
            raise SolverError("method='pardiso' needs the optional package pypardiso: "
                              "pip install pypardiso   (or pip install spinesim[pardiso])") from exc
        U = self._upper()
        old = getattr(self, "_U", None)
        # same pattern as the last factorization: keep PARDISO's ordering and symbolic
        # analysis (phase 11) and redo only the numeric factorization (phase 22)
        numeric_only = (old is not None and old.nnz == U.nnz
                        and np.array_equal(old.indptr, U.indptr)
                        and np.array_equal(old.indices, U.indices))
        if getattr(self, "_ps", None) is not None:
            if not numeric_only:
                self._ps.free_memory(everything=True)  # reuse the object: creating one globs
        else:
            self._ps = pypardiso.PyPardisoSolver(mtype=2)
        self._U = U
        if np.any(self._U.diagonal() <= 0):
            i = int(np.flatnonzero(self._U.diagonal() <= 0)[0])
            raise SolverError(f"pardiso: non-positive diagonal at DOF {i} (node {i // 3}); the model "
                              "is probably under-constrained or has an unattached node")
        try:
            if numeric_only:
                self._ps.set_phase(22)
                self._ps._call_pardiso(self._U, np.zeros((self._U.shape[0], 1)))
            else:
                self._ps.factorize(self._U)
        except Exception as exc:  # pypardiso.PyPardisoError: -4 zero pivot, not SPD
            raise SolverError(f"pardiso factorization failed ({exc}); the matrix is singular or not "
                              "positive definite - the model is probably under-constrained") from exc

    def _upper(self) -> sp.csr_matrix:
        """The upper triangle of A (sorted CSR), by a gather map kept while A's pattern is
        the same arrays (refills of a model share them)."""
        A = self.A
        cache = getattr(self, "_triu_map", None)
        if cache is None or cache[0] is not A.indptr or cache[1] is not A.indices:
            if not A.has_sorted_indices:
                U = sp.triu(A, format="csr")
                U.sort_indices()
                self._triu_map = None
                return U
            rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
            keep = A.indices >= rows
            indptr = np.zeros(A.shape[0] + 1, A.indptr.dtype)
            np.cumsum(np.bincount(rows[keep], minlength=A.shape[0]), out=indptr[1:])
            cache = self._triu_map = (A.indptr, A.indices, np.flatnonzero(keep),
                                      A.indices[keep], indptr)
        return sp.csr_matrix((A.data[cache[2]], cache[3], cache[4]), shape=A.shape)

    def __del__(self) -> None:
        # PARDISO keeps its factors in MKL's memory until phase -1; pypardiso does not free
        # them when its object goes, so without this every discarded model (a new segment per
        # sweep case or Monte Carlo stratum) kept its factorization: about 0.7 GB at 90k DOF
        ps = getattr(self, "_ps", None)
        if ps is not None:
            try:
                ps.free_memory(everything=True)
            except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to free
                pass

    def _factor_solve(self, B: np.ndarray) -> np.ndarray:
        self._ps.set_phase(33)  # solve with the stored factors (skip pypardiso's matrix hashing)
        # no iterative refinement first: an SPD factorization solves to a relative residual
        # of about 1e-10, and the two refinement steps of MKL's defaults (iparm 8, filled in
        # by the factorization) triple the cost of every solve; refine only where needed
        self._ps.set_iparm(8, 0)
        B = np.asfortranarray(B)
        return self._ps._call_pardiso(self._U, B).reshape(B.shape)

    def _refined_solve(self, B: np.ndarray) -> np.ndarray | None:
        self._ps.set_phase(33)
        self._ps.set_iparm(8, 2)  # two steps of PARDISO's iterative refinement
        return self._ps._call_pardiso(self._U, np.asfortranarray(B)).reshape(B.shape)


def _pcg(A: Callable[[np.ndarray], np.ndarray], b: np.ndarray, x: np.ndarray,
         M: Callable[[np.ndarray], np.ndarray], rtol: float, maxiter: int) -> tuple[np.ndarray, int, float]:
    """Preconditioned CG to ``||b - A x|| <= rtol ||b||``; returns (x, iterations, rel. residual).
    The recursive residual is confirmed with the true residual before stopping."""
    bnorm = float(np.linalg.norm(b))
    if bnorm == 0.0:
        return np.zeros_like(b), 0, 0.0
    tol = rtol * bnorm
    r = b - A(x)
    rn = float(np.linalg.norm(r))
    it = 0
    while rn > tol and it < maxiter:
        z = M(r)
        p, rz = z.copy(), float(r @ z)
        while it < maxiter:
            it += 1
            q = A(p)
            pq = float(p @ q)
            if not pq > 0.0:
                raise SolverError(f"AMG-CG: p^T K p = {pq:.3e} <= 0 at iteration {it}: the matrix is "
                                  "not positive definite; the model is probably under-constrained")
            alpha = rz / pq
            x += alpha * p
            r -= alpha * q
            rn = float(np.linalg.norm(r))
            if rn <= tol:
                break
            z = M(r)
            rz_new = float(r @ z)
            p *= rz_new / rz
            p += z
            rz = rz_new
        r = b - A(x)  # true residual; restart if the recursion drifted
        rn = float(np.linalg.norm(r))
    return x, it, rn / bnorm


class AMGSolver(LinearSolver):
    """CG preconditioned with a pyamg smoothed-aggregation V-cycle (3x3 blocks).

    Parameters (besides :class:`LinearSolver`'s)
    ----------
    near_nullspace : (n, m) array, optional
        Near-nullspace candidates (``B`` of pyamg), normally :func:`rigid_body_modes` restricted to
        the free DOFs. Default: the three translations only (much slower convergence).
    amg_options : dict, optional
        Overrides of :data:`AMG_DEFAULTS` passed to ``pyamg.smoothed_aggregation_solver``.
    recycle : int
        Number of earlier solutions kept (A-orthonormalised) to start each new solve from the
        Galerkin projection of its load onto them (P. F. Fischer, "Projection techniques for
        iterative solution of Ax = b with successive right-hand sides", Comput. Methods Appl.
        Mech. Engrg. 163:193-204, 1998). A load that combines earlier ones (a reversed moment,
        a scaled preload) then needs no iteration; an unrelated load costs a full solve.
        0 disables it. Cleared when the matrix changes.
    """

    method = "amg"

    def __init__(self, A: sp.spmatrix, *, near_nullspace: np.ndarray | None = None,
                 rtol: float = 1e-8, maxiter: int | None = None,
                 amg_options: dict[str, Any] | None = None, recycle: int = 12):
        n = A.shape[0]
        if near_nullspace is None:
            if n % 3:
                raise SolverError(f"AMG: {n} DOFs is not a multiple of 3; pass near_nullspace")
            near_nullspace = np.tile(np.eye(3), (n // 3, 1))
            log.warning("AMG without near_nullspace: using translations only; pass "
                        "rigid_body_modes(points, free_dofs) for much faster convergence")
        B = np.asarray(near_nullspace, dtype=np.float64)
        if B.ndim != 2 or B.shape[0] != n:
            raise SolverError(f"near_nullspace has shape {B.shape}; expected ({n}, m)")
        self.B = np.ascontiguousarray(B)
        self.options = {**AMG_DEFAULTS, **(amg_options or {})}
        self._ml: Any = None
        self.recycle = int(recycle)
        self._W = np.zeros((n, 0))  # A-orthonormal basis of earlier solutions
        super().__init__(A, rtol=rtol, maxiter=maxiter)

    def _setup(self, keep_preconditioner: bool = False, **kw: Any) -> bool:
        self._Absr = self.A.tobsr(blocksize=(3, 3)) if self.n % 3 == 0 else self.A
        self._W = np.zeros((self.n, 0))
        if keep_preconditioner and self._ml is not None:
            self._info = replace(self._info, reused_preconditioner=True)
            return False
        import pyamg

        self._ml = pyamg.smoothed_aggregation_solver(self._Absr, B=self.B, **self.options)
        self._M = self._ml.aspreconditioner(cycle="V")
        self._info = replace(self._info, reused_preconditioner=False)
        return True

    def update(self, A_new: sp.spmatrix, keep_preconditioner: bool = False) -> None:
        """New matrix values (same size). ``keep_preconditioner=True`` keeps the old AMG hierarchy
        as preconditioner (cheap; fine when the moduli changed little, CG stays exact)."""
        super().update(A_new, keep_preconditioner=keep_preconditioner)

    @property
    def hierarchy(self) -> Any:
        """The pyamg MultilevelSolver."""
        return self._ml

    def _solve_columns(self, B: np.ndarray, X0: np.ndarray | None) -> tuple[np.ndarray, int]:
        maxiter = self.maxiter if self.maxiter is not None else max(500, self.n // 100)
        A, M = self._Absr, self._M
        if X0 is None:  # Galerkin projection onto earlier solutions (W^T A W = I)
            X = self._W @ (self._W.T @ B) if self._W.shape[1] else np.zeros_like(B)
        else:
            X = X0.copy()
        iters = 0
        for j in range(B.shape[1]):
            x, it, res = _pcg(A.dot, B[:, j], np.ascontiguousarray(X[:, j]), M.matvec,
                              self.rtol, maxiter)
            if res > self.rtol:
                raise SolverError(f"AMG-CG did not converge: relative residual {res:.3e} > rtol "
                                  f"{self.rtol:.1e} after {it} iterations (maxiter {maxiter}, "
                                  f"right-hand side {j}); raise maxiter or check the model")
            X[:, j] = x
            iters = max(iters, it)
            self._remember(x)
        return X, iters

    def _remember(self, x: np.ndarray) -> None:
        """Add a solution to the recycled basis (A-orthonormal Gram-Schmidt, twice)."""
        if self.recycle <= 0:
            return
        w = x.copy()
        for _ in range(2):
            if self._W.shape[1]:
                w -= self._W @ (self._W.T @ (self._Absr @ w))
        norm2 = float(w @ (self._Absr @ w))
        if not norm2 > 1e-20 * max(float(x @ (self._Absr @ x)), 1e-300):
            return  # already in the span
        W = np.column_stack([self._W, w / np.sqrt(norm2)])
        self._W = W[:, -self.recycle:]


def pardiso_available() -> bool:
    """True if ``pypardiso`` can be imported."""
    import importlib.util

    return importlib.util.find_spec("pypardiso") is not None


def make_solver(A: sp.spmatrix, *, method: str = "auto", near_nullspace: np.ndarray | None = None,
                rtol: float = 1e-8, maxiter: int | None = None,
                amg_options: dict[str, Any] | None = None, recycle: int = 12) -> LinearSolver:
    """Prepare a solver for the SPD stiffness matrix ``A`` (N/mm, supports already removed).

    Parameters
    ----------
    A : sparse (n, n)
        Symmetric positive definite matrix.
    method : {"auto", "amg", "direct", "pardiso"}
        ``"auto"``: pardiso if installed and ``n <= AUTO_PARDISO_MAX_DOFS``, else direct if
        ``n <= AUTO_DIRECT_MAX_DOFS``, else amg.
    near_nullspace : (n, m) array, optional
        Rigid-body modes of the free DOFs for AMG (see :func:`rigid_body_modes`).
    rtol : float
        Relative residual ``||b - A x|| / ||b||`` for AMG-CG.
    maxiter : int, optional
        CG iteration limit (default ``max(500, n / 100)``); exceeding it raises SolverError.
    amg_options : dict, optional
        Overrides of :data:`AMG_DEFAULTS`.
    recycle : int
        AMG only: earlier solutions kept to project new loads on (see :class:`AMGSolver`).

    Returns
    -------
    LinearSolver
        With ``.solve(b, x0=None)``, ``.update(A_new)`` and ``.info``.
    """
    if not sp.issparse(A) or A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise SolverError(f"the stiffness matrix must be a square sparse matrix, got "
                          f"{type(A).__name__} of shape {getattr(A, 'shape', None)}")
    n = A.shape[0]
    if method == "auto":
        if pardiso_available() and n <= AUTO_PARDISO_MAX_DOFS:
            method = "pardiso"
        elif n <= AUTO_DIRECT_MAX_DOFS:
            method = "direct"
        else:
            method = "amg"
        log.info("solver auto choice: %s for %d DOFs (pardiso <= %d if installed, direct <= %d, "
                 "else amg)", method, n, AUTO_PARDISO_MAX_DOFS, AUTO_DIRECT_MAX_DOFS)
    if method == "amg":
        return AMGSolver(A, near_nullspace=near_nullspace, rtol=rtol, maxiter=maxiter,
                         amg_options=amg_options, recycle=recycle)
    if method == "direct":
        return DirectSolver(A, rtol=rtol, maxiter=maxiter)
    if method == "pardiso":
        return PardisoSolver(A, rtol=rtol, maxiter=maxiter)
    raise SolverError(f"unknown solver method {method!r}; use 'auto', 'amg', 'direct' or 'pardiso'")
