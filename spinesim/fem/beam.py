"""Two-node 3D Timoshenko beam for pedicle screws and rods.

Exact ("interdependent interpolation") Timoshenko stiffness of Przemieniecki (Theory of Matrix
Structural Analysis, 1968, sec. 5.6) with Phi = 12 E I / (kappa G A L^2) per bending plane. It
reproduces the exact end-loaded straight beam for any slenderness, so it does not lock.

Conventions
-----------
* DOFs per node, in global axes: (ux, uy, uz, rx, ry, rz); element vectors are
  (node 1 DOFs, node 2 DOFs), length 12.
* Local frame (rows of :func:`local_frames`): x along the axis from node 1 to node 2,
  z = x cross v_ref / |x cross v_ref|, y = z cross x. So local y is the part of ``v_ref``
  normal to the axis.
* Section resultants are those acting on the positive face (outward normal +x) of a cut,
  components in local axes: N (tension > 0), Vy, Vz, torque T = Mx, moments My, Mz. They are
  reported at both element ends: end 0 (node 1) and end 1 (node 2).
* Surface point at angle theta (rad, measured from local +y towards local +z):
  y = r cos(theta), z = r sin(theta). Normal stress
  sigma = N / A + My z / I - Mz y / I = N / A + (r / I) (My sin(theta) - Mz cos(theta)),
  tension positive. Shear stress tau is the component along e_theta = (-sin, cos) (the only
  one allowed on a traction-free surface): tau = T r / J + beta (-Vy sin(theta) +
  Vz cos(theta)) / A, beta from :attr:`CircularSection.surface_shear_factor`.
  Von Mises: sqrt(sigma^2 + 3 tau^2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import MeshError, SpinesimError
from spinesim.fem.sections import CircularSection

logger = logging.getLogger(__name__)

__all__ = [
    "BeamSectionResults",
    "beam_stiffness",
    "default_v_ref",
    "local_frames",
    "local_stiffness",
    "section_results",
    "surface_stresses",
]

#: |cos| between the axis and global z above which the default v_ref switches to global x.
_PARALLEL_DEFAULT = 0.95
#: sin(angle) between the axis and v_ref below which v_ref counts as parallel.
_PARALLEL_TOL = 1e-6


# ------------------------------------------------------------------------- geometry
def _coords(x1: ArrayLike, x2: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.atleast_2d(np.asarray(x1, dtype=np.float64))
    b = np.atleast_2d(np.asarray(x2, dtype=np.float64))
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 3:
        raise MeshError(f"x1 and x2 must both have shape (n, 3), got {np.shape(x1)} and "
                        f"{np.shape(x2)}")
    return a, b


def _axes(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit axes (n, 3) and lengths (n,); raises for zero-length elements."""
    d = x2 - x1
    length = np.linalg.norm(d, axis=1)
    scale = np.maximum(np.maximum(np.abs(x1).max(axis=1), np.abs(x2).max(axis=1)), 1.0)
    bad = ~(length > 1e-12 * scale)
    if np.any(bad):
        ids = np.flatnonzero(bad)
        shown = ", ".join(f"element {i} (length {length[i]:g} mm)" for i in ids[:10])
        raise MeshError(f"zero-length beam element(s): {shown}")
    return d / length[:, None], length


def default_v_ref(x1: ArrayLike, x2: ArrayLike) -> np.ndarray:
    """Default orientation vectors: global z, or global x where the axis is within ~18 deg of z.

    Adjacent elements on either side of the switch get frames rotated against each other,
    so pass an explicit ``v_ref`` (e.g. the normal of a rod's contour plane) when per-element
    My / Mz are to be compared along a rod.

    Parameters
    ----------
    x1, x2 : array (n, 3)
        Node coordinates (mm).

    Returns
    -------
    ndarray (n, 3)
    """
    a, b = _coords(x1, x2)
    axis, _ = _axes(a, b)
    v = np.zeros_like(axis)
    near_z = np.abs(axis[:, 2]) > _PARALLEL_DEFAULT
    v[~near_z, 2] = 1.0
    v[near_z, 0] = 1.0
    return v


