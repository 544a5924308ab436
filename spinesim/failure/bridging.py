"""Bony bridging of a fusion graft: is there a connected path of bone from endplate to endplate?

Nonunion in the model is "no continuous bridging bone between the two endplates at 12 months"
(design note following the ISSLS definition of pseudarthrosis, "no bony union within 12 months
after surgery": ISSLS textbook definition as reproduced in Wheeless' Textbook of Orthopaedics,
and Int J Spine Surg, ijssurgery.com item 13711). This module answers the geometric half of that
question for one healing state; the 12-month time point belongs to the caller.

A multi-level fusion has one graft per disc space (:func:`fusion_topology`): it is united
when every level is bridged between its own two endplates (the clinical definition applies to
each fused level; a single unbridged level is a pseudarthrosis).

Connectivity is **face** adjacency: two graft elements are neighbours only if they share a whole
face (all corner nodes). Elements touching along an edge or at a vertex only are *not* connected,
so a diagonal staircase of bone does not bridge. An element touches an endplate if one of its
faces has all its corner nodes in the endplate node set. Both are deliberate: a load path through
a shared edge or vertex has no area and would make bridging mesh-dependent.

**How much of the fusion area is bridged** (:attr:`Bridging.bridged_area_fraction`). CT grades
fusion by the share of the fusion area that bridging bone covers: grade I over 50 %, grade II
under 50 %, grades III-V not fused ([IJSS5573]: Int J Spine Surg, ijssurgery.com item 5573, CT
fusion grading table; from the literature, not re-checked; ../shared/reference/healing.md).
spinesim measures it as the area of the narrowest cross-section of the bone that links the two
endplates: the minimum cut between them through the bone cells, the capacity of a shared face
being its area and that of an endplate face its area (max-flow min-cut,
:func:`scipy.sparse.csgraph.maximum_flow`). The fusion area is the same cut through the whole
graft, so an all-bone graft gives 1. A bone column of a quarter of the graft's cross-section
gives 1/4 on any mesh that resolves it, and so does a graft that is bone at both endplates but
joined by that column only (a bone neck). The cut runs along element faces, so a cut plane
oblique to the mesh is measured as a staircase (larger); the disc-space grafts of spinesim's
meshes are layered parallel to the endplates. :func:`ct_grade` maps the fraction onto the
grades.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from spinesim.fem.post import gradients
from spinesim.mesh.facets import FACES
from spinesim.mesh.mesh import Mesh

log = logging.getLogger(__name__)

__all__ = ["Bridging", "CT_GRADE_I_FRACTION", "FaceSet", "FusionBridging", "FusionTopology",
           "GraftTopology", "bridging", "cell_volumes", "ct_grade", "endplate_cells",
           "face_adjacency", "face_sets", "fusion_topology", "graft_topology"]

_CORNERS = {"triangle": 3, "triangle6": 3, "quad": 4}
#: CT grade I: bridging bone over more than this share of the fusion area; grade II below it
#: [IJSS5573] (Int J Spine Surg, ijssurgery.com item 5573; ../shared/reference/healing.md,
#: "from the literature, not re-checked").
CT_GRADE_I_FRACTION = 0.5
#: Integer capacity units per endplate side in the min cut (maximum_flow needs integers): an
#: area is counted in units of (the larger endplate side's area) / 2**20, so a face loses at
#: most 5e-7 of that area to rounding and the flow stays far inside int32.
_CUT_UNITS = 2 ** 20


@dataclass(frozen=True)
class Bridging:
    """Result of :func:`bridging`.

    bridged : a face-connected component of bone touches both endplates
    bone_fraction : bone volume / graft volume (-)
    n_components : number of face-connected components of bone elements
    upper_components, lower_components : ids (0 .. n_components-1) of the bone components that
        touch the upper / lower endplate
    bridged_area_fraction : area of the narrowest cross-section of the bone linking the two
        endplates / the graft's own (the fusion area), -; 0 when not bridged (module
        docstring; :func:`ct_grade`)
    """

    bridged: bool
    bone_fraction: float
    n_components: int
    upper_components: tuple[int, ...]
    lower_components: tuple[int, ...]
    bridged_area_fraction: float = 0.0

    @property
    def bridging_components(self) -> tuple[int, ...]:
        """Ids of the components that touch both endplates."""
        return tuple(sorted(set(self.upper_components) & set(self.lower_components)))


def _as_cells(mesh: Mesh, cells: ArrayLike | str | int) -> np.ndarray:
    """Solid-cell indices (block order) from indices, a boolean mask or a region name/tag."""
    if isinstance(cells, (str, int, np.integer)):
        return np.flatnonzero(mesh.cells_in_region(cells))
    c = np.asarray(cells)
    if c.dtype == bool:
        if c.shape != (mesh.n_solid_cells,):
            raise ValueError(f"graft cell mask must have shape ({mesh.n_solid_cells},), "
                             f"got {c.shape}")
        return np.flatnonzero(c)
    c = c.astype(np.int64).ravel()
    if c.size and (c.min() < 0 or c.max() >= mesh.n_solid_cells):
        raise ValueError(f"graft cell indices must be in [0, {mesh.n_solid_cells}), got "
                         f"[{c.min()}, {c.max()}]")
    return c


def _by_block(mesh: Mesh, cells: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Per solid block holding some of ``cells`` (solid-cell indices, block order): its cell
    type, the positions in ``cells`` of those cells and their connectivity."""
    first = 0
    for blk in mesh.solid_blocks:
        pos = np.flatnonzero((cells >= first) & (cells < first + len(blk)))
        if len(pos):
            yield blk.type, pos, blk.cells[cells[pos] - first]
        first += len(blk)


