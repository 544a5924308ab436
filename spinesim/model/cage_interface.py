"""The interbody cage on the endplates: bonded (the conforming mesh) or in unilateral contact.

The generated fused segment (:func:`spinesim.geometry.lumbar.lumbar_segment`) is conforming:
the cage's top and bottom faces share their nodes with the endplates, so the cage is *bonded*
to the bone and carries tension across the interface as readily as compression. A PEEK cage
does not bond to bone: it sits on the endplates and holds by its compressive load, its teeth
and friction; under a bending moment the unloaded side can lift off. With
``cage_interface = "contact"`` :func:`split_cage_interface` gives the cage its own copy of
every node it shares with bone, and :func:`cage_contact` joins each copy to its bone node by

* a compression-only spring along the interface normal (no tension: the cage may lift off;
  no initial gap: the cage is seated), and
* a linear spring in the interface plane (the teeth and friction hold the cage in shear; a
  modelling choice: the interface stays bonded in shear even where it has lifted off, which
  overstates the shear stiffness there; sliding with Coulomb friction is not modelled).

Both springs get the penalty stiffness of :func:`spinesim.model.soft_tissue.contact_penalty`
(100 x E A / h: E the softer of the cage and the bone at the node, A the node's tributary
area of the interface, h the cage element's height), a numerical choice that keeps the
penalty's own compliance under about 1 % of the layer's (from factor 100 to 1000 the rod
stress and ROM of a unilateral construct in flexion change by under 0.05 %, README). The
normal springs are one-sided, so the segment is solved by the active-set iteration
(:mod:`spinesim.fem.active_set`), like the facet contact of ``soft_tissue``; the timeline
solves it on its condensed model (``solve_condensed_active_set``).

The graft keeps its nodes: it stays attached to the endplates (it is the tissue that is to
fuse them) and to the cage's window walls. Units: mm, N, MPa.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from spinesim.errors import MeshError
from spinesim.fem.dofs import DofLayout
from spinesim.fem.springs import SpringSet, spring_matrices
from spinesim.fem.system import ElementSet
from spinesim.mesh.facets import boundary_facets_and_owners
from spinesim.mesh.mesh import CellBlock, Mesh
from spinesim.model.soft_tissue import contact_penalty

log = logging.getLogger(__name__)

__all__ = ["CAGE_INTERFACES", "CageInterface", "cage_contact", "split_cage_interface"]

#: The choices of ``SegmentOptions.cage_interface`` / scenario ``cage.interface``.
CAGE_INTERFACES = ("bonded", "contact")
#: Name of the compression-only spring set and of the shear element set.
NORMAL_SET, SHEAR_SET = "cage contact", "cage shear"


@dataclass(frozen=True, eq=False)
class CageInterface:
    """Node pairs across the cage-endplate interface of a split mesh.

    Attributes
    ----------
    pairs : (n, 2) int
        Mesh node ids ``(cage copy, bone node)`` at the same position.
    normal : (n, 3)
        Unit interface normal at each pair, out of the cage into the bone.
    area_mm2 : (n,)
        Tributary area of each pair (a quarter of each adjacent cage face), mm².
    height_mm : (n,)
        Height of the cage elements under the pair (mean over its faces), mm.
    """

    pairs: np.ndarray
    normal: np.ndarray
    area_mm2: np.ndarray
    height_mm: np.ndarray

    @property
    def n(self) -> int:
        """Number of node pairs."""
        return len(self.pairs)


def split_cage_interface(mesh: Mesh) -> tuple[Mesh, CageInterface]:
    """The mesh with the cage cells moved onto copies of the nodes they share with bone
    (cells neither ``cage`` nor ``graft``), and the pairs that join them again.

    The copies are appended after the existing nodes (node ids and node sets of the bone are
    unchanged). Raises MeshError when the mesh has no cage, when the cage touches no bone, or
    when a shared node lies on no face of the cage (an interface that is an edge or a point).
    """
    solid = mesh.solid_blocks
    if len(solid) != 1 or solid[0].type != "hexahedron":
        raise MeshError("split_cage_interface needs one hexahedron block (the generated "
                        f"segment), got {[b.type for b in solid]}")
    blk = solid[0]
    cage = mesh.cells_in_region("cage")
    if not cage.any():
        raise MeshError("cage_interface = 'contact' needs a cage; the mesh has no cage cells")
    bone = ~(cage | mesh.cells_in_region("graft"))
    shared = np.intersect1d(blk.cells[cage], blk.cells[bone])
    if len(shared) == 0:
        raise MeshError("the cage shares no node with bone: nothing to put in contact")
    block, cell_centre = boundary_facets_and_owners(
        Mesh(mesh.points, [CellBlock(blk.type, blk.cells[cage], blk.region[cage])]), shared)
    faces = block.cells  # the cage's faces on bone, oriented out of the cage
    corners = mesh.points[faces]
    normal = np.cross(corners[:, 2] - corners[:, 0], corners[:, 3] - corners[:, 1])
    area = 0.5 * np.linalg.norm(normal, axis=1)  # of a planar quad; its diagonals' cross
    normal /= 2.0 * area[:, None]
    height = 2.0 * np.abs(np.einsum("ij,ij->i", corners.mean(axis=1) - cell_centre, normal))

    index = np.full(mesh.n_nodes, -1)
    index[shared] = np.arange(len(shared))
    rows = index[faces].ravel()
    n_shared = len(shared)
    node_area = np.bincount(rows, np.repeat(area / 4.0, 4), minlength=n_shared)
    node_normal = np.stack([np.bincount(rows, np.repeat(area * normal[:, k] / 4.0, 4),
                                        minlength=n_shared) for k in range(3)], axis=1)
    faces_per_node = np.bincount(rows, minlength=n_shared)
    lone = np.flatnonzero(faces_per_node == 0)
    if len(lone):
        raise MeshError(f"{len(lone)} node(s) the cage shares with bone lie on no cage face "
                        f"(nodes {shared[lone][:10].tolist()}): the cage touches the bone "
                        "along an edge or at a point only")
    node_height = np.bincount(rows, np.repeat(height, 4), minlength=n_shared) / faces_per_node
    node_normal /= np.linalg.norm(node_normal, axis=1)[:, None]

    copies = mesh.n_nodes + np.arange(n_shared)
    to_copy = np.arange(mesh.n_nodes)
    to_copy[shared] = copies
    cells = blk.cells.copy()
    cells[cage] = to_copy[cells[cage]]
    blocks = [CellBlock(blk.type, cells, blk.region) if b is blk else b for b in mesh.blocks]
    split = Mesh(np.vstack([mesh.points, mesh.points[shared]]), blocks, mesh.region_names,
                 mesh.node_sets)
    log.info("cage interface: %d node pairs, %.0f mm² (cage faces on bone)", n_shared,
             node_area.sum())
    return split, CageInterface(np.stack([copies, shared], axis=1), node_normal, node_area,
                                node_height)


def cage_contact(iface: CageInterface, mesh: Mesh, E_mpa: np.ndarray, layout: DofLayout,
                 factor: float = 100.0) -> tuple[SpringSet, ElementSet, np.ndarray]:
    """The contact springs of ``iface``: a compression-only :class:`SpringSet` along each
    pair's normal and a linear element set in its plane, with their element values.

    Parameters
    ----------
    iface : the pairs of :func:`split_cage_interface`
    mesh : the split mesh
    E_mpa : (n_cells,) MPa, Young's modulus per solid cell; the penalty takes the softer of
        the cage and the bone (graft excluded) at each pair
    layout : the model's DOF layout (for the shear element set's DOFs)
    factor : penalty over the layer stiffness (``contact_penalty``)

    Returns
    -------
    (normal springs, shear element set, shear element values (n, 6, 6) N/mm)
    """
    (blk,) = mesh.solid_blocks
    softest = np.full(mesh.n_nodes, np.inf)
    graft = mesh.cells_in_region("graft")
    np.minimum.at(softest, blk.cells[~graft].ravel(),
                  np.repeat(np.asarray(E_mpa, float)[~graft], blk.cells.shape[1]))
    modulus = np.minimum(softest[iface.pairs[:, 0]], softest[iface.pairs[:, 1]])
    k = contact_penalty(modulus, iface.area_mm2, iface.height_mm, factor)
    normal = SpringSet(NORMAL_SET, iface.pairs, iface.normal, k, kind="compression",
                       slack_mm=0.0, labels="cage on endplate")
    # in the plane: k (I - n n^T), the three axis springs less the normal one
    shear_values = sum(spring_matrices(np.broadcast_to(e, iface.normal.shape), k)
                       for e in np.eye(3)) - spring_matrices(iface.normal, k)
    shear = ElementSet(SHEAR_SET, normal.dofs(layout))
    return normal, shear, shear_values

