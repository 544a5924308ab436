"""Node renumbering for locality (reverse Cuthill-McKee)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

from spinesim.mesh.graph import node_adjacency

if TYPE_CHECKING:
    from spinesim.mesh.mesh import Mesh


def rcm_order(mesh: "Mesh") -> np.ndarray:
    """Reverse Cuthill-McKee order of the nodes: ``order[i]`` is the user id of internal node i.

    Nodes are coupled when they share a solid, facet or line cell.
    """
    n = mesh.n_nodes
    if n == 0:
        return np.zeros(0, np.int64)
    aptr, adj = node_adjacency([b.cells for b in mesh.blocks], n)
    graph = sp.csr_matrix((np.ones(len(adj), np.int8), adj, aptr), shape=(n, n))
    return np.asarray(reverse_cuthill_mckee(graph, symmetric_mode=True), dtype=np.int64)
