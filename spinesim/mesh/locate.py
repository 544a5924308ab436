"""Point location in the solid cells of a mesh (vectorised over points and cells).

``locate_points`` finds, for every query point, a solid cell containing it and the point's
reference coordinates in that cell, so that any nodal field can be interpolated there:
``u(p) = sum_k N[p, k] * u[nodes[p, k]]``. It is used to embed hardware (screw and cage nodes) in
bone and to sample results at arbitrary points.

Algorithm: a ``scipy.spatial.cKDTree`` on cell centroids proposes the nearest cells as
candidates (8, then up to 64); each candidate is tested by inverting the isoparametric map
(closed form for tet4, Newton iteration from the reference centre for tet10 and hex8, in
coordinates centred on the cell and stopped at the rounding floor of the step, so that thin
cells far from the origin converge: a fixed 1e-13 on the step lost screw nodes in the 0.1 mm
cells of an L2 pedicle at resolution 4). A point still not found is re-checked against every
cell that could contain it: all cells whose centroid lies within the largest centroid-to-node
distance of the mesh and whose bounding box contains the point. Loops run only over candidate
ranks, blocks, chunks and Newton iterations.

Cell ids follow the concatenation of the solid blocks in block order (as in ``Mesh.solid_regions``
and per-cell material arrays).
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from spinesim.errors import MeshError
from spinesim.fem.elements import reference
from spinesim.mesh.mesh import Mesh

logger = logging.getLogger(__name__)

_MAX_LISTED = 10
_FIRST_K = 8  # nearest centroids tried first
_SECOND_K = 64  # then up to this many
_NEWTON_MAXIT = 30
_NEWTON_TOL = 1e-13  # reference-coordinate step at convergence (or its rounding floor)
_ROUNDING = 64.0  # the floor: this many eps times the cell's size times |J^-1|
_PAIR_CHUNK = 200_000  # (point, cell) pairs tested per vectorised chunk in the fallback
_POINT_CHUNK = 4_096  # points per fallback chunk
_CENTRE = {"tetra": (0.25, 0.25, 0.25), "tetra10": (0.25, 0.25, 0.25), "hexahedron": (0, 0, 0)}


@dataclass(frozen=True, eq=False)
class Location:
    """Where query points lie in the solid cells of a mesh.

    Attributes
    ----------
    points : ndarray, shape (p, 3)
        The query points, mm.
    cell : ndarray, shape (p,), int64
        Solid-cell index (block order) of the containing cell, -1 for points outside the mesh.
    block : ndarray, shape (p,), int64
        Index into ``mesh.solid_blocks`` of that cell, -1 outside.
    local : ndarray, shape (p,), int64
        Index of the cell inside its block, -1 outside.
    xi : ndarray, shape (p, 3)
        Reference coordinates in the cell (unit simplex for tets, [-1, 1]^3 for hexes); NaN
        outside.
    nodes : ndarray, shape (p, nen_max), int64
        Node ids of the containing cell, padded with -1 (all -1 outside).
    N : ndarray, shape (p, nen_max)
        Shape-function values at ``xi``, padded with 0 (all 0 outside).
    """

    points: np.ndarray
    cell: np.ndarray
    block: np.ndarray
    local: np.ndarray
    xi: np.ndarray
    nodes: np.ndarray
    N: np.ndarray

    @property
    def inside(self) -> np.ndarray:
        """Boolean mask of the points found inside a solid cell, shape (p,)."""
        return self.cell >= 0

    @property
    def outside_indices(self) -> np.ndarray:
        """Indices of the points outside every solid cell."""
        return np.flatnonzero(self.cell < 0)

    def __len__(self) -> int:
        return len(self.cell)

    def shape_values(self) -> np.ndarray:
        """Shape-function values at the points, shape (p, nen_max) (zero-padded; the same as N)."""
        return self.N

    def interpolate(self, values: ArrayLike) -> np.ndarray:
        """A nodal field evaluated at the points.

        Parameters
        ----------
        values : array_like, shape (n_nodes,) or (n_nodes, ...)
            Field at the mesh nodes (user node order).

        Returns
        -------
        ndarray, shape (p,) or (p, ...)
            ``sum_k N[p, k] * values[nodes[p, k]]``; NaN for points outside the mesh.
        """
        v = np.asarray(values, dtype=float)
        gathered = v[np.maximum(self.nodes, 0)]  # (p, nen, ...)
        w = self.N.reshape(self.N.shape + (1,) * (v.ndim - 1))
        out = np.sum(w * gathered, axis=1)
        out[~self.inside] = np.nan
        return out


def require_inside(location: Location, labels: Sequence[str] | None = None,
                   what: str = "point", *, mesh: Mesh | None = None,
                   hint: str | None = None) -> None:
    """Raise MeshError if any located point lies outside the solid cells.

    Parameters
    ----------
    location : Location
        Result of ``locate_points``.
    labels : sequence of str, optional
        One label per point (e.g. ``"screw L4-left node 3"``) used in the message instead of
        the bare index.
    what : str
        Noun naming the points in the message (``"point"``, ``"screw node"``, ...).
    mesh : Mesh, optional
        The mesh the points were located in: the message then gives each listed point's
        distance to the nearest mesh node, mm (an upper bound on how far outside it lies).
    hint : str, optional
        What the user can do about it, appended to the message.
    """
    out = location.outside_indices
    if len(out) == 0:
        return
    if labels is not None and len(labels) != len(location):
        raise ValueError(f"require_inside: got {len(labels)} labels for {len(location)} points")
    listed = out[:_MAX_LISTED]
    far = None if mesh is None else nearest_node_distance(mesh, location.points[listed])
    lines = []
    for j, i in enumerate(listed):
        x, y, z = location.points[i]
        name = f"{what} {int(i)}" if labels is None else f"{labels[i]} ({what} {int(i)})"
        gap = "" if far is None else f", {far[j]:.3g} mm from the nearest mesh node"
        lines.append(f"  {name} at ({x:.6g}, {y:.6g}, {z:.6g}) mm{gap}")
    more = f"\n  ... and {len(out) - _MAX_LISTED} more" if len(out) > _MAX_LISTED else ""
    raise MeshError(
        f"{len(out)} of {len(location)} {what}s lie outside every solid cell of the mesh:\n"
        + "\n".join(lines) + more + ("" if hint is None else f"\n{hint}")
    )


def nearest_node_distance(mesh: Mesh, points: ArrayLike, k: int = 8) -> np.ndarray:
    """Distance from each point to the nearest node of the ``k`` solid cells whose centroids
    are nearest to it, mm: for a point outside the mesh, about how far outside it lies (an
    upper bound on its distance to the mesh, which the nearest surface point between nodes
    can undercut by up to about an element size).

    Parameters
    ----------
    mesh : Mesh
        Mesh with at least one solid block.
    points : array_like, shape (p, 3)
        Query points, mm.
    k : int
        Nearest cells searched per point.

    Returns
    -------
    ndarray, shape (p,)
        Distances, mm.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    idx = _index(mesh)
    k = min(k, idx.n_cells)
    _, cand = idx.tree.query(pts, k=k)
    cand = np.asarray(cand).reshape(len(pts), k)
    nodes = np.full((len(pts), k, idx.nen_max), -1, dtype=np.int64)
    for b in range(len(idx.types)):
        sel = idx.block_of[cand] == b
        nodes[sel, :idx.cells[b].shape[1]] = idx.cells[b][cand[sel] - idx.offsets[b]]
    d = np.linalg.norm(idx.points[np.maximum(nodes, 0)] - pts[:, None, None], axis=3)
    return np.min(np.where(nodes >= 0, d, np.inf), axis=(1, 2))


