"""Parametric hex8 mesh of a lumbar motion segment (two or more adjacent vertebrae).

Vertebral bodies are elliptical O-grids (structured hexahedra) with a cortical shell, a
cancellous core and bony endplates whose surfaces carry the endplate concavity; discs (annulus
in radial layers, nucleus) or, for a fusion, a box cage with a graft window share the endplate
nodes; the posterior elements are simplified blocks (pedicles, laminae, articular pillars,
spinous and transverse processes, articular processes) that share nodes with the body: the
lamina sits ``canal_depth_mm`` behind the body at the midline and slopes forward to the
articular pillars, which sit where the screw trajectory runs ``pedicle_path_length_mm``
through the arch (``_posterior.pillar_offset_mm``; by default the measured pedicle chord
length, entry to anterior cortex, less the body's share). The whole mesh is conforming, so no
tie constraints are needed. Lengths in mm, angles in degrees; axes x to the patient's left,
y anterior, z cranial; the lowest vertebral body is centred at the origin.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from spinesim.errors import MeshError
from spinesim.geometry._ogrid import (
    Frame,
    NodeStore,
    hexes_from_grid,
    loft,
    ogrid_coords,
    ogrid_topology,
    orient_hexes,
    rot_x,
    tan_spacing,
    window_spacing,
)
from spinesim.geometry._posterior import (
    build_arch,
    build_facet,
    ellipse_exit,
    joint_rotation,
    wall_distance,
)
from spinesim.geometry.dimensions import LEVELS, level_dimensions
from spinesim.geometry.segment import (
    CageSpec,
    FacetPair,
    ScrewTrajectory,
    SegmentGeometry,
)
from spinesim.mesh.mesh import CellBlock, Mesh

logger = logging.getLogger(__name__)

#: Region tags of the generated meshes (a name is present only when it has cells).
REGION_TAGS: dict[str, int] = {"cortical": 1, "cancellous": 2, "endplate": 3, "posterior": 4,
                               "annulus": 5, "nucleus": 6, "cage": 7, "graft": 8}
#: Cortical shell thickness, mm: 0.4 mm [IJSS5781: Int J Spine Surg, material table of a
#: Goel-group lumbar FE model, ijssurgery.com item 5781] - found in source, confidence M; no
#: sourced range.
CORTICAL_THICKNESS_MM = 0.4
#: Gap (mm) a posterolateral graft keeps lateral of the articular processes: a modelling
#: choice (the graft is laid on the transverse processes, not on the facet joints).
_GRAFT_CLEARANCE_MM = 0.5
#: Bony endplate thickness, mm: modelled "as a 0.25 mm shell" [IJSS5781] - found in source.
ENDPLATE_THICKNESS_MM = 0.25
_CORE_FRACTION = 0.35      # O-grid core half-size over the semi-axes (intact; modelling choice)


def parse_levels(levels: str | Sequence[str], *, given_as: str | None = None
                 ) -> tuple[str, ...]:
    """``"L4-L5"`` or ``("L3", "L4", "L5")`` -> adjacent vertebrae, cranial to caudal.

    ``given_as`` names the value in a MeshError (default ``levels='L4-L5'``), e.g. as the
    command-line flag the user typed (``--levels L4-L5``).
    """
    where = f"levels={levels!r}" if given_as is None else given_as
    if isinstance(levels, str):
        parts = [p.strip().upper() for p in levels.replace("/", "-").split("-")]
        if len(parts) != 2:
            raise MeshError(f"{where}: write two vertebrae such as 'L4-L5'")
    else:
        parts = [str(p).strip().upper() for p in levels]
    for p in parts:
        if p not in LEVELS:
            raise MeshError(f"{where}: unknown vertebra {p!r}; allowed: {', '.join(LEVELS)}")
    i0, i1 = LEVELS.index(parts[0]), LEVELS.index(parts[-1])
    names = LEVELS[i0:i1 + 1]
    if i1 <= i0 or (not isinstance(levels, str) and tuple(parts) != names):
        raise MeshError(f"{where}: need two or more adjacent vertebrae, cranial first "
                        "(e.g. 'L4-L5', 'L3-L5')")
    return names


def _body_planes(level: str, hb: float, t_ep: float, ph: float, h: float
                 ) -> tuple[np.ndarray, tuple[int, int]]:
    """Local z of a body's node planes (mm, inferior to superior: outer endplate faces, then
    the interior planes) and the indices of the two planes that bound the pedicles.

    The pedicle (height ``ph``, centred at ``min(hb/4, hb/2 - t_ep - ph/2)`` above the body
    centre) starts and ends on planes, so the meshed pedicles and arch are ``ph`` high at
    every resolution; the spans below, between (at least 2 elements) and above are divided
    into elements of at most ``h``."""
    zp = min(hb / 4, hb / 2 - t_ep - ph / 2)
    lo, hi = zp - ph / 2, zp + ph / 2
    if lo < -hb / 2 + t_ep:
        raise MeshError(f"{level}: pedicle_height_mm={ph} does not fit the body height {hb} mm")
    z = [np.array([-hb / 2, -hb / 2 + t_ep])]
    k = [0, 0]
    for j, (a, b, least) in enumerate(((-hb / 2 + t_ep, lo, 1), (lo, hi, 2),
                                       (hi, hb / 2 - t_ep, 1))):
        if b - a > 1e-9:
            n = max(least, int(np.ceil((b - a) / h - 1e-9)))
            z.append(np.linspace(a, b, n + 1)[1:])
        if j < 2:
            k[j] = sum(len(p) for p in z) - 1
    z.append(np.array([hb / 2]))
    return np.concatenate(z), (k[0], k[1])


def _wedge_share(z: float, band: np.ndarray, hb: float) -> float:
    """Share of a wedged body's endplate turn taken by its plane at local height ``z``: -1 at
    the inferior face, +1 at the superior one, constant over the pedicle band ``band`` (the
    value a linear share would have at its top) so that the pedicles keep their height, and
    linear between."""
    top = 2.0 * band[1] / hb
    return float(np.interp(z, [-hb / 2, band[0], band[1], hb / 2], [-1.0, top, top, 1.0]))


def _transverse_face(arch, side: int, iz: int, clear_mm: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Node ids and coordinates (n_x, n_y[, 3]) of one transverse process's face at arch node
    plane ``iz`` (0: bottom, -1: top): its node columns lateral of ``clear_mm`` (side * x, mm;
    x is lateral in every vertebra's frame), running outwards."""
    ix = np.arange(arch.ids.shape[0]) if side > 0 else np.arange(arch.ids.shape[0] - 1, -1, -1)
    sel = np.ix_(ix, arch.lamina_iy)
    ids, xyz = arch.ids[sel][:, :, iz], arch.xyz[sel][:, :, iz]
    keep = (side * xyz[:, :, 0]).min(axis=1) > clear_mm
    return ids[keep], xyz[keep]


