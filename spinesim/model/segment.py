"""The lumbar motion-segment model: geometry, materials, soft tissue, hardware, pure moments.

:func:`build_segment` assembles one model per construct; :func:`solve_rom` runs the pure-moment
protocol on it and returns per load case the ROM and the quantities studies report.

Constructs (``CONSTRUCTS``):

* ``intact`` — discs (annulus ground substance, nucleus, tension-only annulus fibres), seven
  ligaments (tension-only, bilinear), facet joints (compression-only contact);
* ``bilateral`` — intact plus pedicle screws in every vertebra and a rod per side;
* ``bilateral-cage`` — discectomy (annulus and nucleus removed), cage with graft, bilateral
  screws and rods; ligaments and facets kept (no facetectomy or laminectomy modelled);
* ``unilateral-cage`` — the same with screws and a rod on the left side only;
* ``cage-only`` — discectomy and cage, no posterior fixation;
* ``posterolateral`` — intact discs, bilateral screws and rods, and a posterolateral graft on
  each side of every disc, between the transverse processes
  (:func:`spinesim.geometry.lumbar.lumbar_segment`).

Boundary conditions: the lower endplate of the lowest vertebra is fixed; a 6-DOF reference node
at the centre of the top endplate is coupled to it by a distributing (RBE3-like) coupling and
carries the pure moment and the optional compressive preload (applied along the local axis of
the top vertebra; in this small-displacement analysis a follower load and a fixed-direction load
coincide). ROM is the rotation of the reference node, i.e. of the top endplate relative to the
fixed bottom one, measured from the preloaded position when there is a preload: the rotation
under moment and preload less the rotation under the preload alone. An in-vitro follower
preload is applied first and its path is chosen so that it hardly rotates the segment
(Patwardhan et al., Spine 24:1003, 1999); the force at the reference node is not on that path
(in a fused segment it passes in front of the construct's centre of stiffness and flexes it),
so its own rotation is not counted as range of motion. In a linear model the preload then
leaves the ROM unchanged; with contact or soft tissue it changes it (e.g. it seats a cage).

Units: mm, N, MPa, N·mm internally; moments in N·m at the edge (``LoadCase``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from spinesim.errors import MeshError, SpinesimError
from spinesim.fem.constraints import Support
from spinesim.fem.couplings import distributing_coupling
from spinesim.fem.dofs import DofLayout
from spinesim.fem.static import LinearElasticModel
from spinesim.model.cage_interface import CAGE_INTERFACES, cage_contact, split_cage_interface
from spinesim.model.loadcases import LoadCase, rom_deg
from spinesim.model.segment_materials import cell_moduli, region_materials

if TYPE_CHECKING:
    from spinesim.geometry.segment import SegmentGeometry
    from spinesim.model.segment_import import ImportedGeometry

log = logging.getLogger(__name__)

__all__ = ["CONSTRUCTS", "CaseResult", "Segment", "SegmentOptions", "build_segment",
           "case_loads", "construct_screws", "segment_geometry", "segment_solver", "solve_rom"]

#: Default mesh resolution of the segment models: 61.4k DOF for intact L4-L5 (the issue asks
#: for 50k-300k per level); intact ROM grows by 0.6-3.3 % from here to resolution 1.0.
DEFAULT_RESOLUTION = 0.8
#: PARDISO memory per DOF of a segment model (bytes), measured here as peak RSS of a healing
#: timeline: 4.7 GB at 261k DOF (resolution 1.5) and 7.4 GB at 396k (resolution 1.75), i.e.
#: 18-19 kB per DOF. ``solver="auto"`` uses PARDISO while this estimate fits in half the
#: physical memory (see :func:`segment_solver`).
PARDISO_BYTES_PER_DOF = 19_000
CONSTRUCTS = ("intact", "bilateral", "bilateral-cage", "unilateral-cage", "cage-only",
              "posterolateral")
_FUSED = {"bilateral-cage", "unilateral-cage", "cage-only"}


@dataclass(frozen=True)
class SegmentOptions:
    """What to build (lengths in mm, densities in g/cm³).

    ``screw_*``: 6.5 mm outer / 4.5 mm core diameter (the ``Screw`` defaults) and 45 mm length
    (a lumbar pedicle screw of construct tests, Shah et al. 2018, 6.0 x 45 mm; the 6.5 mm
    diameter of Nguyen et al. 2011); ``head_offset_mm``: distance from the entry point back
    along the screw axis to the tulip centre where the rod sits (a modelling choice).
    ``rho_app_g_cm3``, ``density_relation``, ``cancellous_scale``: the cancellous modulus
    from an apparent density and its relation (healthy bone), times a patient factor
    (:func:`spinesim.model.segment_materials.region_materials`).
    ``posterior_scale``: factor on the posterior elements' homogenized modulus (3 500 MPa),
    which bone quality leaves unscaled (no sourced osteoporotic factor).
    ``prestrain``: ligament and fibre strain in the neutral position (0: none; not sourced).
    ``interface_scale``: screw-bone interface stiffness relative to the bonded default
    (``spinesim.model.hardware.Interface``); < 1 for a loosened screw.
    ``screw_element_mm``: target length of the screws' beam elements (each shank gets
    ``ceil(screw_length_mm / screw_element_mm)``); each element's share of the thread surface
    is tied to the bone, so this is also the length of the screw-bone tie patches (a
    discretisation choice; README "Verification" gives its effect).
    ``cage_*``, ``graft_window_mm``: cage footprint (lateral width, depth), height (None: the
    disc height) and the graft window (width, depth) that sets the graft volume; modelling
    choices (``spinesim.geometry.lumbar.CageSpec``), not literature values.
    ``soft_tissue``: ligaments, annulus fibres and facet contact (off: bones and disc only).
    ``cage_interface``: ``"bonded"`` (the conforming mesh: the cage carries tension across the
    endplates) or ``"contact"`` (compression-only normal contact, bonded in shear; solved by
    the active set; :mod:`spinesim.model.cage_interface`). Only with a cage.
    ``mesh_path``: a user's segment mesh instead of the generated one (see
    :mod:`spinesim.model.segment_import`: materials by region, no soft tissue, no screws;
    ``construct`` is then a label only).
    ``fibre_target_deg``: the annulus fibre angle to the transverse plane the fibre layout
    aims at (None: 30 deg, ``segment_tissues.TARGET_FIBRE_ANGLE_DEG``; the mesh offers only
    some angles: :func:`spinesim.model.segment_tissues.annulus_fibres`).
    ``dimensions``: overrides of the generator's cited dimension table per vertebra (mm,
    degrees; :func:`spinesim.geometry.dimensions.level_dimensions`), given as a mapping
    ``{"L4": {"endplate_width_mm": 50.5}}`` and kept as sorted tuples so that the options
    stay hashable (a patient's measured geometry: ``examples/anatomy_comparison.py``).
    """

    levels: str = "L4-L5"
    construct: str = "intact"
    resolution: float = DEFAULT_RESOLUTION
    bone_quality: str = "healthy"
    rho_app_g_cm3: float | None = None
    density_relation: str = "morgan2003"
    cancellous_scale: float = 1.0
    posterior_scale: float = 1.0
    rod_material: str = "ti6al4v"
    rod_diameter_mm: float = 5.5
    screw_material: str = "ti6al4v"
    screw_diameter_mm: float = 6.5
    screw_core_diameter_mm: float = 4.5
    screw_length_mm: float = 45.0
    head_offset_mm: float = 10.0
    cage_material: str = "peek"
    cage_width_mm: float = 24.0
    cage_depth_mm: float = 18.0
    cage_height_mm: float | None = None
    graft_window_mm: tuple[float, float] = (12.0, 8.0)
    prestrain: float = 0.0
    interface_scale: float = 1.0
    screw_element_mm: float = 1.25
    soft_tissue: bool = True
    cage_interface: str = "bonded"
    mesh_path: str | None = None
    solver: str = "auto"
    dimensions: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    fibre_target_deg: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dimensions", dimension_overrides(self.dimensions,
                                                                   self.levels))
        if self.dimensions and self.mesh_path is not None:
            raise SpinesimError("dimensions apply to the generated geometry, not to a given "
                                f"mesh ({self.mesh_path})")
        if self.construct not in CONSTRUCTS:
            raise SpinesimError(f"construct {self.construct!r}; allowed: {', '.join(CONSTRUCTS)}")
        if self.cage_interface not in CAGE_INTERFACES:
            raise SpinesimError(f"cage_interface {self.cage_interface!r}; allowed: "
                                f"{', '.join(CAGE_INTERFACES)}")
        if self.cage_interface != "bonded" and (self.construct not in _FUSED
                                                or self.mesh_path is not None):
            raise SpinesimError(f"cage_interface {self.cage_interface!r} needs a generated "
                                f"segment with a cage; construct {self.construct!r}"
                                + (f", mesh {self.mesh_path}" if self.mesh_path else ""))
        if not 2.0 <= self.rod_diameter_mm <= 12.0:
            raise SpinesimError(f"rod diameter {self.rod_diameter_mm} mm outside [2, 12] mm")
        if not 0.0 < self.screw_core_diameter_mm < self.screw_diameter_mm:
            raise SpinesimError(f"screw_core_diameter_mm {self.screw_core_diameter_mm} must lie in "
                                f"(0, screw_diameter_mm = {self.screw_diameter_mm}) mm")
        if not 0.0 <= self.head_offset_mm <= 30.0:
            raise SpinesimError(f"head_offset_mm {self.head_offset_mm} outside [0, 30] mm")
        if not 0.5 <= self.screw_element_mm <= 20.0:
            raise SpinesimError(f"screw_element_mm {self.screw_element_mm} outside [0.5, 20] mm")
        if not 1e-4 <= self.interface_scale <= 1000.0:  # loosening.bonded_tie_factor 1e-3-1e4
            raise SpinesimError(f"interface_scale {self.interface_scale} outside [1e-4, 1000]")
        if not -0.1 <= self.prestrain <= 0.2:
            raise SpinesimError(f"prestrain {self.prestrain} outside [-0.1, 0.2]")
        if self.fibre_target_deg is not None and not 5.0 <= self.fibre_target_deg <= 60.0:
            raise SpinesimError(f"fibre_target_deg {self.fibre_target_deg} outside [5, 60] deg")


def dimension_overrides(dimensions: Mapping | Sequence, levels: str = "L4-L5"
                        ) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    """Per-vertebra overrides of the generator's dimension table (mm, degrees), checked
    against its keys and ranges (the scenario check of ``segment.dimensions``) and the
    vertebrae of ``levels``, as sorted tuples.

    ``dimensions``: ``{"L4": {"endplate_width_mm": 50.5}}`` or the tuple form it returns.
    """
    from spinesim.scenario_schema import (DimensionOverrides, FieldValueError,
                                          check_dimensions)
    from spinesim.scenario_schema import field as schema_field

    if not isinstance(dimensions, (Mapping, DimensionOverrides)):
        dimensions = DimensionOverrides(tuple(dimensions))
    try:
        items = check_dimensions(schema_field("segment.dimensions"), dimensions).items
    except FieldValueError as exc:
        raise SpinesimError(str(exc)) from None
    for level, _ in items:
        if level not in lumbar_levels(levels):
            raise SpinesimError(f"dimensions given for {level}, which is not one of the "
                                f"vertebrae {levels}")
    return items


@dataclass(frozen=True, eq=False)
class Segment:
    """A built segment model, ready for :func:`solve_rom` (the model keeps its pattern and
    factorization/preconditioner across load cases)."""

    options: SegmentOptions
    geometry: object
    model: LinearElasticModel
    springs: tuple
    hardware: object | None
    ref_node: int
    ref_point: np.ndarray
    axis: np.ndarray
    E: np.ndarray
    nu: np.ndarray
    info: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class CaseResult:
    """One load case: ROM (deg, one-sided), hardware and tissue outputs (MPa, µm, N)."""

    name: str
    rom_deg: float
    rotation_rad: np.ndarray
    rod_max_von_mises_mpa: float | None
    screw_max_von_mises_mpa: float | None
    screw_max_micromotion_um: float | None
    intradiscal_pressure_mpa: float | None
    facet_force_n: dict
    graft_max_strain: float | None
    endplate_max_strain: float | None
    iterations: int
    seconds: float
    solution: object = None


def _sides(construct: str) -> tuple[str, ...]:
    """The sides a construct puts screws and a rod on."""
    return () if construct in ("intact", "cage-only") else \
        ("left",) if construct == "unilateral-cage" else ("left", "right")


def _screw_trajectories(opts: SegmentOptions, geometry) -> list:
    """The screw trajectories of ``geometry`` that ``opts.construct`` instruments, each checked
    to end inside its vertebral body (MeshError naming the screw otherwise)."""
    used = [t for t in geometry.screws if t.side in _sides(opts.construct)]
    for t in used:
        centre = geometry.frames[t.level][:3, 3]
        if not t.tip_inside_body and np.dot(t.tip - centre, t.direction) > 0.0:  # past the body
            raise MeshError(f"screw {t.level} {t.side}: a {t.length_mm:g} mm screw leaves the "
                            f"vertebral body (its tip at {np.round(t.tip, 1).tolist()} mm lies "
                            "outside it); use a shorter screw (hardware.screw.length_mm; "
                            "SegmentOptions.screw_length_mm)")
    return used


def construct_screws(opts: SegmentOptions, geometry) -> list:
    """The :class:`~spinesim.model.hardware.Screw` s that ``opts.construct`` puts into
    ``geometry`` (named ``"L4 left"`` ...; mm), in the order of ``geometry.screws``; empty
    for a construct without screws. Raises MeshError for a screw that leaves its body."""
    from spinesim.model.hardware import Screw

    if opts.construct == "intact":
        return []
    return [Screw(f"{t.level} {t.side}", head=t.entry - opts.head_offset_mm * t.direction,
                  entry=t.entry, direction=t.direction, length_mm=opts.screw_length_mm,
                  core_diameter_mm=opts.screw_core_diameter_mm,
                  outer_diameter_mm=opts.screw_diameter_mm, material=opts.screw_material,
                  n_segments=math.ceil(opts.screw_length_mm / opts.screw_element_mm))
            for t in _screw_trajectories(opts, geometry)]


def _hardware(opts: SegmentOptions, geometry, E: np.ndarray):
    from spinesim.model.hardware import Rod, build_hardware

    screws = construct_screws(opts, geometry)
    if not screws:
        return None
    rods = [Rod(f"rod {side}", tuple(f"{lvl} {side}" for lvl in geometry.levels),
                opts.rod_diameter_mm, opts.rod_material) for side in _sides(opts.construct)]
    from spinesim.model.hardware import Interface

    iface = Interface(tie_factor=Interface().tie_factor * opts.interface_scale)
    return build_hardware(geometry.mesh, screws, rods, E, iface)


def segment_geometry(opts: SegmentOptions | None = None
                     ) -> SegmentGeometry | ImportedGeometry:
    """The meshed geometry of ``opts`` (generated, or imported from ``opts.mesh_path``), its
    screws checked to end inside their vertebral bodies: the first step of
    :func:`build_segment`, without materials, hardware or assembly (0.2 s at resolution
    1), so a caller can refuse a cage, a dimension or a screw that does not fit before it
    starts many runs. Raises MeshError or SpinesimError naming the scenario keys."""
    opts = SegmentOptions() if opts is None else opts
    from spinesim.geometry.lumbar import lumbar_segment

    if opts.mesh_path is not None:
        from spinesim.model.segment_import import import_segment_mesh

        return import_segment_mesh(opts.mesh_path)
    fused = opts.construct in _FUSED
    kind = "fused" if fused else \
        "posterolateral" if opts.construct == "posterolateral" else "intact"
    geometry = lumbar_segment(opts.levels, construct=kind,
                              resolution=opts.resolution, cage=_cage(opts) if fused else None,
                              screw_levels=lumbar_levels(opts.levels) if _sides(opts.construct)
                              else (),
                              screw_diameter_mm=opts.screw_diameter_mm,
                              screw_length_mm=opts.screw_length_mm,
                              dimensions={lv: dict(kv) for lv, kv in opts.dimensions})
    _screw_trajectories(opts, geometry)
    return geometry


def build_segment(opts: SegmentOptions | None = None) -> Segment:
    """Generate, mesh and assemble the segment model of ``opts`` (see the module notes)."""
    opts = SegmentOptions() if opts is None else opts
    from spinesim.model.segment_tissues import segment_springs

    t0 = time.perf_counter()
    fused = opts.construct in _FUSED
    geometry = segment_geometry(opts)
    cage_iface = None
    if opts.cage_interface == "contact":
        mesh, cage_iface = split_cage_interface(geometry.mesh)
        geometry = dataclasses.replace(geometry, mesh=mesh)
    t_geo = time.perf_counter()
    mesh = geometry.mesh
    mats = region_materials(bone_quality=opts.bone_quality, rho_app_g_cm3=opts.rho_app_g_cm3,
                            density_relation=opts.density_relation,
                            cancellous_scale=opts.cancellous_scale,
                            posterior_scale=opts.posterior_scale,
                            cage_material=opts.cage_material)
    E, nu = cell_moduli(mesh, mats)
    if opts.soft_tissue and opts.mesh_path is None:
        springs, tissue_info = segment_springs(geometry, fibres=not fused,
                                               prestrain=opts.prestrain,
                                               fibre_target_deg=opts.fibre_target_deg)
    else:
        springs, tissue_info = [], {}
    hw = None if opts.mesh_path is not None else _hardware(opts, geometry, E)
    n_hw = 0 if hw is None else len(hw.points)
    layout = DofLayout(mesh.n_nodes, n_hw + 1)
    ref_node = mesh.n_nodes + n_hw
    top = mesh.node_sets["upper_endplate_top"]
    ref_point = mesh.points[top].mean(axis=0)
    axis = geometry.frames[geometry.levels[0]][:3, 2].copy() if geometry.frames \
        else np.array([0.0, 0.0, 1.0])
    mpcs = [distributing_coupling(layout, ref_node, ref_point, top, mesh.points,
                                  name="top endplate reference")]
    sets, values = [s.element_set(layout) for s in springs], {}
    extra = [ref_point[None]]
    if hw is not None:
        mpcs += list(hw.mpcs)
        sets += list(hw.element_sets)
        values.update(hw.element_values)
        extra.insert(0, hw.points)
    if cage_iface is not None:
        normal, shear, shear_values = cage_contact(cage_iface, mesh, E, layout)
        springs = [*springs, normal]
        sets += [normal.element_set(layout), shear]
        values[shear.name] = shear_values
        tissue_info = {**tissue_info, "cage_contact_pairs": cage_iface.n}
    model = LinearElasticModel(mesh, E, nu, supports=[Support(mesh.node_sets["lower_endplate_bottom"],
                                                              name="lower endplate")],
                               mpcs=mpcs, extra_points=np.vstack(extra), element_sets=sets,
                               element_values=values, bbar=True,
                               solver=segment_solver(opts.solver, layout.n_dofs))
    t1 = time.perf_counter()
    info = {"dofs": model.layout.n_dofs, "cells": mesh.n_solid_cells,
            "geometry_s": t_geo - t0, "model_s": t1 - t_geo, **tissue_info,
            "quality": geometry.quality}
    log.info("segment %s %s: %d DOFs, built in %.1f s", opts.levels, opts.construct,
             info["dofs"], t1 - t0)
    return Segment(opts, geometry, model, tuple(springs), hw, ref_node, ref_point, axis, E, nu,
                   info)


def _physical_memory_bytes() -> int:
    """Installed physical memory (bytes); 8 GiB if the platform does not say."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 8 * 2**30


def segment_solver(requested: str, n_dofs: int) -> str:
    """The solver method of a segment model of ``n_dofs`` DOFs for ``SegmentOptions.solver``.

    An explicit method is kept. ``"auto"`` becomes ``"pardiso"`` when pypardiso is installed
    and its memory estimate (:data:`PARDISO_BYTES_PER_DOF` per DOF) fits in half the physical
    memory; otherwise :func:`spinesim.fem.solvers.make_solver` decides by size, and a warning
    says so (before the assembly) when the estimate exceeds the physical memory. The generic
    size limit of ``make_solver`` (AMG above 150k DOF, measured on tet4 boxes with one load
    case) does not suit a segment: soft graft next to a stiff cage and the beam ties slow AMG-CG
    down, and every timeline solve carries 7-8 load cases. Measured here on healing timelines of
    ``healthy_fusion.toml``: per changed week 60 s with AMG against 3-4 s with PARDISO at 82k
    DOF (resolution 1.0), and 12 weeks in 1,472 s against 124 s at 261k DOF (resolution 1.5).
    """
    from spinesim.fem.solvers import pardiso_available

    if requested != "auto":
        return requested
    need, have = n_dofs * PARDISO_BYTES_PER_DOF, _physical_memory_bytes()
    if pardiso_available() and need <= 0.5 * have:
        return "pardiso"
    if need > have:  # said before the assembly: an out-of-memory kill prints nothing
        log.warning("a segment model of %d DOFs would need about %.0f GB with the direct "
                    "solver (%.0f kB per DOF, measured), more than this machine's %.0f GB: "
                    "the iterative solver takes it, far slower on segments, and the run may "
                    "still run out of memory; lower the mesh resolution (segment.resolution, "
                    "--resolution)", n_dofs, need / 1e9, PARDISO_BYTES_PER_DOF / 1e3,
                    have / 1e9)
    return "auto"


def _cage(opts: SegmentOptions):
    from spinesim.geometry.lumbar import CageSpec

    return CageSpec(width_mm=opts.cage_width_mm, depth_mm=opts.cage_depth_mm,
                    height_mm=opts.cage_height_mm, window_width_mm=opts.graft_window_mm[0],
                    window_depth_mm=opts.graft_window_mm[1], material=opts.cage_material)


def lumbar_levels(levels: str) -> tuple[str, ...]:
    """Vertebrae of a level range such as ``"L4-L5"``."""
    from spinesim.geometry.lumbar import parse_levels

    return parse_levels(levels)


def _tissue_outputs(seg: Segment, u: np.ndarray) -> tuple[float | None, float | None,
                                                            float | None]:
    """Mean nucleus pressure (MPa, compression positive) and the largest absolute principal
    strain (cell average, -) in the bony endplates and in the graft."""
    from spinesim.fem.materials import Isotropic
    from spinesim.fem.post import cell_values, principal, solid_fields

    mesh = seg.geometry.mesh
    fields = solid_fields(mesh, u, Isotropic(seg.E, seg.nu), bbar=True)
    names = set(mesh.region_names.values())
    pressure = endplate = graft = None
    if "nucleus" in names:
        s = cell_values(fields, "stress")[mesh.cells_in_region("nucleus")]
        pressure = float(np.mean(-np.trace(s, axis1=1, axis2=2) / 3.0))
    eps = cell_values(fields, "strain")
    for region in ("endplate", "graft"):
        if region in names:
            e = np.abs(principal(eps[mesh.cells_in_region(region)])).max()
            if region == "endplate":
                endplate = float(e)
            else:
                graft = float(e)
    return pressure, endplate, graft


def case_loads(seg: Segment, case: LoadCase) -> np.ndarray:
    """Node loads (n_extra, 6) of a load case: its moment (N·mm) and its preload as a
    compression (N) along the top vertebra's axis, both on the reference node."""
    loads = np.zeros((seg.model.layout.n_extra, 6))
    loads[-1] = case.reference_load()
    loads[-1, :3] = -case.preload_n * seg.axis
    return loads


def solve_rom(seg: Segment, cases: list[LoadCase], *, keep_solutions: bool = False,
              from_preloaded: bool = True) -> dict[str, CaseResult]:
    """Solve each pure-moment load case (active set when the model has one-sided springs).

    With ``from_preloaded`` the ROM of a case with a preload is measured from the preloaded
    position (module notes: one more solve per distinct preload, the preload alone);
    ``rotation_rad`` is always the rotation from the unloaded position. False gives the
    rotation from the unloaded position, e.g. under an activity's moment and compression.

    With one-sided springs the first active-set iteration of every case (and preload), which
    solves the same matrix, is one multi-right-hand-side solve for all of them
    (:func:`spinesim.fem.active_set.first_states`); ``CaseResult.iterations`` counts it.
    """
    from spinesim.fem.active_set import first_states, solve_active_set
    from spinesim.fem.springs import spring_forces

    alone: dict[float, LoadCase] = {}  # preload (N) -> the preload alone
    for c in cases:
        if from_preloaded and c.preload_n > 0 and c.preload_n not in alone:
            alone[c.preload_n] = dataclasses.replace(c, moment_nm=0.0)
    todo = list(alone.values()) + list(cases)
    # every case's first active-set iteration solves the same matrix: one solve for all
    first = dict(zip([id(c) for c in todo], first_states(
        seg.model, [case_loads(seg, c) for c in todo], list(seg.springs)))) \
        if seg.springs and len(todo) > 1 else {}

    def solve(case: LoadCase):
        loads = case_loads(seg, case)
        if seg.springs:
            sol, rep = solve_active_set(seg.model, {"node_loads": loads}, list(seg.springs),
                                        initial=first.get(id(case)),
                                        reuse_preconditioner=True)
            return sol, rep.iterations + (id(case) in first)
        return seg.model.solve(node_loads=loads), 1

    preloaded: dict[float, np.ndarray] = {}  # preload (N) -> rotation under it alone (rad)
    out: dict[str, CaseResult] = {}
    for case in cases:
        t = time.perf_counter()
        start = np.zeros(3)
        if from_preloaded and case.preload_n > 0:
            if case.preload_n not in preloaded:
                sol = solve(alone[case.preload_n])[0]
                preloaded[case.preload_n] = sol.node_dofs[-1, 3:].copy()
            start = preloaded[case.preload_n]
        sol, iters = solve(case)
        rot = sol.node_dofs[-1, 3:]
        rod = screw = micro = None
        if seg.hardware is not None:
            from spinesim.model.hardware import hardware_results

            sections, tie = hardware_results(seg.hardware, sol)  # reads the hardware nodes only
            rod = float(sections["rod_beams"].von_mises_max.max())
            screw = float(sections["screw_beams"].von_mises_max.max())
            micro = None if tie is None else float(tie.micromotion_um.max())
        facet = {s.name: float(-np.minimum(spring_forces(s, sol), 0.0).sum())
                 for s in seg.springs if s.name.startswith("facet")}
        pressure, endplate, graft = _tissue_outputs(seg, sol.displacement)
        out[case.name] = CaseResult(
            case.name, rom_deg(rot - start, case), rot.copy(), rod, screw, micro, pressure, facet,
            graft, endplate, iters, time.perf_counter() - t, sol if keep_solutions else None)
    return out