def _faces(mesh: Mesh, cells: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Corner nodes of every face of ``cells`` grouped by corner count: {3|4: (faces, owner)},
    ``owner`` being the position of the cell in ``cells``."""
    out: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for ctype, pos, conn in _by_block(mesh, cells):
        ftype, local = FACES[ctype]
        c = _CORNERS[ftype]
        f = conn[:, local[:, :c]].reshape(-1, c)
        out.setdefault(c, []).append((f, np.repeat(pos, len(local))))
    return {c: (np.concatenate([f for f, _ in v]), np.concatenate([o for _, o in v]))
            for c, v in out.items()}


@dataclass(frozen=True)
class FaceSet:
    """The faces of a set of cells with one corner count (:func:`face_sets`).

    shared : (m, c) corner nodes of the faces two of the cells share (as ``first`` lists them)
    first, second : (m,) positions in the cells of the two cells sharing each of them
    outer : (k, c) corner nodes of the faces of one cell only (the set's boundary)
    owner : (k,) position in the cells of the cell each outer face bounds
    """

    shared: np.ndarray
    first: np.ndarray
    second: np.ndarray
    outer: np.ndarray
    owner: np.ndarray


def face_sets(mesh: Mesh, cells: ArrayLike) -> list[FaceSet]:
    """The shared and outer faces of ``cells`` (indices, mask or region), one
    :class:`FaceSet` per corner count (3 and/or 4).

    Vectorised: sort each face's corners, lexsort the faces, and pair equal neighbours.
    """
    out = []
    for faces, owner in _faces(mesh, _as_cells(mesh, cells)).values():
        key = np.sort(faces, axis=1)
        order = np.lexsort(key.T[::-1])
        key, faces, owner = key[order], faces[order], owner[order]
        same = np.all(key[1:] == key[:-1], axis=1) & (owner[1:] != owner[:-1])
        paired = np.zeros(len(faces), bool)
        paired[:-1] |= same
        paired[1:] |= same
        out.append(FaceSet(faces[:-1][same], owner[:-1][same], owner[1:][same],
                           faces[~paired], owner[~paired]))
    return out


def _face_areas(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area (mm^2) of each face given by its corner nodes, (k, 3) or (k, 4) in cyclic order
    (a warped quad: the norm of its vector area)."""
    p = points[faces]
    if faces.shape[1] == 3:
        return 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    return 0.5 * np.linalg.norm(np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]), axis=1)


