"""Structured building blocks of the lumbar mesh: the elliptical O-grid cross-section, lofted
hexahedral blocks between node grids, and rigid transforms. Lengths in mm. Private module."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# --------------------------------------------------------------------------- node storage
class NodeStore:
    """Append-only list of node coordinates (mm) handing out global node ids."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self.n = 0

    def add(self, xyz: np.ndarray) -> np.ndarray:
        """Append points of shape (..., 3); return their ids with shape (...)."""
        xyz = np.asarray(xyz, dtype=float)
        flat = xyz.reshape(-1, 3)
        ids = np.arange(self.n, self.n + len(flat), dtype=np.int64)
        self._chunks.append(flat)
        self.n += len(flat)
        return ids.reshape(xyz.shape[:-1])

    def array(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros((0, 3))


def hexes_from_grid(ids: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Hex8 cells of a structured node-id grid ``ids[l, i, j]`` (optionally only cells where
    ``mask[l, i, j]``); the node order is VTK's, orientation is fixed later."""
    a = ids
    c = np.stack([a[:-1, :-1, :-1], a[:-1, 1:, :-1], a[:-1, 1:, 1:], a[:-1, :-1, 1:],
                  a[1:, :-1, :-1], a[1:, 1:, :-1], a[1:, 1:, 1:], a[1:, :-1, 1:]], axis=-1)
    if mask is not None:
        return c[mask]
    return c.reshape(-1, 8)


def orient_hexes(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Reorder hexes whose Jacobian at the centre is negative (swap bottom and top faces)."""
    X = points[cells]
    d1 = (X[:, 1] + X[:, 2] + X[:, 5] + X[:, 6]) - (X[:, 0] + X[:, 3] + X[:, 4] + X[:, 7])
    d2 = (X[:, 2] + X[:, 3] + X[:, 6] + X[:, 7]) - (X[:, 0] + X[:, 1] + X[:, 4] + X[:, 5])
    d3 = (X[:, 4] + X[:, 5] + X[:, 6] + X[:, 7]) - (X[:, 0] + X[:, 1] + X[:, 2] + X[:, 3])
    det = np.einsum("ij,ij->i", d1, np.cross(d2, d3))
    out = cells.copy()
    flip = det < 0
    out[flip] = out[flip][:, [4, 5, 6, 7, 0, 1, 2, 3]]
    return out


def loft(store: NodeStore, start_ids: np.ndarray, end_ids: np.ndarray | None,
         start_xyz: np.ndarray, end_xyz: np.ndarray, n_layers: int) -> np.ndarray:
    """Node ids ``(n_layers + 1, ni, nj)`` of a block interpolated linearly between two node
    grids. ``start_ids`` are existing nodes; ``end_ids`` too, or None to create the end grid."""
    n_layers = max(1, int(n_layers))
    t = np.linspace(0.0, 1.0, n_layers + 1)[:, None, None, None]
    xyz = (1 - t) * start_xyz[None] + t * end_xyz[None]
    ids = np.empty((n_layers + 1,) + start_ids.shape, dtype=np.int64)
    ids[0] = start_ids
    last = n_layers if end_ids is None else n_layers - 1
    if last >= 1:
        ids[1:last + 1] = store.add(xyz[1:last + 1])
    if end_ids is not None:
        ids[-1] = end_ids
    return ids


# ------------------------------------------------------------------------ rigid transforms
def rot_x(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_z(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Frame:
    """Rigid placement of a vertebra: ``global = R @ local + t`` (mm)."""

    R: np.ndarray
    t: np.ndarray

    def apply(self, xyz: np.ndarray) -> np.ndarray:
        return np.asarray(xyz) @ self.R.T + self.t

    def matrix(self) -> np.ndarray:
        m = np.eye(4)
        m[:3, :3], m[:3, 3] = self.R, self.t
        return m


# ----------------------------------------------------------------------------- O-grid 2D
@dataclass(frozen=True)
class OGridTopology:
    """Connectivity of an O-grid: a (nx x ny) core of quads and R rings of quads around it.

    Node ids: core node (i, j) is ``i * (ny + 1) + j``; ring station s (1..R) of perimeter point
    p is ``n_core + (s - 1) * P + p``; station 0 is the core perimeter.
    """

    nx: int
    ny: int
    n_rings: int
    quads: np.ndarray        # (Q, 4), counter-clockwise seen from +z
    ring: np.ndarray         # (Q,) -1 for core quads, else ring index 0 (inner) .. R-1 (outer)
    core_ij: np.ndarray      # (Q, 2) core cell (i, j), -1 for ring quads
    loop: np.ndarray         # (P, 2) core (i, j) of the perimeter points, counter-clockwise
    outer: np.ndarray        # (P,) node ids of the outermost station

    @property
    def n_core(self) -> int:
        return (self.nx + 1) * (self.ny + 1)

    @property
    def n_perimeter(self) -> int:
        return len(self.loop)

    @property
    def n_nodes(self) -> int:
        return self.n_core + self.n_rings * self.n_perimeter


def ogrid_topology(nx: int, ny: int, n_rings: int) -> OGridTopology:
    """The O-grid connectivity for a core of nx x ny quads and ``n_rings`` rings."""
    def cid(i, j):
        return i * (ny + 1) + j

    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel(), j.ravel()
    core = np.stack([cid(i, j), cid(i + 1, j), cid(i + 1, j + 1), cid(i, j + 1)], axis=1)
    loop = np.concatenate([
        np.stack([np.full(ny, nx), np.arange(ny)], 1),            # right side, upwards
        np.stack([np.arange(nx, 0, -1), np.full(nx, ny)], 1),     # top side, leftwards
        np.stack([np.zeros(ny, int), np.arange(ny, 0, -1)], 1),   # left side, downwards
        np.stack([np.arange(nx), np.zeros(nx, int)], 1),          # bottom side, rightwards
    ])
    P, n_core = len(loop), (nx + 1) * (ny + 1)
    station = np.empty((n_rings + 1, P), dtype=np.int64)
    station[0] = cid(loop[:, 0], loop[:, 1])
    station[1:] = n_core + np.arange(n_rings)[:, None] * P + np.arange(P)[None, :]
    s, p = np.meshgrid(np.arange(n_rings), np.arange(P), indexing="ij")
    s, p = s.ravel(), p.ravel()
    q = (p + 1) % P
    ring_quads = np.stack([station[s, p], station[s + 1, p], station[s + 1, q], station[s, q]], 1)
    quads = np.concatenate([core, ring_quads])
    ring = np.concatenate([np.full(len(core), -1), s])
    core_ij = np.concatenate([np.stack([i, j], 1), np.full((len(s), 2), -1)])
    return OGridTopology(nx, ny, n_rings, quads, ring, core_ij, loop, station[-1])


def tan_spacing(n: int) -> np.ndarray:
    """n + 1 parameters in [-1, 1] spaced as tan of equal angles (an O-grid core)."""
    return np.tan(np.linspace(-np.pi / 4, np.pi / 4, n + 1))


def window_spacing(n_wall: int, n_window: int, frac: float) -> np.ndarray:
    """Parameters in [-1, 1] with grid lines at +-frac (a cage wall around a graft window)."""
    return np.concatenate([np.linspace(-1, -frac, n_wall + 1),
                           np.linspace(-frac, frac, n_window + 1)[1:],
                           np.linspace(frac, 1, n_wall + 1)[1:]])


def ogrid_coords(topo: OGridTopology, a: float, b: float, cx: float, cy: float,
                 tau_x: np.ndarray, tau_y: np.ndarray, n_in: int, n_out: int, shell_mm: float,
                 nucleus_rho: float | None, offset_y: float = 0.0, mid_frac: float = 0.5
                 ) -> np.ndarray:
    """Node (x, y) of an O-grid on the ellipse with semi-axes a (x) and b (y), mm.

    The core is the rectangle [-cx, cx] x [-cy, cy] with grid lines at ``cx * tau_x`` and
    ``cy * tau_y``. Rings follow rays from the centre through the core perimeter; in the scaled
    radius rho (1 on the ellipse) the stations are: ``n_in`` up to ``nucleus_rho`` (or, when it
    is None, to ``mid_frac`` of the way to the shell), ``n_out`` up to the inner face of the
    shell (a band of constant normal thickness ``shell_mm``), and the ellipse itself.
    ``offset_y`` shifts the nucleus (rho <= nucleus_rho) by that many mm along y, fading to zero
    at the shell.
    """
    X, Y = cx * np.asarray(tau_x), cy * np.asarray(tau_y)
    core = np.stack(np.meshgrid(X, Y, indexing="ij"), axis=-1).reshape(-1, 2)
    S = np.stack([X[topo.loop[:, 0]], Y[topo.loop[:, 1]]], axis=1)
    rho_s = np.hypot(S[:, 0] / a, S[:, 1] / b)
    E = S / rho_s[:, None]                                   # ray hits the ellipse
    h = 1.0 / np.sqrt(E[:, 0] ** 2 / a ** 4 + E[:, 1] ** 2 / b ** 4)  # normal distance per rho
    rho_sh = 1.0 - shell_mm / h
    inner_end = nucleus_rho if nucleus_rho is not None else rho_s + mid_frac * (rho_sh - rho_s)
    k_in = np.arange(1, n_in + 1)[:, None] / n_in
    k_out = np.arange(1, n_out + 1)[:, None] / n_out
    rho = np.concatenate([rho_s + (inner_end - rho_s) * k_in,
                          inner_end + (rho_sh - inner_end) * k_out,
                          np.ones((1, len(S)))])          # (R, P)
    ring = rho[:, :, None] * E[None]
    xy = np.concatenate([core, ring.reshape(-1, 2)])
    if offset_y and nucleus_rho is not None:
        rr = np.concatenate([np.zeros(len(core)), rho.ravel()])
        shell = np.concatenate([np.ones(len(core)), np.broadcast_to(rho_sh, rho.shape).ravel()])
        w = np.clip((shell - rr) / (shell - nucleus_rho), 0.0, 1.0)
        xy[:, 1] += offset_y * w
    return xy