def local_frames(x1: ArrayLike, x2: ArrayLike, v_ref: ArrayLike | None = None) -> np.ndarray:
    """Local frames of the elements, rows = local (x, y, z) axes in global components.

    Parameters
    ----------
    x1, x2 : array (n, 3)
        Coordinates (mm) of the first and second node of each element.
    v_ref : array (n, 3) or (3,), optional
        Vector not parallel to the axis; local y is its part normal to the axis.
        Default :func:`default_v_ref`.

    Returns
    -------
    ndarray (n, 3, 3)
        ``R`` with ``u_local = R @ u_global`` for each 3-vector.

    Raises
    ------
    MeshError
        Zero-length element, or v_ref (nearly) parallel to the axis; names the element.
    """
    a, b = _coords(x1, x2)
    ex, _ = _axes(a, b)
    if v_ref is None:
        v = default_v_ref(a, b)
    else:
        v = np.broadcast_to(np.asarray(v_ref, dtype=np.float64), ex.shape)
    ez = np.cross(ex, v)
    nz = np.linalg.norm(ez, axis=1)
    nv = np.linalg.norm(v, axis=1)
    bad = ~(nz > _PARALLEL_TOL * nv)
    if np.any(bad):
        ids = np.flatnonzero(bad)
        shown = ", ".join(f"element {i} (v_ref {v[i].tolist()}, axis {ex[i].round(6).tolist()})"
                          for i in ids[:10])
        raise MeshError(f"v_ref is zero or parallel to the beam axis for {len(ids)} "
                        f"element(s): {shown}")
    ez = ez / nz[:, None]
    ey = np.cross(ez, ex)
    return np.stack([ex, ey, ez], axis=1)


# ------------------------------------------------------------------------- stiffness
def _per_element(name: str, value: ArrayLike, n: int, allow_pair: bool = False) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    ok = arr.shape == (n,) or (allow_pair and arr.shape == (n, 2))
    if not ok:
        raise SpinesimError(f"{name} must be a scalar or one value per element ({n}), "
                            f"got shape {np.shape(value)}")
    bad = ~np.isfinite(arr) | (arr <= 0.0)
    if np.any(bad):
        ids = np.unique(np.nonzero(bad)[0])
        shown = ", ".join(f"element {i}: {arr[i].tolist()}" for i in ids[:10])
        raise SpinesimError(f"{name} must be finite and > 0; {shown}")
    return arr


def _bending_block(c: np.ndarray, length: np.ndarray, phi: np.ndarray, s: float) -> np.ndarray:
    """(n, 4, 4) bending block for (w1, r1, w2, r2); s = +1 for (v, rz), -1 for (w, ry)."""
    L, L2 = length, length**2
    a, b = s * 6.0 * L, (4.0 + phi) * L2
    d = (2.0 - phi) * L2
    t = np.full_like(L, 12.0)
    rows = [[t, a, -t, a], [a, b, -a, d], [-t, -a, t, -a], [a, d, -a, b]]
    return c[:, None, None] * np.stack([np.stack(r, axis=-1) for r in rows], axis=1)