# ------------------------------------------------------------------------------ cell index
class _CellIndex:
    """Per-mesh search structure: cell node arrays per block, centroids and their k-d tree."""

    def __init__(self, mesh: Mesh) -> None:
        blocks = mesh.solid_blocks
        if not blocks:
            raise MeshError("locate_points: the mesh has no solid cells (tetra, tetra10, "
                            "hexahedron)")
        self.points = mesh.points
        self.types = [b.type for b in blocks]
        self.cells = [b.cells for b in blocks]
        sizes = np.array([len(b) for b in blocks], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.n_cells = int(self.offsets[-1])
        self.nen_max = max(c.shape[1] for c in self.cells)
        self.block_of = np.repeat(np.arange(len(blocks)), sizes)
        centroids, box_lo, box_hi, radius = [], [], [], 0.0
        for b in blocks:
            X = mesh.points[b.cells]  # (n, nen, 3)
            c = X.mean(axis=1)
            centroids.append(c)
            # bounding boxes, padded: linear cells lie in the convex hull of their nodes;
            # quadratic (tet10) edges may bulge, so their boxes grow by a quarter of the extent
            lo, hi = X.min(axis=1), X.max(axis=1)
            ext = hi - lo
            slack = (0.25 if b.type == "tetra10" else 0.0) * ext \
                + 1e-6 * ext.max(axis=1, initial=0.0)[:, None] + 1e-12
            box_lo.append(lo - slack)
            box_hi.append(hi + slack)
            if len(b):
                r = float(np.sqrt(np.max(np.sum((X - c[:, None]) ** 2, axis=2))))
                # quadratic (tet10) edges may bulge beyond their nodes
                radius = max(radius, r * (1.25 if b.type == "tetra10" else 1.0))
        self.centroids = np.vstack(centroids)
        self.box_lo = np.vstack(box_lo)
        self.box_hi = np.vstack(box_hi)
        self.radius = radius
        self.tree = cKDTree(self.centroids)
        self.lo = mesh.points.min(axis=0)
        self.hi = mesh.points.max(axis=0)


_INDEX_CACHE: "weakref.WeakKeyDictionary[Mesh, _CellIndex]" = weakref.WeakKeyDictionary()


def _index(mesh: Mesh) -> _CellIndex:
    idx = _INDEX_CACHE.get(mesh)
    if idx is None or idx.points is not mesh.points:
        idx = _CellIndex(mesh)
        _INDEX_CACHE[mesh] = idx
    return idx


# ------------------------------------------------------------------------ inverse mapping
def _solve3(J: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Solve J x = r for stacks of 3x3 systems by Cramer's rule; NaN where J is singular."""
    a, b, c = J[:, :, 0], J[:, :, 1], J[:, :, 2]
    bc = np.cross(b, c)
    det = np.einsum("md,md->m", a, bc)
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = np.einsum("md,md->m", r, bc) / det
        x1 = np.einsum("md,md->m", a, np.cross(r, c)) / det
        x2 = np.einsum("md,md->m", a, np.cross(b, r)) / det
    return np.stack([x0, x1, x2], axis=1)


def _inside_reference(cell_type: str, xi: np.ndarray, tol: float) -> np.ndarray:
    """True where reference coordinates lie in the reference element (within ``tol``)."""
    with np.errstate(invalid="ignore"):
        if cell_type == "hexahedron":
            ok = np.all(np.abs(xi) <= 1.0 + tol, axis=1)
        else:
            ok = (np.min(xi, axis=1) >= -tol) & (np.sum(xi, axis=1) <= 1.0 + tol)
    return ok & np.all(np.isfinite(xi), axis=1)


def _inverse_norm(J: np.ndarray) -> np.ndarray:
    """Frobenius norm of the inverse of each 3x3 matrix of a stack (inf where singular)."""
    a, b, c = J[:, :, 0], J[:, :, 1], J[:, :, 2]
    cof = np.stack([np.cross(b, c), np.cross(c, a), np.cross(a, b)], axis=1)  # rows of adj(J)
    det = np.abs(np.einsum("md,md->m", a, cof[:, 0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.einsum("mij,mij->m", cof, cof)) / det


def _reference_coords(cell_type: str, X: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Reference coordinates of points ``p`` (m, 3) in cells with node coordinates X (m, nen, 3).

    Closed form for tet4; Newton iteration on the isoparametric map for tet10 and hex8 (NaN where
    it does not converge). The iteration runs in coordinates centred on each cell, and it has
    converged when the step is below ``_NEWTON_TOL`` or below the rounding floor of the
    residual, ``_ROUNDING * eps * size * |J^-1|`` (size: the largest centroid-to-node distance
    of the cell, mm; ``|J^-1|`` in 1/mm)."""
    if cell_type == "tetra":
        J = np.stack([X[:, 1] - X[:, 0], X[:, 2] - X[:, 0], X[:, 3] - X[:, 0]], axis=2)
        return _solve3(J, p - X[:, 0])
    ref = reference(cell_type)
    # Centred coordinates: the residual p - x(xi) is computed to about eps times the largest
    # coordinate, so in mesh coordinates its rounding error grows with the distance from the
    # origin, and the Newton step of a thin cell far from it stalls above a fixed bound (an L2
    # pedicle 79-111 mm from the origin, resolution 4: smallest singular value of J down to
    # 0.04 mm, steps stuck at 1.1e-13-1.8e-13 > 1e-13 while the points lay well inside their
    # cells, so 3 of 296 screw nodes were reported outside every cell).
    origin = X.mean(axis=1)
    X = X - origin[:, None]
    p = p - origin
    size = np.sqrt(np.max(np.sum(X**2, axis=2), axis=1))
    floor_scale = _ROUNDING * np.finfo(float).eps * size
    xi = np.tile(np.asarray(_CENTRE[cell_type], dtype=float), (len(p), 1))
    active = np.arange(len(p))
    converged = np.zeros(len(p), dtype=bool)
    for _ in range(_NEWTON_MAXIT):
        if len(active) == 0:
            break
        xa, Xa = xi[active], X[active]
        x = np.einsum("mk,mkd->md", ref.shape(xa), Xa)
        J = np.einsum("mkd,mke->mde", Xa, ref.grad(xa))  # dx_d / dxi_e
        step = _solve3(J, p[active] - x)
        # clip: a candidate cell far from the point must not send Newton to infinity
        xi[active] = np.clip(xa + step, -3.0, 3.0)
        # a very flat (sliver) cell has a rounding floor above _NEWTON_TOL even centred
        stop = np.maximum(_NEWTON_TOL, floor_scale[active] * _inverse_norm(J))
        with np.errstate(invalid="ignore"):
            done = np.max(np.abs(step), axis=1) < stop
        bad = ~np.all(np.isfinite(step), axis=1)
        converged[active[done]] = True
        xi[active[bad]] = np.nan
        active = active[~(done | bad)]
    xi[~converged] = np.nan
    return xi


def _test_pairs(idx: _CellIndex, cells: np.ndarray, p: np.ndarray,
                tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Test whether each point ``p[i]`` lies in solid cell ``cells[i]``.

    Returns a boolean mask (m,) and the reference coordinates (m, 3)."""
    ok = np.zeros(len(cells), dtype=bool)
    xi = np.full((len(cells), 3), np.nan)
    # cheap bounding-box rejection before the (Newton) inversion
    inbox = np.all((p >= idx.box_lo[cells]) & (p <= idx.box_hi[cells]), axis=1)
    blk = np.where(inbox, idx.block_of[cells], -1)
    for b, cell_type in enumerate(idx.types):
        sel = np.flatnonzero(blk == b)
        if len(sel) == 0:
            continue
        X = idx.points[idx.cells[b][cells[sel] - idx.offsets[b]]]
        xb = _reference_coords(cell_type, X, p[sel])
        xi[sel] = xb
        ok[sel] = _inside_reference(cell_type, xb, tol)
    return ok, xi


# --------------------------------------------------------------------------------- search
def locate_points(mesh: Mesh, points: ArrayLike, *, tol: float = 1e-9) -> Location:
    """Find the solid cell containing each point and its reference coordinates there.

    Parameters
    ----------
    mesh : Mesh
        Mesh with at least one solid block (tetra, tetra10, hexahedron).
    points : array_like, shape (p, 3)
        Query points, mm.
    tol : float
        Tolerance on the reference coordinates (dimensionless): a point is inside a cell when
        its reference coordinates lie in the reference element enlarged by ``tol``, so points on
        faces, edges and nodes are found.

    Returns
    -------
    Location
        Per point: cell, block, local cell index, reference coordinates, node ids and shape
        values (``cell == -1`` for points outside every cell). A point on a face shared by two
        cells is assigned to one of them (the one whose centroid is nearest when possible).

    Examples
    --------
    >>> from spinesim.mesh.generate import box
    >>> m = box((2.0, 2.0, 2.0), (2, 2, 2), "hexahedron")
    >>> loc = locate_points(m, [[0.5, 0.5, 0.5], [3.0, 0.0, 0.0]])
    >>> loc.inside.tolist()
    [True, False]
    >>> round(float(loc.interpolate(m.points[:, 0])[0]), 12)
    0.5
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim == 1 and pts.shape == (3,):
        pts = pts[None]
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise MeshError(f"locate_points: points must have shape (p, 3), got {np.shape(points)}")
    if not np.all(np.isfinite(pts)):
        bad = np.flatnonzero(~np.all(np.isfinite(pts), axis=1))
        raise MeshError(f"locate_points: non-finite coordinates at points {bad[:10].tolist()}")
    if not tol >= 0:
        raise ValueError(f"locate_points: tol must be >= 0, got {tol}")
    idx = _index(mesh)
    n = len(pts)
    cell = np.full(n, -1, dtype=np.int64)
    xi = np.full((n, 3), np.nan)

    # points outside the mesh's bounding box (padded) need no search
    span = float(np.max(idx.hi - idx.lo)) or 1.0
    pad = 1e-6 * span + idx.radius * 0.25
    todo = np.flatnonzero(np.all((pts >= idx.lo - pad) & (pts <= idx.hi + pad), axis=1))

    # 1) nearest centroids first, then more of them
    start = 0
    for k in (_FIRST_K, _SECOND_K):
        k = min(k, idx.n_cells)
        if len(todo) == 0 or start >= k:
            break
        _, cand = idx.tree.query(pts[todo], k=k)
        cand = np.asarray(cand).reshape(len(todo), k)
        for r in range(start, k):
            if len(todo) == 0:
                break
            ok, x = _test_pairs(idx, cand[:, r], pts[todo], tol)
            hit = todo[ok]
            cell[hit], xi[hit] = cand[ok, r], x[ok]
            todo, cand = todo[~ok], cand[~ok]
        start = k

    # 2) fallback: every cell that could contain the point
    if len(todo):
        logger.debug("locate_points: %d points not among the %d nearest cells; full check",
                     len(todo), min(_SECOND_K, idx.n_cells))
        for s in range(0, len(todo), _POINT_CHUNK):  # bounds the memory of the pair lists
            _fallback(idx, pts, todo[s:s + _POINT_CHUNK], cell, xi, tol)
    return _assemble(idx, pts, cell, xi)


def _fallback(idx: _CellIndex, pts: np.ndarray, todo: np.ndarray, cell: np.ndarray,
              xi: np.ndarray, tol: float) -> None:
    """Check the remaining points against all cells whose centroid lies within the largest
    cell radius and whose bounding box contains the point (fills ``cell``/``xi`` in place)."""
    r = idx.radius * (1.0 + 1e-9) + 1e-12
    pairs = cKDTree(pts[todo]).sparse_distance_matrix(idx.tree, r, output_type="ndarray")
    if len(pairs) == 0:
        return
    # owner = index into todo, cand = solid cell; sorted so each point tries nearer cells first
    order = np.lexsort((pairs["v"], pairs["i"]))
    owner = pairs["i"][order].astype(np.int64)
    cand = pairs["j"][order].astype(np.int64)
    for s in range(0, len(cand), _PAIR_CHUNK):
        o, c = owner[s:s + _PAIR_CHUNK], cand[s:s + _PAIR_CHUNK]
        # drop pairs already resolved in an earlier chunk (_test_pairs drops bounding-box misses)
        keep = cell[todo[o]] < 0
        o, c = o[keep], c[keep]
        if len(c) == 0:
            continue
        p = pts[todo[o]]
        ok, x = _test_pairs(idx, c, p, tol)
        if not ok.any():
            continue
        # first containing cell per point
        first = np.flatnonzero(ok)
        _, u = np.unique(o[first], return_index=True)
        first = first[u]
        tgt = todo[o[first]]
        cell[tgt], xi[tgt] = c[first], x[first]


def _assemble(idx: _CellIndex, pts: np.ndarray, cell: np.ndarray, xi: np.ndarray) -> Location:
    n = len(pts)
    block = np.full(n, -1, dtype=np.int64)
    local = np.full(n, -1, dtype=np.int64)
    nodes = np.full((n, idx.nen_max), -1, dtype=np.int64)
    N = np.zeros((n, idx.nen_max))
    inside = cell >= 0
    block[inside] = idx.block_of[cell[inside]]
    local[inside] = cell[inside] - idx.offsets[block[inside]]
    for b, cell_type in enumerate(idx.types):
        sel = np.flatnonzero(block == b)
        if len(sel) == 0:
            continue
        nen = idx.cells[b].shape[1]
        nodes[sel, :nen] = idx.cells[b][local[sel]]
        N[sel, :nen] = reference(cell_type).shape(xi[sel])
    xi = xi.copy()
    xi[~inside] = np.nan
    return Location(points=pts.copy(), cell=cell, block=block, local=local, xi=xi, nodes=nodes,
                    N=N)
