"""Posterior elements of the lumbar mesh: the arch (laminae, articular pillars, spinous and
transverse processes) as one conforming tensor-product block per vertebra, its laminae sheared
forward from the midline to the pillars (:func:`pillar_offset_mm`), pedicles lofted
between the body surface and the pillars, facet (articular) processes lofted from the pillars,
and pedicle-screw trajectories. Lengths in mm, angles in radians inside. Private module."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from spinesim.errors import MeshError
from spinesim.geometry._ogrid import (
    Frame,
    NodeStore,
    hexes_from_grid,
    loft,
    rot_x,
    rot_z,
)

logger = logging.getLogger(__name__)


def _lines(*segments: tuple[float, float, int]) -> np.ndarray:
    """Concatenated linspace segments (start, stop, divisions) without repeated ends."""
    out = [np.array([segments[0][0]])]
    for lo, hi, n in segments:
        out.append(np.linspace(lo, hi, max(1, int(n)) + 1)[1:])
    return np.concatenate(out)


def _n(length: float, h: float, minimum: int = 1) -> int:
    return max(minimum, math.ceil(abs(length) / h - 1e-9))


def _pedicle_root(s: int, alpha: float, x_q: float, y_c: float, a: float, b: float, level: str
                  ) -> np.ndarray:
    """Local (x, y) where the pedicle axis of side ``s`` meets the body's elliptical wall."""
    u = np.array([-s * np.sin(alpha), np.cos(alpha)])
    q = np.array([s * x_q, y_c])
    near, far = _crossings(q, u, a, b)
    if not near < far:                               # missed (NaN) or only touched
        raise MeshError(f"{level}: the pedicle axis misses the vertebral body; check "
                        "canal_width_mm, pedicle_width_mm and pedicle_transverse_angle_deg")
    return q + u * near


def _crossings(p: np.ndarray, u: np.ndarray, a: float, b: float) -> tuple[float, float]:
    """Distances (mm) from ``p`` along ``u`` to the near and far crossings of the ellipse
    (semi-axes a along x, b along y; equal where the line touches it); NaN when the line
    misses it. The one line-ellipse intersection of this module."""
    A = (u[0] / a) ** 2 + (u[1] / b) ** 2
    B = 2 * (p[0] * u[0] / a ** 2 + p[1] * u[1] / b ** 2)
    C = (p[0] / a) ** 2 + (p[1] / b) ** 2 - 1
    disc = B * B - 4 * A * C
    if disc < 0:
        return float("nan"), float("nan")
    return float((-B - np.sqrt(disc)) / (2 * A)), float((-B + np.sqrt(disc)) / (2 * A))


#: Shortest pedicle (body wall to pillar along the pedicle axis, mm) the pillar placement may
#: leave; below it the lofted pedicle degenerates (modelling choice).
MIN_PEDICLE_MM = 2.0


class _Trajectory:
    """The left screw trajectory in a vertebra's local frame (x left, y anterior, mm) as a
    function of how far the pillars sit in front of the lamina line (``shift``, mm)."""

    def __init__(self, dims, a: float, b: float) -> None:
        self.dims, self.a, self.b = dims, a, b
        self.alpha = math.radians(dims.pedicle_transverse_angle_deg)
        self.x_q = 0.5 * dims.canal_width_mm + 0.5 * dims.pedicle_width_mm / math.cos(self.alpha)
        self.y_c = -b - dims.canal_depth_mm
        self.u = np.array([-math.sin(self.alpha), math.cos(self.alpha)])
        self.back = dims.lamina_thickness_mm / math.cos(self.alpha)

    def crossings(self, shift: float) -> tuple[float, float]:
        """Entry (pillar's posterior face) to the posterior body wall, and to the anterior
        cortex (the chord), mm along the axis."""
        return _crossings(np.array([self.x_q, self.y_c + shift]) - self.back * self.u, self.u,
                          self.a, self.b)

    def pedicle(self, shift: float) -> float:
        q = np.array([self.x_q, self.y_c + shift])
        return float(np.hypot(*(q - _pedicle_root(1, self.alpha, self.x_q, self.y_c + shift,
                                                  self.a, self.b, self.dims.level))))

    def shift_for(self, which: int, target: float, key: str) -> float:
        """The shift at which crossing ``which`` (0 wall, 1 chord) lies ``target`` mm from the
        entry (bisection: both shrink as the pillars move forward); MeshError naming ``key``
        when the pillars would have to sit behind the lamina line or leave a pedicle shorter
        than :data:`MIN_PEDICLE_MM`."""
        level = self.dims.level
        at_lamina = self.crossings(0.0)[which]
        if target > at_lamina + 1e-9:
            raise MeshError(f"{level}: {key}={target:g} is longer than the {at_lamina:.1f} mm "
                            "with the pillars at the lamina (canal_depth_mm behind the body); "
                            "lower it or raise canal_depth_mm")
        lo, hi = 0.0, self.dims.canal_depth_mm
        for _ in range(60):  # the furthest forward the pillars may go
            if self.pedicle(hi) >= MIN_PEDICLE_MM:
                break
            hi *= 0.5
        if self.pedicle(hi) < MIN_PEDICLE_MM or self.crossings(hi)[which] > target:
            raise MeshError(f"{level}: {key}={target:g} mm is too short for these dimensions: "
                            f"the shortest that leaves a pedicle of {MIN_PEDICLE_MM:g} mm is "
                            f"{self.crossings(hi)[which]:.1f} mm; give {key} at least that "
                            "(its default is derived from the cited pedicle chord and the body)")
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if self.crossings(mid)[which] > target else (lo, mid)
        return 0.5 * (lo + hi)


