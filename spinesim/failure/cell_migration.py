"""Cells that migrate into the graft from the endplates: diffusion of the cell concentration.

In the tissue-differentiation model of Lacroix & Prendergast [LP02] (J Biomech 35:1163, 2002,
doi 10.1016/S0021-9290(02)00086-6) the healing tissue starts without mesenchymal stem cells;
they spread into it by diffusion from the surrounding tissue, differentiate according to the
mechanical stimulus where they arrive, and the cell diffusion rate is what sets the healing
speed ([RevWIREs]: review of mechanobiological healing models, WIREs Syst Biol Med,
PMC5082538; found in source, M). This module gives spinesim's graft that migration::

    dc/dt = D lap(c)    in the graft cells,
    c = 1               on the endplates (the decorticated vertebral bone the cells come from;
                        for a posterolateral graft the transverse processes' faces),
    no flux             on every other graft face (the PEEK cage, free faces),
    c(0) = c0           (default 0: the graft at day 0 is granulation tissue, no cells)

with c the cell concentration as a fraction of its maximum (-) and D the cell diffusion
coefficient (mm^2/day). How the timeline uses c (``healing.cells.*`` in a scenario;
:func:`spinesim.simulate.run_timeline`): the graft cell's moduli are the [LP02] rule of mixtures
``c x (tissue of its maturity level) + (1 - c) x (granulation tissue)``, and a cell counts as
bone (bone fraction, bridging) only when its tissue is bone *and* c has reached
``healing.cells.bone_concentration`` (default 0.5: most of the cell's tissue is bone-forming).
The maturity level of a graft cell (:mod:`spinesim.failure.healing`) follows its stimulus
whether or not cells have arrived: it is the tissue the cells there form, so cells arriving in
a cell take the tissue its recent stimulus calls for, as in [LP02], where arriving cells
differentiate by the current stimulus (a choice made here: the level is not held back until
the cells arrive).

Default D = 0.5 mm^2/day: the value of the human fracture-healing model of Ghiasi, Chen,
Rodriguez, Vaziri & Nazarian, BMC Musculoskelet Disord 20 (2019), doi
10.1186/s12891-019-2854-z (caption of their Fig. 5: "D = 0.5 mm2/day"; found in source; a
model parameter of theirs, not a measurement; they vary it and find that faster migration
speeds healing only up to a saturation). Not in the project's reference tables.

Discretisation: cell-centred finite volumes on the graft cells (one value per cell, the
unknown the healing state lives on), with the two-point flux between face neighbours
``T_ij = A_ij / |x_i - x_j|`` and to an endplate face ``T_f = A_f / |x_i - x_f|`` (A the face
area, x the node means of cells, equal to their corner means for hex8, tet4 and straight-edged
tet10, and the corner means of faces), and implicit Euler in time:

    (V / dt + D (L + B)) c_new = V / dt c_old + D B 1

L the weighted graph Laplacian of the T_ij, B the diagonal of the endplate T_f. The matrix is an
M-matrix: each step keeps c between min(c_old) and 1 (discrete maximum principle), for any dt.
The two-point flux is exact where the line between two centroids is normal to their face (a
structured graft); on a uniform slab the scheme converges with second order in space and first
order in time to the series solution (``tests/test_cell_migration.py``).

>>> from spinesim.mesh.generate import grid
>>> m = grid([0.0, 1.0], [0.0, 1.0], np.linspace(0.0, 10.0, 11), "hexahedron")
>>> mig = cell_migration(m, np.arange(m.n_solid_cells), ["zmin", "zmax"])
>>> c = mig.step(np.zeros(10), days=20.0, diffusion_mm2_per_day=0.5)
>>> bool(c[0] > c[4]), round(float(c[4]), 2)   # near an endplate, the middle (series: 0.52)
(True, 0.52)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse.linalg import splu

from spinesim.failure.bridging import _as_cells, _centroids, cell_volumes, face_sets
from spinesim.mesh.mesh import Mesh

__all__ = ["DIFFUSION_MM2_PER_DAY", "CellMigration", "cell_migration"]

log = logging.getLogger(__name__)

#: Cell diffusion coefficient (mm^2/day) of Ghiasi et al., BMC Musculoskelet Disord 20 (2019),
#: doi 10.1186/s12891-019-2854-z, Fig. 5 caption (found in source; a model parameter).
DIFFUSION_MM2_PER_DAY = 0.5

#: Implicit Euler steps per day of :meth:`CellMigration.step` (first order in time: after 10
#: days the middle of a 12 mm slab filled from both faces is within 1 % of its value at 400
#: steps a day, ``tests/test_cell_migration.py``).
STEPS_PER_DAY = 4


def _area(corners: np.ndarray) -> np.ndarray:
    """Area (mm^2) of faces from their corner coordinates (m, 3|4, 3): a triangle's, or a
    quad's from its diagonals (exact for a plane quad)."""
    if corners.shape[1] == 3:
        cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    else:
        cross = np.cross(corners[:, 2] - corners[:, 0], corners[:, 3] - corners[:, 1])
    return 0.5 * np.linalg.norm(cross, axis=1)