def _posterolateral_grafts(store: NodeStore, upper, lower, h: float,
                           clear_mm: dict[int, float]
                           ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Hex cells of a posterolateral graft on each side between two vertebrae, and the node
    ids of the faces it shares with the upper vertebra's transverse processes (their bottom
    faces) and with the lower one's (their top faces).

    Each graft is lofted from the lower process's top face to the upper one's bottom face,
    sharing their nodes (the mesh stays conforming), in layers of about ``h`` mm. It starts
    lateral of ``clear_mm[side]`` (side * x, mm: the articular processes of the joint between
    the two, so that it does not overlap them). Where the two processes then have different
    node counts along their length or across the lamina, the graft covers the smaller grid
    from its medial, posterior corner (the larger process's tip or anterior rows stay
    uncovered)."""
    cells, tops, bottoms = [], [], []
    for side in (+1, -1):
        up_ids, up_xyz = _transverse_face(upper, side, 0, clear_mm[side])
        lo_ids, lo_xyz = _transverse_face(lower, side, -1, clear_mm[side])
        m = tuple(min(a, b) for a, b in zip(up_ids.shape, lo_ids.shape))
        if min(m) < 2:
            raise MeshError("posterolateral graft: the transverse processes leave less than "
                            "one element lateral of the articular processes; increase "
                            "transverse_process_length_mm or the resolution")
        up_ids, up_xyz = up_ids[:m[0], :m[1]], up_xyz[:m[0], :m[1]]
        lo_ids, lo_xyz = lo_ids[:m[0], :m[1]], lo_xyz[:m[0], :m[1]]
        gap = float(np.linalg.norm(up_xyz.mean(axis=(0, 1)) - lo_xyz.mean(axis=(0, 1))))
        ids = loft(store, lo_ids, up_ids, lo_xyz, up_xyz, max(2, math.ceil(gap / h)))
        cells.append(hexes_from_grid(ids))
        tops.append(up_ids.ravel())
        bottoms.append(lo_ids.ravel())
    return np.concatenate(cells), (np.concatenate(tops), np.concatenate(bottoms))


def lumbar_segment(levels: str | Sequence[str] = "L4-L5", *, construct: str = "intact",
                   resolution: float = 1.0, cage: CageSpec | None = None,
                   dimensions: Mapping[str, Mapping[str, float]] | None = None,
                   cortical_thickness_mm: float = CORTICAL_THICKNESS_MM,
                   endplate_thickness_mm: float = ENDPLATE_THICKNESS_MM,
                   annulus_layers: int = 8, residual_annulus: bool = False,
                   facet_gap_mm: float = 0.5, facet_height_mm: float = 6.0,
                   facet_width_mm: float = 10.0, facet_thickness_mm: float = 4.0,
                   screw_levels: Sequence[str] | None = None, screw_diameter_mm: float = 6.0,
                   screw_length_mm: float = 45.0) -> SegmentGeometry:
    """Build the hex8 mesh of a lumbar motion segment with lordosis.

    Parameters
    ----------
    levels : str or sequence of str
        Adjacent vertebrae, e.g. ``"L4-L5"`` or ``"L3-L5"`` (``S1`` allowed as the lowest).
    construct : {"intact", "fused", "posterolateral"}
        Intact discs; discectomy with a cage and graft at every disc; or intact discs with a
        posterolateral graft on each side of every disc: a block lofted between the upper
        vertebra's transverse process (its face towards the disc) and the lower one's
        (:func:`_posterolateral_grafts`).
    resolution : float
        Scales element counts (1: about 2.5 mm elements; 2: twice as fine), within [0.3, 4].
    cage : CageSpec, optional
        The cage of a fusion (default ``CageSpec()``).
    dimensions : mapping, optional
        Overrides per vertebra, e.g. ``{"L4": {"endplate_width_mm": 50}}``; see
        :func:`~spinesim.geometry.dimensions.level_dimensions`.
    cortical_thickness_mm, endplate_thickness_mm : float
        Shell thicknesses (defaults 0.4 and 0.25 mm [IJSS5781]).
    annulus_layers : int
        Annulus lamellae, numbered 1 (outermost) to ``annulus_layers`` in
        ``SegmentGeometry.annulus_layer``; default 8, the layer count of the graded fibre table
        of BMC Musculoskelet Disord 14:220 (2013), PMC3726285, Table 1.
    residual_annulus : bool
        Keep the outer annulus around the cage of a fusion.
    facet_gap_mm, facet_height_mm, facet_width_mm, facet_thickness_mm : float
        Initial facet gap and articular process size: modelling choices, no sourced values.
        The facet height is reduced (logged at INFO; see ``FacetPair.height_mm``) where the
        articular pillars leave less room, as at L5-S1.
    screw_levels : sequence of str, optional
        Instrumented vertebrae (bilateral); default all vertebrae of a fusion, none if intact.
    screw_diameter_mm, screw_length_mm : float
        Screw size; default 6.0 x 45 mm, a lumbar pedicle screw used in construct tests
        [Nguyen et al., Proc Inst Mech Eng H 225:194 (2011); Shah et al., Orthop Rev (2018)].

    Returns
    -------
    SegmentGeometry
    """
    t_start = time.perf_counter()
    names = parse_levels(levels)
    if construct not in ("intact", "fused", "posterolateral"):
        raise MeshError(f"construct={construct!r}; allowed: 'intact', 'fused', "
                        "'posterolateral'")
    if not (0.3 <= float(resolution) <= 4.0):
        raise MeshError(f"resolution={resolution!r} is outside [0.3, 4]")
    if not (isinstance(annulus_layers, (int, np.integer)) and 1 <= annulus_layers <= 16):
        raise MeshError(f"annulus_layers={annulus_layers!r} must be an integer in [1, 16]")
    for key, v, lo, hi in (("cortical_thickness_mm", cortical_thickness_mm, 0.1, 3.0),
                           ("endplate_thickness_mm", endplate_thickness_mm, 0.1, 3.0),
                           ("facet_gap_mm", facet_gap_mm, 0.0, 5.0),
                           ("facet_height_mm", facet_height_mm, 2.0, 25.0),
                           ("facet_width_mm", facet_width_mm, 3.0, 30.0),
                           ("facet_thickness_mm", facet_thickness_mm, 1.0, 15.0),
                           ("screw_diameter_mm", screw_diameter_mm, 3.0, 10.0),
                           ("screw_length_mm", screw_length_mm, 20.0, 80.0)):
        if not (np.isfinite(v) and lo <= v <= hi):
            raise MeshError(f"{key}={v!r} is outside the allowed range [{lo}, {hi}] mm")
    fused = construct == "fused"
    if fused and cage is None:
        cage = CageSpec()
    over = {k.upper(): v for k, v in (dimensions or {}).items()}
    unknown = sorted(set(over) - set(names))
    if unknown:
        raise MeshError(f"dimensions given for {unknown}, which are not in levels {list(names)}")
    dims = {n: level_dimensions(n, **over.get(n, {})) for n in names}
    if screw_levels is None:
        screw_levels = names if construct != "intact" else ()
    screw_levels = tuple(str(s).upper() for s in screw_levels)
    for s in screw_levels:
        if s not in names:
            raise MeshError(f"screw level {s!r} is not in levels {list(names)}")

    r = float(resolution)
    h = 2.5 / r                                         # target element size, mm
    n_in, n_out = max(2, round(3 * r)), int(annulus_layers) * max(1, round(r))
    R = n_in + n_out + 1
    nv = len(names)
    ab = [(0.5 * dims[n].endplate_width_mm, 0.5 * dims[n].endplate_depth_mm) for n in names]
    if fused:
        walls = (0.5 * (cage.width_mm - cage.window_width_mm),
                 0.5 * (cage.depth_mm - cage.window_depth_mm))
        # as many perimeter points as the intact O-grid (about 4 x 12 at resolution 1)
        hc = (2 * (cage.width_mm + cage.depth_mm)) / (4 * max(4, round(12 * r)))
        nw = [max(1, round(w / hc)) for w in walls]
        nwin = [max(2, round(cage.window_width_mm / hc)), max(2, round(cage.window_depth_mm / hc))]
        taus = (window_spacing(nw[0], nwin[0], cage.window_width_mm / cage.width_mm),
                window_spacing(nw[1], nwin[1], cage.window_depth_mm / cage.depth_mm))
        nx, ny = 2 * nw[0] + nwin[0], 2 * nw[1] + nwin[1]
        for n, (a, b) in zip(names, ab):
            if np.hypot(0.5 * cage.width_mm / a, 0.5 * cage.depth_mm / b) > 0.8:
                raise MeshError(f"cage {cage.width_mm} x {cage.depth_mm} mm (width x depth; "
                                f"scenario cage.width_mm, cage.depth_mm) does not fit the {n} "
                                f"endplate ({2 * a:.1f} x {2 * b:.1f} mm) with room for the "
                                "rim: the cage's corners must lie within 80 % of the endplate "
                                "ellipse")
    else:
        nx = ny = max(4, round(12 * r))
        taus = (tan_spacing(nx), tan_spacing(ny))
    topo = ogrid_topology(nx, ny, R)

    # ------------------------------------------------------------- discs and placement
    discs = []
    for j in range(nv - 1):
        d = dims[names[j]]
        height = cage.height_mm if fused and cage.height_mm is not None else d.disc_height_mm
        depth = ab[j][1] + ab[j + 1][1]
        # the upper vertebra turns by the disc wedge plus half of each body's wedge
        segmental = d.disc_lordosis_deg + 0.5 * (d.body_wedge_deg
                                                 + dims[names[j + 1]].body_wedge_deg)
        discs.append({"height": height, "wedge": d.disc_lordosis_deg, "segmental": segmental,
                      "rho": None if fused else d.nucleus_length_fraction,
                      "offset": 0.0 if fused else -d.nucleus_posterior_offset_fraction * depth})
        post = height - max(ab[j][1], ab[j + 1][1]) * np.tan(np.radians(d.disc_lordosis_deg))
        if post < 1.0:
            what = "cage height_mm" if fused and cage.height_mm is not None else "disc_height_mm"
            raise MeshError(f"{names[j]}-{names[j + 1]}: posterior disc height {post:.2f} mm < 1 mm"
                            f" ({what} = {height:g} mm too small for the disc lordosis, "
                            f"{discs[j]['wedge']:g} deg)")

    def grid(i: int, disc: dict) -> np.ndarray:
        a, b = ab[i]
        cx, cy = ((0.5 * cage.width_mm, 0.5 * cage.depth_mm) if fused
                  else (_CORE_FRACTION * a, _CORE_FRACTION * b))
        return ogrid_coords(topo, a, b, cx, cy, taus[0], taus[1], n_in, n_out,
                            cortical_thickness_mm, disc["rho"], disc["offset"])

    frames: list[Frame | None] = [None] * nv
    frames[-1] = Frame(np.eye(3), np.zeros(3))
    for j in range(nv - 2, -1, -1):
        lo, dj = frames[j + 1], discs[j]
        Ru = lo.R @ rot_x(np.radians(dj["segmental"]))
        t = (lo.t + lo.R @ [0, 0, 0.5 * dims[names[j + 1]].body_height_mm + dj["height"]]
             + Ru @ [0, 0, 0.5 * dims[names[j]].body_height_mm])
        frames[j] = Frame(Ru, t)

    # ------------------------------------------------------------------- bodies
    store = NodeStore()
    t_ep = float(endplate_thickness_mm)
    cells, region, vert, layer = [], [], [], []
    sets: dict[str, np.ndarray] = {}
    vplanes: list[list[np.ndarray]] = []         # global coords of each plane per vertebra
    vids: list[list[np.ndarray]] = []
    vzl, vbot = [], []
    pedicle_planes: dict[str, tuple[int, int]] = {}
    ring_q = topo.ring
    for i, n in enumerate(names):
        d, (a, b), hb = dims[n], ab[i], dims[n].body_height_mm
        xy_b = grid(i, discs[i] if i < nv - 1 else discs[i - 1])
        xy_t = grid(i, discs[i - 1] if i > 0 else discs[i])
        zl, pedicle_planes[n] = _body_planes(n, hb, t_ep, d.pedicle_height_mm, h)
        band = zl[list(pedicle_planes[n])]
        planes, ids = [], []
        for k, z in enumerate(zl):
            f = (z + hb / 2) / hb
            xy = (1 - f) * xy_b + f * xy_t
            bowl = 1 - np.minimum(np.hypot(xy[:, 0] / a, xy[:, 1] / b), 1.0) ** 2
            g = np.clip((z - zl[1]) / (zl[-2] - zl[1]), 0.0, 1.0)
            zz = z + bowl * ((1 - g) * d.inferior_concavity_mm - g * d.superior_concavity_mm)
            # a wedged body: the endplates turn by half the wedge each about the lateral axis
            # through the centre (anterior taller for a positive wedge); the planes of the
            # pedicle band move as one, so the pedicles keep their height
            zz = zz + _wedge_share(z, band, hb) * xy[:, 1] \
                * np.tan(0.5 * np.radians(d.body_wedge_deg))
            p = frames[i].apply(np.column_stack([xy, zz]))
            planes.append(p)
            ids.append(store.add(p))
        for k in range(len(zl) - 1):
            cells.append(np.concatenate([ids[k][topo.quads], ids[k + 1][topo.quads]], 1))
            ep = k in (0, len(zl) - 2)
            tag = np.where(ring_q == R - 1, REGION_TAGS["cortical"],
                           REGION_TAGS["endplate"] if ep else REGION_TAGS["cancellous"])
            region.append(tag)
            vert.append(np.full(len(tag), i))
            layer.append(np.zeros(len(tag), int))
        sets[f"{n}_inferior_endplate"], sets[f"{n}_superior_endplate"] = ids[0], ids[-1]
        sets[f"{n}_inferior_endplate_rim"] = ids[0][topo.outer]
        sets[f"{n}_superior_endplate_rim"] = ids[-1][topo.outer]
        vplanes.append(planes)
        vids.append(ids)
        vzl.append(zl)
        vbot.append(xy_b)
    sets["upper_endplate_top"] = vids[0][-1]
    sets["lower_endplate_bottom"] = vids[-1][0]

    # -------------------------------------------------------------------- discs
    o = np.maximum(R - 1 - ring_q, 1)
    k_rad = n_out // int(annulus_layers)
    ann_layer = np.where(ring_q >= n_in, (o - 1) // k_rad + 1, 0)
    if fused:
        ci, cj = topo.core_ij[:, 0], topo.core_ij[:, 1]
        window = ((ci >= nw[0]) & (ci < nw[0] + nwin[0]) & (cj >= nw[1]) & (cj < nw[1] + nwin[1]))
        tag_q = np.where(ring_q >= 0, np.where(ring_q >= n_in, REGION_TAGS["annulus"], 0),
                         np.where(window, REGION_TAGS["graft"], REGION_TAGS["cage"]))
        if not residual_annulus:
            tag_q = np.where(ring_q >= 0, 0, tag_q)
    else:
        tag_q = np.where(ring_q >= n_in, REGION_TAGS["annulus"], REGION_TAGS["nucleus"])
    keep = tag_q > 0
    for j, dj in enumerate(discs):
        bottom, top = vids[j + 1][-1], vids[j][0]
        pb, pt = vplanes[j + 1][-1], vplanes[j][0]
        ant = dj["height"] + max(ab[j][1], ab[j + 1][1]) * np.tan(np.radians(abs(dj["wedge"])))
        nd = max(2, int(np.ceil(ant / h)))
        tt = np.linspace(0, 1, nd + 1)[1:-1, None, None]
        ids = [bottom, *store.add((1 - tt) * pb[None] + tt * pt[None]), top]
        for k in range(nd):
            cells.append(np.concatenate([ids[k][topo.quads], ids[k + 1][topo.quads]], 1)[keep])
            region.append(tag_q[keep])
            vert.append(np.full(int(keep.sum()), -1))
            layer.append(np.where(tag_q == REGION_TAGS["annulus"], ann_layer, 0)[keep])

    # ------------------------------------------------------- posterior elements
    arches = []
    for i, n in enumerate(names):
        d, zl = dims[n], vzl[i]
        k0, k1 = pedicle_planes[n]
        arch = build_arch(store, frame=frames[i], a=ab[i][0], b=ab[i][1], dims=d, zl=zl,
                          k_range=(k0, k1), outer_xyz=[p[topo.outer] for p in vplanes[i]],
                          outer_ids=[q[topo.outer] for q in vids[i]],
                          outer_local=vbot[i][topo.outer], h=h)
        arches.append(arch)
        cells.append(arch.cells)
        region.append(np.full(len(arch.cells), REGION_TAGS["posterior"]))
        vert.append(np.full(len(arch.cells), i))
        layer.append(np.zeros(len(arch.cells), int))

    pairs = []
    for j, dj in enumerate(discs):
        up, lo = names[j], names[j + 1]
        for side, sname in ((+1, "left"), (-1, "right")):
            tag = f"facet_{up}_{lo}_{sname}"
            fs = build_facet(store, upper=arches[j], lower=arches[j + 1], side=side,
                             R_half=joint_rotation(frames[j + 1].R, dj["segmental"]),
                             angle_deg=dims[up].facet_angle_deg, gap=facet_gap_mm,
                             height=facet_height_mm, width=facet_width_mm,
                             thickness=facet_thickness_mm, h=h, name=tag)
            for c, vi in ((fs.cells_upper, j), (fs.cells_lower, j + 1)):
                cells.append(c)
                region.append(np.full(len(c), REGION_TAGS["posterior"]))
                vert.append(np.full(len(c), vi))
                layer.append(np.zeros(len(c), int))
            sets[f"{tag}_inferior"], sets[f"{tag}_superior"] = fs.inferior_ids, fs.superior_ids
            pairs.append((up, lo, sname, fs))

    if construct == "posterolateral":
        xyz = store.array()
        for j in range(nv - 1):
            clear = {}
            for up, lo, sname, fs in pairs[2 * j:2 * j + 2]:  # this joint's two facets
                side = 1 if sname == "left" else -1
                prisms = np.concatenate([fs.cells_upper.ravel(), fs.cells_lower.ravel()])
                clear[side] = float((side * xyz[prisms, 0]).max()) + _GRAFT_CLEARANCE_MM
            graft, faces = _posterolateral_grafts(store, arches[j], arches[j + 1], h, clear)
            cells.append(graft)
            region.append(np.full(len(graft), REGION_TAGS["graft"]))
            vert.append(np.full(len(graft), -1))
            layer.append(np.zeros(len(graft), int))
            sets[f"{names[j]}_transverse_inferior"] = faces[0]
            sets[f"{names[j + 1]}_transverse_superior"] = faces[1]

    # --------------------------------------------------------------- assembly
    points = store.array()
    cells_a = orient_hexes(points, np.concatenate(cells))
    region_a, vert_a, layer_a = (np.concatenate(x) for x in (region, vert, layer))
    used = np.unique(cells_a)
    remap = np.full(len(points), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    points, cells_a = points[used], remap[cells_a]
    sets = {k: remap[v] for k, v in sets.items()}
    present = {name: tag for name, tag in REGION_TAGS.items() if np.any(region_a == tag)}
    mesh = Mesh(points, (CellBlock("hexahedron", cells_a, region_a),),
                {tag: name for name, tag in present.items()}, sets)

    facet_pairs = tuple(FacetPair(up, lo, sname, remap[fs.inferior_ids], remap[fs.superior_ids],
                                  fs.inferior_normal, fs.superior_normal, float(facet_gap_mm),
                                  float(fs.height_mm), fs.centre)
                        for up, lo, sname, fs in pairs)
    screws = []
    for n in screw_levels:
        i = names.index(n)
        fr, (a, b), hb = frames[i], ab[i], dims[n].body_height_mm
        for side, sname in ((+1, "left"), (-1, "right")):
            entry, u = arches[i].axis[side]
            tip = entry + screw_length_mm * u
            dist = wall_distance(points, remap[arches[i].pedicle_walls[side]], entry, u)
            tip_l, u_l = fr.R.T @ (tip - fr.t), fr.R.T @ u
            inside = bool(np.hypot(tip_l[0] / a, tip_l[1] / b) < 1 and abs(tip_l[2]) < hb / 2)
            screws.append(ScrewTrajectory(n, sname, entry, u, float(screw_length_mm),
                                          float(screw_diameter_mm), tip, dist,
                                          dist - 0.5 * screw_diameter_mm, inside,
                                          ellipse_exit(tip_l, u_l, a, b)))

    for t in screws:
        if t.wall_clearance_mm < 0:  # kept: a malpositioned or oversized screw is a scenario
            logger.warning("the %s %s screw (diameter %g mm) breaches its pedicle wall by %.2f "
                           "mm (pedicle_width_mm %g): its thread leaves the bone there",
                           t.level, t.side, t.diameter_mm, -t.wall_clearance_mm,
                           dims[t.level].pedicle_width_mm)

    from spinesim.mesh.checks import quality

    q = quality(mesh)
    qual = {"min_scaled_jacobian": float(q["scaled_jacobian"].min()),
            "max_aspect_ratio": float(q["aspect_ratio"].max()),
            "n_nodes": mesh.n_nodes, "n_cells": mesh.n_solid_cells, "n_dofs": 3 * mesh.n_nodes}
    seconds = time.perf_counter() - t_start
    logger.info("lumbar segment %s (%s, resolution %g): %d nodes, %d hex8, min scaled Jacobian "
                "%.3f, max aspect ratio %.1f, %.2f s", "-".join(names), construct, r,
                qual["n_nodes"], qual["n_cells"], qual["min_scaled_jacobian"],
                qual["max_aspect_ratio"], seconds)
    return SegmentGeometry(mesh, names, construct, dims, vert_a, layer_a, facet_pairs,
                           tuple(screws), {n: frames[i].matrix() for i, n in enumerate(names)},
                           cage if fused else None, (), qual, seconds)
