"""Linear-elastic material laws as per-cell arrays for the element kernels.

Two laws, both stored per solid cell:

* isotropic: Young's modulus ``E`` (MPa) and Poisson's ratio ``nu`` (-);
* transversely isotropic about a per-cell unit ``axis`` (e.g. the cranio-caudal axis of
  cancellous bone): axial and transverse moduli, in-plane and axial Poisson's ratios and the
  axial shear modulus.

The kernels take an orthotropic stiffness in a local frame (3 normal-normal constants per pair,
3 shear moduli) plus an optional rotation; both laws are expressed that way here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import MaterialError


def _per_cell(name: str, value: ArrayLike, n_cells: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n_cells, float(arr))
    arr = arr.ravel() if arr.ndim == 1 else arr
    if arr.shape != (n_cells,):
        raise MaterialError(
            f"{name} must be a scalar or an array with one value per solid cell "
            f"({n_cells}), got shape {np.shape(value)}"
        )
    return np.ascontiguousarray(arr)


def _bad_cells(name: str, bad: np.ndarray, values: np.ndarray, rule: str) -> MaterialError:
    ids = np.flatnonzero(bad)
    shown = ", ".join(f"cell {i}: {values[i]:g}" for i in ids[:10])
    more = f" (and {len(ids) - 10} more)" if len(ids) > 10 else ""
    return MaterialError(f"{name} must be {rule}; {len(ids)} cell(s) violate it: {shown}{more}")


@dataclass(frozen=True, eq=False)
class Isotropic:
    """Isotropic linear elasticity, per solid cell (block order).

    Parameters
    ----------
    E : array (n_cells,)
        Young's modulus in MPa, > 0.
    nu : array (n_cells,)
        Poisson's ratio, -1 < nu < 0.5.
    """

    E: np.ndarray
    nu: np.ndarray

    @classmethod
    def of(cls, E: ArrayLike, nu: ArrayLike, n_cells: int) -> "Isotropic":
        """Validated per-cell arrays from scalars or arrays: ``E`` (MPa), ``nu`` (-)."""
        E = _per_cell("E", E, n_cells)
        nu = _per_cell("nu", nu, n_cells)
        bad = ~np.isfinite(E) | (E <= 0)
        if bad.any():
            raise _bad_cells("E (MPa)", bad, E, "finite and > 0")
        bad = ~np.isfinite(nu) | (nu <= -1) | (nu >= 0.5)
        if bad.any():
            raise _bad_cells("nu", bad, nu, "in (-1, 0.5)")
        return cls(E, nu)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return len(self.E)

    def lame(self) -> tuple[np.ndarray, np.ndarray]:
        """Lame parameters (lambda, mu) in MPa."""
        lam = self.E * self.nu / ((1 + self.nu) * (1 - 2 * self.nu))
        mu = self.E / (2 * (1 + self.nu))
        return lam, mu

    def orthotropic_constants(self) -> np.ndarray:
        """(n, 9): C11, C22, C33, C12, C13, C23, G23, G13, G12 in MPa."""
        lam, mu = self.lame()
        c = np.empty((self.n_cells, 9))
        c[:, 0:3] = (lam + 2 * mu)[:, None]
        c[:, 3:6] = lam[:, None]
        c[:, 6:9] = mu[:, None]
        return c

    def frames(self) -> None:
        """No local frames: the law is isotropic (the kernels use the identity)."""
        return None


@dataclass(frozen=True, eq=False)
class TransverselyIsotropic:
    """Transverse isotropy about a per-cell unit ``axis`` (local z), per solid cell.

    Parameters
    ----------
    E_axial, E_transverse : array (n_cells,)
        Moduli along the axis and in the isotropic plane, MPa.
    nu_transverse : array (n_cells,)
        Poisson's ratio in the isotropic plane (strain in-plane / strain in-plane).
    nu_axial : array (n_cells,)
        Poisson's ratio for load along the axis: transverse contraction / axial strain.
    G_axial : array (n_cells,)
        Shear modulus in planes containing the axis, MPa.
    axis : array (n_cells, 3)
        Unit vectors of the symmetry axis (normalised here).
    """

    E_axial: np.ndarray
    E_transverse: np.ndarray
    nu_transverse: np.ndarray
    nu_axial: np.ndarray
    G_axial: np.ndarray
    axis: np.ndarray

    @classmethod
    def of(cls, E_axial: ArrayLike, E_transverse: ArrayLike, nu_transverse: ArrayLike,
           nu_axial: ArrayLike, G_axial: ArrayLike, axis: ArrayLike,
           n_cells: int) -> "TransverselyIsotropic":
        """Validated per-cell arrays (scalars broadcast; ``axis`` (3,) or (n_cells, 3)): moduli
        ``E_axial``, ``E_transverse``, ``G_axial`` (MPa), Poisson's ratios (-)."""
        vals = {k: _per_cell(k, v, n_cells) for k, v in
                dict(E_axial=E_axial, E_transverse=E_transverse, nu_transverse=nu_transverse,
                     nu_axial=nu_axial, G_axial=G_axial).items()}
        for k in ("E_axial", "E_transverse", "G_axial"):
            bad = ~np.isfinite(vals[k]) | (vals[k] <= 0)
            if bad.any():
                raise _bad_cells(f"{k} (MPa)", bad, vals[k], "finite and > 0")
        ax = np.asarray(axis, dtype=float)
        ax = np.broadcast_to(ax, (n_cells, 3)) if ax.shape == (3,) else ax
        if ax.shape != (n_cells, 3):
            raise MaterialError(f"axis must have shape (3,) or ({n_cells}, 3), got {ax.shape}")
        norm = np.linalg.norm(ax, axis=1)
        bad = ~np.isfinite(norm) | (norm < 1e-12)
        if bad.any():
            raise _bad_cells("|axis|", bad, norm, "finite and non-zero")
        mat = cls(axis=np.ascontiguousarray(ax / norm[:, None]), **vals)
        # positive definiteness of the compliance (normal block); shear moduli already > 0
        Et, Ea, nt, na = mat.E_transverse, mat.E_axial, mat.nu_transverse, mat.nu_axial
        det_ok = (np.abs(nt) < 1) & ((1 - nt) * Ea - 2 * na**2 * Et > 0)
        if not det_ok.all():
            raise _bad_cells("nu_transverse/nu_axial", ~det_ok, nt,
                             "such that the stiffness is positive definite "
                             "(|nu_t| < 1 and (1 - nu_t) E_a > 2 nu_a^2 E_t)")
        return mat

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return len(self.E_axial)

    def orthotropic_constants(self) -> np.ndarray:
        """(n, 9): C11, C22, C33, C12, C13, C23, G23, G13, G12 in the local frame, MPa."""
        n = self.n_cells
        S = np.zeros((n, 3, 3))
        Et, Ea = self.E_transverse, self.E_axial
        S[:, 0, 0] = S[:, 1, 1] = 1 / Et
        S[:, 2, 2] = 1 / Ea
        S[:, 0, 1] = S[:, 1, 0] = -self.nu_transverse / Et
        S[:, 0, 2] = S[:, 2, 0] = S[:, 1, 2] = S[:, 2, 1] = -self.nu_axial / Ea
        C = np.linalg.inv(S)
        c = np.empty((n, 9))
        c[:, 0], c[:, 1], c[:, 2] = C[:, 0, 0], C[:, 1, 1], C[:, 2, 2]
        c[:, 3], c[:, 4], c[:, 5] = C[:, 0, 1], C[:, 0, 2], C[:, 1, 2]
        c[:, 6] = c[:, 7] = self.G_axial
        c[:, 8] = Et / (2 * (1 + self.nu_transverse))
        return c

    def frames(self) -> np.ndarray:
        """(n, 3, 3) rotations whose rows are the local axes (e1, e2, axis) in global coords."""
        a = self.axis
        helper = np.where(np.abs(a[:, [0]]) < 0.9, [[1.0, 0, 0]], [[0.0, 1, 0]])
        e1 = np.cross(helper, a)
        e1 /= np.linalg.norm(e1, axis=1)[:, None]
        e2 = np.cross(a, e1)
        return np.ascontiguousarray(np.stack([e1, e2, a], axis=1))


