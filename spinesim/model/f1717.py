"""The ASTM F1717 vertebrectomy construct in compression bending, as a beam model.

Set-up (the standard's geometry as far as the reference notes give it): two test blocks held by
hinge pins, bilateral screws and rods; the load acts along the line through the two pins, a
moment arm of 40 mm anterior of the screw/rod plane (ASTM F1717, as summarised by test
laboratories); the active length between the upper and lower screws is 76 mm for the lumbar
set-up (Foltz et al. 2019, PMC6722018).

Model: the rods are 3D Timoshenko beams between the screw heads. Each block hangs on its pin,
a 6-DOF reference node that may rotate only about the pin axis (lateral, x); the lower pin is
fixed, the upper one moves along the load axis only. Two block models:

* ``blocks="uhmwpe"`` (default): each block is an elastic hex8 solid of UHMWPE
  (``implant_material("uhmwpe")``: E 690 MPa, Callister & Rethwisch 2008; nu 0.42, the
  polyethylene value of Dowling 2013, a stand-in), the screws (6.5 x 35 mm, the construct-test
  screw size of Nguyen et al., Proc Inst Mech Eng H 225:194, 2011) are beams tied into it, and
  the pin is coupled rigidly to the block nodes within ``pin_radius_mm`` (at least one mesh
  size) of its axis. Block size, pin radius and mesh size are model parameters, not values from
  the reference notes. ``block_modulus_mpa`` / ``block_nu`` override the block constants.
* ``blocks="rigid"``: the screws are clamped at the block face; the screw stress is evaluated
  on the screw section at the block face, where it carries the force and moment of the rod
  end. This is the statically determinate idealisation the closed-form checks use.

Axes: x lateral, y anterior (towards the pins), z along the load axis (up).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from spinesim.fem.beam import BeamSectionResults, section_results, surface_stresses
from spinesim.fem.constraints import Support
from spinesim.fem.couplings import rigid_link
from spinesim.fem.dofs import DofLayout
from spinesim.fem.sections import CircularSection
from spinesim.fem.static import LinearElasticModel
from spinesim.fem.system import ElementSet
from spinesim.mesh.mesh import Mesh
from spinesim.model.implant_materials import implant_material

#: Lumbar active length (mm): Foltz et al. (2019), PMC6722018.
ACTIVE_LENGTH_MM = 76.0
#: Moment arm from the load axis to the screw/rod plane (mm): ASTM F1717, as summarised by test
#: laboratories (reference notes, provenance "from the literature, not re-checked").
MOMENT_ARM_MM = 40.0
#: Block models: elastic UHMWPE solids with the screws tied in, or rigid (clamped screws).
BLOCK_MODELS = ("uhmwpe", "rigid")


@dataclass(frozen=True)
class F1717Setup:
    """Parameters of the construct (mm, material names of ``implant_materials``).

    ``screw_spacing_mm`` (lateral distance between the two rods) is a parameter of this model,
    not a value from the reference notes; in symmetric compression bending the results do not
    depend on it.
    """

    rod_material: str = "ti6al4v"
    rod_diameter_mm: float = 5.5
    screw_material: str = "ti6al4v"
    screw_diameter_mm: float = 6.5
    active_length_mm: float = ACTIVE_LENGTH_MM
    moment_arm_mm: float = MOMENT_ARM_MM
    screw_spacing_mm: float = 40.0
    rod_segments: int = 16
    blocks: str = "uhmwpe"
    block_modulus_mpa: float | None = None
    block_nu: float | None = None
    screw_length_mm: float = 35.0
    block_size_mm: tuple[float, float, float] = (60.0, 50.0, 30.0)
    block_mesh_mm: float = 2.5
    pin_radius_mm: float = 2.5

    def __post_init__(self) -> None:
        if self.blocks not in BLOCK_MODELS:
            raise ValueError(f"F1717: blocks must be one of {', '.join(BLOCK_MODELS)}, "
                             f"got {self.blocks!r}")
        if self.block_modulus_mpa is not None and not self.block_modulus_mpa > 0:
            raise ValueError(f"F1717: block_modulus_mpa must be > 0, got {self.block_modulus_mpa}")
        if self.block_nu is not None and not -1.0 < self.block_nu < 0.5:
            raise ValueError(f"F1717: block_nu must be in (-1, 0.5), got {self.block_nu}")
        if self.blocks == "rigid" and (self.block_modulus_mpa, self.block_nu) != (None, None):
            raise ValueError("F1717: block_modulus_mpa / block_nu describe elastic blocks; "
                             "they contradict blocks='rigid'")
        for k in ("rod_diameter_mm", "screw_diameter_mm", "active_length_mm", "moment_arm_mm",
                  "screw_spacing_mm", "screw_length_mm", "block_mesh_mm", "pin_radius_mm"):
            if not getattr(self, k) > 0:
                raise ValueError(f"F1717: {k} must be > 0, got {getattr(self, k)}")
        if self.rod_segments < 1:
            raise ValueError("F1717: rod_segments must be >= 1")


@dataclass(frozen=True, eq=False)
class F1717Result:
    """Per newton of applied compression unless stated."""

    stiffness_n_per_mm: float
    rod_stress_per_n_mpa: float
    screw_stress_per_n_mpa: float
    first_yield_load_n: float
    first_yield_part: str
    rod_sections: BeamSectionResults
    screw_sections: BeamSectionResults
    top_displacement_mm: float
    #: wall-clock seconds of the phases: ``locate`` (screw nodes in the blocks), ``hardware``
    #: (the rest of the hardware build), ``assembly`` (pattern and values), ``solve``,
    #: ``results``; the rigid-block model has only ``assembly`` and ``solve``.
    timings: dict = field(default_factory=dict)


def _materials(setup: F1717Setup):
    rod, screw = implant_material(setup.rod_material), implant_material(setup.screw_material)
    for part, m in (("rod", rod), ("screw", screw)):
        if m.nu is None or m.yield_mpa is None:
            from spinesim.errors import MaterialError

            raise MaterialError(f"F1717: {part} material {m.name!r} lacks a sourced "
                                f"{'Poisson ratio' if m.nu is None else 'yield strength'}; "
                                "use ti6al4v or cocr, or add a cited value")
    return rod, screw


def solve_f1717(setup: F1717Setup = F1717Setup()) -> F1717Result:
    """Build and solve the construct under a unit compressive load (1 N).

    Returns stiffness (N/mm), peak rod and screw surface von Mises stress per newton of load
    (MPa/N) and the load (N) at which the first rod or screw surface reaches its yield stress.
    """
    if setup.blocks != "rigid":
        return _solve_elastic_blocks(setup)
    rod_mat, screw_mat = _materials(setup)
    L, d, s, n = setup.active_length_mm, setup.moment_arm_mm, setup.screw_spacing_mm, \
        setup.rod_segments
    z = np.linspace(0.0, L, n + 1)
    rods = [np.column_stack([np.full(n + 1, x), np.zeros(n + 1), z]) for x in (-s / 2, s / 2)]
    pins = np.array([[0.0, d, 0.0], [0.0, d, L]])
    points = np.vstack([*rods, pins])
    layout = DofLayout(0, len(points))
    rod_ids = [np.arange(n + 1), n + 1 + np.arange(n + 1)]
    bottom_pin, top_pin = 2 * (n + 1), 2 * (n + 1) + 1
    e = np.vstack([np.column_stack([ids[:-1], ids[1:]]) for ids in rod_ids])
    x1, x2 = points[e[:, 0]], points[e[:, 1]]
    section = CircularSection(setup.rod_diameter_mm)
    nu = rod_mat.nu
    v_ref = np.broadcast_to([0.0, 1.0, 0.0], x1.shape)  # local y anterior for every rod element
    from spinesim.fem.beam import beam_stiffness

    K = beam_stiffness(x1, x2, rod_mat.E_mpa, nu, section.area, section.inertia, section.polar,
                       section.shear_coefficient(nu), v_ref)
    dofs = np.concatenate([layout.dofs(e[:, 0], range(6)), layout.dofs(e[:, 1], range(6))], axis=1)
    heads_bottom = np.array([rod_ids[0][0], rod_ids[1][0]])
    heads_top = np.array([rod_ids[0][-1], rod_ids[1][-1]])
    mpcs = [rigid_link(layout, bottom_pin, pins[0], heads_bottom, points[heads_bottom],
                       name="lower block"),
            rigid_link(layout, top_pin, pins[1], heads_top, points[heads_top], name="upper block")]
    supports = [Support([bottom_pin], (0, 1, 2, 4, 5), name="lower pin (hinge about x)"),
                Support([top_pin], (0, 1, 4, 5), name="upper pin (slides along z)")]
    empty = Mesh(np.zeros((0, 3)), ())
    model = LinearElasticModel(empty, np.zeros(0), np.zeros(0), supports=supports, mpcs=mpcs,
                               extra_points=points, element_sets=[ElementSet("rods", dofs)],
                               element_values={"rods": K}, solver="direct")
    loads = np.zeros((len(points), 6))
    loads[top_pin, 2] = -1.0  # 1 N compression
    sol = model.solve(node_loads=loads)
    u = sol.node_dofs
    top = -float(u[top_pin, 2])
    rod_res = section_results(x1, x2, rod_mat.E_mpa, nu, section,
                              np.concatenate([u[e[:, 0]], u[e[:, 1]]], axis=1), v_ref=v_ref)
    screw_res = _screw_sections(rod_res, e, heads_bottom, heads_top, x1, x2, v_ref)
    screw_section = CircularSection(setup.screw_diameter_mm)
    rod_stress = float(rod_res.von_mises_max.max())
    screw_stress = float(_max_von_mises(screw_res, screw_section))
    yields = {"rod": rod_mat.yield_mpa / rod_stress, "screw": screw_mat.yield_mpa / screw_stress}
    part = min(yields, key=yields.get)
    return F1717Result(1.0 / top, rod_stress, screw_stress, yields[part], part, rod_res,
                       screw_res, top)


def _screw_sections(rod: BeamSectionResults, e: np.ndarray, heads_bottom: np.ndarray,
                    heads_top: np.ndarray, x1: np.ndarray, x2: np.ndarray,
                    v_ref: np.ndarray) -> BeamSectionResults:
    """Resultants on the screw section at the block face for the four screws: the force and
    moment of the rod end, in a screw frame (x along the screw, anterior +y; y = global z)."""
    from spinesim.fem.beam import local_frames

    R = local_frames(x1, x2, v_ref)
    rows = []
    for heads, end in ((heads_bottom, 0), (heads_top, 1)):
        for h in heads:
            k = int(np.flatnonzero(e[:, end] == h)[0])
            f_loc = np.array([rod.N[k, end], rod.Vy[k, end], rod.Vz[k, end]])
            m_loc = np.array([rod.T[k, end], rod.My[k, end], rod.Mz[k, end]])
            F, M = R[k].T @ f_loc, R[k].T @ m_loc  # global, acting on the rod's positive face
            rows.append((F, M))
    frame = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # screw x, y, z
    fl = np.array([frame @ F for F, _ in rows])
    ml = np.array([frame @ M for _, M in rows])
    two = lambda a: np.repeat(a[:, None], 2, axis=1)  # noqa: E731
    return BeamSectionResults(N=two(fl[:, 0]), Vy=two(fl[:, 1]), Vz=two(fl[:, 2]),
                              T=two(ml[:, 0]), My=two(ml[:, 1]), Mz=two(ml[:, 2]),
                              von_mises_max=np.zeros((len(rows), 2)),
                              theta_max=np.zeros((len(rows), 2)),
                              sigma_at_max=np.zeros((len(rows), 2)),
                              tau_at_max=np.zeros((len(rows), 2)))


def _max_von_mises(res: BeamSectionResults, section: CircularSection) -> float:
    theta = np.linspace(0.0, 2 * np.pi, 721)
    sigma, tau = surface_stresses(res, section, theta)
    return float(np.sqrt(sigma**2 + 3 * tau**2).max())


def block_constants(setup: F1717Setup) -> tuple[float, float]:
    """Young's modulus (MPa) and Poisson's ratio of the elastic test blocks."""
    m = implant_material(setup.blocks)
    E = m.E_mpa if setup.block_modulus_mpa is None else float(setup.block_modulus_mpa)
    nu = m.nu if setup.block_nu is None else float(setup.block_nu)
    return E, nu


def _blocks_mesh(setup: F1717Setup) -> Mesh:
    """Two hex8 blocks, face at y = 0, centred laterally, at z = 0 and z = active length."""
    from spinesim.mesh.generate import box
    from spinesim.mesh.mesh import CellBlock

    W, D, H = setup.block_size_mm
    n = tuple(max(2, int(round(v / setup.block_mesh_mm))) for v in (W, D, H))
    parts = [box((W, D, H), n, "hexahedron", origin=(-W / 2, 0.0, z - H / 2))
             for z in (0.0, setup.active_length_mm)]
    pts = np.vstack([p.points for p in parts])
    cells = np.vstack([parts[0].blocks[0].cells, parts[1].blocks[0].cells + parts[0].n_nodes])
    return Mesh(pts, (CellBlock("hexahedron", cells, 1),), {1: "uhmwpe_block"})


def _solve_elastic_blocks(setup: F1717Setup) -> F1717Result:
    from spinesim.fem.couplings import kinematic_coupling
    from spinesim.model.hardware import Rod, Screw, build_hardware, hardware_results

    rod_mat, screw_mat = _materials(setup)
    if setup.block_size_mm[1] <= setup.moment_arm_mm + setup.pin_radius_mm or \
            setup.block_size_mm[1] <= setup.screw_length_mm:
        raise ValueError("F1717: the block depth must hold the screws and the pin "
                         f"(> {max(setup.moment_arm_mm + setup.pin_radius_mm, setup.screw_length_mm)}"
                         f" mm), got {setup.block_size_mm[1]}")
    mesh = _blocks_mesh(setup)
    L, d, s = setup.active_length_mm, setup.moment_arm_mm, setup.screw_spacing_mm
    screws = [Screw(f"{lvl} {side}", head=(x, 0.0, z), entry=(x, 0.0, z), direction=(0, 1.0, 0),
                    length_mm=setup.screw_length_mm, core_diameter_mm=setup.screw_diameter_mm,
                    outer_diameter_mm=setup.screw_diameter_mm, material=setup.screw_material,
                    n_segments=max(2, int(round(setup.screw_length_mm / setup.block_mesh_mm))))
              for lvl, z in (("lower", 0.0), ("upper", L)) for side, x in (("left", -s / 2),
                                                                          ("right", s / 2))]
    rods = [Rod(f"rod {side}", (f"lower {side}", f"upper {side}"), setup.rod_diameter_mm,
                setup.rod_material, segments_per_span=setup.rod_segments)
            for side in ("left", "right")]
    E_block, nu_block = block_constants(setup)
    E = np.full(mesh.n_solid_cells, E_block)
    t0 = time.perf_counter()
    hw = build_hardware(mesh, screws, rods, E)
    t1 = time.perf_counter()
    pins = np.array([[0.0, d, 0.0], [0.0, d, L]])
    layout = DofLayout(mesh.n_nodes, len(hw.points) + 2)
    bottom_pin, top_pin = layout.n_nodes - 2, layout.n_nodes - 1
    mpcs = list(hw.mpcs)
    for pin, x in ((bottom_pin, pins[0]), (top_pin, pins[1])):
        r = np.hypot(mesh.points[:, 1] - x[1], mesh.points[:, 2] - x[2])
        # at least one mesh layer around the axis, so the ring is not a line of nodes
        ring = np.flatnonzero(r <= max(setup.pin_radius_mm, setup.block_mesh_mm) + 1e-9)
        mpcs.append(kinematic_coupling(layout, pin, x, ring, mesh.points, name=f"pin {pin}"))
    supports = [Support([bottom_pin], (0, 1, 2, 4, 5), name="lower pin (hinge about x)"),
                Support([top_pin], (0, 1, 4, 5), name="upper pin (slides along z)")]
    model = LinearElasticModel(mesh, E, nu_block, supports=supports, mpcs=mpcs,
                               extra_points=np.vstack([hw.points, pins]),
                               element_sets=hw.element_sets, element_values=hw.element_values)
    t2 = time.perf_counter()
    loads = np.zeros((layout.n_extra, 6))
    loads[-1, 2] = -1.0
    sol = model.solve(node_loads=loads)
    t3 = time.perf_counter()
    sections, _ = hardware_results(hw, sol)  # reads the hardware nodes only (pins come after)
    rod_res, screw_res = sections["rod_beams"], sections["screw_beams"]
    rod_stress = float(rod_res.von_mises_max.max())
    screw_stress = float(screw_res.von_mises_max.max())
    yields = {"rod": rod_mat.yield_mpa / rod_stress, "screw": screw_mat.yield_mpa / screw_stress}
    part = min(yields, key=yields.get)
    top = -float(sol.node_dofs[-1, 2])
    timings = {"locate": hw.timings["locate"], "hardware": (t1 - t0) - hw.timings["locate"],
               "assembly": t2 - t1, "solve": t3 - t2, "results": time.perf_counter() - t3,
               "dofs": model.layout.n_dofs, "cells": mesh.n_solid_cells}
    return F1717Result(1.0 / top, rod_stress, screw_stress, yields[part], part, rod_res,
                       screw_res, top, timings)
