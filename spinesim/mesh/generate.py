"""Structured meshes of boxes and thick-walled cylinders (tet4, tet10, hex8) for tests, examples
and benchmarks. All lengths in mm."""

from __future__ import annotations

import numpy as np

from spinesim.mesh.facets import boundary_facets
from spinesim.mesh.mesh import CellBlock, Mesh

# Kuhn (Freudenthal) split of a hexahedron into 6 tetrahedra around the 0-6 diagonal. Every cube
# is split the same way, so the faces of neighbouring cubes match (a conforming mesh).
_HEX_TO_TET = np.array([[0, 1, 2, 6], [0, 2, 3, 6], [0, 3, 7, 6],
                        [0, 7, 4, 6], [0, 4, 5, 6], [0, 5, 1, 6]])
_TET_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])


def _grid_hexes(n: tuple[int, int, int]) -> np.ndarray:
    nx, ny, nz = n
    idx = np.arange((nx + 1) * (ny + 1) * (nz + 1)).reshape(nx + 1, ny + 1, nz + 1)
    i, j, k = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz),
                                              indexing="ij"))
    return np.stack([idx[i, j, k], idx[i + 1, j, k], idx[i + 1, j + 1, k], idx[i, j + 1, k],
                     idx[i, j, k + 1], idx[i + 1, j, k + 1], idx[i + 1, j + 1, k + 1],
                     idx[i, j + 1, k + 1]], axis=1)