def local_stiffness(length: ArrayLike, E: ArrayLike, nu: ArrayLike, section_A: ArrayLike,
                    section_I: ArrayLike, section_J: ArrayLike, kappa: ArrayLike) -> np.ndarray:
    """Exact Timoshenko element stiffness in local axes.

    Parameters
    ----------
    length : array (n,)
        Element lengths (mm).
    E, nu : array (n,) or scalar
        Young's modulus (MPa) and Poisson's ratio (-); G = E / (2 (1 + nu)).
    section_A, section_J : array (n,) or scalar
        Area (mm^2) and torsion constant (mm^4).
    section_I : array (n,), (n, 2) or scalar
        Second moment (mm^4); (n, 2) gives (Iy, Iz) separately.
    kappa : array (n,) or scalar
        Timoshenko shear coefficient (-), same for both planes.

    Returns
    -------
    ndarray (n, 12, 12)
        Local DOF order (u, v, w, rx, ry, rz) per node; units N/mm, N, N*mm.
    """
    L = np.atleast_1d(np.asarray(length, dtype=np.float64))
    n = L.shape[0]
    E = _per_element("E", E, n)
    nu = np.asarray(nu, dtype=np.float64)
    nu = np.full(n, float(nu)) if nu.ndim == 0 else nu
    if nu.shape != (n,) or np.any(~np.isfinite(nu) | (nu <= -1.0) | (nu >= 0.5)):
        raise SpinesimError(f"nu must be a scalar or (n,) array with -1 < nu < 0.5, got {nu}")
    A = _per_element("section_A", section_A, n)
    inertia = _per_element("section_I", section_I, n, allow_pair=True)
    Iy, Iz = (inertia[:, 0], inertia[:, 1]) if inertia.ndim == 2 else (inertia, inertia)
    J = _per_element("section_J", section_J, n)
    kap = _per_element("kappa", kappa, n)
    G = E / (2.0 * (1.0 + nu))

    k = np.zeros((n, 12, 12))
    ea, gj = E * A / L, G * J / L
    for i, j, v in ((0, 6, ea), (3, 9, gj)):
        k[:, i, i] = k[:, j, j] = v
        k[:, i, j] = k[:, j, i] = -v
    for (w1, r1, w2, r2), inert, s in (((1, 5, 7, 11), Iz, 1.0), ((2, 4, 8, 10), Iy, -1.0)):
        phi = 12.0 * E * inert / (kap * G * A * L**2)
        c = E * inert / ((1.0 + phi) * L**3)
        idx = np.array([w1, r1, w2, r2])
        k[:, idx[:, None], idx[None, :]] = _bending_block(c, L, phi, s)
    return k


def _rotate(k_local: np.ndarray, R: np.ndarray) -> np.ndarray:
    """K_global = T^T K_local T with T = blockdiag(R, R, R, R)."""
    n = k_local.shape[0]
    kl = k_local.reshape(n, 4, 3, 4, 3)
    kg = np.einsum("nji,najbk,nkl->naibl", R, kl, R, optimize=True).reshape(n, 12, 12)
    return 0.5 * (kg + kg.transpose(0, 2, 1))


def beam_stiffness(x1: ArrayLike, x2: ArrayLike, E: ArrayLike, nu: ArrayLike,
                   section_A: ArrayLike, section_I: ArrayLike, section_J: ArrayLike,
                   kappa: ArrayLike, v_ref: ArrayLike | None = None) -> np.ndarray:
    """Element stiffness matrices of 2-node Timoshenko beams in global axes.

    Parameters
    ----------
    x1, x2 : array (n, 3)
        Node coordinates (mm).
    E : array (n,) or scalar
        Young's modulus (MPa).
    nu : array (n,) or scalar
        Poisson's ratio (-).
    section_A : array (n,) or scalar
        Area (mm^2).
    section_I : array (n,), (n, 2) or scalar
        Second moment of area (mm^4); (n, 2) = (Iy, Iz) about local y and z.
    section_J : array (n,) or scalar
        Torsion constant (mm^4).
    kappa : array (n,) or scalar
        Timoshenko shear coefficient (-), e.g. ``CircularSection.shear_coefficient(nu)``.
    v_ref : array (n, 3) or (3,), optional
        Orientation vector fixing local y, see :func:`local_frames`.

    Returns
    -------
    ndarray (n, 12, 12)
        Symmetric stiffness, DOFs (ux, uy, uz, rx, ry, rz) of node 1 then node 2, global
        axes; units N/mm, N/rad, N*mm/rad.

    Examples
    --------
    >>> k = beam_stiffness([[0, 0, 0]], [[10.0, 0, 0]], 1e5, 0.3, 28.27, 63.6, 127.2, 0.886)
    >>> k.shape, bool(abs(k[0, 0, 0] - 1e5 * 28.27 / 10) < 1e-6)
    ((1, 12, 12), True)
    """
    a, b = _coords(x1, x2)
    R = local_frames(a, b, v_ref)
    length = np.linalg.norm(b - a, axis=1)
    k_local = local_stiffness(length, E, nu, section_A, section_I, section_J, kappa)
    return _rotate(k_local, R)