def pillar_offset_mm(dims, a: float, b: float) -> float:
    """How far (mm) the articular pillars and transverse processes sit anterior of the lamina
    line at the cited canal depth, so that the screw trajectory runs
    ``dims.pedicle_path_length_mm`` through the posterior elements (entry on the pillar's
    posterior face to the posterior body wall, along the pedicle axis).

    With the pillars at the lamina line, ``canal_depth_mm`` behind the body, the trajectory's
    chord (entry to the anterior cortex) comes out 15 mm longer than measured (65 against
    50 mm at L4-L5): a real arch slopes forward from the midline lamina to the pillars. The
    lamina between the spinous process and the pillars is sheared forward by the offset,
    linearly in x (:func:`lamina_offset`). ``a``, ``b`` are the body's semi-axes (lateral,
    antero-posterior, mm). MeshError for a path that does not fit (see
    ``_Trajectory.shift_for``).
    """
    return _Trajectory(dims, a, b).shift_for(0, dims.pedicle_path_length_mm,
                                             "pedicle_path_length_mm")


def path_for_chord(dims, chord_mm: float) -> float:
    """The screw path through the posterior elements (mm) at which the trajectory's chord,
    entry to anterior cortex, is ``chord_mm`` for this vertebra's body (semi-axes from
    ``endplate_width_mm`` and ``endplate_depth_mm``): how the cited chord becomes the
    default ``pedicle_path_length_mm``."""
    a, b = 0.5 * dims.endplate_width_mm, 0.5 * dims.endplate_depth_mm
    trajectory = _Trajectory(dims, a, b)
    return trajectory.crossings(trajectory.shift_for(1, chord_mm, "pedicle chord"))[0]


def lamina_offset(x: np.ndarray, dims, offset: float) -> np.ndarray:
    """Forward shift (mm) of the arch at local x (mm): 0 within the spinous process's
    half-width, ``offset`` at and beyond the pillars, linear in between (the sloped laminae)."""
    x_sp, x_pi = 0.5 * dims.lamina_thickness_mm, 0.5 * dims.canal_width_mm
    return offset * np.clip((np.abs(x) - x_sp) / (x_pi - x_sp), 0.0, 1.0)


def lamina_front_y(dims, x: np.ndarray) -> np.ndarray:
    """Local y (mm, body centre at 0, anterior +) of the arch's anterior face at local x:
    the lamina ``canal_depth_mm`` behind the body at the midline, sloping forward to the
    pillars (:func:`pillar_offset_mm`). Where ligaments insert on the laminae."""
    a, b = 0.5 * dims.endplate_width_mm, 0.5 * dims.endplate_depth_mm
    return -b - dims.canal_depth_mm + lamina_offset(x, dims, pillar_offset_mm(dims, a, b))


