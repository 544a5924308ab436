"""Sparsity pattern of the stiffness matrix and the maps from element entries to CSR storage.

Built once per mesh (compiled kernels, no sorting of COO triplets): the node adjacency gives
a node-blocked CSR pattern where the three rows of a node share one column list, so one integer
per element node pair (a, b) locates the whole 3x3 block: entry (i, j) of the block sits at
``pair_pos[e, a*nen + b] + i * row_len[node_a] + j``. A tet4 needs 16 map entries, not 144.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from spinesim.mesh.graph import node_adjacency


@numba.njit(parallel=True, cache=True)
def _dof_pattern(aptr, adj, indptr, indices, row_len):
    n = len(aptr) - 1
    for a in numba.prange(n):
        d = aptr[a + 1] - aptr[a]
        s = 9 * aptr[a]
        row_len[a] = 3 * d
        for i in range(3):
            base = s + i * 3 * d
            indptr[3 * a + i] = base
            for k in range(d):
                b = adj[aptr[a] + k]
                for j in range(3):
                    indices[base + 3 * k + j] = 3 * b + j
    indptr[3 * n] = 9 * aptr[n]


@numba.njit(parallel=True, cache=True)
def _pair_positions(cells, aptr, adj, indptr, out):
    n_el, nen = cells.shape
    for e in numba.prange(n_el):
        for a in range(nen):
            na = cells[e, a]
            seg = adj[aptr[na]:aptr[na + 1]]
            for b in range(nen):
                k = np.searchsorted(seg, cells[e, b])
                out[e, a * nen + b] = indptr[3 * na] + 3 * k


@dataclass(frozen=True, eq=False)
class Pattern:
    """Node-blocked CSR pattern of a 3-DOF-per-node system.

    Attributes
    ----------
    indptr, indices : CSR structure over DOFs ``3*node + component`` (internal node order).
    row_len : (n_nodes,) length of each of the node's three rows (3 x number of neighbours).
    """

    n_nodes: int
    indptr: np.ndarray
    indices: np.ndarray
    row_len: np.ndarray

    @property
    def n_dofs(self) -> int:
        """Number of matrix rows (3 DOFs per node)."""
        return 3 * self.n_nodes

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return int(self.indptr[-1])

    def index_dtype(self) -> type:
        """``np.int32`` when the DOF count and ``nnz`` fit in it, else ``np.int64``."""
        return np.int32 if max(self.nnz, self.n_dofs) < 2**31 - 1 else np.int64


def build_pattern(cell_arrays: list[np.ndarray], n_nodes: int) -> tuple[Pattern, tuple]:
    """Pattern of all ``cell_arrays`` (internal node ids); also returns the node adjacency."""
    aptr, adj = node_adjacency(cell_arrays, n_nodes)
    nnz = 9 * int(aptr[-1])
    dtype = np.int32 if max(nnz, 3 * n_nodes) < 2**31 - 1 else np.int64
    indptr = np.empty(3 * n_nodes + 1, dtype)
    indices = np.empty(nnz, dtype)
    row_len = np.empty(n_nodes, dtype)
    _dof_pattern(aptr, adj, indptr, indices, row_len)
    return Pattern(n_nodes, indptr, indices, row_len), (aptr, adj)


def pair_positions(cells: np.ndarray, pattern: Pattern, adjacency: tuple) -> np.ndarray:
    """(n_cells, nen*nen) storage position of the (3x3) block of every element node pair."""
    aptr, adj = adjacency
    out = np.empty((len(cells), cells.shape[1] ** 2), pattern.index_dtype())
    _pair_positions(cells, aptr, adj, pattern.indptr, out)
    return out


def thread_partition(cells: np.ndarray, pattern: Pattern, n_parts: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the rows into ``n_parts`` contiguous node ranges of about equal storage and list the
    elements touching each range; each thread then writes only its own rows (no atomics).

    Returns ``(lo, hi, ptr, elems)``: part t owns nodes ``lo[t] <= n < hi[t]`` and processes
    ``elems[ptr[t]:ptr[t+1]]``.
    """
    n = pattern.n_nodes
    if n_parts <= 1 or len(cells) == 0:
        return (np.array([0], np.int64), np.array([n], np.int64),
                np.array([0, len(cells)], np.int64), np.arange(len(cells), dtype=np.int64))
    row_nnz = np.cumsum(pattern.row_len.astype(np.int64))
    targets = row_nnz[-1] * np.arange(1, n_parts) / n_parts
    cuts = np.searchsorted(row_nnz, targets)
    bounds = np.concatenate([[0], cuts, [n]]).astype(np.int64)
    part_of = np.searchsorted(bounds, cells, side="right") - 1
    pmin, pmax = part_of.min(axis=1), part_of.max(axis=1)
    lists = [np.flatnonzero((pmin <= t) & (pmax >= t)) for t in range(n_parts)]
    ptr = np.zeros(n_parts + 1, np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    return bounds[:-1].copy(), bounds[1:].copy(), ptr, np.concatenate(lists).astype(np.int64)