# ------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class BeamSectionResults:
    """Section resultants and surface stresses at both ends of each beam element.

    All arrays have shape (n, 2): element, end (0 = node 1, 1 = node 2). Resultants act on
    the positive face of a cut, in local axes (see the module docstring).

    Attributes
    ----------
    N : axial force (N), tension > 0.
    Vy, Vz : shear forces along local y, z (N).
    T : torque about local x (N*mm).
    My, Mz : bending moments about local y, z (N*mm).
    von_mises_max : largest von Mises stress on the outer surface (MPa).
    theta_max : angle of that point (rad, in [0, 2 pi), from local y towards local z); of
        equal maxima the one in tension is reported.
    sigma_at_max, tau_at_max : axial and shear stress at that point (MPa), signed.
    """

    N: np.ndarray
    Vy: np.ndarray
    Vz: np.ndarray
    T: np.ndarray
    My: np.ndarray
    Mz: np.ndarray
    von_mises_max: np.ndarray
    theta_max: np.ndarray
    sigma_at_max: np.ndarray
    tau_at_max: np.ndarray


def _stress_coefficients(res: BeamSectionResults, section: CircularSection, n: int
                         ) -> tuple[np.ndarray, ...]:
    """sigma = a + b sin + c cos, tau = d + e sin + f cos; each (n, 2)."""
    A = np.broadcast_to(section.area, (n,))[:, None]
    inertia = np.broadcast_to(section.inertia, (n,))[:, None]
    J = np.broadcast_to(section.polar, (n,))[:, None]
    r = np.broadcast_to(section.outer_radius, (n,))[:, None]
    beta = np.broadcast_to(section.surface_shear_factor, (n,))[:, None]
    return (res.N / A, r * res.My / inertia, -r * res.Mz / inertia,
            res.T * r / J, -beta * res.Vy / A, beta * res.Vz / A)


