"""The stiffness assembler: pattern and scatter maps built once per mesh, values refilled many
times (healing iterations, sweeps over moduli) by the fused compiled kernel."""

from __future__ import annotations

import logging
import time

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from spinesim.errors import MeshError
from spinesim.fem.elements import reference
from spinesim.fem.kernels import assemble_solid, assemble_tet4_isotropic
from spinesim.fem.materials import Isotropic, Material, TransverselyIsotropic
from spinesim.fem.pattern import Pattern, build_pattern, pair_positions, thread_partition
from spinesim.mesh.mesh import Mesh

log = logging.getLogger(__name__)

#: Element types for which ``bbar=True`` (mean dilatation) is offered.
BBAR_TYPES = ("hexahedron", "tetra10")


class _Block:
    """One solid block in kernel form: cells sorted for locality, their maps and partition."""

    def __init__(self, block_type: str, cells: np.ndarray, first_cell: int, pattern: Pattern,
                 adjacency: tuple, n_parts: int, quadrature: tuple | None) -> None:
        ref = reference(block_type)
        order = np.argsort(cells.min(axis=1), kind="stable")
        self.type = block_type
        self.cells = np.ascontiguousarray(cells[order])
        self.cell_ids = (first_cell + order).astype(np.int64)
        self.default_rule = quadrature is None
        pts, wts = quadrature if quadrature is not None else (ref.points, ref.weights)
        self.dN = np.ascontiguousarray(ref.grad(pts))
        self.w = np.ascontiguousarray(wts, dtype=np.float64)
        self.pair_pos = pair_positions(self.cells, pattern, adjacency)
        self.partition = thread_partition(self.cells, pattern, n_parts)


