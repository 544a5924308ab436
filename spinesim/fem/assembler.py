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
#: A refill of isotropic moduli that changes at most this fraction of the cells (a healing
#: graft, a few loosened regions) assembles only those cells, adding the difference of their
#: stiffness into the stored values; a larger change assembles every cell again.
INCREMENTAL_FRACTION = 0.25


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
        self._applied: Isotropic | None = None  # the isotropic moduli last assembled
        self.setup_seconds = time.perf_counter() - t0
        log.debug("assembler set up in %.3f s: %d cells, %d DOFs, %d stored entries",
                  self.setup_seconds, self.n_cells, p.n_dofs, p.nnz)

    # ------------------------------------------------------------------ assembly
    def material(self, E: ArrayLike | Material, nu: ArrayLike | None = None) -> Material:
        """Validated per-cell material from (E (MPa), nu (-)) or a Material instance."""
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
        last = self._applied
        if isinstance(mat, Isotropic) and isinstance(last, Isotropic):
            changed = np.flatnonzero((mat.E != last.E) | (mat.nu != last.nu))
            if len(changed) <= INCREMENTAL_FRACTION * self.n_cells:
                if len(changed):
                    self._applied = None  # until it has succeeded: an error leaves no claim
                    self._add_difference(changed, last, mat)
                    self._applied = Isotropic(mat.E.copy(), mat.nu.copy())
                return self.matrix
        self._applied = None
        self.matrix.data[:] = 0.0
        for blk in self.blocks:
            self._add_cells(blk, blk.cells, blk.cell_ids, blk.pair_pos, blk.partition, mat)
        self._applied = Isotropic(mat.E.copy(), mat.nu.copy()) \
            if isinstance(mat, Isotropic) else None
        return self.matrix

    def _add_cells(self, blk: _Block, cells: np.ndarray, cell_ids: np.ndarray,
                   pair_pos: np.ndarray, partition: tuple, mat: Material,
                   sign: float = 1.0) -> None:
        """Add ``sign`` times the stiffness of ``cells`` (some or all of block ``blk``, with
        their ``cell_ids``, storage positions and thread partition) for material ``mat``
        into the stored values. ``sign`` -1 negates every element matrix exactly (the
        kernels are linear in the material constants)."""
        lo, hi, ptr, elems = partition
        min_det = np.empty(len(lo))
        if blk.type == "tetra" and isinstance(mat, Isotropic) and blk.default_rule:
            assemble_tet4_isotropic(self.matrix.data, self.points, cells, cell_ids,
                                    sign * mat.E, mat.nu, pair_pos, self.pattern.row_len,
                                    lo, hi, ptr, elems, min_det)
        else:
            frames = mat.frames()
            assemble_solid(self.matrix.data, self.points, cells, cell_ids, blk.dN, blk.w,
                           np.ascontiguousarray(sign * mat.orthotropic_constants()),
                           np.zeros((0, 3, 3)) if frames is None else frames,
                           self.bbar and blk.type in BBAR_TYPES,
                           pair_pos, self.pattern.row_len, lo, hi, ptr, elems, min_det)
        if len(min_det) and len(cells) and min_det.min() <= 0:
            from spinesim.mesh.checks import check_mesh

            check_mesh(self.mesh, source="assembler input")
            raise MeshError(f"{blk.type} block has a non-positive Jacobian "
                            f"(min det {min_det.min():.3e}); the mesh is inverted")

    def _add_difference(self, changed: np.ndarray, old: Isotropic, new: Isotropic) -> None:
        """Refill only the ``changed`` cells: add their new stiffness and subtract their old
        one (assembled with the old moduli negated), so the other cells' stored sums are not
        touched."""
        mark = np.zeros(self.n_cells, bool)
        mark[changed] = True
        for blk in self.blocks:
            sel = np.flatnonzero(mark[blk.cell_ids])
            if not len(sel):
                continue
            cells, ids = blk.cells[sel], blk.cell_ids[sel]
            pos, part = blk.pair_pos[sel], thread_partition(cells, self.pattern, self.n_threads)
            self._add_cells(blk, cells, ids, pos, part, old, sign=-1.0)
            self._add_cells(blk, cells, ids, pos, part, new)

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
