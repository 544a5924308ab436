"""Pedicle screws and rods as 3D beams tied into solid bone.

A screw is a line of 6-DOF beam nodes from its head (the tulip, where the rod sits) through its
entry point to its tip. Every node from the entry point on must lie inside the solid mesh: it is
tied to the bone by interface springs (``spinesim.fem.embedded``) with an axial and a normal
stiffness per unit length, acting on the mean motion of the node's patch of the thread surface
(or, optionally, on the material point on the axis; see :class:`Interface`). Rods are beams
through the screw heads; with the default rigid tulip the rod shares the head node.

``build_hardware`` turns screws and rods into what ``LinearElasticModel`` takes (6-DOF node
positions, element sets with their values); ``hardware_results`` turns a solution into section
forces and surface stresses of every beam element and the micromotion of every screw node.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import MeshError
from spinesim.fem.dofs import DofLayout
from spinesim.fem.embedded import (coupling_matrices, curl_twist_coefficients,
                                   relative_displacement, split_axial_normal, spring_tensors)
from spinesim.fem.system import ElementSet
from spinesim.mesh.mesh import Mesh

if TYPE_CHECKING:
    from spinesim.fem.condense import CondensedSolution
    from spinesim.fem.static import StaticSolution

log = logging.getLogger(__name__)

#: Name of the element set of the screw-bone interface springs (one element per tied node).
TIE_SET = "screw_interface"
_OUTSIDE_HINT = ("The screw leaves the bone there: shorten it or change its entry or direction "
                 "(Screw.length_mm; in a scenario hardware.screw.length_mm), or, for a node "
                 "within about an element size of the surface, mesh at another resolution "
                 "(segment.resolution, --resolution).")


def _vec(name: str, v: ArrayLike) -> np.ndarray:
    a = np.asarray(v, float).ravel()
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be 3 finite coordinates (mm), got {v!r}")
    return a


@dataclass(frozen=True)
class Screw:
    """A pedicle screw (mm).

    Attributes
    ----------
    name : label used in errors and results, e.g. ``"L4 left"``
    head : (3,) position of the head (tulip centre), where the rod is attached
    entry : (3,) entry point into the bone; the shank runs from here along ``direction``
    direction : (3,) direction into the bone (normalised)
    length_mm : shank length inside the bone
    core_diameter_mm, outer_diameter_mm : thread root and crest diameters; the beam section is
        the core (the thread root carries the stress)
    thread_pitch_mm : pitch, kept as data
    material : implant material name (``spinesim.model.implant_materials``)
    n_segments : beam elements along the shank
    """

    name: str
    head: tuple[float, float, float]
    entry: tuple[float, float, float]
    direction: tuple[float, float, float]
    length_mm: float
    core_diameter_mm: float = 4.5
    outer_diameter_mm: float = 6.5
    thread_pitch_mm: float = 2.5
    material: str = "ti6al4v"
    n_segments: int = 8

    def __post_init__(self) -> None:
        for k in ("head", "entry", "direction"):
            object.__setattr__(self, k, tuple(_vec(f"screw {self.name!r} {k}", getattr(self, k))))
        if not np.linalg.norm(self.direction) > 0:
            raise ValueError(f"screw {self.name!r}: direction must be non-zero")
        if not (self.length_mm > 0 and self.core_diameter_mm > 0
                and self.outer_diameter_mm >= self.core_diameter_mm):
            raise ValueError(f"screw {self.name!r}: need length_mm > 0 and 0 < core_diameter_mm "
                             f"<= outer_diameter_mm, got {self.length_mm}, "
                             f"{self.core_diameter_mm}, {self.outer_diameter_mm}")
        if self.n_segments < 1:
            raise ValueError(f"screw {self.name!r}: n_segments must be >= 1")

    @property
    def axis(self) -> np.ndarray:
        """Unit vector (3,) of ``direction``, into the bone."""
        d = np.asarray(self.direction)
        return d / np.linalg.norm(d)

    def node_positions(self) -> tuple[np.ndarray, int]:
        """Positions (m, 3) mm of the head, (neck,) entry ... tip, and the index of the entry
        node."""
        entry = np.asarray(self.entry)
        shank = entry + np.outer(np.linspace(0, self.length_mm, self.n_segments + 1), self.axis)
        head = np.asarray(self.head)
        if np.linalg.norm(head - entry) < 1e-9:
            return shank, 0
        return np.vstack([head, shank]), 1


@dataclass(frozen=True)
class Rod:
    """A rod through the heads of ``screws`` (in order).

    Straight between the heads (``segments_per_span`` beams each) unless ``path`` gives the
    contoured centre line as a polyline (m, 3) in mm whose points include every head position
    (within 1e-6 mm); each polyline segment is one beam element.

    ``tulip_stiffness_nmm_per_rad`` None joins the rod rigidly to each screw head (monoaxial or
    locked head: the rod shares the head node). A value models a polyaxial head: the rod has
    its own node at the head, tied to it in translation, with a rotational spring of that
    stiffness (N·mm/rad, about every axis) between rod and screw.
    """

    name: str
    screws: tuple[str, ...]
    diameter_mm: float = 5.5
    material: str = "ti6al4v"
    segments_per_span: int = 8
    path: tuple | None = None
    tulip_stiffness_nmm_per_rad: float | None = None

    def __post_init__(self) -> None:
        if len(self.screws) < 2:
            raise ValueError(f"rod {self.name!r}: needs at least two screws")
        if not self.diameter_mm > 0:
            raise ValueError(f"rod {self.name!r}: diameter_mm must be > 0")
        if self.tulip_stiffness_nmm_per_rad is not None and not self.tulip_stiffness_nmm_per_rad > 0:
            raise ValueError(f"rod {self.name!r}: tulip_stiffness_nmm_per_rad must be > 0")
        if self.path is not None:
            p = np.asarray(self.path, float)
            if p.ndim != 2 or p.shape[1] != 3 or len(p) < 2 or not np.all(np.isfinite(p)):
                raise ValueError(f"rod {self.name!r}: path must be finite points (m >= 2, 3)")


@dataclass(frozen=True)
class CrossLink:
    """A transverse connector between two rods: a beam from the node of ``rod_a`` nearest to
    ``near`` (mm) to the node of ``rod_b`` nearest to it."""

    name: str
    rod_a: str
    rod_b: str
    near: tuple[float, float, float]
    diameter_mm: float = 5.5
    material: str = "ti6al4v"


@dataclass(frozen=True)
class Interface:
    """Screw-bone interface stiffness per unit screw length (N/mm per mm = MPa).

    The defaults tie the screw to the bone ("bonded"): both stiffnesses are ``tie_factor``
    times the Young's modulus of the element holding the node, i.e. the interface is much
    stiffer than the bone around it. This is a modelling choice, not a measured value;
    loosening scales it down (fibrous tissue about 1-10 % of the bonded stiffness, a rule built
    on Pilliar et al., Clin Orthop Relat Res 208:108 (1986) and Jasty et al., J Bone Joint Surg
    Am 79:707 (1997)).
    Give ``k_axial``/``k_normal`` (MPa) to set them directly. The screw's spin about its own
    axis is resisted by a torsional spring against the host's rotation, of stiffness
    ``k_normal r^2`` per unit length (N·mm/rad per mm; the same interface layer acting at the
    outer radius r of the thread).

    Where the springs act on the bone (``surface_spacing_mm``): by default each screw node's
    springs act on the mean motion of points on its patch of the thread-crest cylinder
    (radius ``outer_diameter_mm / 2``, over the node's tributary length along the axis,
    sampled about every ``surface_spacing_mm`` in both directions, equal weights over the
    points inside the mesh), a distributing coupling (the bone-side weights are fixed, the
    screw side moves rigidly with the node; the twist spring acts on the patch's least-squares
    rigid rotation): the screw loads the bone over its surface, as a screw does, the tie adds
    no singularity, and head deflection and micromotion converge under mesh refinement (one
    screw in a block: within 3 % from 4 to 1.2 mm elements). ``surface_spacing_mm=None``
    ties each node to the one material point on its axis instead: the screw then loads the
    bone along a line, and the displacement under a line load in an elastic solid grows
    without bound as the mesh is refined (like log(1/h)), so head deflection, micromotion and
    the construct's stiffness keep changing with the mesh (both measured in
    ``examples/screw_tie_refinement.py``).
    """

    tie_factor: float = 10.0
    k_axial: float | None = None
    k_normal: float | None = None
    surface_spacing_mm: float | None = 1.25

    def __post_init__(self) -> None:
        if self.surface_spacing_mm is not None and not 0.1 <= self.surface_spacing_mm <= 10.0:
            raise ValueError(f"Interface.surface_spacing_mm must be None (tie on the axis) or "
                             f"in [0.1, 10] mm, got {self.surface_spacing_mm}")


@dataclass(frozen=True, eq=False)
class HardwareSystem:
    """Everything ``LinearElasticModel`` needs for the hardware, plus result bookkeeping."""

    layout: DofLayout
    points: np.ndarray  # (n_extra, 3) positions of the 6-DOF nodes
    element_sets: tuple[ElementSet, ...]
    element_values: dict
    beams: dict = field(default_factory=dict)  # name -> dict(nodes, material, section, owner)
    # name -> dict(screw, node, host nodes, N (host weights), lever, axis, S, index, tributary,
    # span_mm: (start, end) of the node's tributary along the axis from the node, mm,
    # host_cell: the solid cell (block order) holding the node)
    ties: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds: locate, beams, interface
    mpcs: tuple = ()  # constraints to pass to the model (polyaxial tulips)
    rod_nodes: dict = field(default_factory=dict)  # rod name -> its model node ids, in order


def _material(name: str, what: str) -> tuple[float, float]:
    from spinesim.errors import MaterialError
    from spinesim.model.implant_materials import implant_material

    m = implant_material(name)
    if m.nu is None:
        raise MaterialError(f"{what}: material {name!r} has no sourced Poisson's ratio in the "
                            "materials library; choose another material or add a cited value")
    return m.E_mpa, m.nu


def _rod_v_ref(axis: np.ndarray) -> np.ndarray:
    """One reference vector for a whole rod (local y), so moments compare along it."""
    mean = axis.mean(axis=0)
    ref = np.array([1.0, 0.0, 0.0]) if abs(mean[0]) < 0.9 * np.linalg.norm(mean) else \
        np.array([0.0, 1.0, 0.0])
    return np.broadcast_to(ref, axis.shape).copy()


def build_hardware(mesh: Mesh, screws: list[Screw], rods: list[Rod],
                   host_modulus: ArrayLike, interface: Interface = Interface(),
                   crosslinks: list[CrossLink] = ()) -> HardwareSystem:
    """Beam nodes, beam and interface element sets for ``screws`` and ``rods`` in ``mesh``.

    Parameters
    ----------
    mesh : the solid (bone or test block) mesh, mm
    screws, rods : the hardware; rods attach to the screw heads they name
    crosslinks : transverse connectors between rods
    host_modulus : (n_solid_cells,) MPa, Young's modulus of each solid cell (scales the default
        interface stiffness)
    interface : screw-bone interface stiffness

    Raises
    ------
    MeshError
        A screw node from the entry point on lies outside every solid cell (reported by screw
        and node), or a rod names an unknown screw.
    """
    from spinesim.fem.beam import beam_stiffness, default_v_ref
    from spinesim.fem.sections import CircularSection
    from spinesim.mesh.locate import locate_points, require_inside

    clock = {"beams": 0.0, "locate": 0.0, "interface": 0.0}
    t0 = time.perf_counter()
    n_solid = mesh.n_nodes
    names = [s.name for s in screws]
    if len(set(names)) != len(names):
        raise ValueError(f"screw names must be unique, got {names}")
    pts: list[np.ndarray] = []
    head_node: dict[str, int] = {}
    # (n1, n2, screw index) and (node, screw index, k, tributary, its start and end along the
    # axis from the node, mm)
    screw_elems, tied = [], []
    for i, s in enumerate(screws):
        pos, entry = s.node_positions()
        first = n_solid + sum(len(p) for p in pts)
        ids = first + np.arange(len(pos))
        pts.append(pos)
        head_node[s.name] = int(ids[0])
        screw_elems += [(ids[k], ids[k + 1], i) for k in range(len(ids) - 1)]
        seg = s.length_mm / s.n_segments
        for k in range(entry, len(ids)):
            lo = 0.0 if k == entry else -0.5 * seg
            hi = 0.0 if k == len(ids) - 1 else 0.5 * seg
            tied.append((ids[k], i, k - entry, hi - lo, lo, hi))
    rod_elems = []  # (n1, n2, rod index)
    tulips = []  # (screw head node, rod node, stiffness)
    rod_nodes: dict[str, list[int]] = {}
    n_extra = lambda: sum(len(p) for p in pts)  # noqa: E731
    for j, r in enumerate(rods):
        missing = [n for n in r.screws if n not in head_node]
        if missing:
            raise MeshError(f"rod {r.name!r} names unknown screws {missing}; screws: {names}")
        head_x = np.array([screws[names.index(n)].head for n in r.screws])
        if r.path is None:
            t = np.linspace(0, 1, r.segments_per_span + 1)[:-1, None]
            line = np.vstack([a + t * (b - a) for a, b in zip(head_x[:-1], head_x[1:])]
                             + [head_x[-1:]])
        else:
            line = np.asarray(r.path, float)
        dist = np.linalg.norm(line[None, :, :] - head_x[:, None, :], axis=2)
        at = dist.argmin(axis=1)
        if np.any(dist[np.arange(len(at)), at] > 1e-6) or np.any(np.diff(at) <= 0):
            raise ValueError(f"rod {r.name!r}: its path must pass through the heads of "
                             f"{list(r.screws)} in order")
        ids = n_solid + n_extra() + np.arange(len(line))
        own = np.ones(len(line), bool)
        if r.tulip_stiffness_nmm_per_rad is None:  # rigid: the rod uses the head nodes
            own[at] = False
            ids[at] = [head_node[n] for n in r.screws]
            ids[own] = n_solid + n_extra() + np.arange(own.sum())
        else:
            tulips += [(head_node[n], int(ids[k]), r.tulip_stiffness_nmm_per_rad)
                       for n, k in zip(r.screws, at)]
        pts.append(line[own])
        rod_nodes[r.name] = list(ids)
        rod_elems += [(ids[k], ids[k + 1], j) for k in range(len(ids) - 1)]
    points = np.vstack(pts) if pts else np.zeros((0, 3))
    layout = DofLayout(n_solid, len(points))
    allp = np.vstack([mesh.points, points])
    cross_elems = []
    for c in crosslinks:
        for rod in (c.rod_a, c.rod_b):
            if rod not in rod_nodes:
                raise ValueError(f"cross-link {c.name!r} names unknown rod {rod!r}; rods: "
                                 f"{list(rod_nodes)}")
        ends = [min(rod_nodes[rod], key=lambda k: np.linalg.norm(allp[k] - np.asarray(c.near)))
                for rod in (c.rod_a, c.rod_b)]
        cross_elems.append((ends[0], ends[1], len(cross_elems)))

    sets, values, beams = [], {}, {}
    for set_name, elems, parts, diam in (
            ("screw_beams", screw_elems, screws, lambda p: p.core_diameter_mm),
            ("rod_beams", rod_elems, rods, lambda p: p.diameter_mm),
            ("crosslink_beams", cross_elems, list(crosslinks), lambda p: p.diameter_mm)):
        if not elems:
            continue
        e = np.asarray(elems, np.int64)
        x1, x2 = allp[e[:, 0]], allp[e[:, 1]]
        mats = [_material(parts[k].material, f"{set_name[:-6]} {parts[k].name!r}")
                for k in e[:, 2]]
        E = np.array([m[0] for m in mats])
        nu = np.array([m[1] for m in mats])
        section = CircularSection(np.array([diam(parts[k]) for k in e[:, 2]]))
        axis = (x2 - x1) / np.linalg.norm(x2 - x1, axis=1)[:, None]
        v_ref = _rod_v_ref(axis) if set_name != "screw_beams" else default_v_ref(x1, x2)
        K = beam_stiffness(x1, x2, E, nu, section.area, section.inertia, section.polar,
                           section.shear_coefficient(nu), v_ref)
        dofs = np.concatenate([layout.dofs(e[:, 0], range(6)), layout.dofs(e[:, 1], range(6))],
                              axis=1) if len(e) else np.zeros((0, 12), np.int64)
        sets.append(ElementSet(set_name, dofs))
        values[set_name] = K
        beams[set_name] = dict(nodes=e[:, :2], owner=[parts[k].name for k in e[:, 2]], E=E, nu=nu,
                               section=section, v_ref=v_ref, x1=x1, x2=x2)

    mpcs = []
    if tulips:
        tl = np.asarray(tulips, dtype=object)
        head, rodn, k = tl[:, 0].astype(np.int64), tl[:, 1].astype(np.int64), tl[:, 2].astype(float)
        spring = np.kron(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.eye(3))
        sets.append(ElementSet("tulips", np.concatenate([layout.dofs(head, (3, 4, 5)),
                                                         layout.dofs(rodn, (3, 4, 5))], axis=1)))
        values["tulips"] = k[:, None, None] * spring[None]
        from spinesim.fem.couplings import tie_translations

        mpcs.append(tie_translations(layout, head, rodn, name="tulip translations"))
    ties = {}
    clock["beams"] = time.perf_counter() - t0
    if tied:
        t = np.asarray(tied, dtype=object)
        node = t[:, 0].astype(np.int64)
        owner = t[:, 1].astype(np.int64)
        trib = t[:, 3].astype(float)
        t1 = time.perf_counter()
        loc = locate_points(mesh, allp[node])
        clock["locate"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        labels = [f"screw {screws[o].name!r} node {k}" for o, k in zip(owner, t[:, 2])]
        require_inside(loc, labels=labels, what="screw node", mesh=mesh, hint=_OUTSIDE_HINT)
        axis = np.array([screws[o].axis for o in owner])
        E_host = np.asarray(host_modulus, float)[loc.cell]
        ka = (interface.k_axial if interface.k_axial is not None
              else interface.tie_factor * E_host) * trib
        kn = (interface.k_normal if interface.k_normal is not None
              else interface.tie_factor * E_host) * trib
        S = spring_tensors(axis, np.broadcast_to(ka, trib.shape), np.broadcast_to(kn, trib.shape))
        r_out = np.array([0.5 * screws[o].outer_diameter_mm for o in owner])
        kt = kn * r_out**2
        if interface.surface_spacing_mm is not None:
            host, c, g, lever = _surface_coupling(
                mesh, allp[node], axis, r_out, t[:, 4].astype(float), t[:, 5].astype(float),
                interface.surface_spacing_mm, labels)
        else:
            host, c, g = _line_coupling(mesh, loc, axis)
            lever = np.zeros((len(node), 3))
        p = len(node)
        K = coupling_matrices(c, g, lever, axis, S, kt)
        dofs = np.concatenate([layout.dofs(node, range(6)),
                               layout.dofs(host.ravel(), (0, 1, 2)).reshape(p, -1)], axis=1)
        sets.append(ElementSet(TIE_SET, dofs))
        values[TIE_SET] = K
        ties[TIE_SET] = dict(node=node, host=host, N=c, lever=lever, axis=axis, S=S,
                             screw=[screws[o].name for o in owner],
                             index=t[:, 2].astype(int), tributary_mm=trib,
                             span_mm=t[:, 4:6].astype(float), host_cell=loc.cell.copy())
        clock["interface"] = time.perf_counter() - t1
    return HardwareSystem(layout, points, tuple(sets), values, beams, ties, clock, tuple(mpcs),
                          {k: np.asarray(v) for k, v in rod_nodes.items()})


def _line_coupling(mesh: Mesh, loc, axis: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each tie on the material point of its axis node: host nodes (p, nen) (padding repeats
    the first node), translation coefficients ``N`` (p, nen) (0 on padding) and twist
    coefficients ``g`` (p, nen, 3), 1/mm, of the material rotation ``t . curl(u) / 2``."""
    nodes = np.where(loc.nodes >= 0, loc.nodes, loc.nodes[:, :1])
    g = np.zeros(nodes.shape + (3,))
    nen = (loc.nodes >= 0).sum(axis=1)
    for size in np.unique(nen):
        sel = np.flatnonzero(nen == size)
        g[sel, :size] = curl_twist_coefficients(_host_gradients(mesh, loc, sel, size), axis[sel])
    return nodes, loc.N.copy(), g


