"""Mesh validity checks and element quality measures (vectorised over cells).

Element ids in messages read ``<type>[<index in block>] (solid cell <global index>)``; the global
solid-cell index follows the concatenation of the solid blocks in block order (the order of
per-cell material and result arrays). Node ids are 0-based indices into ``Mesh.points``.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from spinesim.errors import MeshError
from spinesim.fem.elements import reference
from spinesim.mesh.mesh import SOLID_TYPES, CellBlock, Mesh

logger = logging.getLogger(__name__)

#: Relative tolerance on the Jacobian determinant: detJ <= DEGENERATE_RTOL * h**3 is degenerate.
DEGENERATE_RTOL = 1e-12
_MAX_LISTED = 10
_CHUNK = 50_000  # cells per vectorised chunk (bounds the memory of the Jacobian arrays)

_EDGES = {
    "tetra": np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]]),
    "hexahedron": np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4],
                            [0, 4], [1, 5], [2, 6], [3, 7]]),
}
_EDGES["tetra10"] = _EDGES["tetra"]
# for each tet vertex, the other three vertices in positive orientation
_TET_CORNERS = np.array([[0, 1, 2, 3], [1, 2, 0, 3], [2, 0, 1, 3], [3, 0, 2, 1]])


class MeshWarning(UserWarning):
    """A mesh is usable but suspicious (e.g. unused nodes)."""


def _offsets(mesh: Mesh) -> dict[int, int]:
    """Global solid-cell index of the first cell of each solid block (keyed by block id)."""
    out, start = {}, 0
    for b in mesh.blocks:
        if b.type in SOLID_TYPES:
            out[id(b)] = start
            start += len(b)
    return out


def _describe(block: CellBlock, idx: np.ndarray, offsets: dict[int, int],
              extra: list[str] | None = None) -> list[str]:
    off = offsets.get(id(block))
    out = []
    for k, i in enumerate(idx[:_MAX_LISTED]):
        s = f"{block.type}[{int(i)}]"
        if off is not None:
            s += f" (solid cell {off + int(i)})"
        if extra is not None:
            s += f" {extra[k]}"
        out.append(s)
    return out


def _raise(source: str, what: str, count: int, items: list[str]) -> None:
    shown = "; ".join(items[:_MAX_LISTED])
    more = f" (first {_MAX_LISTED} shown)" if count > _MAX_LISTED else ""
    raise MeshError(f"{source}: {count} {what}{more}: {shown}")


def jacobian_dets(block: CellBlock, points: np.ndarray, xi: np.ndarray) -> np.ndarray:
    """Jacobian determinants of every cell of a solid block at reference points ``xi``.

    Returns an array of shape (n_cells, n_points) in mm^3 per unit reference volume.
    """
    dN = reference(block.type).grad(xi)  # (q, a, 3)
    out = np.empty((len(block), len(xi)))
    for s in range(0, len(block), _CHUNK):
        out[s:s + _CHUNK] = _det3(_jacobians(points[block.cells[s:s + _CHUNK]], dN))
    return out


def _jacobians(X: np.ndarray, dN: np.ndarray) -> np.ndarray:
    """J[n, q, i, k] = sum_a X[n, a, i] dN[q, a, k] as one matrix product."""
    n, a, _ = X.shape
    q = dN.shape[0]
    J = X.transpose(0, 2, 1).reshape(n * 3, a) @ dN.transpose(1, 0, 2).reshape(a, q * 3)
    return J.reshape(n, 3, q, 3).transpose(0, 2, 1, 3)


def _det3(J: np.ndarray) -> np.ndarray:
    """Determinant of (..., 3, 3) arrays (explicit formula, faster than np.linalg.det)."""
    return (J[..., 0, 0] * (J[..., 1, 1] * J[..., 2, 2] - J[..., 1, 2] * J[..., 2, 1])
            - J[..., 0, 1] * (J[..., 1, 0] * J[..., 2, 2] - J[..., 1, 2] * J[..., 2, 0])
            + J[..., 0, 2] * (J[..., 1, 0] * J[..., 2, 1] - J[..., 1, 1] * J[..., 2, 0]))


def _check_points(block: CellBlock) -> np.ndarray:
    ref = reference(block.type)
    if block.type == "tetra":
        return ref.points
    # hex8: quadrature points and the 8 vertices; tet10: also the 10 nodes (curved edges)
    return np.vstack([ref.points, ref.nodes])


def _element_size(block: CellBlock, points: np.ndarray) -> np.ndarray:
    X = points[block.cells]
    return np.max(X.max(axis=1) - X.min(axis=1), axis=1)


def check_mesh(mesh: Mesh, source: str = "<mesh>") -> None:
    """Validate ``mesh``; raise :class:`MeshError` naming ``source`` and the offending ids.

    Checks, in order: finite coordinates (mm), cell node indices in range, node sets in range,
    no repeated node within a cell, and positive Jacobian determinant of every solid element at
    every point of its default quadrature rule (plus at the nodes for hexahedron and tetra10),
    with ``detJ <= 1e-12 * h**3`` (h = largest bounding-box side of the element, mm) counted as
    degenerate. Nodes used by no cell give a :class:`MeshWarning` and a logged warning.

    Parameters
    ----------
    mesh : Mesh
        The mesh to check.
    source : str
        File name or description used in messages.
    """
    pts = mesh.points
    bad_nodes = np.flatnonzero(~np.all(np.isfinite(pts), axis=1))
    if bad_nodes.size:
        _raise(source, "nodes with non-finite (NaN/inf) coordinates", bad_nodes.size,
               [f"node {i}: {pts[i].tolist()}" for i in bad_nodes[:_MAX_LISTED]])
    offsets = _offsets(mesh)
    n = mesh.n_nodes

    items, count = [], 0
    for b in mesh.blocks:
        bad = (b.cells < 0) | (b.cells >= n)
        rows = np.flatnonzero(bad.any(axis=1))
        if rows.size:
            vals = [f"has node indices {b.cells[r][bad[r]].tolist()}" for r in rows[:_MAX_LISTED]]
            items += _describe(b, rows, offsets, vals)
            count += rows.size
    if count:
        _raise(source, f"cells with node indices out of range [0, {n})", count, items)

    for name, ids in mesh.node_sets.items():
        bad = ids[(ids < 0) | (ids >= n)]
        if bad.size:
            raise MeshError(f"{source}: node set {name!r} has {bad.size} indices out of range "
                            f"[0, {n}): {bad[:_MAX_LISTED].tolist()}")

    items, count = [], 0
    for b in mesh.blocks:
        s = np.sort(b.cells, axis=1)
        rows = np.flatnonzero(np.any(s[:, 1:] == s[:, :-1], axis=1))
        if rows.size:
            items += _describe(b, rows, offsets, [f"nodes {b.cells[r].tolist()}"
                                                  for r in rows[:_MAX_LISTED]])
            count += rows.size
    if count:
        _raise(source, "cells with repeated node indices", count, items)

    items, count = [], 0
    for b in mesh.blocks:
        if b.type not in SOLID_TYPES or len(b) == 0:
            continue
        det = jacobian_dets(b, pts, _check_points(b)).min(axis=1)
        h = _element_size(b, pts)
        rows = np.flatnonzero(det <= DEGENERATE_RTOL * h**3)
        if rows.size:
            items += _describe(b, rows, offsets, [f"min detJ {det[r]:.3g}"
                                                  for r in rows[:_MAX_LISTED]])
            count += rows.size
    if count:
        _raise(source, "inverted or degenerate solid elements (detJ <= 0)", count, items)

    used = np.zeros(n, dtype=bool)
    for b in mesh.blocks:
        used[b.cells.ravel()] = True
    unused = np.flatnonzero(~used)
    if unused.size:
        msg = (f"{source}: {unused.size} nodes are not used by any cell "
               f"(first ids {unused[:_MAX_LISTED].tolist()})")
        logger.warning(msg)
        warnings.warn(msg, MeshWarning, stacklevel=2)


def quality(mesh: Mesh) -> dict[str, np.ndarray]:
    """Per-cell quality of the solid cells (concatenated in block order).

    Returns
    -------
    dict
        ``scaled_jacobian``: minimum scaled Jacobian (1 for a regular tet or a cube, <= 0 when
        inverted). Hexahedra: min over the 8 corners of det(J)/(|J1||J2||J3|); tetrahedra
        (tetra10 by their vertices): min over the 4 corners of sqrt(2) det(e1,e2,e3)/(|e1||e2||e3|).
        ``aspect_ratio``: longest over shortest edge (vertices only; inf for zero-length edges).
        ``min_detJ``: minimum Jacobian determinant over the check points of :func:`check_mesh`
        (mm^3 per unit reference volume). ``cell_type``: type name of each cell.
    """
    sj, ar, md, ct = [], [], [], []
    pts = mesh.points
    for b in mesh.solid_blocks:
        if len(b) == 0:
            continue
        if b.type == "hexahedron":
            dN = reference("hexahedron").grad(reference("hexahedron").nodes)
            J = _jacobians(pts[b.cells], dN)  # (n, 8 corners, 3, 3)
            norms = np.prod(np.linalg.norm(J, axis=2), axis=2)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = _det3(J) / norms
        else:
            V = pts[b.cells[:, :4]][:, _TET_CORNERS]  # (n, 4 corners, 4, 3)
            E = V[:, :, 1:] - V[:, :, :1]  # (n, 4, 3 edges, 3)
            norms = np.prod(np.linalg.norm(E, axis=3), axis=2)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.sqrt(2.0) * _det3(E) / norms
        sj.append(np.nan_to_num(s, nan=0.0).min(axis=1))
        e = _EDGES[b.type]
        L = np.linalg.norm(pts[b.cells[:, e[:, 1]]] - pts[b.cells[:, e[:, 0]]], axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            ar.append(np.where(L.min(axis=1) > 0, L.max(axis=1) / L.min(axis=1), np.inf))
        md.append(jacobian_dets(b, pts, _check_points(b)).min(axis=1))
        ct.append(np.full(len(b), b.type, dtype=object))
    if not sj:
        z = np.zeros(0)
        return {"scaled_jacobian": z, "aspect_ratio": z.copy(), "min_detJ": z.copy(),
                "cell_type": np.zeros(0, dtype=object)}
    return {"scaled_jacobian": np.concatenate(sj), "aspect_ratio": np.concatenate(ar),
            "min_detJ": np.concatenate(md), "cell_type": np.concatenate(ct)}
