"""Anatomical measures of closed surfaces: vertebral bodies, whole vertebrae and discs.

The same measures are taken on a generated segment (the boundary of its cells) and on a
subject's surfaces (an STL or a volume mesh), so that the parametric geometry can be compared
with a real one measured the same way. Lengths in mm, areas in mm², volumes in mm³, angles in
degrees; axes follow spinesim (x to the patient's left, y anterior, z cranial).

A surface is a closed, consistently oriented triangle mesh. Each vertebral body is measured
in its own *body frame*: z along the body's axis, the difference of the area-weighted mean
normals of its superior and inferior endplates (the faces whose normal is within 45 degrees
of cranial or caudal), x the file's lateral axis made normal to it. That removes the
sagittal tilt (lordosis) of each vertebra, so that a body tilted in the spine and one standing
upright give the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spinesim.errors import MeshError

if TYPE_CHECKING:
    from spinesim.geometry.segment import SegmentGeometry

__all__ = ["ANATOMICAL_DIRECTIONS", "BodyMeasures", "DiscMeasures", "Surface", "body_frame",
           "body_measures", "cross_section", "disc_measures", "extents", "read_surface",
           "reorient", "segment_surfaces", "surface_of_cells", "vertical_chord"]

#: Unit vectors of anatomical directions in spinesim's axes.
ANATOMICAL_DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "left": (1.0, 0.0, 0.0), "right": (-1.0, 0.0, 0.0),
    "anterior": (0.0, 1.0, 0.0), "posterior": (0.0, -1.0, 0.0),
    "cranial": (0.0, 0.0, 1.0), "caudal": (0.0, 0.0, -1.0)}
_ENDPLATE_COS = math.cos(math.radians(45.0))   # endplate faces: normal within 45 deg of axis


@dataclass(frozen=True, eq=False)
class Surface:
    """A closed triangle surface with outward normals (right-hand rule).

    Attributes
    ----------
    points : ndarray (n, 3), mm
    triangles : ndarray (m, 3), indices into ``points``
    name : str
        Where it came from (file name or cell set), for messages.
    """

    points: np.ndarray
    triangles: np.ndarray
    name: str = "<surface>"

    def _corners(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three corners of every triangle, (m, 3) each."""
        return tuple(self.points[self.triangles[:, i]] for i in range(3))

    def _tetra_volumes(self) -> np.ndarray:
        """Signed volumes of the tetrahedra (origin, triangle), mm³; they sum to the volume."""
        a, b, c = self._corners()
        return np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0

    @property
    def volume_mm3(self) -> float:
        """Enclosed volume, mm³ (divergence theorem)."""
        return float(self._tetra_volumes().sum())

    def normals(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit outward normals (m, 3) and areas (m,) of the triangles, mm²."""
        a, b, c = self._corners()
        n = np.cross(b - a, c - a)
        area = np.linalg.norm(n, axis=1)
        return n / np.where(area > 0, area, 1.0)[:, None], 0.5 * area

    def transformed(self, rotation: np.ndarray, origin: np.ndarray | None = None) -> "Surface":
        """The surface with points ``(p - origin) @ rotation.T`` (rotation: rows = new axes;
        ``origin`` (3,) mm, default 0)."""
        o = np.zeros(3) if origin is None else np.asarray(origin, float)
        return Surface((self.points - o) @ np.asarray(rotation, float).T, self.triangles,
                       self.name)

    @property
    def centroid(self) -> np.ndarray:
        """Volume centroid, mm."""
        a, b, c = self._corners()
        v = self._tetra_volumes()
        return (v[:, None] * (a + b + c)).sum(axis=0) / (4.0 * v.sum())


def _closed_surface(points: np.ndarray, triangles: np.ndarray, name: str) -> Surface:
    """Check that the triangles close a surface with one orientation; turn it outward."""
    points = np.asarray(points, float)
    tri = np.asarray(triangles, np.int64)
    if not np.isfinite(points).all():
        raise MeshError(f"{name}: point coordinates contain NaN or inf")
    if tri.ndim != 2 or tri.shape[1] != 3 or len(tri) < 4:
        raise MeshError(f"{name}: needs at least 4 triangles, got shape {tri.shape}")
    if tri.min() < 0 or tri.max() >= len(points):
        bad = int(np.flatnonzero((tri < 0).any(1) | (tri >= len(points)).any(1))[0])
        raise MeshError(f"{name}: triangle {bad} has node ids {tri[bad].tolist()} outside "
                        f"the {len(points)} points")
    directed = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    n = len(points)
    key = directed[:, 0] * n + directed[:, 1]
    back = directed[:, 1] * n + directed[:, 0]
    uniq, count = np.unique(key, return_counts=True)
    if (count > 1).any():
        e = uniq[count > 1][0]
        raise MeshError(f"{name}: the triangles are not consistently oriented (or an edge is "
                        f"shared by more than two triangles), e.g. at edge of nodes "
                        f"{e // n}-{e % n}")
    missing = ~np.isin(back, uniq)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise MeshError(f"{name}: the surface is not closed: {int(missing.sum())} edge(s) have "
                        f"one triangle only, e.g. nodes {directed[i, 0]}-{directed[i, 1]}; "
                        "measures need a watertight surface")
    s = Surface(points, tri, name)
    if s.volume_mm3 < 0:
        s = Surface(points, tri[:, [0, 2, 1]], name)
    return s


def reorient(points: np.ndarray, axes: tuple[str, str, str]) -> np.ndarray:
    """Points given in a file whose x, y, z point to the anatomical directions ``axes`` (e.g.
    ``("anterior", "right", "cranial")``), in spinesim's axes. Mirroring is refused."""
    try:
        R = np.array([ANATOMICAL_DIRECTIONS[a] for a in axes]).T
    except KeyError as exc:
        raise MeshError(f"axes={axes!r}: unknown direction {exc.args[0]!r}; allowed: "
                        f"{', '.join(ANATOMICAL_DIRECTIONS)}") from None
    if R.shape != (3, 3) or not np.isclose(np.linalg.det(R), 1.0):
        raise MeshError(f"axes={axes!r}: need three orthogonal directions forming a "
                        "right-handed frame (a mirrored file would mirror the anatomy)")
    return np.asarray(points, float) @ R.T


def read_surface(path: str | Path, axes: tuple[str, str, str] = ("left", "anterior", "cranial")
                 ) -> Surface:
    """Read a closed triangle surface (STL, OBJ, PLY, VTU... through meshio), mm.

    ``axes`` names the anatomical directions of the file's x, y, z (default: spinesim's).
    """
    from spinesim.mesh.io import read_meshio

    path = Path(path)
    if not path.is_file():
        raise MeshError(f"{path}: surface file not found")
    m = read_meshio(path)
    tri = [c.data for c in m.cells if c.type == "triangle"]
    if not tri:
        raise MeshError(f"{path}: no triangles (cell types {[c.type for c in m.cells]})")
    # an STL repeats each corner per triangle: merge coincident points so edges are shared
    points, index = np.unique(np.asarray(m.points[:, :3], float), axis=0, return_inverse=True)
    triangles = index.ravel()[np.concatenate(tri)]
    return _closed_surface(reorient(points, axes), triangles, str(path))


def surface_of_cells(points: np.ndarray, cells: np.ndarray, cell_type: str = "hexahedron",
                     name: str = "<cells>") -> Surface:
    """The boundary of a set of solid cells (hexahedra or tetrahedra) of nodes ``points`` (mm),
    triangulated."""
    from spinesim.mesh.facets import boundary_facets
    from spinesim.mesh.mesh import CellBlock, Mesh

    if len(cells) == 0:
        raise MeshError(f"{name}: no cells")
    mesh = Mesh(points, (CellBlock(cell_type, cells, 0),))
    f = boundary_facets(mesh).cells
    if f.shape[1] == 4:                          # quads: two triangles each
        f = np.concatenate([f[:, [0, 1, 2]], f[:, [0, 2, 3]]])
    return _closed_surface(points, f[:, :3], name)


def body_frame(surface: Surface) -> np.ndarray:
    """Rotation (rows: the body frame's x, y, z in the surface's axes) whose z is the axis of
    a vertebral body or disc: the difference of the area-weighted mean normals of its
    cranial- and caudal-facing faces."""
    n, area = surface.normals()
    up, down = n[:, 2] > _ENDPLATE_COS, n[:, 2] < -_ENDPLATE_COS
    if not (up.any() and down.any()):
        raise MeshError(f"{surface.name}: no cranial- or caudal-facing faces to define an axis")
    z = (area[up, None] * n[up]).sum(0) / area[up].sum() \
        - (area[down, None] * n[down]).sum(0) / area[down].sum()
    z /= np.linalg.norm(z)
    if abs(z[0]) > 0.9:
        raise MeshError(f"{surface.name}: the body axis {np.round(z, 3).tolist()} lies along the "
                        "lateral (x) axis; check the file's axes")
    x = np.array([1.0, 0.0, 0.0]) - z[0] * z
    x /= np.linalg.norm(x)
    return np.array([x, np.cross(z, x), z])


def cross_section(surface: Surface, z: float) -> tuple[float, np.ndarray, np.ndarray]:
    """The section of a closed surface by the plane at height ``z``: its area (mm², holes
    subtracted), and the lower and upper corners (x, y) of its bounding box (mm)."""
    p = surface.points[surface.triangles]                 # (m, 3, 3)
    n, _ = surface.normals()
    above = p[:, :, 2] > z
    cut = above.any(1) & ~above.all(1)
    p, n, above = p[cut], n[cut], above[cut]
    if not len(p):
        raise MeshError(f"{surface.name}: the plane z = {z:.3f} mm misses the surface")
    ends = []
    for i, j in ((0, 1), (1, 2), (2, 0)):                 # each crossing edge gives an end
        a, b = p[:, i], p[:, j]
        t = np.divide(z - a[:, 2], b[:, 2] - a[:, 2], out=np.full(len(a), np.nan),
                      where=above[:, i] != above[:, j])
        ends.append(a[:, :2] + t[:, None] * (b[:, :2] - a[:, :2]))
    ends = np.stack(ends, axis=1)                         # (k, 3, 2), one row NaN
    ok = np.isfinite(ends[:, :, 0])
    seg = ends[ok].reshape(-1, 2, 2)
    tangent = np.stack([-n[:, 1], n[:, 0]], axis=1)       # e_z x n: counter-clockwise outline
    flip = np.einsum("ij,ij->i", seg[:, 1] - seg[:, 0], tangent) < 0
    seg[flip] = seg[flip][:, ::-1]
    area = 0.5 * float(np.sum(seg[:, 0, 0] * seg[:, 1, 1] - seg[:, 1, 0] * seg[:, 0, 1]))
    pts = seg.reshape(-1, 2)
    return area, pts.min(0), pts.max(0)


def vertical_chord(surface: Surface, x: float, y: float) -> float:
    """Length (mm) of the vertical line through (x, y) inside the surface, from its lowest to
    its highest crossing."""
    p = surface.points[surface.triangles]
    a, b, c = p[:, 0], p[:, 1], p[:, 2]
    d = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        u = ((x - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (y - a[:, 1])) / d
        v = ((b[:, 0] - a[:, 0]) * (y - a[:, 1]) - (x - a[:, 0]) * (b[:, 1] - a[:, 1])) / d
        # a line through an edge or a vertex hits each triangle there within rounding:
        # accept those (a double hit does not change the lowest or highest crossing)
        tol = 1e-9
        hit = (d != 0) & (u >= -tol) & (v >= -tol) & (u + v <= 1 + tol)
    if hit.sum() < 2:
        raise MeshError(f"{surface.name}: the vertical line through ({x:.2f}, {y:.2f}) mm "
                        "does not pass through the surface")
    z = a[hit, 2] + u[hit] * (b[hit, 2] - a[hit, 2]) + v[hit] * (c[hit, 2] - a[hit, 2])
    return float(z.max() - z.min())


@dataclass(frozen=True)
class BodyMeasures:
    """Measures of a vertebral body (or a disc) in its body frame.

    Attributes
    ----------
    volume_cm3 : enclosed volume, cm³
    width_mm, depth_mm : lateral and antero-posterior extent of the mid-height section, mm
    section_area_mm2 : area of the mid-height section (normal to the body axis), mm²
    central_height_mm : height along the body axis through the section's centre, mm
    anterior_height_mm, posterior_height_mm : the same at 40 % of the depth in front of and
        behind the centre, mm
    wedge_deg : sagittal wedge angle from those two heights (positive: taller anteriorly),
        deg: the angle between two planar endplates, 2 atan((h_a - h_p) / (2 * 0.8 depth)),
        since the body axis bisects them
    tilt_deg : angle between the body axis and the file's z axis, deg
    """

    volume_cm3: float
    width_mm: float
    depth_mm: float
    section_area_mm2: float
    central_height_mm: float
    anterior_height_mm: float
    posterior_height_mm: float
    wedge_deg: float
    tilt_deg: float


def extents(surface: Surface, frame_of: Surface) -> tuple[float, float, float]:
    """Lateral, antero-posterior and axial size (mm) of the bounding box of ``surface`` in the
    body frame of ``frame_of``: for a whole vertebra in its body's frame, the transverse-
    process span, the overall length and the height."""
    p = surface.points[np.unique(surface.triangles)] @ body_frame(frame_of).T
    return tuple(float(e) for e in np.ptp(p, axis=0))


def body_measures(surface: Surface) -> BodyMeasures:
    """:class:`BodyMeasures` of a vertebral body's (or a disc's) closed surface, in its body
    frame."""
    R = body_frame(surface)
    s = surface.transformed(R, surface.centroid)
    area, lo, hi = cross_section(s, 0.0)
    xc, yc = 0.5 * (lo + hi)
    depth = float(hi[1] - lo[1])
    h = {f: vertical_chord(s, xc, yc + f * depth) for f in (-0.4, 0.0, 0.4)}
    return BodyMeasures(
        volume_cm3=s.volume_mm3 / 1000.0, width_mm=float(hi[0] - lo[0]), depth_mm=depth,
        section_area_mm2=area, central_height_mm=h[0.0], anterior_height_mm=h[0.4],
        posterior_height_mm=h[-0.4],
        wedge_deg=math.degrees(2.0 * math.atan2(h[0.4] - h[-0.4], 1.6 * depth)),
        tilt_deg=math.degrees(math.acos(min(1.0, abs(R[2, 2])))))


@dataclass(frozen=True)
class DiscMeasures:
    """Measures of an intervertebral disc.

    Attributes
    ----------
    body : BodyMeasures
        The disc measured like a body (its axis from its cranial and caudal faces).
    mean_height_mm : volume over mid-height section area, mm
    nucleus_volume_fraction : nucleus volume over disc volume (NaN when not given)
    """

    body: BodyMeasures
    mean_height_mm: float
    nucleus_volume_fraction: float


def disc_measures(disc: Surface, nucleus: Surface | None = None) -> DiscMeasures:
    """:class:`DiscMeasures` of a disc surface (and its nucleus, when given)."""
    b = body_measures(disc)
    frac = nucleus.volume_mm3 / disc.volume_mm3 if nucleus is not None else math.nan
    return DiscMeasures(b, 1000.0 * b.volume_cm3 / b.section_area_mm2, frac)


def segment_surfaces(geometry: SegmentGeometry) -> dict[str, Surface]:
    """The measurable surfaces of a generated segment (``spinesim.geometry.lumbar_segment``):
    ``"<L> body"`` (cortical shell, cancellous core and endplates of vertebra L), ``"<L>"``
    (the whole vertebra with its posterior elements), and per intact joint ``"<U>-<L> disc"``
    (annulus and nucleus) and ``"<U>-<L> nucleus"``."""
    mesh = geometry.mesh
    if len(mesh.solid_blocks) != 1:
        raise MeshError("segment_surfaces needs the generator's single hexahedron block")
    block = mesh.solid_blocks[0]
    tag = {name: t for t, name in mesh.region_names.items()}
    body = np.isin(block.region, [tag[r] for r in ("cortical", "cancellous", "endplate")])
    out: dict[str, Surface] = {}
    for i, level in enumerate(geometry.levels):
        mine = geometry.cell_vertebra == i
        out[f"{level} body"] = surface_of_cells(mesh.points, block.cells[mine & body],
                                                name=f"{level} body")
        out[level] = surface_of_cells(mesh.points, block.cells[mine], name=level)
    if "annulus" in tag:
        # a disc's cells lie between its two bodies: split the joints by height along the spine
        disc = np.flatnonzero(np.isin(block.region, [tag["annulus"], tag.get("nucleus", -1)]))
        centre = mesh.points[block.cells[disc]].mean(axis=1)
        body_z = [out[f"{lv} body"].centroid for lv in geometry.levels]
        for upper, lower, zu, zl in zip(geometry.levels, geometry.levels[1:], body_z,
                                        body_z[1:]):
            axis = (zu - zl) / np.linalg.norm(zu - zl)
            t = (centre - zl) @ axis / np.linalg.norm(zu - zl)
            cells = disc[(t > 0) & (t < 1)]
            name = f"{upper}-{lower}"
            out[f"{name} disc"] = surface_of_cells(mesh.points, block.cells[cells],
                                                   name=f"{name} disc")
            nucleus = cells[block.region[cells] == tag.get("nucleus", -1)]
            if len(nucleus):
                out[f"{name} nucleus"] = surface_of_cells(mesh.points, block.cells[nucleus],
                                                          name=f"{name} nucleus")
    return out