def _root_patch(outer_local: np.ndarray, root: np.ndarray, m: int) -> np.ndarray:
    """``m + 1`` consecutive body-wall nodes (indices into ``outer_local``) centred on
    ``root``, ordered by ascending x."""
    P = len(outer_local)
    pc = int(np.argmin(np.hypot(*(outer_local - root).T)))
    starts = (pc - m // 2, pc - (m + 1) // 2)       # two candidates when m is odd
    patch = min(((st + np.arange(m + 1)) % P for st in starts),
                key=lambda pt: float(np.hypot(*(outer_local[pt].mean(0) - root))))
    return patch[::-1] if outer_local[patch[-1], 0] < outer_local[patch[0], 0] else patch


def _pedicle_divisions(outer_local: np.ndarray, root: np.ndarray, width: float) -> int:
    """Elements across the pedicle: the number of body-wall node spacings at the root whose
    chord comes closest to the pedicle width, so that the meshed pedicle root is as wide as
    the pedicle at every resolution (within half a wall spacing) instead of a resolution-
    dependent multiple of the wall spacing."""
    def miss(m: int) -> float:
        patch = _root_patch(outer_local, root, m)
        return abs(float(np.hypot(*(outer_local[patch[-1]] - outer_local[patch[0]]))) - width)

    spacing = float(np.median(np.hypot(*np.diff(outer_local, axis=0).T)))
    upper = max(3, math.ceil(2.0 * width / spacing) + 1)
    return min(range(2, max(2, min(upper, len(outer_local) // 4)) + 1), key=miss)


@dataclass
class Arch:
    """One vertebra's posterior elements in global coordinates (internal)."""

    cells: np.ndarray            # hex cells (arch + pedicles)
    ids: np.ndarray              # (nx+1, ny+1, nz+1) node ids of the arch block
    xyz: np.ndarray              # their global coordinates
    pillar_ix: dict[int, np.ndarray]   # side (+1 left, -1 right) -> ix of the pillar, ascending x
    lamina_iy: np.ndarray        # iy of the lamina rows (ascending y)
    pedicle_walls: dict[int, np.ndarray]                     # side -> node ids of pedicle walls
    axis: dict[int, tuple[np.ndarray, np.ndarray]]           # side -> (entry, unit direction)


def build_arch(store: NodeStore, *, frame: Frame, a: float, b: float, dims, zl: np.ndarray,
               k_range: tuple[int, int], outer_xyz: list[np.ndarray], outer_ids: list[np.ndarray],
               outer_local: np.ndarray, h: float) -> Arch:
    """Arch block and pedicles of one vertebra.

    ``zl`` are the local z of the body's node planes at the outer surface; planes
    ``k_range[0]..k_range[1]`` bound the pedicles. ``outer_xyz[k]``/``outer_ids[k]`` are the
    global coordinates and ids of the outer-surface nodes of plane k (perimeter order) and
    ``outer_local`` their local (x, y).
    """
    k0, k1 = k_range
    Z = zl[k0:k1 + 1]
    trajectory = _Trajectory(dims, a, b)                   # the screw path pillar_offset_mm sets
    alpha, x_q = trajectory.alpha, trajectory.x_q          # pedicle axis at the pillar centre
    width = dims.pedicle_width_mm / math.cos(alpha)        # pillar face width along x
    x_pi = 0.5 * dims.canal_width_mm
    x_po = x_pi + width
    t_l = dims.lamina_thickness_mm
    x_sp = 0.5 * t_l                                       # spinous process half-width
    y_c = trajectory.y_c                                   # anterior face of the lamina
    shift = pillar_offset_mm(dims, a, b)                   # pillars that far in front of it
    y_tip = -b - dims.spinous_process_length_mm
    sp_len = (y_c - t_l) - y_tip
    if sp_len < 2.0:
        raise MeshError(f"{dims.level}: spinous_process_length_mm={dims.spinous_process_length_mm} "
                        f"must exceed canal_depth_mm + lamina_thickness_mm + 2 mm")
    roots = {s: _pedicle_root(s, alpha, x_q, y_c + shift, a, b, dims.level) for s in (+1, -1)}
    m_x = _pedicle_divisions(outer_local, roots[+1], width)
    pos = _lines((0.0, x_sp, _n(x_sp, h)), (x_sp, x_pi, _n(x_pi - x_sp, h)), (x_pi, x_po, m_x),
                 (x_po, x_po + dims.transverse_process_length_mm,
                  _n(dims.transverse_process_length_mm, h)))
    X = np.concatenate([-pos[::-1], pos[1:]])
    Y = _lines((y_tip, y_c - t_l, _n(sp_len, h)), (y_c - t_l, y_c, _n(t_l, h, 2)))
    G = np.stack(np.meshgrid(X, Y, Z, indexing="ij"), axis=-1)
    G[..., 1] += lamina_offset(X, dims, shift)[:, None, None]
    xyz = frame.apply(G)
    ids = store.add(xyz)
    xc, yc = 0.5 * (X[1:] + X[:-1]), 0.5 * (Y[1:] + Y[:-1])
    lam = yc > y_c - t_l
    mask = (lam[None, :] | ((~lam)[None, :] & (np.abs(xc) < x_sp)[:, None]))
    mask = np.broadcast_to(mask[:, :, None], (len(xc), len(yc), len(Z) - 1))
    cells = [hexes_from_grid(ids, mask)]

    tol = 1e-9 * (1 + x_po)
    pillar_ix = {+1: np.flatnonzero((X > x_pi - tol) & (X < x_po + tol)),
                 -1: np.flatnonzero((X > -x_po - tol) & (X < -x_pi + tol))}
    lamina_iy = np.flatnonzero(Y > y_c - t_l - tol)
    zc = 0.5 * (Z[0] + Z[-1])
    sides, axes = {}, {}
    for s in (+1, -1):
        u = np.array([-s * np.sin(alpha), np.cos(alpha)])
        q, root = np.array([s * x_q, y_c + shift]), roots[s]
        patch = _root_patch(outer_local, root, m_x)
        root_ids = np.stack([outer_ids[k][patch] for k in range(k0, k1 + 1)], axis=1)
        root_xyz = np.stack([outer_xyz[k][patch] for k in range(k0, k1 + 1)], axis=1)
        ix = pillar_ix[s]
        end_ids, end_xyz = ids[ix, -1, :], xyz[ix, -1, :]
        length = float(np.hypot(*(q - root)))
        ped = loft(store, root_ids, end_ids, root_xyz, end_xyz, _n(length, h, 2))
        cells.append(hexes_from_grid(ped))
        wall = np.concatenate([ped[:, 0, :].ravel(), ped[:, -1, :].ravel(),
                               ped[:, :, 0].ravel(), ped[:, :, -1].ravel()])
        sides[s] = np.unique(wall)
        u3 = np.array([u[0], u[1], 0.0])
        entry = np.array([q[0], q[1], zc]) - trajectory.back * u3
        axes[s] = (frame.apply(entry), frame.R @ u3)
    return Arch(np.concatenate(cells), ids, xyz, pillar_ix, lamina_iy, sides, axes)


@dataclass(frozen=True)
class FacetSurfaces:
    """The two articular surfaces of one facet joint (internal)."""

    inferior_ids: np.ndarray     # upper vertebra's inferior articular process surface nodes
    superior_ids: np.ndarray     # lower vertebra's superior articular process surface nodes
    inferior_normal: np.ndarray  # outward unit normal of the inferior process surface
    superior_normal: np.ndarray
    centre: np.ndarray
    height_mm: float
    cells_upper: np.ndarray
    cells_lower: np.ndarray


def build_facet(store: NodeStore, *, upper: Arch, lower: Arch, side: int, R_half: np.ndarray,
                angle_deg: float, gap: float, height: float, width: float, thickness: float,
                h: float, name: str) -> FacetSurfaces:
    """Superior articular process of ``lower`` and inferior articular process of ``upper`` on
    one side, as lofts from the pillars to two parallel prisms ``gap`` mm apart whose planes
    make ``angle_deg`` with the sagittal plane of the joint frame ``R_half``."""
    ix_lo, ix_up = lower.pillar_ix[side], upper.pillar_ix[side]
    top_ids = lower.ids[np.ix_(ix_lo, lower.lamina_iy)][:, :, -1]
    top_xyz = lower.xyz[np.ix_(ix_lo, lower.lamina_iy)][:, :, -1]
    bot_ids = upper.ids[np.ix_(ix_up, upper.lamina_iy)][:, :, 0]
    bot_xyz = upper.xyz[np.ix_(ix_up, upper.lamina_iy)][:, :, 0]
    c_lo, c_up = top_xyz.reshape(-1, 3).mean(0), bot_xyz.reshape(-1, 3).mean(0)
    Rf = R_half @ rot_z(side * np.radians(angle_deg))
    e1, e2, ez = Rf[:, 0], Rf[:, 1], R_half[:, 2]
    centre = 0.5 * (c_lo + c_up)
    G = float((c_up - c_lo) @ ez)
    t_min = 3.0                     # mm of transition above and below the articular prisms
    H = min(height, G - 2 * t_min)
    if H < 2.0:
        raise MeshError(f"{name}: only {G:.1f} mm between the articular pillars, too little room "
                        "for the facet joint; reduce disc_lordosis_deg or facet_height_mm")
    if H < height:
        logger.info("%s: facet height reduced from %.1f to %.1f mm to fit between the pillars",
                       name, height, H)
    n_sap = -side * e1                       # outward normal of the superior process surface

    def prism(shape: tuple[int, int], lo_e1: float, z0: float) -> np.ndarray:
        # The pillar's long x-direction maps to the facet width (e2) and its thickness (y) to
        # the facet thickness (e1), by a proper rotation of at most 90 - angle degrees: left
        # (side +1) x -> -e2, y -> +e1; right x -> +e2, y -> -e1. Row j = 0 then faces the
        # joint for the superior process and row j = -1 for the inferior process.
        eta = np.linspace(0.5 * side, -0.5 * side, shape[0])[:, None, None]
        xi = np.linspace(0.0, 1.0, shape[1])[None, :, None]
        if side < 0:
            xi = 1.0 - xi
        return centre + (lo_e1 + thickness * xi) * e1 + (width * eta) * e2 + z0 * ez

    half = 0.5 * gap
    sap_lo = half if side > 0 else -half - thickness     # e1 range of the superior process
    iap_lo = -half - thickness if side > 0 else half
    n_h, n_t_lo, n_t_up = _n(H, h, 2), _n((G - H) / 2, h), _n((G - H) / 2, h)
    # superior articular process (lower vertebra): transition up from the pillar, then prism
    sap_b, sap_t = prism(top_ids.shape, sap_lo, -H / 2), prism(top_ids.shape, sap_lo, H / 2)
    tr = loft(store, top_ids, None, top_xyz, sap_b, n_t_lo)
    pr = loft(store, tr[-1], None, sap_b, sap_t, n_h)
    sap_face = pr[:, :, 0]
    cells_lower = np.concatenate([hexes_from_grid(tr), hexes_from_grid(pr)])
    # inferior articular process (upper vertebra): transition down from the pillar, then prism
    iap_t, iap_b = prism(bot_ids.shape, iap_lo, H / 2), prism(bot_ids.shape, iap_lo, -H / 2)
    tr = loft(store, bot_ids, None, bot_xyz, iap_t, n_t_up)
    pr = loft(store, tr[-1], None, iap_t, iap_b, n_h)
    iap_face = pr[:, :, -1]
    cells_upper = np.concatenate([hexes_from_grid(tr), hexes_from_grid(pr)])
    return FacetSurfaces(np.unique(iap_face), np.unique(sap_face), -n_sap, n_sap, centre, H,
                         cells_upper, cells_lower)


def joint_rotation(R_lower: np.ndarray, lordosis_deg: float) -> np.ndarray:
    """Orientation halfway between the lower vertebra and the upper one (rotated by the disc
    wedge about the lateral axis), so that both articular surfaces are parallel globally."""
    return R_lower @ rot_x(0.5 * np.radians(lordosis_deg))


def wall_distance(points: np.ndarray, wall_ids: np.ndarray, entry: np.ndarray,
                  direction: np.ndarray) -> float:
    """Smallest distance (mm) from the line entry + t * direction to the pedicle wall nodes."""
    r = points[wall_ids] - entry
    perp = r - np.outer(r @ direction, direction)
    return float(np.min(np.linalg.norm(perp, axis=1)))


def ellipse_exit(local_point: np.ndarray, local_dir: np.ndarray, a: float, b: float) -> float:
    """Distance (mm) from a point inside the ellipse along a direction (x, y used) to the
    ellipse; NaN when the point is outside."""
    p, u = local_point[:2], local_dir[:2]
    if not np.any(u) or (p[0] / a) ** 2 + (p[1] / b) ** 2 > 1:   # no direction, or outside
        return float("nan")
    return _crossings(p, u, a, b)[1]