def thread_surface_points(axis: np.ndarray, radius: ArrayLike, lo: np.ndarray, hi: np.ndarray,
                          spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample points of each tie's patch of the thread-crest cylinder: radius ``radius``
    (scalar or (p,), mm) about the unit ``axis`` (p, 3), from ``lo`` to ``hi`` (p,) mm along
    it from the tied node, about every ``spacing`` mm round and along (at least 8 round).

    Returns the tie of each point (n,) and its offset from the tied node (n, 3), mm.
    """
    p = len(axis)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (p,))
    n_round = np.maximum(8, np.ceil(2.0 * np.pi * radius / spacing)).astype(np.int64)
    n_along = np.maximum(1, np.ceil((hi - lo) / spacing)).astype(np.int64)
    n_pts = n_round * n_along
    tie = np.repeat(np.arange(p), n_pts)
    j = np.arange(len(tie)) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)  # point within tie
    phi = 2.0 * np.pi * (j % n_round[tie]) / n_round[tie]
    s = lo[tie] + (hi - lo)[tie] * ((j // n_round[tie]) + 0.5) / n_along[tie]
    ref = np.where(np.abs(axis[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    e1 = np.cross(axis, ref)
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    e2 = np.cross(axis, e1)
    radial = np.cos(phi)[:, None] * e1[tie] + np.sin(phi)[:, None] * e2[tie]
    return tie, s[:, None] * axis[tie] + radius[tie, None] * radial


def _surface_coupling(mesh: Mesh, x: np.ndarray, axis: np.ndarray, radius: np.ndarray,
                      lo: np.ndarray, hi: np.ndarray, spacing: float, labels: list[str]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each tie spread over its patch of the thread-crest cylinder: radius ``radius`` (p,)
    about the axis, from ``lo`` to ``hi`` (p,) mm along it from the node (its tributary
    length), sampled at about ``spacing`` mm in both directions (at least 8 points round);
    equal weights over the points inside the mesh.

    Returns host nodes (p, m) (each once per tie, padded with a repeated node), translation
    weights ``c_k = sum_j w_j N_k(x_j)`` (p, m) (0 on padding), twist coefficients ``g_k``
    (p, m, 3) in 1/mm and the lever ``sum_j w_j (x_j - x)`` (p, 3) mm from the node to the
    centroid of the points inside. The twist is ``t . omega`` of the patch's weighted
    least-squares rigid motion ``u_j ~ a + omega x (x_j - x)`` (as in a distributing
    coupling), so any rigid motion of the bone gives exactly its rotation about ``t``, also
    for a patch cut by the bone surface.

    Raises
    ------
    MeshError
        No point of some node's patch lies in the mesh (named by screw and node).
    """
    from spinesim.fem.couplings import cross_matrices
    from spinesim.mesh.locate import locate_points

    p = len(x)
    tie, arm = thread_surface_points(axis, radius, lo, hi, spacing)
    loc = locate_points(mesh, x[tie] + arm)
    n_in = np.bincount(tie, weights=loc.inside, minlength=p)
    if np.any(n_in == 0):
        bad = [labels[i] for i in np.flatnonzero(n_in == 0)]
        raise MeshError(f"{len(bad)} screw node(s) have no point of their thread surface "
                        f"(radius {radius[n_in == 0][0]:g} mm) inside the bone mesh: "
                        f"{', '.join(bad[:10])}; the screw leaves the bone there")
    w = loc.inside / n_in[tie]
    lever = np.stack([np.bincount(tie, weights=w * arm[:, d], minlength=p) for d in range(3)], 1)
    # every (point inside, host node) pair, merged per (tie, node)
    pt, col = np.nonzero(loc.nodes >= 0)
    key, inv = np.unique(tie[pt] * mesh.n_nodes + loc.nodes[pt, col], return_inverse=True)
    nw = loc.N[pt, col]
    cw = w[pt] * nw
    # twist = e . q with q = (a, omega) the least-squares rigid motion: M q = sum_j w_j A_j^T u_j,
    # A_j = [I, -[y_j]x]; the coefficient of u_j is w_j A_j M^-1 e, e = (0, t)
    A = np.concatenate([np.broadcast_to(np.eye(3), (len(tie), 3, 3)), -cross_matrices(arm)], 2)
    M = np.zeros((p, 6, 6))
    np.add.at(M, tie, w[:, None, None] * np.einsum("jai,jak->jik", A, A))
    # pseudo-inverse: a patch cut down to points on one line cannot fix the rotation about it
    z = np.einsum("pik,pk->pi", np.linalg.pinv(M, rcond=1e-10, hermitian=True),
                  np.concatenate([np.zeros((p, 3)), axis], 1))
    twist = w[:, None] * np.einsum("jai,ji->ja", A, z[tie])
    row, node = key // mesh.n_nodes, key % mesh.n_nodes  # rows sorted by tie
    count = np.bincount(row, minlength=p)
    start = np.cumsum(count) - count
    slot = np.arange(len(key)) - start[row]
    host = np.repeat(node[start][:, None], count.max(), axis=1)  # padding: the tie's 1st node
    host[row, slot] = node
    c = np.zeros(host.shape)
    c[row, slot] = np.bincount(inv, weights=cw, minlength=len(key))
    g = np.zeros(host.shape + (3,))
    for d in range(3):
        g[row, slot, d] = np.bincount(inv, weights=nw * twist[pt, d], minlength=len(key))
    return host, c, g, lever


def _host_gradients(mesh: Mesh, loc, sel: np.ndarray, size: int) -> np.ndarray:
    """Shape-function gradients (len(sel), size, 3) of the host cells at the located points."""
    from spinesim.fem.elements import reference

    out = np.empty((len(sel), size, 3))
    blocks = mesh.solid_blocks
    for b in np.unique(loc.block[sel]):
        rows = np.flatnonzero(loc.block[sel] == b)
        blk = blocks[int(b)]
        ref = reference(blk.type)
        idx = sel[rows]
        dN = ref.grad(loc.xi[idx])  # (q, nen, 3)
        X = mesh.points[blk.cells[loc.local[idx]]]  # (q, nen, 3)
        J = np.einsum("qkd,qkr->qdr", X, dN)
        out[rows] = np.einsum("qkr,qrd->qkd", dN, np.linalg.inv(J))
    return out


@dataclass(frozen=True, eq=False)
class ScrewInterfaceResult:
    """Per tied screw node: screw name, node index along the shank (0 = entry), micromotion
    (µm: total, axial, normal), interface force (N) on the screw and the screw's unit axis
    (into the bone)."""

    screw: list
    index: np.ndarray
    micromotion_um: np.ndarray
    axial_um: np.ndarray
    normal_um: np.ndarray
    force_n: np.ndarray
    axis: np.ndarray


def hardware_results(hw: HardwareSystem, solution: StaticSolution | CondensedSolution,
                     scale: dict[str, np.ndarray] | np.ndarray | None = None
                     ) -> tuple[dict, ScrewInterfaceResult | None]:
    """Beam section results per element set and screw-bone micromotion of one solution.

    ``scale`` is the interface stiffness factor per tied screw node the solution was solved
    with (as for :func:`interface_values`; None: every node bonded, factor 1). The
    interface forces (N) are the scaled springs' forces, so they balance the loads the
    screws carry whatever the interface state; the micromotion (µm) is the displacement
    jump and needs no factor.

    Returns ``({"screw_beams": BeamSectionResults, "rod_beams": ...}, ScrewInterfaceResult)``.
    """
    from spinesim.fem.beam import section_results

    n_solid = hw.layout.n_solid
    u6 = solution.node_dofs
    sections = {}
    for name, b in hw.beams.items():
        e = b["nodes"] - n_solid
        u_e = np.concatenate([u6[e[:, 0]], u6[e[:, 1]]], axis=1)
        sections[name] = section_results(b["x1"], b["x2"], b["E"], b["nu"], b["section"], u_e,
                                         v_ref=b["v_ref"])
    if not hw.ties:
        return sections, None
    if scale is not None and not isinstance(scale, dict):
        scale = tie_scales(hw, scale)
    parts = []
    for name, t in hw.ties.items():
        u = u6[t["node"] - n_solid]
        d = relative_displacement(u[:, :3], solution.displacement[t["host"]], t["N"], u[:, 3:],
                                  t["lever"])
        a, n = split_axial_normal(d, t["axis"])
        force = -np.einsum("pij,pj->pi", t["S"], d)  # on the screw, bonded
        if scale is not None:
            force *= np.asarray(scale[name], float).reshape(-1, 1)
        parts.append((t["screw"], t["index"], 1e3 * np.linalg.norm(d, axis=1), 1e3 * a, 1e3 * n,
                      force, t["axis"]))
    cat = [np.concatenate([p[k] for p in parts]) for k in range(1, 7)]
    screw = [s for p in parts for s in p[0]]
    return sections, ScrewInterfaceResult(screw, *cat)


def tie_scales(hw: HardwareSystem, flat: ArrayLike) -> dict[str, np.ndarray]:
    """One factor per tied screw node, given over all of them in the order of
    ``hardware_results`` (the ties' concatenation), split per tie set of ``hw.ties``."""
    names = list(hw.ties)
    flat = np.asarray(flat, float).ravel()
    sizes = [len(hw.ties[n]["node"]) for n in names]
    if len(flat) != sum(sizes):
        raise ValueError(f"scale must have one factor per tied screw node ({sum(sizes)}), "
                         f"got {len(flat)}")
    return dict(zip(names, np.split(flat, np.cumsum(sizes)[:-1])))


def interface_values(hw: HardwareSystem, scale: dict[str, np.ndarray] | np.ndarray
                     ) -> dict[str, np.ndarray]:
    """Element values of the screw-bone interface with the stiffness of each tied screw node
    scaled (loosening < 1, osseointegration > 1), for ``LinearElasticModel.set_elements``:
    only values change, the pattern, maps and model are reused.

    ``scale`` is one factor per tied node, either a dict keyed like ``hw.ties`` or one array
    over all tied nodes in the order of ``hardware_results`` (the ties' concatenation).
    """
    if not isinstance(scale, dict):
        scale = tie_scales(hw, scale)
    out = {}
    for name, f in scale.items():
        f = np.asarray(f, float).ravel()
        if name not in hw.ties or len(f) != len(hw.ties[name]["node"]) or np.any(f < 0):
            raise ValueError(f"interface scale for {name!r} must be one factor >= 0 per node")
        out[name] = hw.element_values[name] * f[:, None, None]
    return out