def face_adjacency(mesh: Mesh, cells: ArrayLike) -> sparse.csr_matrix:
    """Symmetric (n, n) boolean matrix: cells[i] and cells[j] share a face (corner nodes;
    :func:`face_sets`)."""
    cells = _as_cells(mesh, cells)
    n = len(cells)
    pairs = face_sets(mesh, cells)
    r = np.concatenate([np.zeros(0, np.int64)] + [f.first for f in pairs])
    c = np.concatenate([np.zeros(0, np.int64)] + [f.second for f in pairs])
    A = sparse.coo_matrix((np.ones(len(r), bool), (r, c)), shape=(n, n)).tocsr()
    return (A + A.T).astype(bool)


def endplate_cells(mesh: Mesh, cells: ArrayLike, nodes: ArrayLike | str) -> np.ndarray:
    """Boolean (n,) over ``cells``: the cell has a face whose corner nodes all lie in ``nodes``
    (node indices or the name of a node set of ``mesh``)."""
    cells = _as_cells(mesh, cells)
    ids = mesh.node_sets[nodes] if isinstance(nodes, str) else np.asarray(nodes, np.int64)
    in_set = np.zeros(mesh.n_nodes, bool)
    in_set[ids] = True
    touch = np.zeros(len(cells), bool)
    for faces, owner in _faces(mesh, cells).values():
        touch[owner[in_set[faces].all(axis=1)]] = True
    return touch