Material = Isotropic | TransverselyIsotropic


def voigt_stiffness(constants: np.ndarray, frames: np.ndarray | None) -> np.ndarray:
    """Full (n, 6, 6) Voigt stiffness in global axes (order xx, yy, zz, yz, xz, xy; engineering
    shear strains), from orthotropic constants and optional local frames. For post-processing."""
    n = len(constants)
    D = np.zeros((n, 6, 6))
    idx = [(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 0, 1), (4, 0, 2), (5, 1, 2)]
    for k, i, j in idx:
        D[:, i, j] = D[:, j, i] = constants[:, k]
    D[:, 3, 3], D[:, 4, 4], D[:, 5, 5] = constants[:, 6], constants[:, 7], constants[:, 8]
    if frames is None:
        return D
    T = _strain_rotation(frames)  # local strain = T @ global strain
    return np.einsum("nki,nkl,nlj->nij", T, D, T)


def _strain_rotation(Q: np.ndarray) -> np.ndarray:
    """(n, 6, 6) matrices mapping global engineering-Voigt strain to local, for rotations Q whose
    rows are the local axes (eps'_ij = Q_ik Q_jl eps_kl, gamma = 2 eps for shear)."""
    pairs = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    T = np.zeros((len(Q), 6, 6))
    for I, (i, j) in enumerate(pairs):
        factor = 1.0 if i == j else 2.0
        for J, (k, l) in enumerate(pairs):
            if k == l:
                T[:, I, J] = factor * Q[:, i, k] * Q[:, j, k]
            else:
                T[:, I, J] = factor * 0.5 * (Q[:, i, k] * Q[:, j, l] + Q[:, i, l] * Q[:, j, k])
    return T