class Assembler:
    """Stiffness assembly for one mesh: set up once, assemble many times.

    Set-up renumbers the nodes (reverse Cuthill-McKee, ``mesh.node_order``), builds the CSR
    pattern and the element-to-storage maps. ``assemble`` then writes new values into the same
    matrix object without sorting or allocating element matrices.

    Parameters
    ----------
    mesh : Mesh
        Points in mm; every solid block (tetra, tetra10, hexahedron) is assembled.
    bbar : bool
        Mean-dilatation B-bar for hex8 and tet10 blocks (use for nu close to 0.5). tet4 has one
        quadrature point and is unaffected (it locks; use tet10 or hex8 for such materials).
    n_threads : int, optional
        Row partitions for the parallel kernel; default ``numba.get_num_threads()``.
    quadrature : dict, optional
        ``{cell_type: (points, weights)}`` overriding the default rules.

    Notes
    -----
    The matrix is in internal (RCM) node order, DOF ``3*i + component``; ``to_user`` and
    ``node_order`` convert. Each ``assemble`` call overwrites the values of the matrix it
    returned before (the same object), which is what makes refills cheap.
    """

    def __init__(self, mesh: Mesh, *, bbar: bool = False, n_threads: int | None = None,
                 quadrature: dict | None = None) -> None:
        t0 = time.perf_counter()
        if not mesh.solid_blocks and mesh.n_nodes:
            raise MeshError("the mesh has nodes but no solid cells (tetra, tetra10 or hexahedron) "
                            "to assemble; an empty mesh (no nodes) is allowed for beam-only models")
        self.mesh = mesh
        self.bbar = bool(bbar)
        self.n_threads = int(n_threads or numba.get_num_threads())
        self.node_order = mesh.node_order  # internal -> user
        self.node_rank = np.empty_like(self.node_order)  # user -> internal
        self.node_rank[self.node_order] = np.arange(mesh.n_nodes)
        self.points = np.ascontiguousarray(mesh.points[self.node_order])
        cells = [self.node_rank[b.cells] for b in mesh.solid_blocks]
        self.pattern, adjacency = build_pattern(cells, mesh.n_nodes)
        self.adjacency = adjacency  # (aptr, adj): sorted node neighbours, internal order
        quadrature = quadrature or {}
        self.blocks: list[_Block] = []
        first = 0
        for b, c in zip(mesh.solid_blocks, cells):
            self.blocks.append(_Block(b.type, c, first, self.pattern, adjacency,
                                      self.n_threads, quadrature.get(b.type)))
            first += len(c)
        self.n_cells = first
        p = self.pattern
        self.matrix = sp.csr_matrix(
            (np.zeros(p.nnz), p.indices, p.indptr), shape=(p.n_dofs, p.n_dofs), copy=False)
        self.setup_seconds = time.perf_counter() - t0
        log.debug("assembler set up in %.3f s: %d cells, %d DOFs, %d stored entries",
                  self.setup_seconds, self.n_cells, p.n_dofs, p.nnz)

    # ------------------------------------------------------------------ assembly
    def material(self, E: ArrayLike | Material, nu: ArrayLike | None = None) -> Material:
        """Validated per-cell material from (E, nu) or a Material instance."""
        if isinstance(E, (Isotropic, TransverselyIsotropic)):
            if E.n_cells != self.n_cells:
                raise MeshError(f"material has {E.n_cells} cells, the mesh has {self.n_cells}")
            return E
        if nu is None:
            raise TypeError("assemble(E, nu): nu is required with a modulus E")
        return Isotropic.of(E, nu, self.n_cells)

    def assemble(self, E: ArrayLike | Material, nu: ArrayLike | None = None) -> sp.csr_matrix:
        """Assemble (or refill) the stiffness matrix.

        Parameters
        ----------
        E : scalar, array (n_solid_cells,) or Material
            Young's modulus in MPa (per cell in the mesh's block order), or a material object
            (``Isotropic``, ``TransverselyIsotropic``).
        nu : scalar or array (n_solid_cells,), optional
            Poisson's ratio, with a modulus ``E``.

        Returns
        -------
        scipy.sparse.csr_matrix
            K in N/mm, internal node order; the same object on every call.
        """
        mat = self.material(E, nu)
        consts = frames = None
        data = self.matrix.data
        data[:] = 0.0
        for blk in self.blocks:
            lo, hi, ptr, elems = blk.partition
            min_det = np.empty(len(lo))
            if blk.type == "tetra" and isinstance(mat, Isotropic) and blk.default_rule:
                assemble_tet4_isotropic(data, self.points, blk.cells, blk.cell_ids, mat.E,
                                        mat.nu, blk.pair_pos, self.pattern.row_len,
                                        lo, hi, ptr, elems, min_det)
            else:
                if consts is None:
                    consts = np.ascontiguousarray(mat.orthotropic_constants())
                    frames = mat.frames()
                    frames = np.zeros((0, 3, 3)) if frames is None else frames
                assemble_solid(data, self.points, blk.cells, blk.cell_ids, blk.dN, blk.w,
                               consts, frames, self.bbar and blk.type in BBAR_TYPES,
                               blk.pair_pos, self.pattern.row_len, lo, hi, ptr, elems, min_det)
            if len(min_det) and min_det.min() <= 0:
                from spinesim.mesh.checks import check_mesh

                check_mesh(self.mesh, source="assembler input")
                raise MeshError(f"{blk.type} block has a non-positive Jacobian "
                                f"(min det {min_det.min():.3e}); the mesh is inverted")
        return self.matrix

    def node_graph(self) -> sp.csr_matrix:
        """Node adjacency (internal order) as a sparse graph."""
        aptr, adj = self.adjacency
        n = self.mesh.n_nodes
        return sp.csr_matrix((np.ones(len(adj), np.int8), adj, aptr), shape=(n, n))

    # ------------------------------------------------------------------ orderings
    def user_dofs(self) -> np.ndarray:
        """Internal DOF index of each user DOF ``3*node + component``."""
        return (3 * self.node_rank[:, None] + np.arange(3)).ravel()

    def to_user(self, K: sp.spmatrix | None = None) -> sp.csr_matrix:
        """The matrix (default: the assembled one) in the mesh's node order."""
        K = self.matrix if K is None else K
        idx = self.user_dofs()
        return sp.csr_matrix(K[idx][:, idx])

    def vector_to_user(self, v: np.ndarray) -> np.ndarray:
        """A nodal vector (3*n_nodes,) or (n_nodes, 3) from internal to user node order."""
        v = np.asarray(v)
        shaped = v.reshape(self.mesh.n_nodes, -1) if v.size else v.reshape(0, 3)
        out = np.empty_like(shaped)
        out[self.node_order] = shaped
        return out.reshape(v.shape)

    def vector_to_internal(self, v: np.ndarray) -> np.ndarray:
        """A nodal vector from user to internal node order (inverse of ``vector_to_user``)."""
        v = np.asarray(v)
        shaped = v.reshape(self.mesh.n_nodes, -1) if v.size else v.reshape(0, 3)
        return shaped[self.node_order].reshape(v.shape)


def stiffness_matrix(mesh: Mesh, E: ArrayLike | Material, nu: ArrayLike | None = None, *,
                     bbar: bool = False) -> sp.csr_matrix:
    """Linear-elastic stiffness matrix of ``mesh`` (N/mm).

    Parameters
    ----------
    mesh : Mesh
        Points in mm, solid blocks tetra/tetra10/hexahedron.
    E : scalar, array (n_solid_cells,) or Material
        Young's modulus in MPa, per solid cell in block order, or a Material.
    nu : scalar or array (n_solid_cells,)
        Poisson's ratio.
    bbar : bool
        Mean-dilatation B-bar for hex8/tet10.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape (3 n_nodes, 3 n_nodes), DOF order ``3*node + component`` in the mesh's node order.
    """
    asm = Assembler(mesh, bbar=bbar)
    asm.assemble(E, nu)
    return asm.to_user()
