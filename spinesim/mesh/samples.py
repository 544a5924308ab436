"""Sample meshes shipped in ``meshes/`` (regenerate them with ``python meshes/make_samples.py``).

The bone block is a box of vertebral bone with the layered structure of a vertebral body: a
cortical shell on the four sides, bony endplates on top and bottom and a cancellous core. Its
outer dimensions are example parameters, not anatomical data; the shell and endplate
thicknesses default to literature values (see ``spinesim.model`` materials for moduli).
"""

from __future__ import annotations

import numpy as np

from spinesim.mesh.facets import boundary_facets
from spinesim.mesh.generate import grid
from spinesim.mesh.mesh import CellBlock, Mesh

#: Region tags and names of the bone block.
BONE_BLOCK_REGIONS = {1: "cancellous", 2: "cortical_shell", 3: "bony_endplate",
                      10: "top_surface"}

#: Cortical shell thickness 0.4 mm: Int J Spine Surg, Goel-group lumbar model material table
#: (ijssurgery.com item 5781). Bony endplate 0.25 mm shell: same source.
CORTICAL_SHELL_MM = 0.4
BONY_ENDPLATE_MM = 0.25


def _axis(length: float, skin: float, h: float) -> np.ndarray:
    inner = np.linspace(skin, length - skin, max(2, int(round((length - 2 * skin) / h)) + 1))
    return np.concatenate([[0.0], inner, [length]])


def bone_block(size_mm: tuple[float, float, float] = (40.0, 30.0, 25.0), h_mm: float = 2.5,
               shell_mm: float = CORTICAL_SHELL_MM, endplate_mm: float = BONY_ENDPLATE_MM,
               cell_type: str = "hexahedron") -> Mesh:
    """A block of vertebral bone (mm): cortical shell on x/y sides, endplates on z faces.

    Regions: ``cancellous`` (1), ``cortical_shell`` (2), ``bony_endplate`` (3); facet region
    ``top_surface`` (10) on z = size_z for loading. Node sets ``xmin`` ... ``zmax``.
    """
    xs, ys = _axis(size_mm[0], shell_mm, h_mm), _axis(size_mm[1], shell_mm, h_mm)
    zs = _axis(size_mm[2], endplate_mm, h_mm)
    nx, ny, nz = len(xs) - 1, len(ys) - 1, len(zs) - 1
    i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    region = np.ones((nx, ny, nz), np.int32)
    region[(k == 0) | (k == nz - 1)] = 3
    region[(i == 0) | (i == nx - 1) | (j == 0) | (j == ny - 1)] = 2
    mesh = grid(xs, ys, zs, cell_type, region, {t: n for t, n in BONE_BLOCK_REGIONS.items()
                                                 if t < 10})
    top = boundary_facets(mesh, mesh.node_sets["zmax"])
    return Mesh(mesh.points, (*mesh.blocks, CellBlock(top.type, top.cells, 10)),
                BONE_BLOCK_REGIONS, mesh.node_sets)