def surface_stresses(results: BeamSectionResults, section: CircularSection,
                     theta: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Signed normal and shear stress on the outer surface at given angles.

    Parameters
    ----------
    results : BeamSectionResults
        Resultants of n elements.
    section : CircularSection
        Scalar or (n,) sections.
    theta : array (m,)
        Angles (rad) from local y towards local z.

    Returns
    -------
    sigma, tau : ndarray (n, 2, m)
        Axial stress (MPa, tension > 0) and surface shear stress along e_theta (MPa).
    """
    th = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    n = results.N.shape[0]
    a, b, c, d, e, f = (x[..., None] for x in _stress_coefficients(results, section, n))
    s, co = np.sin(th), np.cos(th)
    return a + b * s + c * co, d + e * s + f * co


def _refine(theta: np.ndarray, coef: tuple[np.ndarray, ...], step: float,
            iterations: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Safeguarded Newton ascent on F = sigma^2 + 3 tau^2 from grid maxima."""
    a, b, c, d, e, f = coef

    def parts(t: np.ndarray) -> tuple[np.ndarray, ...]:
        s, co = np.sin(t), np.cos(t)
        sig, tau = a + b * s + c * co, d + e * s + f * co
        return sig, tau, b * co - c * s, e * co - f * s

    t0 = theta
    for _ in range(iterations):
        sig, tau, ds, dt = parts(theta)
        f1 = 2.0 * sig * ds + 6.0 * tau * dt
        f2 = 2.0 * ds**2 - 2.0 * sig * (sig - a) + 6.0 * dt**2 - 6.0 * tau * (tau - d)
        upd = np.where(f2 < 0.0, -f1 / np.where(f2 < 0.0, f2, -1.0), 0.0)
        theta = np.clip(theta + upd, t0 - step, t0 + step)
    sig, tau, _, _ = parts(theta)
    return theta, sig, tau


def section_results(x1: ArrayLike, x2: ArrayLike, E: ArrayLike, nu: ArrayLike,
                    section: CircularSection, u_e: ArrayLike, v_ref: ArrayLike | None = None,
                    n_angles: int = 72) -> BeamSectionResults:
    """Section resultants and peak surface von Mises stress at both ends of each element.

    Parameters
    ----------
    x1, x2 : array (n, 3)
        Node coordinates (mm).
    E, nu : array (n,) or scalar
        Young's modulus (MPa), Poisson's ratio (-).
    section : CircularSection
        Scalar or (n,) circular sections; kappa = ``section.shear_coefficient(nu)``.
    u_e : array (n, 12)
        Element DOF values in global axes (mm, rad).
    v_ref : array (n, 3) or (3,), optional
        Orientation vectors; must match those used in the assembly.
    n_angles : int
        Angular grid for the search of the maximum, then refined by Newton's method on
        sigma^2 + 3 tau^2 (a trigonometric polynomial, so the result is exact to round-off).

    Returns
    -------
    BeamSectionResults
    """
    a_, b_ = _coords(x1, x2)
    n = a_.shape[0]
    u = np.asarray(u_e, dtype=np.float64).reshape(-1, 12)
    if u.shape[0] != n:
        raise SpinesimError(f"u_e must have shape ({n}, 12), got {np.shape(u_e)}")
    R = local_frames(a_, b_, v_ref)
    length = np.linalg.norm(b_ - a_, axis=1)
    A = np.broadcast_to(section.area, (n,))
    inertia = np.broadcast_to(section.inertia, (n,))
    J = np.broadcast_to(section.polar, (n,))
    kappa = np.broadcast_to(section.shear_coefficient(nu), (n,))
    k_local = local_stiffness(length, E, nu, A, inertia, J, kappa)
    u_local = np.einsum("nji,nai->naj", R, u.reshape(n, 4, 3)).reshape(n, 12)
    f = np.einsum("npq,nq->np", k_local, u_local)
    s = np.stack([-f[:, :6], f[:, 6:]], axis=1)  # (n, 2, 6) on the positive face
    zeros = np.zeros((n, 2))
    res = BeamSectionResults(*(s[..., i] for i in range(6)), zeros, zeros, zeros, zeros)

    grid = np.linspace(0.0, 2.0 * np.pi, n_angles, endpoint=False)
    sig, tau = surface_stresses(res, section, grid)
    F = sig**2 + 3.0 * tau**2
    coef = _stress_coefficients(res, section, n)
    step = 2.0 * np.pi / n_angles
    best = _refine(grid[np.argmax(F, axis=2)], coef, step)
    tens = _refine(grid[np.argmax(np.where(sig >= 0.0, F, -np.inf), axis=2)], coef, step)
    f_best = best[1] ** 2 + 3.0 * best[2] ** 2
    f_tens = tens[1] ** 2 + 3.0 * tens[2] ** 2
    use = (f_tens >= f_best * (1.0 - 1e-9)) & (tens[1] >= 0.0)
    theta, sg, tu = (np.where(use, t, b) for t, b in zip(tens, best))
    vm = np.sqrt(sg**2 + 3.0 * tu**2)
    logger.debug("beam section results: %d elements, max von Mises %.4g MPa", n,
                 float(vm.max()) if n else 0.0)
    return BeamSectionResults(res.N, res.Vy, res.Vz, res.T, res.My, res.Mz, vm,
                              np.mod(theta, 2.0 * np.pi), sg, tu)