def _contact_areas(mesh: Mesh, cells: np.ndarray, upper: ArrayLike | str,
                   lower: ArrayLike | str
                   ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The area (mm^2) of the face each pair of ``cells`` shares, as a symmetric (n, n) CSR
    matrix, and each cell's face area on the ``upper`` and ``lower`` node sets, (n,) each."""
    n = len(cells)
    rows, cols, areas = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    on = {"upper": np.zeros(n), "lower": np.zeros(n)}
    in_set = {}
    for side, nodes in (("upper", upper), ("lower", lower)):
        ids = mesh.node_sets[nodes] if isinstance(nodes, str) else np.asarray(nodes, np.int64)
        in_set[side] = np.zeros(mesh.n_nodes, bool)
        in_set[side][ids] = True
    for fs in face_sets(mesh, cells):
        a = _face_areas(mesh.points, fs.shared)
        rows += [fs.first, fs.second]
        cols += [fs.second, fs.first]
        areas += [a, a]
        outer = _face_areas(mesh.points, fs.outer)
        for side, mask in in_set.items():
            hit = mask[fs.outer].all(axis=1)
            on[side] += np.bincount(fs.owner[hit], outer[hit], minlength=n)
    contact = sparse.coo_matrix((np.concatenate(areas),
                                 (np.concatenate(rows), np.concatenate(cols))),
                                shape=(n, n)).tocsr()
    return contact, on["upper"], on["lower"]


def _min_cut_units(contact: sparse.csr_matrix, upper: np.ndarray, lower: np.ndarray,
                   unit: float) -> int:
    """Minimum cut (in ``unit`` mm^2) between the upper and lower endplates through the cells
    of ``contact`` (shared-face areas) with endplate face areas ``upper``, ``lower``."""
    from scipy.sparse.csgraph import maximum_flow

    n = len(upper)
    if n == 0 or not upper.any() or not lower.any():
        return 0
    c = contact.tocoo()
    up, lo = np.flatnonzero(upper), np.flatnonzero(lower)
    row = np.concatenate([c.row, np.full(len(up), n), lo])
    col = np.concatenate([c.col, up, np.full(len(lo), n + 1)])
    cap = np.concatenate([c.data, upper[up], lower[lo]]) / unit
    cap = np.minimum(np.rint(cap), 2 ** 30).astype(np.int32)
    graph = sparse.csr_array((cap, (row, col)), shape=(n + 2, n + 2))
    graph.sum_duplicates()
    return int(maximum_flow(graph, n, n + 1).flow_value)


def ct_grade(bridged_area_fraction: float) -> str:
    """CT fusion grade from the bridged share of the fusion area
    (:attr:`Bridging.bridged_area_fraction`, -): ``"I"`` above
    :data:`CT_GRADE_I_FRACTION` (bridging bone over more than 50 % of the fusion area),
    ``"II"`` for bridging bone over less, ``"III-V"`` (not fused; the model does not tell
    those grades apart) without a bridge [IJSS5573].

    >>> ct_grade(0.8), ct_grade(0.3), ct_grade(0.0)
    ('I', 'II', 'III-V')
    """
    f = float(bridged_area_fraction)
    if not 0.0 <= f <= 1.0 + 1e-9:
        raise ValueError(f"ct_grade: the bridged area fraction must be in [0, 1], got {f!r}")
    return "I" if f > CT_GRADE_I_FRACTION else "II" if f > 0.0 else "III-V"


def cell_volumes(mesh: Mesh, cells: ArrayLike) -> np.ndarray:
    """Volume (mm^3) of each of ``cells`` (solid-cell indices, block order)."""
    cells = _as_cells(mesh, cells)
    vol = np.empty(len(cells))
    for ctype, pos, conn in _by_block(mesh, cells):
        _, dv, _ = gradients(mesh.points, conn, ctype)
        vol[pos] = dv.sum(axis=1)
    return vol


@dataclass(frozen=True)
class GraftTopology:
    """What bridging needs of a graft that does not change while it heals (built once by
    :func:`graft_topology`, then :meth:`bridging` per healing state).

    volumes : (n,) mm^3, cell volumes in the order of the graft cells
    adjacency : (n, n) boolean CSR, face adjacency (:func:`face_adjacency`)
    upper, lower : (n,) bool, the cell has a face on the upper / lower endplate
    contact : (n, n) CSR, mm^2, the area of the face two cells share
    upper_area, lower_area : (n,) mm^2, each cell's face area on the upper / lower endplate
    fusion_area : mm^2, the narrowest cross-section of the whole graft between the endplates
        (its minimum cut; module docstring)
    """

    volumes: np.ndarray
    adjacency: sparse.csr_matrix
    upper: np.ndarray
    lower: np.ndarray
    contact: sparse.csr_matrix
    upper_area: np.ndarray
    lower_area: np.ndarray
    fusion_area: float

    def bridging(self, is_bone: ArrayLike) -> Bridging:
        """:class:`Bridging` of one healing state: ``is_bone`` bool (n,) per graft cell."""
        n = len(self.volumes)
        bone = np.asarray(is_bone, dtype=bool).ravel()
        if bone.shape != (n,):
            raise ValueError(f"bridging: is_bone must have one entry per graft cell ({n}), "
                             f"got {bone.shape}")
        fraction = float(self.volumes[bone].sum() / self.volumes.sum()) if n else 0.0
        idx = np.flatnonzero(bone)
        if len(idx) == 0:
            return Bridging(False, fraction, 0, (), ())
        n_comp, labels = connected_components(self.adjacency[idx][:, idx], directed=False)
        up = np.unique(labels[self.upper[idx]])
        lo = np.unique(labels[self.lower[idx]])
        bridged = bool(np.intersect1d(up, lo).size)
        area = self.bridged_area(bone) if bridged else 0.0
        log.debug("bridging: %d bone cells in %d components, bridged=%s, %.3g mm^2 of %.3g",
                  len(idx), n_comp, bridged, area, self.fusion_area)
        return Bridging(bridged, fraction, int(n_comp), tuple(int(x) for x in up),
                        tuple(int(x) for x in lo),
                        area / self.fusion_area if self.fusion_area > 0 else 0.0)

    @property
    def _unit(self) -> float:
        """mm^2 per integer capacity unit of the min cut (:data:`_CUT_UNITS`)."""
        return max(self.upper_area.sum(), self.lower_area.sum(), 1e-300) / _CUT_UNITS

    def bridged_area(self, is_bone: ArrayLike) -> float:
        """Area (mm^2) of the narrowest cross-section of the bone cells (``is_bone`` bool (n,))
        between the two endplates: their minimum cut (module docstring); 0 when the bone
        does not bridge."""
        bone = np.asarray(is_bone, dtype=bool).ravel()
        if bone.shape != self.volumes.shape:
            raise ValueError(f"bridged_area: is_bone must have one entry per graft cell "
                             f"({len(self.volumes)}), got {bone.shape}")
        idx = np.flatnonzero(bone)
        units = _min_cut_units(self.contact[idx][:, idx], self.upper_area[idx],
                               self.lower_area[idx], self._unit)
        return units * self._unit


def _graft_topology(mesh: Mesh, cells: np.ndarray, upper: ArrayLike | str,
                    lower: ArrayLike | str, volumes: np.ndarray | None = None
                    ) -> GraftTopology:
    """:class:`GraftTopology` of solid cells ``cells`` (volumes given or computed)."""
    contact, up, lo = _contact_areas(mesh, cells, upper, lower)
    volumes = cell_volumes(mesh, cells) if volumes is None else volumes
    whole = GraftTopology(volumes, face_adjacency(mesh, cells),
                          endplate_cells(mesh, cells, upper), endplate_cells(mesh, cells, lower),
                          contact, up, lo, 0.0)
    fusion = _min_cut_units(contact, up, lo, whole._unit) * whole._unit
    return dataclasses.replace(whole, fusion_area=fusion)


def graft_topology(mesh: Mesh, graft_cells: ArrayLike | str | int, upper: ArrayLike | str,
                   lower: ArrayLike | str) -> GraftTopology:
    """The :class:`GraftTopology` of ``graft_cells`` (as in :func:`bridging`) between the
    endplate node sets ``upper`` and ``lower`` (node indices or node-set names)."""
    return _graft_topology(mesh, _as_cells(mesh, graft_cells), upper, lower)


def bridging(mesh: Mesh, graft_cells: ArrayLike | str | int, is_bone: ArrayLike,
             upper: ArrayLike | str, lower: ArrayLike | str) -> Bridging:
    """Whether face-connected bone links the upper and lower endplates, and the bone fraction.

    Parameters
    ----------
    mesh : the model mesh
    graft_cells : solid-cell indices (block order), a boolean mask over solid cells, or the
        graft region's name or tag
    is_bone : bool (n_graft,), per graft cell in the order of ``graft_cells`` (e.g.
        ``HealingState.is_bone()``)
    upper, lower : node indices (or node-set names) of the endplate contact faces

    For many healing states of one graft, build :func:`graft_topology` once and call its
    :meth:`GraftTopology.bridging` instead (same result).

    >>> from spinesim.mesh.generate import box
    >>> m = box((1, 1, 3), (1, 1, 3), "hexahedron")
    >>> bridging(m, np.arange(3), [True, True, True], "zmax", "zmin").bridged
    True
    """
    return graft_topology(mesh, graft_cells, upper, lower).bridging(is_bone)


@dataclass(frozen=True)
class FusionBridging:
    """Bridging of a fusion of one or more levels (:meth:`FusionTopology.bridging`).

    bridged : every level is bridged (:attr:`Bridging.bridged` of each)
    bone_fraction : bone volume / graft volume over all levels (-)
    levels : per level, cranial first, its :class:`Bridging` (bone fraction of its own graft)
    """

    bridged: bool
    bone_fraction: float
    levels: tuple[Bridging, ...]

    @property
    def bridged_area_fraction(self) -> float:
        """The smallest :attr:`Bridging.bridged_area_fraction` of the levels (-): a fusion
        is graded by its least fused level."""
        return min((b.bridged_area_fraction for b in self.levels), default=0.0)

    @property
    def n_bridged(self) -> int:
        """Number of bridged levels."""
        return sum(b.bridged for b in self.levels)


@dataclass(frozen=True)
class FusionTopology:
    """The graft of each fused level (disc space) and what its bridging needs, built once by
    :func:`fusion_topology`.

    names : per level, e.g. ``"L4-L5"``, cranial first
    cells : per level, positions (into the fusion's graft cells) of that level's graft cells
    levels : per level, the :class:`GraftTopology` of those cells between its endplates
    volumes : (n,) mm^3, every graft cell's volume
    """

    names: tuple[str, ...]
    cells: tuple[np.ndarray, ...]
    levels: tuple[GraftTopology, ...]
    volumes: np.ndarray

    def bridging(self, is_bone: ArrayLike) -> FusionBridging:
        """:class:`FusionBridging` of one healing state: ``is_bone`` bool (n,) per graft cell
        of the fusion (the order of the cells given to :func:`fusion_topology`)."""
        n = len(self.volumes)
        bone = np.asarray(is_bone, dtype=bool).ravel()
        if bone.shape != (n,):
            raise ValueError(f"bridging: is_bone must have one entry per graft cell ({n}), "
                             f"got {bone.shape}")
        per = tuple(t.bridging(bone[c]) for t, c in zip(self.levels, self.cells))
        fraction = float(self.volumes[bone].sum() / self.volumes.sum()) if n else 0.0
        return FusionBridging(all(b.bridged for b in per), fraction, per)


def fusion_topology(mesh: Mesh, graft_cells: ArrayLike | str | int,
                    endplates: Sequence[tuple[ArrayLike | str, ArrayLike | str]],
                    names: Sequence[str] | None = None) -> FusionTopology:
    """The :class:`FusionTopology` of ``graft_cells`` (as in :func:`bridging`) for the levels
    whose (upper, lower) endplate node sets are ``endplates``, cranial first.

    Each graft cell belongs to the level whose endplates its face-connected graft component
    touches (the grafts of two disc spaces are separated by a vertebra, so no component
    touches two levels). A component that touches no endplate cannot bridge; it is given to
    the level whose endplates lie nearest to its centroid, so that it counts in that level's
    bone fraction.

    Raises
    ------
    ValueError
        ``endplates`` is empty, ``names`` does not match it, or a graft component touches the
        endplates of two levels (then the levels' grafts are joined, and "bridged per level"
        has no meaning).
    """
    cells = _as_cells(mesh, graft_cells)
    if not endplates:
        raise ValueError("fusion_topology: give the (upper, lower) endplates of one level or "
                         "more")
    names = [f"level {i + 1}" for i in range(len(endplates))] if names is None else list(names)
    if len(names) != len(endplates):
        raise ValueError(f"fusion_topology: {len(names)} names for {len(endplates)} levels")
    adjacency = face_adjacency(mesh, cells)
    volumes = cell_volumes(mesh, cells)
    n_comp, label = connected_components(adjacency, directed=False) if len(cells) else \
        (0, np.zeros(0, np.int64))
    touches = np.zeros((len(endplates), n_comp), bool)
    for i, (upper, lower) in enumerate(endplates):
        on = endplate_cells(mesh, cells, upper) | endplate_cells(mesh, cells, lower)
        touches[i, np.unique(label[on])] = True
    both = np.flatnonzero(touches.sum(axis=0) > 1)
    if both.size:
        raise ValueError(f"fusion_topology: a graft piece touches the endplates of levels "
                         f"{[names[i] for i in np.flatnonzero(touches[:, both[0]])]}; the "
                         f"grafts of different levels must be separate")
    level_of = touches.argmax(axis=0)
    loose = np.flatnonzero(~touches.any(axis=0))
    if loose.size:
        centre = _centroids(mesh, cells)
        mid = np.array([0.5 * (_node_mean(mesh, u) + _node_mean(mesh, lo)) for u, lo in endplates])
        for c in loose:
            x = centre[label == c].mean(axis=0)
            level_of[c] = int(np.argmin(np.linalg.norm(mid - x, axis=1)))
    per_cell = level_of[label]
    parts = tuple(np.flatnonzero(per_cell == i) for i in range(len(endplates)))
    levels = tuple(_graft_topology(mesh, cells[p], upper, lower, volumes[p])
                   for p, (upper, lower) in zip(parts, endplates))
    return FusionTopology(tuple(names), parts, levels, volumes)


def _node_mean(mesh: Mesh, nodes: ArrayLike | str) -> np.ndarray:
    ids = mesh.node_sets[nodes] if isinstance(nodes, str) else np.asarray(nodes, np.int64)
    return mesh.points[ids].mean(axis=0)


def _centroids(mesh: Mesh, cells: np.ndarray) -> np.ndarray:
    """Node centroid (mm) of each of ``cells`` (solid-cell indices, block order)."""
    out = np.empty((len(cells), 3))
    for _, pos, conn in _by_block(mesh, cells):
        out[pos] = mesh.points[conn].mean(axis=1)
    return out
