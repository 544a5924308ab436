"""Node adjacency of a mesh (which nodes share a cell), built by compiled kernels in O(n).

Used for the RCM renumbering and for the sparsity pattern of the stiffness matrix.
"""

from __future__ import annotations

import numba
import numpy as np


def flatten_cells(cell_arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate cell blocks of different widths into (conn, eptr) CSR form."""
    if not cell_arrays:
        return np.zeros(0, np.int64), np.zeros(1, np.int64)
    conn = np.concatenate([np.ascontiguousarray(c, dtype=np.int64).ravel() for c in cell_arrays])
    sizes = np.concatenate([np.full(len(c), c.shape[1], np.int64) for c in cell_arrays])
    eptr = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=eptr[1:])
    return conn, eptr


@numba.njit(cache=True)
def _node_to_cells(conn: np.ndarray, eptr: np.ndarray, n_nodes: int):
    nptr = np.zeros(n_nodes + 1, np.int64)
    for i in range(len(conn)):
        nptr[conn[i] + 1] += 1
    for a in range(n_nodes):
        nptr[a + 1] += nptr[a]
    fill = nptr[:-1].copy()
    ncell = np.empty(len(conn), np.int64)
    for e in range(len(eptr) - 1):
        for p in range(eptr[e], eptr[e + 1]):
            a = conn[p]
            ncell[fill[a]] = e
            fill[a] += 1
    return nptr, ncell


@numba.njit(cache=True)
def _adjacency(conn: np.ndarray, eptr: np.ndarray, n_nodes: int):
    nptr, ncell = _node_to_cells(conn, eptr, n_nodes)
    marker = np.full(n_nodes, -1, np.int64)
    aptr = np.zeros(n_nodes + 1, np.int64)
    for a in range(n_nodes):
        d = 0
        for p in range(nptr[a], nptr[a + 1]):
            e = ncell[p]
            for q in range(eptr[e], eptr[e + 1]):
                b = conn[q]
                if marker[b] != a:
                    marker[b] = a
                    d += 1
        aptr[a + 1] = aptr[a] + d
    adj = np.empty(aptr[n_nodes], np.int64)
    marker[:] = -1
    for a in range(n_nodes):
        k = aptr[a]
        for p in range(nptr[a], nptr[a + 1]):
            e = ncell[p]
            for q in range(eptr[e], eptr[e + 1]):
                b = conn[q]
                if marker[b] != a:
                    marker[b] = a
                    adj[k] = b
                    k += 1
        adj[aptr[a]:aptr[a + 1]] = np.sort(adj[aptr[a]:aptr[a + 1]])
    return aptr, adj


def node_adjacency(cell_arrays: list[np.ndarray], n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted node adjacency in CSR form (``aptr``, ``adj``), each node listing itself too.

    Parameters
    ----------
    cell_arrays : list of (n_cells, nodes_per_cell) int arrays
        Cells of every block that couples its nodes.
    n_nodes : int
        Number of nodes.
    """
    conn, eptr = flatten_cells(cell_arrays)
    return _adjacency(conn, eptr, int(n_nodes))
