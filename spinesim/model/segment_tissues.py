"""Soft tissue of a generated motion segment: ligament insertions, annulus fibres, facet contact.

The lumbar generator (:mod:`spinesim.geometry.lumbar`) meshes bones and disc; this module finds
the insertion nodes of the seven ligaments on that mesh and turns them, the annulus fibres and
the facet joints into one-sided spring sets (:mod:`spinesim.fem.springs`), using the cited
values of :mod:`spinesim.model.soft_tissue`.

Insertions are picked geometrically in each vertebra's local frame (x left, y anterior, z
cranial, origin at the body centre) — a modelling choice that approximates the anatomical
insertion areas on the simplified geometry:

* ALL / PLL: the anterior / posterior third of the endplate rims (PLL narrower: the middle
  half of the width), upper vertebra's inferior rim to the lower one's superior rim;
* LF: the laminae (|x| < half the canal width, within 3 mm of the canal's posterior wall),
  inferior edge of the upper to superior edge of the lower;
* ISL: the facing inferior / superior faces of the spinous processes (midline, |x| < 4 mm);
* SSL: the posterior-most 3 mm of the spinous processes;
* ITL: the lateral-most 3 mm of the transverse processes, per side;
* CL: the facet articular surfaces, each node to its nearest node across the joint.

Each node of the smaller insertion set is joined to its nearest node of the other set; the
ligament's stiffness is split over these parallel springs. Annulus fibres run along the
diagonals of the annulus elements' outer (radial) faces — the rebar layout of the Shirazi-Adl
type models whose fibre areas the table cites — spanning two element widths per height, and
the mean angle is reported by :func:`annulus_fibres`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from spinesim.errors import MeshError
from spinesim.geometry import lamina_front_y
from spinesim.fem.springs import SpringSet
from spinesim.model.soft_tissue import (
    annulus_fibre_springs,
    contact_penalty,
    facet_contact_springs,
    ligament,
    ligament_springs,
)

if TYPE_CHECKING:
    from spinesim.geometry.segment import SegmentGeometry

log = logging.getLogger(__name__)

__all__ = ["LIGAMENT_NAMES", "annulus_fibres", "facet_contacts", "ligament_insertions",
           "segment_springs"]

LIGAMENT_NAMES = ("ALL", "PLL", "LF", "ISL", "SSL", "ITL", "CL")
# hexahedron faces (meshio node order), outward
_HEX_FACES = np.array([[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6],
                       [3, 0, 4, 7]])


def _local(geometry, level: str, nodes: np.ndarray) -> np.ndarray:
    F = geometry.frames[level]
    return (geometry.mesh.points[nodes] - F[:3, 3]) @ F[:3, :3]


def _nodes_of(geometry, level: str, region: str) -> np.ndarray:
    mesh = geometry.mesh
    i = geometry.levels.index(level)
    cells = mesh.solid_blocks[0].cells
    sel = (geometry.cell_vertebra == i) & (mesh.solid_regions == mesh.region_id(region))
    return np.unique(cells[sel])


def _pair_nearest(a: np.ndarray, b: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Each node of the smaller set joined to its nearest node of the other, (n, 2) (a, b)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((0, 2), np.int64)
    if len(a) <= len(b):
        _, j = cKDTree(points[b]).query(points[a])
        pairs = np.column_stack([a, b[j]])
    else:
        _, j = cKDTree(points[a]).query(points[b])
        pairs = np.column_stack([a[j], b])
    pairs = np.unique(pairs, axis=0)
    return pairs[pairs[:, 0] != pairs[:, 1]]


def _rim(geometry, level: str, which: str) -> tuple[np.ndarray, np.ndarray]:
    nodes = geometry.mesh.node_sets[f"{level}_{which}_endplate_rim"]
    return nodes, _local(geometry, level, nodes)


def ligament_insertions(geometry: SegmentGeometry, upper: str, lower: str
                        ) -> dict[str, np.ndarray]:
    """Insertion node pairs (n, 2) (upper node, lower node) of the seven ligaments between two
    adjacent vertebrae of a generated segment (see the module notes)."""
    pts = geometry.mesh.points
    out: dict[str, np.ndarray] = {}
    up_rim, up_loc = _rim(geometry, upper, "inferior")
    lo_rim, lo_loc = _rim(geometry, lower, "superior")
    for name, side, width in (("ALL", 1.0, 1 / 3), ("PLL", -1.0, 1 / 4)):
        sel = []
        for loc in (up_loc, lo_loc):
            y, x = side * loc[:, 1], loc[:, 0]
            sel.append((y > y.max() * 2 / 3) & (np.abs(x) < width * np.abs(x).max()))
        out[name] = _pair_nearest(up_rim[sel[0]], lo_rim[sel[1]], pts)
    post = {}
    for lvl in (upper, lower):
        nodes = _nodes_of(geometry, lvl, "posterior")
        post[lvl] = (nodes, _local(geometry, lvl, nodes))
    d_up, d_lo = geometry.dimensions[upper], geometry.dimensions[lower]

    def lamina(lvl, dims):
        nodes, loc = post[lvl]
        y_wall = lamina_front_y(dims, loc[:, 0])
        m = (np.abs(loc[:, 0]) < dims.canal_width_mm / 2) & (np.abs(loc[:, 1] - y_wall) < 3.0)
        return nodes[m], loc[m]

    def spinous(lvl, dims):
        nodes, loc = post[lvl]
        y_wall = -(dims.endplate_depth_mm / 2 + dims.canal_depth_mm)
        m = (np.abs(loc[:, 0]) < 4.0) & (loc[:, 1] < y_wall - 4.0)
        return nodes[m], loc[m]

    def edge(nodes, loc, which):
        z = loc[:, 2]
        return nodes[z < z.min() + 1.5] if which == "inferior" else nodes[z > z.max() - 1.5]

    la_u, la_lu = lamina(upper, d_up)
    la_l, la_ll = lamina(lower, d_lo)
    out["LF"] = _pair_nearest(edge(la_u, la_lu, "inferior"), edge(la_l, la_ll, "superior"), pts)
    sp_u, sp_lu = spinous(upper, d_up)
    sp_l, sp_ll = spinous(lower, d_lo)
    out["ISL"] = _pair_nearest(edge(sp_u, sp_lu, "inferior"), edge(sp_l, sp_ll, "superior"), pts)
    tip_u = sp_u[sp_lu[:, 1] < sp_lu[:, 1].min() + 3.0] if len(sp_u) else sp_u
    tip_l = sp_l[sp_ll[:, 1] < sp_ll[:, 1].min() + 3.0] if len(sp_l) else sp_l
    out["SSL"] = _pair_nearest(tip_u, tip_l, pts)
    itl = []
    for sign in (1.0, -1.0):
        ends = []
        for lvl in (upper, lower):
            nodes, loc = post[lvl]
            x = sign * loc[:, 0]
            ends.append(nodes[x > x.max() - 3.0])
        itl.append(_pair_nearest(ends[0], ends[1], pts))
    out["ITL"] = np.vstack(itl)
    cl = [_pair_nearest(f.inferior_nodes, f.superior_nodes, pts) for f in geometry.facet_pairs
          if (f.upper, f.lower) == (upper, lower)]
    out["CL"] = np.vstack(cl) if cl else np.zeros((0, 2), np.int64)
    for name, pairs in out.items():
        if len(pairs) == 0:
            raise MeshError(f"ligament {name} between {upper} and {lower}: no insertion nodes "
                            "found on the generated geometry")
    return out


#: Perpendicular spacing (mm) of the fibre bundles whose cross-section the fibre table gives
#: ([MSD13] tabulates the area of one rebar per annulus element of its model, not the
#: spacing). Modelling choice: one bundle per 2.5 mm, the element size of the default mesh
#: (resolution 1). Fibre content per lamella area is then independent of the mesh.
FIBRE_SPACING_MM = 2.5
#: Fibre angle to the transverse plane aimed at, degrees (+-30°; literature 24-30°: Gruber et
#: al., Front Bioeng Biotechnol 12:1391957, 2024, doi 10.3389/fbioe.2024.1391957).
TARGET_FIBRE_ANGLE_DEG = 30.0


def _outer_faces(geometry, mine: np.ndarray, centre: np.ndarray, axis: np.ndarray):
    """Outer (radial) face of each annulus cell as (bottom0, bottom1, top1, top0) node ids,
    bottom0 -> bottom1 running in the positive circumferential sense about ``axis``."""
    mesh = geometry.mesh
    pts = mesh.points
    cells = mesh.solid_blocks[0].cells
    faces = cells[mine][:, _HEX_FACES]  # (n, 6, 4)
    cc = pts[cells[mine]].mean(axis=1)  # cell centres
    rad = cc - centre
    rad -= (rad @ axis)[:, None] * axis
    rad /= np.linalg.norm(rad, axis=1)[:, None]
    # the outer face: the direction from the cell centre to its centre is the most radial one
    # (a face's distance from the axis would pick side faces at the ellipse's ends, an
    # unnormalised offset the top or bottom face of a thin lamella)
    off = pts[faces].mean(axis=2) - cc[:, None]
    off /= np.linalg.norm(off, axis=2)[..., None]
    out = np.einsum("ifj,ij->if", off, rad)
    f = faces[np.arange(len(mine)), np.argmax(out, axis=1)]  # (n, 4), a cycle
    h = (pts[f] - centre) @ axis  # (n, 4)
    # rotate each cycle so that its first edge is the lower circumferential one
    edge_h = h + np.roll(h, -1, axis=1)
    start = np.argmin(edge_h, axis=1)
    idx = (start[:, None] + np.arange(4)) % 4
    f = np.take_along_axis(f, idx, axis=1)
    # the cycle is b0, b1, t1, t0 or b0, b1 reversed; make b0 -> b1 positive about the axis
    p0, p1 = pts[f[:, 0]] - centre, pts[f[:, 1]] - centre
    positive = np.einsum("ij,ij->i", np.cross(p0, p1), np.broadcast_to(axis, p0.shape)) > 0
    f[~positive] = f[~positive][:, [1, 0, 3, 2]]
    return f


def annulus_fibres(geometry: SegmentGeometry, *, prestrain: float = 0.0,
                   spacing_mm: float = FIBRE_SPACING_MM,
                   target_deg: float | None = None) -> tuple[list[SpringSet], float]:
    """Tension-only fibre springs in the annulus lamellae, two crossing families.

    On each lamella's outer surface a fibre runs from a bottom corner of an element face to the
    opposite top corner of the face ``m - 1`` elements further round (``m`` element widths for
    one height), ``m`` chosen per disc so that the mean angle to the transverse plane is closest
    to ``target_deg`` (None: :data:`TARGET_FIBRE_ANGLE_DEG`; the angles a mesh offers jump
    with ``m``, e.g. 35.8 and about 21 degrees on the default L4-L5). Each spring stands for
    ``A_face / (L * spacing_mm)`` bundles of the tabulated cross-section, so the fibre content
    per lamella area does not depend on the mesh.

    Returns the spring sets (one per disc) and the mean fibre angle to the transverse plane
    (degrees).
    """
    mesh = geometry.mesh
    if "annulus" not in mesh.region_names.values():
        return [], float("nan")
    target_deg = TARGET_FIBRE_ANGLE_DEG if target_deg is None else float(target_deg)
    cells = mesh.solid_blocks[0].cells
    ann = np.flatnonzero(mesh.solid_regions == mesh.region_id("annulus"))
    pts = mesh.points
    sets, angles = [], []
    for k in range(len(geometry.levels) - 1):
        up, lo = geometry.levels[k], geometry.levels[k + 1]
        Fu, Fl = geometry.frames[up], geometry.frames[lo]
        axis = Fu[:3, 2] + Fl[:3, 2]
        axis /= np.linalg.norm(axis)
        centre = 0.5 * (Fu[:3, 3] + Fl[:3, 3])
        cc = pts[cells[ann]].mean(axis=1)
        span = 0.5 * abs((Fu[:3, 3] - Fl[:3, 3]) @ axis)
        mine = ann[np.abs((cc - centre) @ axis) < span]
        f = _outer_faces(geometry, mine, centre, axis)
        # neighbour in the positive sense: the face whose (b0, t0) is this face's (b1, t1)
        n_nodes = np.int64(mesh.n_nodes)
        key_left = f[:, 0] * n_nodes + f[:, 3]
        order = np.argsort(key_left)
        key_right = f[:, 1] * n_nodes + f[:, 2]
        pos = np.clip(np.searchsorted(key_left[order], key_right), 0, len(f) - 1)
        has = key_left[order][pos] == key_right
        nb = np.where(has, order[pos], -1)
        # span m element widths per height, m chosen so the mean angle is closest to 30°
        q = pts[f]
        face_area = 0.5 * np.linalg.norm(np.cross(q[:, 2] - q[:, 0], q[:, 3] - q[:, 1]), axis=1)
        best = None
        reach = np.arange(len(f))
        spanned = face_area.copy()      # area of the faces F ... F + m - 1 (0 past the end)
        for m in range(1, 5):  # the fibre spans m faces: F ... F + m - 1
            if m > 1:
                reach = np.where(reach >= 0, nb[np.maximum(reach, 0)], -1)
                spanned = spanned + np.where(reach >= 0, face_area[np.maximum(reach, 0)], 0.0)
            a = np.flatnonzero(reach >= 0)
            cand = np.vstack([np.column_stack([f[a, 0], f[reach[a], 2]]),
                              np.column_stack([f[a, 3], f[reach[a], 1]])])
            dd = pts[cand[:, 1]] - pts[cand[:, 0]]
            ang = np.degrees(np.arcsin(np.abs(dd @ axis) / np.linalg.norm(dd, axis=1)))
            if best is None or abs(ang.mean() - target_deg) < abs(best[2].mean() - target_deg):
                best = (a, cand, ang, spanned[a] / m)
        a, pairs, _, area = best
        d = pts[pairs[:, 1]] - pts[pairs[:, 0]]
        L = np.linalg.norm(d, axis=1)
        # each spring stands for the mean area of the faces it crosses: a fibre and its
        # mirror image (the other family) cross the same faces, so they get the same share
        per = np.concatenate([area, area]) / (L * spacing_mm)
        layer = np.concatenate([geometry.annulus_layer[mine[a]]] * 2)
        angles.append(np.degrees(np.arcsin(np.abs(d @ axis) / L)))
        sets.append(annulus_fibre_springs(f"annulus fibres {up}-{lo}", pts, pairs, layer,
                                          prestrain=prestrain, fibres_per_spring=per))
    return sets, float(np.mean(np.concatenate(angles)))


def facet_contacts(geometry: SegmentGeometry, *, penalty_factor: float = 100.0,
                   E_bone_mpa: float = 3_500.0) -> list[SpringSet]:
    """Compression-only contact springs across each facet joint's initial gap.

    The penalty stiffness (N/mm) is ``penalty_factor * E A / h`` (``E_bone_mpa``, MPa) of the
    articular-process bone under
    each node (E of the posterior elements, tributary area = facet area / node count, h = the
    element size across the joint), see :func:`spinesim.model.soft_tissue.contact_penalty`.
    """
    pts = geometry.mesh.points
    out = []
    for f in geometry.facet_pairs:
        pairs = _pair_nearest(f.inferior_nodes, f.superior_nodes, pts)
        n = f.inferior_normal / np.linalg.norm(f.inferior_normal)
        area = f.height_mm * float(np.ptp(pts[f.inferior_nodes] @ np.cross(n, [0, 0, 1.0])))
        h = max(f.gap_mm, 1.0)
        k = contact_penalty(E_bone_mpa, max(area, 1.0) / len(pairs), h, penalty_factor)
        out.append(facet_contact_springs(f"facet {f.upper}-{f.lower} {f.side}", pairs, n,
                                         gap_mm=f.gap_mm, stiffness_n_per_mm=k))
    return out


def segment_springs(geometry: SegmentGeometry, *, ligaments: bool = True, fibres: bool = True,
                    facets: bool = True, prestrain: float = 0.0,
                    fibre_target_deg: float | None = None
                    ) -> tuple[list[SpringSet], dict]:
    """All spring sets of a segment and a summary (insertion counts, mean fibre angle).

    Ligaments are linear tension-only springs with the measured whole-ligament stiffness of
    Pintar et al. (J Biomech 25:1351, 1992) where it exists (ALL, PLL, LF, CL, ISL, SSL) and the
    model stiffness of PMC7591979 for the ITL, split over the insertion pairs. Whole-ligament
    stiffnesses do not depend on the lengths between the insertion nodes of this simplified
    geometry (the capsular pairs, for one, are only the facet gap apart), which a
    modulus-area-length law would.

    ``prestrain`` (ligaments and fibres, -) is 0 by default: the unloaded mesh is the neutral
    position with slack-free, untensioned soft tissue (a modelling choice; the reference gives
    no pre-strain). ``fibre_target_deg``: the fibre angle the layout aims at
    (:func:`annulus_fibres`).
    """
    pts = geometry.mesh.points
    sets: list[SpringSet] = []
    info: dict = {"ligament_springs": {}}
    if ligaments:
        for k in range(len(geometry.levels) - 1):
            up, lo = geometry.levels[k], geometry.levels[k + 1]
            for name, pairs in ligament_insertions(geometry, up, lo).items():
                law = "k_measured" if ligament(name).k_measured_n_per_mm is not None \
                    else "k_model"
                sets.append(ligament_springs(name, pts, pairs, prestrain=prestrain, law=law,
                                             name=f"{name} {up}-{lo}"))
                info["ligament_law"] = info.get("ligament_law", {}) | {name: law}
                info["ligament_springs"][f"{name} {up}-{lo}"] = len(pairs)
    if fibres:
        fs, angle = annulus_fibres(geometry, prestrain=prestrain, target_deg=fibre_target_deg)
        sets += fs
        info["fibre_angle_deg"] = angle
        info["fibre_springs"] = int(sum(len(s.nodes) for s in fs))
    if facets:
        cs = facet_contacts(geometry)
        sets += cs
        info["facet_springs"] = int(sum(len(s.nodes) for s in cs))
    return sets, info
