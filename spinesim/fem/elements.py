"""Reference elements: shape functions, their gradients and quadrature rules.

Node orders follow meshio/VTK. Reference domains: tetrahedra and triangles on the unit simplex,
hexahedra and quads on [-1, 1]^d. Every function is vectorised over evaluation points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class ReferenceElement:
    """Shape functions and default quadrature of one cell type.

    ``shape(xi)`` returns N with shape (n_points, n_nodes); ``grad(xi)`` returns dN/dxi with
    shape (n_points, n_nodes, dim). ``points``/``weights`` is the default rule, exact for the
    stiffness of an undistorted element. ``nodes`` are the reference coordinates of the nodes.
    """

    name: str
    dim: int
    nodes: np.ndarray
    shape: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    points: np.ndarray
    weights: np.ndarray


# ----------------------------------------------------------------------- quadrature rules
def gauss_legendre_box(order: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss-Legendre rule with ``order`` points per direction on [-1, 1]^dim."""
    x, w = np.polynomial.legendre.leggauss(order)
    grids = np.meshgrid(*([x] * dim), indexing="ij")
    wgrids = np.meshgrid(*([w] * dim), indexing="ij")
    pts = np.stack([g.ravel() for g in grids], axis=1)
    wts = np.prod(np.stack([g.ravel() for g in wgrids], axis=1), axis=1)
    return pts, wts


