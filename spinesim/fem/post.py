"""Post-processing: strains and stresses at quadrature points, von Mises and principal values,
cell averages. Vectorised over all cells of a block."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.fem.assembler import BBAR_TYPES
from spinesim.fem.elements import reference
from spinesim.fem.materials import Isotropic, Material, voigt_stiffness
from spinesim.mesh.mesh import Mesh


@dataclass(frozen=True, eq=False)
class BlockField:
    """Values at the quadrature points of one solid block.

    strain : (n_cells, n_q, 3, 3) small-strain tensor (-)
    stress : (n_cells, n_q, 3, 3) Cauchy stress (MPa)
    weights : (n_cells, n_q) quadrature weight x det J (mm^3), for volume averages
    points : (n_cells, n_q, 3) quadrature point coordinates (mm)
    """

    cell_type: str
    strain: np.ndarray
    stress: np.ndarray
    weights: np.ndarray
    points: np.ndarray

    def cell_average(self, name: str = "stress") -> np.ndarray:
        """Volume average per cell of ``strain`` (-) or ``stress`` (MPa), (n_cells, 3, 3)."""
        v = getattr(self, name)
        return np.einsum("eq,eqij->eij", self.weights, v) / self.weights.sum(axis=1)[:, None, None]


def gradients(points: np.ndarray, cells: np.ndarray, cell_type: str
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shape-function gradients (e, q, k, 3) in 1/mm, dV weights (e, q) in mm^3 and
    quadrature points (e, q, 3) of the default rule of ``cell_type``."""
    ref = reference(cell_type)
    dN = ref.grad(ref.points)
    X = points[cells]
    J = np.einsum("qkr,ekd->eqdr", dN, X)
    invJ = np.linalg.inv(J)
    g = np.einsum("qkr,eqri->eqki", dN, invJ)
    dv = np.linalg.det(J) * ref.weights[None, :]
    xq = np.einsum("qk,ekd->eqd", ref.shape(ref.points), X)
    return g, dv, xq


def _material_slice(material: Material, sl: slice) -> tuple[np.ndarray | None, np.ndarray]:
    if isinstance(material, Isotropic):
        lam, mu = material.lame()
        return None, np.stack([lam[sl], mu[sl]], axis=1)
    frames = material.frames()
    D = voigt_stiffness(material.orthotropic_constants()[sl],
                        None if frames is None else frames[sl])
    return D, np.zeros(0)


def stress_from_strain(eps: np.ndarray, D: np.ndarray | None, lame: np.ndarray) -> np.ndarray:
    """Stress (MPa) from strain tensors (e, q, 3, 3) with per-cell Voigt D (e, 6, 6) or Lame
    parameters (e, 2)."""
    if D is None:
        lam, mu = lame[:, 0][:, None, None, None], lame[:, 1][:, None, None, None]
        tr = np.trace(eps, axis1=2, axis2=3)[..., None, None]
        return lam * tr * np.eye(3) + 2 * mu * eps
    v = np.stack([eps[..., 0, 0], eps[..., 1, 1], eps[..., 2, 2], 2 * eps[..., 1, 2],
                  2 * eps[..., 0, 2], 2 * eps[..., 0, 1]], axis=-1)
    s = np.einsum("eij,eqj->eqi", D, v)
    out = np.empty(eps.shape)
    out[..., 0, 0], out[..., 1, 1], out[..., 2, 2] = s[..., 0], s[..., 1], s[..., 2]
    out[..., 1, 2] = out[..., 2, 1] = s[..., 3]
    out[..., 0, 2] = out[..., 2, 0] = s[..., 4]
    out[..., 0, 1] = out[..., 1, 0] = s[..., 5]
    return out


def solid_fields(mesh: Mesh, displacement: ArrayLike, material: Material, *,
                 bbar: bool = False) -> list[BlockField]:
    """Strain and stress at the quadrature points of every solid block (block order).

    Parameters
    ----------
    displacement : (n_nodes, 3) mm, mesh node order
    material : Material used for the solve (per solid cell)
    bbar : use the B-bar (element-mean) volumetric strain for hex8/tet10, as in the solve
    """
    u = np.asarray(displacement, dtype=float).reshape(mesh.n_nodes, 3)
    out, first = [], 0
    for blk in mesh.solid_blocks:
        g, dv, xq = gradients(mesh.points, blk.cells, blk.type)
        H = np.einsum("eka,eqkb->eqab", u[blk.cells], g)  # du_a/dx_b
        eps = 0.5 * (H + np.swapaxes(H, 2, 3))
        if bbar and blk.type in BBAR_TYPES:
            tr = np.trace(eps, axis1=2, axis2=3)
            mean_tr = (dv * tr).sum(axis=1) / dv.sum(axis=1)
            eps = eps + ((mean_tr[:, None] - tr) / 3.0)[..., None, None] * np.eye(3)
        sl = slice(first, first + len(blk))
        D, lame = _material_slice(material, sl)
        out.append(BlockField(blk.type, eps, stress_from_strain(eps, D, lame), dv, xq))
        first += len(blk)
    return out


