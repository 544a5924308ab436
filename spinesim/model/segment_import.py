"""A user's own motion-segment mesh in place of the generated geometry.

Any mesh meshio reads (VTU, XDMF, Gmsh, Abaqus, Medit) works if its solid cells carry region
tags named after :data:`spinesim.model.segment_materials.REGIONS` (``cortical``,
``cancellous``, ``endplate``, ``posterior``, ``annulus``, ``nucleus``, ``cage``, ``graft``) and
it has the node sets ``upper_endplate_top`` (the surface the load's reference node is coupled
to) and ``lower_endplate_bottom`` (fixed). Non-solid cells (facets, lines such as the screws and
rods of ``meshes/L4L5_fused.vtu``) and the nodes only they use are dropped.

What an imported mesh does not get: soft-tissue springs (ligament insertions, annulus fibres
and facet pairs are found on the generated geometry only) and pedicle screws (their
trajectories come from the generated pedicles). Its ROM is that of the bones and disc (or cage
and graft) alone; the load's axis is +z (cranial), as the spinesim axes require.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from spinesim.errors import MeshError
from spinesim.mesh.mesh import Mesh
from spinesim.model.segment_materials import REGIONS

__all__ = ["ImportedGeometry", "REQUIRED_NODE_SETS", "import_segment_mesh"]

REQUIRED_NODE_SETS = ("upper_endplate_top", "lower_endplate_bottom")


@dataclass(frozen=True, eq=False)
class ImportedGeometry:
    """The parts of a generated ``SegmentGeometry`` an imported mesh provides."""

    mesh: Mesh
    source: str
    levels: tuple[str, ...] = ("upper", "lower")
    screws: tuple = ()
    facet_pairs: tuple = ()
    quality: dict = field(default_factory=dict)
    frames: dict = field(default_factory=dict)


def _solid_only(mesh: Mesh) -> Mesh:
    blocks = mesh.solid_blocks
    used = np.zeros(mesh.n_nodes, bool)
    for b in blocks:
        used[b.cells.ravel()] = True
    if used.all() and len(blocks) == len(mesh.blocks):
        return mesh
    new = np.full(mesh.n_nodes, -1, np.int64)
    new[used] = np.arange(int(used.sum()))
    from spinesim.mesh.mesh import CellBlock

    blocks = tuple(CellBlock(b.type, new[b.cells], b.region) for b in blocks)
    sets = {k: new[v][new[v] >= 0] for k, v in mesh.node_sets.items()}
    tags = {int(t) for b in blocks for t in np.unique(b.region)}
    names = {k: v for k, v in mesh.region_names.items() if k in tags}
    return Mesh(mesh.points[used], blocks, names, sets)


def import_segment_mesh(path: str | os.PathLike) -> ImportedGeometry:
    """Read and check a segment mesh (see the module notes).

    Raises
    ------
    MeshError
        Naming the file and what is missing: an unnamed or unknown region (with the allowed
        names), or a required node set.
    """
    from spinesim.mesh.checks import quality
    from spinesim.mesh.io import read_mesh

    mesh = _solid_only(read_mesh(path))
    if mesh.n_solid_cells == 0:
        raise MeshError(f"{path}: no solid cells (tetra, tetra10 or hexahedron)")
    for tag in np.unique(mesh.solid_regions):
        name = mesh.region_names.get(int(tag))
        if name not in REGIONS:
            raise MeshError(f"{path}: solid region tag {int(tag)} is named {name!r}; every solid "
                            f"region must be one of {', '.join(REGIONS)}")
    for key in REQUIRED_NODE_SETS:
        if len(mesh.node_sets.get(key, ())) < 3:
            raise MeshError(f"{path}: node set {key!r} is missing or has fewer than 3 nodes "
                            f"(required: {', '.join(REQUIRED_NODE_SETS)})")
    q = quality(mesh)
    summary = {"min_scaled_jacobian": float(q["scaled_jacobian"].min()),
               "max_aspect_ratio": float(q["aspect_ratio"].max()), "n_nodes": mesh.n_nodes,
               "n_cells": mesh.n_solid_cells, "n_dofs": 3 * mesh.n_nodes}
    return ImportedGeometry(mesh, str(path), quality=summary)
