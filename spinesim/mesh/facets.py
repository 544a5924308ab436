"""Faces of solid cells: boundary extraction and outward orientation of facet blocks."""

from __future__ import annotations

import numpy as np

from spinesim.errors import MeshError
from spinesim.mesh.mesh import CellBlock, Mesh

#: Local faces of each solid type, ordered so that the right-hand rule gives the outward normal.
FACES: dict[str, tuple[str, np.ndarray]] = {
    "tetra": ("triangle", np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])),
    "tetra10": ("triangle6", np.array([[0, 2, 1, 6, 5, 4], [0, 1, 3, 4, 8, 7],
                                       [1, 2, 3, 5, 9, 8], [0, 3, 2, 7, 9, 6]])),
    "hexahedron": ("quad", np.array([[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4],
                                     [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]])),
}
_CORNERS = {"triangle": 3, "triangle6": 3, "quad": 4}


def _all_faces(mesh: Mesh) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """All faces of all solid cells grouped by facet type, with the owning cell's centroid."""
    faces: dict[str, list] = {}
    owners: dict[str, list] = {}
    for b in mesh.solid_blocks:
        ftype, local = FACES[b.type]
        f = b.cells[:, local].reshape(-1, local.shape[1])
        centroid = mesh.points[b.cells].mean(axis=1)
        faces.setdefault(ftype, []).append(f)
        owners.setdefault(ftype, []).append(np.repeat(centroid, len(local), axis=0))
    return ({k: np.concatenate(v) for k, v in faces.items()},
            {k: np.concatenate(v) for k, v in owners.items()})


def _keys(corners: np.ndarray) -> np.ndarray:
    s = np.ascontiguousarray(np.sort(corners, axis=1))
    return s.view(np.dtype((np.void, s.dtype.itemsize * s.shape[1]))).ravel()


def boundary_facets(mesh: Mesh, nodes: np.ndarray | None = None) -> CellBlock:
    """Outward-oriented boundary faces of the solid cells (one facet type per mesh).

    With ``nodes``, only faces whose every node is in ``nodes`` are kept (e.g. one face set).
    """
    return boundary_facets_and_owners(mesh, nodes)[0]


def boundary_facets_and_owners(mesh: Mesh, nodes: np.ndarray | None = None
                               ) -> tuple[CellBlock, np.ndarray]:
    """:func:`boundary_facets` and the centroid (n, 3) mm of the solid cell each face bounds
    (e.g. for the cell's depth under the face)."""
    faces, owners = _all_faces(mesh)
    if len(faces) != 1:
        raise MeshError("boundary_facets needs a mesh whose solid cells have one face type")
    ftype, f = next(iter(faces.items()))
    centroid = owners[ftype]
    key = _keys(f[:, :_CORNERS[ftype]])
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    keep = counts[inv.ravel()] == 1
    if nodes is not None:
        mark = np.zeros(mesh.n_nodes, bool)
        mark[np.asarray(nodes)] = True
        keep &= np.all(mark[f], axis=1)
    return CellBlock(ftype, f[keep], np.zeros(int(keep.sum()), np.int32)), centroid[keep]


def facet_normals(points: np.ndarray, block: CellBlock) -> np.ndarray:
    """Unit normals (right-hand rule over the first corners) of each facet, shape (n, 3)."""
    c = points[block.cells]
    if block.type == "quad":
        n = np.cross(c[:, 2] - c[:, 0], c[:, 3] - c[:, 1])
    else:
        n = np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0])
    return n / np.linalg.norm(n, axis=1)[:, None]


def orient_outward(mesh: Mesh, block: CellBlock, source: str = "<mesh>") -> CellBlock:
    """The facets of ``block`` reordered so their normals point out of the solid they bound.

    Every facet must be a face of a solid cell; one that is not is reported by facet index.
    """
    faces, owners = _all_faces(mesh)
    if block.type not in faces:
        raise MeshError(f"{source}: {block.type} facets do not match the faces of the solid cells")
    ncorner = _CORNERS[block.type]
    all_keys = _keys(faces[block.type][:, :ncorner])
    order = np.argsort(all_keys)
    want = _keys(block.cells[:, :ncorner])
    pos = np.searchsorted(all_keys[order], want)
    pos = np.minimum(pos, len(order) - 1)
    found = all_keys[order][pos] == want
    if not found.all():
        bad = np.flatnonzero(~found)
        raise MeshError(f"{source}: {len(bad)} {block.type} facet(s) are not faces of any solid "
                        f"cell, e.g. facet ids {bad[:10].tolist()}")
    owner_centroid = owners[block.type][order][pos]
    centroid = mesh.points[block.cells[:, :ncorner]].mean(axis=1)
    inward = np.einsum("ij,ij->i", facet_normals(mesh.points, block),
                       centroid - owner_centroid) < 0
    cells = block.cells.copy()
    flip = {"triangle": [0, 2, 1], "triangle6": [0, 2, 1, 5, 4, 3], "quad": [0, 3, 2, 1]}
    cells[inward] = cells[inward][:, flip[block.type]]
    return CellBlock(block.type, cells, block.region)