def tet_rule(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature on the unit tetrahedron (volume 1/6), exact to ``degree``.

    Degrees 1-3 use the classic 1-, 4- and 5-point rules; higher degrees a collapsed
    (Duffy) Gauss-Legendre product rule with ``degree // 2 + 2`` points per direction.
    """
    if degree > 3:
        m = degree // 2 + 2
        x, w = np.polynomial.legendre.leggauss(m)
        x, w = 0.5 * (x + 1), 0.5 * w
        u, v, t = (a.ravel() for a in np.meshgrid(x, x, x, indexing="ij"))
        wu, wv, wt = (a.ravel() for a in np.meshgrid(w, w, w, indexing="ij"))
        pts = np.stack([u, v * (1 - u), t * (1 - u) * (1 - v)], axis=1)
        return pts, wu * wv * wt * (1 - u) ** 2 * (1 - v)
    if degree <= 1:
        return np.array([[0.25, 0.25, 0.25]]), np.array([1.0 / 6.0])
    if degree == 2:
        a, b = 0.5854101966249685, 0.1381966011250105
        pts = np.array([[b, b, b], [a, b, b], [b, a, b], [b, b, a]])
        return pts, np.full(4, 1.0 / 24.0)
    # Keast rule, 5 points, degree 3 (negative centre weight; exact for cubics)
    pts = np.array([[0.25, 0.25, 0.25], [0.5, 1 / 6, 1 / 6], [1 / 6, 0.5, 1 / 6],
                    [1 / 6, 1 / 6, 0.5], [1 / 6, 1 / 6, 1 / 6]])
    w = np.array([-4.0 / 30.0, 9.0 / 120.0, 9.0 / 120.0, 9.0 / 120.0, 9.0 / 120.0])
    return pts, w


def tri_rule(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature on the unit triangle (area 1/2), exact to ``degree`` (1, 2 or 4)."""
    if degree <= 1:
        return np.array([[1 / 3, 1 / 3]]), np.array([0.5])
    if degree == 2:
        pts = np.array([[1 / 6, 1 / 6], [2 / 3, 1 / 6], [1 / 6, 2 / 3]])
        return pts, np.full(3, 1.0 / 6.0)
    # Dunavant degree 4, 6 points
    a1, b1, w1 = 0.445948490915965, 0.108103018168070, 0.223381589678011
    a2, b2, w2 = 0.091576213509771, 0.816847572980459, 0.109951743655322
    pts = np.array([[a1, a1], [b1, a1], [a1, b1], [a2, a2], [b2, a2], [a2, b2]])
    return pts, 0.5 * np.array([w1, w1, w1, w2, w2, w2])


# ----------------------------------------------------------------------- shape functions
def _tet4_shape(xi: np.ndarray) -> np.ndarray:
    x, y, z = np.atleast_2d(xi).T
    return np.stack([1 - x - y - z, x, y, z], axis=1)


def _tet4_grad(xi: np.ndarray) -> np.ndarray:
    g = np.array([[-1.0, -1.0, -1.0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    return np.broadcast_to(g, (len(np.atleast_2d(xi)), 4, 3)).copy()


_TET10_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])


def _tet10_shape(xi: np.ndarray) -> np.ndarray:
    L = _tet4_shape(xi)
    corner = L * (2 * L - 1)
    edge = 4 * L[:, _TET10_EDGES[:, 0]] * L[:, _TET10_EDGES[:, 1]]
    return np.concatenate([corner, edge], axis=1)


def _tet10_grad(xi: np.ndarray) -> np.ndarray:
    L = _tet4_shape(xi)  # (p, 4)
    dL = _tet4_grad(xi)  # (p, 4, 3)
    corner = (4 * L - 1)[:, :, None] * dL
    i, j = _TET10_EDGES[:, 0], _TET10_EDGES[:, 1]
    edge = 4 * (dL[:, i] * L[:, j, None] + L[:, i, None] * dL[:, j])
    return np.concatenate([corner, edge], axis=1)


_HEX_SIGNS = np.array([[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1],
                       [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=float)


def _hex8_shape(xi: np.ndarray) -> np.ndarray:
    xi = np.atleast_2d(xi)
    return np.prod(1 + xi[:, None, :] * _HEX_SIGNS[None], axis=2) / 8.0


def _hex8_grad(xi: np.ndarray) -> np.ndarray:
    xi = np.atleast_2d(xi)
    f = 1 + xi[:, None, :] * _HEX_SIGNS[None]  # (p, 8, 3)
    g = np.empty_like(f)
    g[..., 0] = _HEX_SIGNS[:, 0] * f[..., 1] * f[..., 2]
    g[..., 1] = _HEX_SIGNS[:, 1] * f[..., 0] * f[..., 2]
    g[..., 2] = _HEX_SIGNS[:, 2] * f[..., 0] * f[..., 1]
    return g / 8.0


def _tri3_shape(xi: np.ndarray) -> np.ndarray:
    x, y = np.atleast_2d(xi).T
    return np.stack([1 - x - y, x, y], axis=1)


def _tri3_grad(xi: np.ndarray) -> np.ndarray:
    g = np.array([[-1.0, -1.0], [1, 0], [0, 1]])
    return np.broadcast_to(g, (len(np.atleast_2d(xi)), 3, 2)).copy()


_TRI6_EDGES = np.array([[0, 1], [1, 2], [2, 0]])


def _tri6_shape(xi: np.ndarray) -> np.ndarray:
    L = _tri3_shape(xi)
    return np.concatenate(
        [L * (2 * L - 1), 4 * L[:, _TRI6_EDGES[:, 0]] * L[:, _TRI6_EDGES[:, 1]]], axis=1
    )


def _tri6_grad(xi: np.ndarray) -> np.ndarray:
    L = _tri3_shape(xi)
    dL = _tri3_grad(xi)
    i, j = _TRI6_EDGES[:, 0], _TRI6_EDGES[:, 1]
    return np.concatenate(
        [(4 * L - 1)[:, :, None] * dL, 4 * (dL[:, i] * L[:, j, None] + L[:, i, None] * dL[:, j])],
        axis=1,
    )


_QUAD_SIGNS = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)


def _quad4_shape(xi: np.ndarray) -> np.ndarray:
    xi = np.atleast_2d(xi)
    return np.prod(1 + xi[:, None, :] * _QUAD_SIGNS[None], axis=2) / 4.0


def _quad4_grad(xi: np.ndarray) -> np.ndarray:
    xi = np.atleast_2d(xi)
    f = 1 + xi[:, None, :] * _QUAD_SIGNS[None]
    g = np.empty_like(f)
    g[..., 0] = _QUAD_SIGNS[:, 0] * f[..., 1]
    g[..., 1] = _QUAD_SIGNS[:, 1] * f[..., 0]
    return g / 4.0


def _tet10_nodes() -> np.ndarray:
    v = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    return np.vstack([v, 0.5 * (v[_TET10_EDGES[:, 0]] + v[_TET10_EDGES[:, 1]])])


def _tri6_nodes() -> np.ndarray:
    v = np.array([[0.0, 0], [1, 0], [0, 1]])
    return np.vstack([v, 0.5 * (v[_TRI6_EDGES[:, 0]] + v[_TRI6_EDGES[:, 1]])])


ELEMENTS: dict[str, ReferenceElement] = {
    "tetra": ReferenceElement("tetra", 3, np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]),
                              _tet4_shape, _tet4_grad, *tet_rule(1)),
    "tetra10": ReferenceElement("tetra10", 3, _tet10_nodes(), _tet10_shape, _tet10_grad,
                                *tet_rule(2)),
    "hexahedron": ReferenceElement("hexahedron", 3, _HEX_SIGNS.copy(), _hex8_shape, _hex8_grad,
                                   *gauss_legendre_box(2, 3)),
    "triangle": ReferenceElement("triangle", 2, np.array([[0.0, 0], [1, 0], [0, 1]]),
                                 _tri3_shape, _tri3_grad, *tri_rule(2)),
    "triangle6": ReferenceElement("triangle6", 2, _tri6_nodes(), _tri6_shape, _tri6_grad,
                                  *tri_rule(4)),
    "quad": ReferenceElement("quad", 2, _QUAD_SIGNS.copy(), _quad4_shape, _quad4_grad,
                             *gauss_legendre_box(2, 2)),
}


def reference(cell_type: str) -> ReferenceElement:
    """The reference element of ``cell_type`` (meshio name)."""
    try:
        return ELEMENTS[cell_type]
    except KeyError:
        raise ValueError(
            f"no reference element for cell type {cell_type!r}; known: {', '.join(ELEMENTS)}"
        ) from None