def von_mises(stress: np.ndarray) -> np.ndarray:
    """Von Mises equivalent stress (MPa) of stress tensors (..., 3, 3)."""
    s = stress
    return np.sqrt(0.5 * ((s[..., 0, 0] - s[..., 1, 1]) ** 2 + (s[..., 1, 1] - s[..., 2, 2]) ** 2
                          + (s[..., 2, 2] - s[..., 0, 0]) ** 2)
                   + 3.0 * (s[..., 0, 1] ** 2 + s[..., 1, 2] ** 2 + s[..., 0, 2] ** 2))


def principal(tensor: np.ndarray) -> np.ndarray:
    """Principal values of symmetric tensors (..., 3, 3), sorted largest first."""
    return np.linalg.eigvalsh(tensor)[..., ::-1]


def cell_values(fields: list[BlockField], name: str = "stress") -> np.ndarray:
    """Volume-averaged ``strain`` (-) or ``stress`` (MPa) tensors of all solid cells (block
    order), (n_solid_cells, 3, 3)."""
    return np.concatenate([f.cell_average(name) for f in fields])


@dataclass(frozen=True, eq=False)
class CellStrain:
    """Volume-averaged small strain of a fixed subset of solid cells, with the volume-weighted
    mean shape-function gradients precomputed (geometry does not change between solves).

    The cell average of the B-bar strain equals that of the standard strain (the B-bar
    correction replaces the volumetric part by its cell mean), so one operator serves both.
    Call it with a displacement (n_nodes, 3) in mm to get strains (n_cells, 3, 3).
    """

    connectivity: np.ndarray  # (n_cells, k) mesh node ids
    mean_gradient: np.ndarray  # (n_cells, k, 3) 1/mm
    volume: np.ndarray  # (n_cells,) mm^3

    def __call__(self, displacement: ArrayLike) -> np.ndarray:
        u = np.asarray(displacement, dtype=float)
        H = np.einsum("eka,ekb->eab", u[self.connectivity], self.mean_gradient)
        return 0.5 * (H + np.swapaxes(H, 1, 2))


@dataclass(frozen=True, eq=False)
class MeshStrain:
    """Volume-averaged small strain of every solid cell of a mesh (solid-block order): one
    :class:`CellStrain` per block, built once. Equals ``cell_values(solid_fields(...),
    "strain")`` with or without B-bar, at a fraction of the cost (no quadrature-point fields)."""

    blocks: tuple[CellStrain, ...]

    def __call__(self, displacement: ArrayLike) -> np.ndarray:
        if not self.blocks:
            return np.zeros((0, 3, 3))
        return np.concatenate([b(displacement) for b in self.blocks])


def mesh_strain_operator(mesh: Mesh) -> MeshStrain:
    """:class:`MeshStrain` of all solid cells of ``mesh``."""
    starts = np.cumsum([0] + [len(b) for b in mesh.solid_blocks])
    return MeshStrain(tuple(cell_strain_operator(mesh, np.arange(lo, hi))
                            for lo, hi in zip(starts[:-1], starts[1:])))


def isotropic_stress(strain: np.ndarray, E: ArrayLike, nu: ArrayLike) -> np.ndarray:
    """Stress (MPa) of strain tensors (n, 3, 3) in cells of isotropic moduli E (MPa), nu (n,)."""
    lam, mu = Isotropic.of(E, nu, len(strain)).lame()
    return stress_from_strain(strain[:, None], None, np.stack([lam, mu], axis=1))[:, 0]


def cell_strain_operator(mesh: Mesh, cells: ArrayLike) -> CellStrain:
    """:class:`CellStrain` of the solid cells ``cells`` (indices in solid-block order, as
    :func:`cell_values`); all of them must be in blocks of one cell type."""
    cells = np.asarray(cells, dtype=np.int64)
    starts = np.cumsum([0] + [len(b) for b in mesh.solid_blocks])
    which = np.searchsorted(starts, cells, side="right") - 1
    if cells.size and (cells.min() < 0 or cells.max() >= starts[-1]):
        raise ValueError(f"cell_strain_operator: cell ids must be in [0, {starts[-1]}), got "
                         f"{cells.min()}..{cells.max()}")
    types = {mesh.solid_blocks[b].type for b in np.unique(which)}
    if len(types) > 1:
        raise ValueError(f"cell_strain_operator: the cells span cell types {sorted(types)}")
    if not cells.size:
        return CellStrain(np.zeros((0, 8), np.int64), np.zeros((0, 8, 3)), np.zeros(0))
    k = mesh.solid_blocks[which[0]].cells.shape[1]
    conn = np.empty((len(cells), k), dtype=np.int64)
    for b in np.unique(which):  # one pass per block, not per cell
        mask = which == b
        conn[mask] = mesh.solid_blocks[b].cells[cells[mask] - starts[b]]
    g, dv, _ = gradients(mesh.points, conn, types.pop())
    mean_g = np.einsum("eq,eqkb->ekb", dv, g) / dv.sum(axis=1)[:, None, None]
    return CellStrain(conn, mean_g, dv.sum(axis=1))