@dataclass(frozen=True, eq=False)
class CellMigration:
    """The graft's finite-volume diffusion operator, built once (:func:`cell_migration`).

    volumes : (n,) mm^3, per graft cell
    laplacian : (n, n) CSR, mm: the weighted graph Laplacian of the face transmissibilities
        plus the diagonal of the endplate transmissibilities (``L + B`` of the module text)
    source : (n,) mm, the endplate transmissibility of each cell (``B 1``; 0 inside)
    """

    volumes: np.ndarray
    laplacian: sparse.csr_matrix
    source: np.ndarray
    _factors: dict = field(default_factory=dict, repr=False, compare=False)

    def step(self, concentration: ArrayLike, days: float, diffusion_mm2_per_day: float,
             steps_per_day: int = STEPS_PER_DAY) -> np.ndarray:
        """The concentration (-) per graft cell after ``days`` (> 0) of diffusion with the
        coefficient ``diffusion_mm2_per_day`` (mm^2/day, > 0), in ``ceil(days x
        steps_per_day)`` implicit Euler steps (the factorization is kept per step size)."""
        c = np.asarray(concentration, dtype=float).ravel()
        n = len(self.volumes)
        if c.shape != (n,):
            raise ValueError(f"cell concentration needs one value per graft cell ({n}), got "
                             f"shape {np.shape(concentration)}")
        if not (np.all(np.isfinite(c)) and c.min(initial=0.0) >= 0.0
                and c.max(initial=0.0) <= 1.0):
            raise ValueError("cell concentration must lie in [0, 1] (fraction of the maximum)")
        D = float(diffusion_mm2_per_day)
        if not (math.isfinite(D) and D > 0):
            raise ValueError(f"diffusion_mm2_per_day = {diffusion_mm2_per_day!r}: must be a "
                             "number > 0 (mm^2/day)")
        if not (math.isfinite(days) and days > 0):
            raise ValueError(f"days = {days!r}: must be a number > 0")
        k = max(1, math.ceil(days * steps_per_day - 1e-9))
        dt = days / k
        key = (dt, D)
        if key not in self._factors:
            self._factors[key] = splu(sparse.csc_matrix(
                sparse.diags(self.volumes / dt) + D * self.laplacian))
        lu = self._factors[key]
        rhs_const = D * self.source
        for _ in range(k):
            c = lu.solve(self.volumes / dt * c + rhs_const)
        return np.clip(c, 0.0, 1.0)   # (round-off only: the M-matrix keeps c in [0, 1])


def cell_migration(mesh: Mesh, graft_cells: ArrayLike | str | int,
                   sources: Sequence[ArrayLike | str]) -> CellMigration:
    """The :class:`CellMigration` of ``graft_cells`` (indices, mask or region name) with the
    cells coming from the node sets ``sources`` (names or node indices, e.g. the endplates
    of every fused level): a graft face whose corner nodes all lie in one of them is a source
    (c = 1); every other graft face without a graft neighbour is closed (no flux).

    Raises ValueError when no graft face lies on a source (the cells could never arrive).
    """
    cells = _as_cells(mesh, graft_cells)
    n = len(cells)
    centroid = _centroids(mesh, cells)
    on_source = np.zeros(mesh.n_nodes, bool)
    for s in sources:
        on_source[mesh.node_sets[s] if isinstance(s, str) else np.asarray(s, np.int64)] = True
    rows, cols, vals = [], [], []
    source = np.zeros(n)
    for f in face_sets(mesh, cells):
        a, b = f.first, f.second
        T = _area(mesh.points[f.shared]) / np.linalg.norm(centroid[a] - centroid[b], axis=1)
        rows += [a, b, a, b]
        cols += [b, a, a, b]
        vals += [-T, -T, T, T]
        on = on_source[f.outer].all(axis=1)
        xf = mesh.points[f.outer[on]].mean(axis=1)
        Tf = _area(mesh.points[f.outer[on]]) / np.linalg.norm(centroid[f.owner[on]] - xf, axis=1)
        np.add.at(source, f.owner[on], Tf)
    if not source.any():
        raise ValueError("cell_migration: no graft face lies on a source node set; the cells "
                         "could never reach the graft")
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    L = sparse.coo_matrix((np.concatenate(vals) if vals else np.zeros(0), (r, np.concatenate(
        cols) if cols else np.zeros(0, np.int64))), shape=(n, n)).tocsr()
    L = (L + sparse.diags(source)).tocsr()
    log.debug("cell migration: %d graft cells, %d on a source", n, int((source > 0).sum()))
    return CellMigration(cell_volumes(mesh, cells), L, source)
