"""Consistent nodal loads: point forces, tractions and pressures on facets, body forces.

Every function returns nodal forces of shape (n_nodes, 3) in N, in the mesh's node order, so
load cases add up with ``+``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import MeshError
from spinesim.fem.elements import reference
from spinesim.mesh.facets import orient_outward
from spinesim.mesh.mesh import FACET_TYPES, CellBlock, Mesh


def nodal_forces(mesh: Mesh, nodes: ArrayLike, force: ArrayLike) -> np.ndarray:
    """Point forces (N) on ``nodes``: ``force`` is (3,) for every node or (len(nodes), 3)."""
    nodes = np.asarray(nodes, dtype=np.int64).ravel()
    if nodes.size and (nodes.min() < 0 or nodes.max() >= mesh.n_nodes):
        bad = nodes[(nodes < 0) | (nodes >= mesh.n_nodes)]
        raise MeshError(f"nodal force on node ids outside 0..{mesh.n_nodes - 1}: {bad[:10].tolist()}")
    f = np.broadcast_to(np.asarray(force, dtype=float), (len(nodes), 3))
    out = np.zeros((mesh.n_nodes, 3))
    np.add.at(out, nodes, f)
    return out


def facets_of(mesh: Mesh, region: int | str) -> CellBlock:
    """All facet cells (triangle, triangle6, quad) tagged ``region`` (tag or name), outward."""
    tag = mesh.region_id(region) if isinstance(region, str) else int(region)
    picked = [CellBlock(b.type, b.cells[b.region == tag], tag)
              for b in mesh.blocks if b.type in FACET_TYPES and np.any(b.region == tag)]
    if not picked:
        raise MeshError(f"no facets tagged {region!r}; facet regions present: "
                        f"{sorted({int(r) for b in mesh.facet_blocks for r in np.unique(b.region)})}")
    if len(picked) > 1:
        raise MeshError(f"facets tagged {region!r} mix cell types; split them by type")
    return orient_outward(mesh, picked[0], source=f"facet region {region!r}")


def surface_load(mesh: Mesh, facets: CellBlock | int | str, *,
                 traction: ArrayLike | Callable[[np.ndarray], np.ndarray] | None = None,
                 pressure: float | None = None) -> np.ndarray:
    """Consistent nodal forces of a traction (MPa, force per area) or pressure on facets.

    Parameters
    ----------
    facets : CellBlock or region tag/name
        Facets to load; a region is looked up in the mesh and oriented outward. A CellBlock is
        used as given: its right-hand-rule normal is taken as outward for ``pressure``.
    traction : (3,) or callable x (m, 3) -> (m, 3), optional
        Traction vector in MPa.
    pressure : float, optional
        Pressure in MPa, acting against the outward normal (t = -p n).
    """
    if (traction is None) == (pressure is None):
        raise ValueError("surface_load: give exactly one of traction= or pressure=")
    block = facets if isinstance(facets, CellBlock) else facets_of(mesh, facets)
    ref = reference(block.type)
    N = ref.shape(ref.points)  # (q, k)
    dN = ref.grad(ref.points)  # (q, k, 2)
    X = mesh.points[block.cells]  # (f, k, 3)
    t1 = np.einsum("qk,fkd->fqd", dN[:, :, 0], X)
    t2 = np.einsum("qk,fkd->fqd", dN[:, :, 1], X)
    nda = np.cross(t1, t2) * ref.weights[None, :, None]  # normal * dA weight, (f, q, 3)
    if pressure is not None:
        t_da = -float(pressure) * nda
    else:
        da = np.linalg.norm(nda, axis=2)  # (f, q)
        if callable(traction):
            xq = np.einsum("qk,fkd->fqd", N, X)
            t = np.asarray(traction(xq.reshape(-1, 3)), dtype=float).reshape(xq.shape)
        else:
            t = np.broadcast_to(np.asarray(traction, dtype=float), (1, 1, 3))
        t_da = t * da[:, :, None]
    fe = np.einsum("qk,fqd->fkd", N, t_da)  # (f, k, 3)
    out = np.zeros((mesh.n_nodes, 3))
    np.add.at(out, block.cells.ravel(), fe.reshape(-1, 3))
    return out


def body_force(mesh: Mesh, density_force: ArrayLike) -> np.ndarray:
    """Consistent nodal forces of a body force (N/mm^3): (3,) everywhere or (n_solid_cells, 3)."""
    b_all = np.asarray(density_force, dtype=float)
    out = np.zeros((mesh.n_nodes, 3))
    first = 0
    for blk in mesh.solid_blocks:
        n = len(blk)
        b = b_all if b_all.ndim == 1 else b_all[first:first + n]
        first += n
        ref = reference(blk.type)
        N = ref.shape(ref.points)
        dN = ref.grad(ref.points)
        X = mesh.points[blk.cells]
        J = np.einsum("qkr,ekd->eqdr", dN, X)
        dv = np.linalg.det(J) * ref.weights[None, :]  # (e, q)
        bb = np.broadcast_to(b, (n, 3)) if b.ndim == 1 else b
        fe = np.einsum("qk,eq,ed->ekd", N, dv, bb)
        np.add.at(out, blk.cells.ravel(), fe.reshape(-1, 3))
    return out


#: N·mm per N·m (user-facing moments are in N·m; internal moments in N·mm).
NMM_PER_NM = 1000.0


def reference_load(force_n: ArrayLike = (0.0, 0.0, 0.0),
                   moment_nm: ArrayLike = (0.0, 0.0, 0.0)) -> np.ndarray:
    """Load vector (6,) for a 6-DOF reference node: forces in N, moments given in N·m and
    returned in N·mm (the internal unit), e.g. ``reference_load(moment_nm=(7.5, 0, 0))``."""
    f = np.asarray(force_n, float).ravel()
    m = np.asarray(moment_nm, float).ravel()
    if f.shape != (3,) or m.shape != (3,) or not (np.all(np.isfinite(f)) and np.all(np.isfinite(m))):
        raise ValueError(f"reference_load: force_n and moment_nm must be 3 finite values each, "
                         f"got {force_n!r} and {moment_nm!r}")
    return np.concatenate([f, NMM_PER_NM * m])
