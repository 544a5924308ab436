"""The Mesh value type: points in mm, cell blocks with region tags, named regions and node sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import numpy as np

from spinesim.errors import MeshError

#: Nodes per cell for every cell type spinesim understands (meshio names).
NODES_PER_CELL: dict[str, int] = {
    "tetra": 4,
    "tetra10": 10,
    "hexahedron": 8,
    "triangle": 3,
    "triangle6": 6,
    "quad": 4,
    "line": 2,
}
#: Cell types that carry volume (solid elements).
SOLID_TYPES = ("tetra", "tetra10", "hexahedron")
#: Cell types that are surface facets (for tractions and pressures).
FACET_TYPES = ("triangle", "triangle6", "quad")


@dataclass(frozen=True, eq=False)
class CellBlock:
    """Cells of one type.

    Attributes
    ----------
    type : str
        meshio cell type name (``tetra``, ``tetra10``, ``hexahedron``, ``triangle``,
        ``triangle6``, ``quad``, ``line``).
    cells : ndarray, shape (n, nodes_per_cell), int64
        Node indices into ``Mesh.points`` (0-based), in meshio/VTK node order.
    region : ndarray, shape (n,), int32
        Integer region tag per cell (0 when untagged).
    """

    type: str
    cells: np.ndarray
    region: np.ndarray

    def __post_init__(self) -> None:
        if self.type not in NODES_PER_CELL:
            raise MeshError(
                f"unsupported cell type {self.type!r}; supported: {', '.join(NODES_PER_CELL)}"
            )
        cells = np.ascontiguousarray(self.cells, dtype=np.int64)
        if cells.ndim != 2 or cells.shape[1] != NODES_PER_CELL[self.type]:
            raise MeshError(
                f"{self.type} cells must have shape (n, {NODES_PER_CELL[self.type]}), "
                f"got {np.shape(self.cells)}"
            )
        region = np.asarray(self.region)
        if region.ndim == 0:
            region = np.full(len(cells), int(region), dtype=np.int32)
        region = np.ascontiguousarray(region, dtype=np.int32)
        if region.shape != (len(cells),):
            raise MeshError(
                f"{self.type} region tags must have shape ({len(cells)},), got {region.shape}"
            )
        object.__setattr__(self, "cells", cells)
        object.__setattr__(self, "region", region)

    def __len__(self) -> int:
        return len(self.cells)


@dataclass(frozen=True, eq=False)
class Mesh:
    """A finite-element mesh.

    Attributes
    ----------
    points : ndarray, shape (n_nodes, 3), float64
        Node coordinates in mm, in the user's (file's) node order.
    blocks : tuple of CellBlock
        Solid blocks (tetra, tetra10, hexahedron), facet blocks (triangle, triangle6, quad) and
        line blocks (beams).
    region_names : dict[int, str]
        Name of each region tag, e.g. ``{1: "cortical", 2: "cancellous"}``.
    node_sets : dict[str, ndarray]
        Named node sets (0-based node indices), e.g. supports or load surfaces.
    """

    points: np.ndarray
    blocks: tuple[CellBlock, ...]
    region_names: Mapping[int, str] = field(default_factory=dict)
    node_sets: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pts = np.ascontiguousarray(self.points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 3:
            raise MeshError(f"points must have shape (n, 3), got {np.shape(self.points)}")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(
            self, "region_names", {int(k): str(v) for k, v in dict(self.region_names).items()}
        )
        object.__setattr__(
            self,
            "node_sets",
            {str(k): np.asarray(v, dtype=np.int64).ravel() for k, v in dict(self.node_sets).items()},
        )

    # ------------------------------------------------------------------ views
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.points)

    @property
    def solid_blocks(self) -> tuple[CellBlock, ...]:
        """The volume blocks, in order; per-cell material arrays follow this order."""
        return tuple(b for b in self.blocks if b.type in SOLID_TYPES)

    @property
    def facet_blocks(self) -> tuple[CellBlock, ...]:
        """The surface blocks (triangle, triangle6, quad), in order."""
        return tuple(b for b in self.blocks if b.type in FACET_TYPES)

    @property
    def n_solid_cells(self) -> int:
        """Number of cells over all solid blocks."""
        return sum(len(b) for b in self.solid_blocks)

    @property
    def solid_regions(self) -> np.ndarray:
        """Region tag of every solid cell, concatenated in block order, shape (n_solid_cells,)."""
        blocks = self.solid_blocks
        if not blocks:
            return np.zeros(0, dtype=np.int32)
        return np.concatenate([b.region for b in blocks])

    def region_id(self, name: str) -> int:
        """Tag of the region called ``name``; raises MeshError listing the known names."""
        for k, v in self.region_names.items():
            if v == name:
                return k
        raise MeshError(
            f"no region named {name!r}; known regions: {sorted(self.region_names.values())}"
        )

    def cells_in_region(self, region: int | str) -> np.ndarray:
        """Boolean mask over solid cells (block order) of the cells in ``region`` (tag or name)."""
        tag = self.region_id(region) if isinstance(region, str) else int(region)
        return self.solid_regions == tag

    @cached_property
    def node_order(self) -> np.ndarray:
        """Reverse Cuthill-McKee ordering of the nodes: ``node_order[i]`` is the user node id of
        internal node ``i``. Computed once per mesh; the FE core works internally in this order
        and returns every result in the user's order."""
        from spinesim.mesh.renumber import rcm_order

        return rcm_order(self)

    def with_node_sets(self, **sets: np.ndarray) -> "Mesh":
        """A copy of this mesh with extra named node sets."""
        merged = dict(self.node_sets)
        merged.update(sets)
        return Mesh(self.points, self.blocks, self.region_names, merged)

    def with_solid_cells(self, cells: np.ndarray, *, compact: bool = False) -> "Mesh":
        """A mesh of only the solid cells ``cells`` (indices in solid-block order; kept in
        their given order within each block), with this mesh's region names. Without
        ``compact`` it keeps every point (node ids unchanged); with it only the cells' nodes,
        renumbered in ascending order of their old ids. Node sets are dropped."""
        cells = np.asarray(cells, np.int64)
        blocks, first = [], 0
        for b in self.solid_blocks:
            own = cells[(cells >= first) & (cells < first + len(b))] - first
            if own.size:
                blocks.append(CellBlock(b.type, b.cells[own], b.region[own]))
            first += len(b)
        if not compact:
            return Mesh(self.points, tuple(blocks), self.region_names)
        used = np.unique(np.concatenate([b.cells.ravel() for b in blocks] + [[]])).astype(
            np.int64)
        new = np.full(self.n_nodes, -1, np.int64)
        new[used] = np.arange(len(used))
        return Mesh(self.points[used], tuple(CellBlock(b.type, new[b.cells], b.region)
                                             for b in blocks), self.region_names)

    def __repr__(self) -> str:
        blocks = ", ".join(f"{b.type}:{len(b)}" for b in self.blocks)
        return (
            f"Mesh(n_nodes={self.n_nodes}, blocks=[{blocks}], "
            f"regions={dict(self.region_names)}, node_sets={list(self.node_sets)})"
        )