def _face_sets(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
    tol = 1e-9 * max(1.0, float(np.max(hi - lo)))
    sets = {}
    for d, name in enumerate("xyz"):
        sets[f"{name}min"] = np.flatnonzero(np.abs(points[:, d] - lo[d]) < tol)
        sets[f"{name}max"] = np.flatnonzero(np.abs(points[:, d] - hi[d]) < tol)
    return sets


def add_midside_nodes(points: np.ndarray, tets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn tet4 cells into tet10 cells by adding one shared node at the middle of every edge.

    Returns the new points (old points first, unchanged) and the (n, 10) cells in VTK order."""
    edges = np.sort(tets[:, _TET_EDGES].reshape(-1, 2), axis=1)
    uniq, inverse = np.unique(edges, axis=0, return_inverse=True)
    mid = 0.5 * (points[uniq[:, 0]] + points[uniq[:, 1]])
    new_pts = np.vstack([points, mid])
    edge_nodes = len(points) + inverse.reshape(-1, 6)
    return new_pts, np.hstack([tets, edge_nodes])


def grid(xs: np.ndarray, ys: np.ndarray, zs: np.ndarray, cell_type: str = "hexahedron",
         region: np.ndarray | None = None, region_names: dict[int, str] | None = None) -> Mesh:
    """A structured mesh on the tensor grid ``xs`` x ``ys`` x ``zs`` (mm, increasing).

    ``region`` gives a tag per grid cell, shape (nx, ny, nz) (each tet of a split cell inherits
    it). Node sets ``xmin`` ... ``zmax`` hold the nodes of each face.
    """
    axes = [np.asarray(a, dtype=float) for a in (xs, ys, zs)]
    if any(a.ndim != 1 or len(a) < 2 or np.any(np.diff(a) <= 0) for a in axes):
        raise ValueError("grid: each axis needs at least 2 strictly increasing coordinates")
    n = tuple(len(a) - 1 for a in axes)
    X, Y, Z = np.meshgrid(*axes, indexing="ij")
    points = np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)
    hexes = _grid_hexes(n)
    tags = np.ones(len(hexes), np.int32) if region is None else \
        np.asarray(region, np.int32).reshape(-1)
    if len(tags) != len(hexes):
        raise ValueError(f"grid: region must have shape {n}, got {np.shape(region)}")
    if cell_type == "hexahedron":
        cells = hexes
    elif cell_type in ("tetra", "tetra10"):
        cells = hexes[:, _HEX_TO_TET].reshape(-1, 4)
        tags = np.repeat(tags, len(_HEX_TO_TET))
        if cell_type == "tetra10":
            points, cells = add_midside_nodes(points, cells)
    else:
        raise ValueError(f"grid: cell_type must be tetra, tetra10 or hexahedron, got {cell_type!r}")
    lo = np.array([a[0] for a in axes])
    hi = np.array([a[-1] for a in axes])
    names = region_names or {int(t): f"region_{t}" for t in np.unique(tags)}
    return Mesh(points, (CellBlock(cell_type, cells, tags),), names, _face_sets(points, lo, hi))


def box(size: tuple[float, float, float] = (1.0, 1.0, 1.0),
        n: tuple[int, int, int] = (4, 4, 4),
        cell_type: str = "tetra",
        origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
        region_name: str = "solid") -> Mesh:
    """A box of ``size`` mm split into ``n`` cubes, each a hex8 or six tet4/tet10.

    Node sets ``xmin``, ``xmax``, ``ymin``, ... hold the nodes of each face.
    """
    n = tuple(int(v) for v in n)
    if min(n) < 1:
        raise ValueError(f"box: every division count must be >= 1, got n={n}")
    lo = np.asarray(origin, dtype=float)
    hi = lo + np.asarray(size, dtype=float)
    axes = [np.linspace(lo[d], hi[d], n[d] + 1) for d in range(3)]
    return grid(*axes, cell_type=cell_type, region_names={1: region_name})


def box_with_cells(target_cells: int, cell_type: str = "tetra",
                   size: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Mesh:
    """A box of ``size`` mm with about ``target_cells`` cells (cubic grid, 6 tets per cube for
    tets)."""
    per_cube = 1 if cell_type == "hexahedron" else 6
    m = max(1, int(round((target_cells / per_cube) ** (1.0 / 3.0))))
    return box(size, (m, m, m), cell_type)


def distorted(mesh: Mesh, amplitude: float, seed: int = 0) -> Mesh:
    """A copy with interior nodes moved randomly by up to ``amplitude`` times the local spacing
    (boundary nodes of a box stay put; tet10 midside nodes stay at their edge midpoints so that
    edges remain straight)."""
    rng = np.random.default_rng(seed)
    pts = mesh.points.copy()
    lo, hi = pts.min(0), pts.max(0)
    tol = 1e-9 * float(np.max(hi - lo))
    interior = np.all((pts > lo + tol) & (pts < hi - tol), axis=1)
    blocks = mesh.solid_blocks
    vertex = np.zeros(len(pts), bool)
    for b in blocks:
        vertex[b.cells[:, :8 if b.type == "hexahedron" else 4]] = True
    h = float(np.min(np.diff(np.unique(np.round(pts[:, 0], 12))))) if len(pts) > 1 else 1.0
    move = interior & vertex
    pts[move] += amplitude * h * rng.uniform(-1, 1, size=(int(move.sum()), 3))
    for b in blocks:
        if b.type == "tetra10":
            c = b.cells
            pts[c[:, 4:]] = 0.5 * (pts[c[:, _TET_EDGES[:, 0]]] + pts[c[:, _TET_EDGES[:, 1]]])
    return Mesh(pts, mesh.blocks, mesh.region_names, mesh.node_sets)


def hollow_cylinder(r_in: float, r_out: float, height: float, n_r: int, n_theta: int, n_z: int,
                    cell_type: str = "hexahedron", angle: float = np.pi / 2) -> Mesh:
    """A sector (default a quarter) of a thick-walled cylinder about the z axis, in mm; the
    sector's ``angle`` in rad.

    Node sets: ``inner``, ``outer``, ``zmin``, ``zmax``, ``theta0`` (on the x axis plane y=0) and
    ``theta1`` (on the plane at ``angle``). Facet block ``triangle``/``quad`` tagged 2
    (``inner_surface``) covers the inner wall for pressure loads.
    """
    box_mesh = box((1.0, 1.0, 1.0), (n_r, n_theta, n_z), cell_type)
    u = box_mesh.points
    r = r_in + (r_out - r_in) * u[:, 0]
    t = angle * u[:, 1]
    pts = np.stack([r * np.cos(t), r * np.sin(t), height * u[:, 2]], axis=1)
    sets = {
        "inner": box_mesh.node_sets["xmin"], "outer": box_mesh.node_sets["xmax"],
        "theta0": box_mesh.node_sets["ymin"], "theta1": box_mesh.node_sets["ymax"],
        "zmin": box_mesh.node_sets["zmin"], "zmax": box_mesh.node_sets["zmax"],
    }
    solid = box_mesh.blocks[0]
    facets = boundary_facets(Mesh(pts, (solid,)), nodes=sets["inner"])
    blocks = (solid, CellBlock(facets.type, facets.cells, 2))
    return Mesh(pts, blocks, {1: "wall", 2: "inner_surface"}, sets)
