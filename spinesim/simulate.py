"""The coupled healing timeline of a fused segment: graft healing, screw loosening and rod
fatigue racing each other week by week (issue 6, "The coupled timeline").

:func:`run_timeline` builds the segment model of a scenario once and then, for every timeline
step (``timeline.step_weeks``, default one week) from week 0 to ``timeline.weeks``:

1. graft moduli from the healing state (:func:`spinesim.failure.healing.tissue_properties`;
   with ``healing.cells.migration`` mixed with granulation tissue by each graft cell's cell
   concentration, :mod:`spinesim.failure.cell_migration`) and the screw-bone interface
   stiffness from the loosening state
   (:func:`spinesim.model.hardware.interface_values`), each only when it changed, refilled
   together by ``model.update`` (pattern reused, one factorization);
2. one linear solve per active activity (peak of one cycle: the activity's moment plus its
   compression on the reference node, as :meth:`ActivityLoad.load_case`), and one solve of
   the protocol moment in flexion for the ROM;
3. rod and screw fatigue damage of the step's cycles (:func:`cycles_between`), accumulated per
   beam-end surface point (Palmgren-Miner);
4. graft strains -> :func:`spinesim.failure.healing.step`; screw micromotion ->
   :meth:`LooseningRule.step`; with cell migration the cells' diffusion over the step;
   bridging check (:meth:`spinesim.failure.bridging.GraftTopology.bridging`; the graft's
   volumes, adjacency and endplate cells built once per run; with cell migration a cell's
   bone counts only from ``healing.cells.bone_concentration``).

Stresses, micromotion and ROM of a row are those of the state at the *start* of its step; the
bone fraction, bridging and loosening columns are the state at its *end*.

Modelling choices (each a deliberate approximation):

* **Linear model, no soft tissue (default).** With ``timeline.soft_tissue = false`` the
  segment has no ligaments and no facet contact (the annulus fibres are already absent after
  discectomy). The model is then linear, so each load case is one solve with the factorization
  of the week (no active-set iterations), and superposition holds. In a rod-and-cage construct
  the ligaments and facets carry a small share of the load; leaving them out lets the hardware
  and graft carry all of it, i.e. rod stress, micromotion and graft strain err on the high
  (conservative) side. ``timeline.soft_tissue = true`` keeps them: every load case of a
  changed week is solved by the active set (tension-only ligaments, compression-only facet contact;
  :func:`spinesim.fem.active_set.solve_active_set`, factorizations updated by the switched
  springs, :mod:`spinesim.fem.low_rank`), the
  contact state following the healing graft week by week; superposition then does not hold.
* **Cage bonded to the endplates (default).** The generated mesh is conforming, so the cage
  carries tension across the endplates as well as compression. ``cage.interface =
  "contact"`` gives it compression-only contact, held in shear
  (:mod:`spinesim.model.cage_interface`); the timeline then condenses the contact springs
  with the graft and the screw ties and solves each case's contact on the condensed system
  (:func:`spinesim.fem.active_set.solve_condensed_active_set`, warm-started from the case's
  last contact set), with soft tissue by the active set on the full model.
* **Zero-to-peak cycles.** Each activity cycle goes from rest to its peak and back: at every
  rod (screw) surface point the amplitude is half the peak stress and the mean is half the peak
  stress (:func:`spinesim.failure.fatigue.section_fatigue` with a zero baseline; von Mises of
  the normal and shear amplitudes, signed normal mean, Goodman/Gerber/Soderberg from
  ``fatigue.mean_stress``). The surface point of a beam end is the point of largest von Mises
  stress of *each* case (``BeamSectionResults.sigma_at_max``), so cases loading different sides
  of a rod are summed as if at one point (conservative). Cycles between activities are not
  counted (section_fatigue's caveat).
* **Rod S-N curve** with ``hardware.rod.notch_factor`` and ``fatigue.surface_factor`` /
  ``size_factor``; **screw S-N curve** with the surface and size factors only: no thread notch
  factor is sourced, so screw damage is for a smooth shank (unconservative).
* **Healing stimulus.** Fluid velocity is taken as 0 (spinesim is not poroelastic; see
  :mod:`spinesim.failure.healing`: Prendergast-Lacroix then runs on the octahedral shear
  strain alone, optimistic). Per graft element the strain (and, for Claes-Heigele, the
  pressure) of the activity with the largest principal strain magnitude in that element is
  used: the week's peak. A step without load cycles leaves the graft state unchanged: the
  rules would classify zero stimulus as bone, which would be bone formation driven by no load.
  The graft's elastic constants are the drained ones (the long-time response) unless
  ``graft.drainage = "undrained"`` (Biot's short-time limit, which the soft phases are in at
  activity rates: :mod:`spinesim.failure.graft_drainage`); the pressure the Claes-Heigele
  rule sees is then mostly pore pressure.
* **Loosening** uses each tied node's largest micromotion over the week's activities.
* **Screw pullout** (:mod:`spinesim.failure.pullout`): each screw's pullout load (the axial
  component of the bone's interface forces on it, N) at every loaded activity peak of the
  step, against that screw's pullout strength, predicted from the shear strength of the bone
  its thread holds in (:func:`pullout_strengths`; or ``loosening.pullout_strength_n``);
  reaching it is a static failure of the fixation.

* **Healing modifiers.** The clinical odds ratios of pseudarthrosis (smoking, age, extra
  levels, osteoporosis, graft type: ``healing.modifiers.*``) multiply into one odds ratio that
  divides the healing rate (:func:`healing_rate`), a modelling choice stated there.
* **Reuse across weeks.** The model is linear in each week, so all activity peaks and the ROM
  cases are one multi-right-hand-side solve with the week's factorization; a week whose graft
  and interface state did not change reuses last week's responses unchanged (exact, no
  re-solve), and a changed week refactorizes numerically only (PARDISO keeps the ordering and
  symbolic analysis of the unchanged pattern). Graft strains come from precomputed mean
  shape-function gradients of the graft cells only.
* **Condensation.** With ``fields=False`` and a segment reused from an earlier case (sweeps
  and Monte Carlo; or ``condense=True``: the first case of a model that later cases share,
  :func:`spinesim.outcomes.run_shared_case`), the weeks are solved on the model condensed
  onto the DOFs that change, the graft cells' nodes and the screw-bone ties
  (:class:`spinesim.fem.condense.CondensedModel`): one factorization and about a thousand
  right-hand sides once per segment, shared by every later case of the same segment, then
  one dense solve of that size per changed week. A single run condenses too once it has
  refactorized :data:`~spinesim.timeline_model.CONDENSE_AFTER_FACTORIZATIONS` times and only
  its screw interfaces still change (progressive loosening changes them every week). Exact
  (equal to the refactorizing path to round-off, tested); a VTU week's full displacement
  field costs one more solve with the condensation's factorization.

A multi-level fusion (``segment.levels = "L3-L5"``: a cage and graft in every disc space,
screws in every vertebra, rods over all of them) unites when the graft of every level has
bridged its own two endplates (:func:`spinesim.failure.bridging.fusion_topology`). A
``posterolateral`` construct keeps the disc and heals a graft between the transverse processes
on each side; it is bridged when bone links the processes' facing faces
(:func:`graft_surfaces`), and until then the rods carry the segment.

Not modelled here (left out): ``graft.volume_fraction``, imported meshes (``segment.mesh``, no
screws), the intact reference unless ``output.intact_reference`` (the nonlinear intact
model).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from spinesim.errors import SpinesimError
from spinesim.failure import healing
from spinesim.failure.bridging import fusion_topology
from spinesim.failure.cell_migration import CellMigration, cell_migration
from spinesim.failure.fatigue import SNCurve, fails_statically, section_fatigue, sn_curve
from spinesim.failure.loosening import loosening_rule
from spinesim.failure.pullout import thread_shape_factor, tie_pullout_strengths_n
from spinesim.fem.post import cell_strain_operator
from spinesim.mesh.mesh import Mesh
from spinesim.model.activity import activity_spectrum, cycles_between
from spinesim.model.hardware import Interface, Screw
from spinesim.model.implant_materials import implant_material
from spinesim.model.loadcases import LoadCase, moment_load_cases
from spinesim.model.segment import Segment, SegmentOptions, build_segment, case_loads
from spinesim.scenario import Scenario
from spinesim.scenario_schema import field as schema_field
from spinesim.timeline_model import (Response, WeeklyModel, bonded_interfaces, cached_segment,
                                     solve_cases)
from spinesim.verdicts import (
    VERDICT_KEYS,
    lasting_union_week,
    nonunion_horizon,
    pullout_summary,
    timeline_verdicts,
)

log = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "ROM_COLUMNS",
    "ROM_DIRECTIONS",
    "TIMELINE_CONSTRUCTS",
    "VERDICT_KEYS",
    "TimelineResult",
    "day0_activity_peaks",
    "graft_state_segment",
    "graft_surfaces",
    "graft_tissue",
    "healing_odds_ratio",
    "healing_rate",
    "healing_rule",
    "lasting_union_week",
    "nonunion_horizon",
    "run_timeline",
    "segment_options",
    "solve_cases",
]

#: Constructs the timeline runs on: a graft to heal and screws and rods to load.
TIMELINE_CONSTRUCTS = ("bilateral-cage", "unilateral-cage", "posterolateral")
#: Columns of :attr:`TimelineResult.timeline`, in order.
#: Directions of the protocol-moment ROM columns (one-sided, deg).
ROM_DIRECTIONS = ("flexion", "extension", "lateral_bending_left", "axial_rotation_left")
ROM_COLUMNS = ("flexion", "extension", "lateral_bending", "axial_rotation")
COLUMNS = ("week", "graft_bone_fraction", "bridged", "max_graft_shear_strain",
           "max_rod_stress_amplitude_mpa", "rod_damage", "screw_damage", "max_micromotion_um",
           "loosened_screws",
           *(f"rom_{c}_deg" for c in ROM_COLUMNS))


@dataclass(frozen=True, eq=False)
class TimelineResult:
    """Result of :func:`run_timeline`.

    Attributes
    ----------
    timeline : pandas.DataFrame
        One row per step. First the columns :data:`COLUMNS`: week (end of the step, weeks),
        graft bone fraction (-, by volume), bridged (bool; in a multi-level fusion every
        level bridged, and per level the columns ``bridged_<L4_L5>`` and
        ``graft_bone_fraction_<L4_L5>`` further on), largest octahedral shear strain
        in the graft over the step's activity peaks (-), largest rod von Mises stress
        amplitude of the step (MPa), cumulative Miner damage of the most damaged rod and screw
        surface point (-), largest screw-bone micromotion (µm), number of loosened screws, ROM
        under the protocol moment and preload in flexion, extension, lateral bending and
        axial rotation (deg, one-sided). Then the largest peak von Mises stress of rods and
        screws under the step's activities (``max_rod_stress_mpa``, ``max_screw_stress_mpa``,
        MPa) and whether a rod or screw fails statically in the step (``rod_overloaded``,
        ``screw_overloaded``, bool), and the volume-weighted median of the graft elements'
        octahedral shear strain (``median_graft_shear_strain``, -, 0 in a step without load
        cycles; unlike the maximum, which sits at the graft's corners against the stiff cage
        and endplates and grows as the mesh is refined, the median converges: README
        "Verification"), the largest pullout and transverse load of any screw over the
        step's loaded activity peaks (``max_screw_pullout_n``, ``max_screw_transverse_n``, N;
        :mod:`spinesim.failure.pullout`; 0 when every screw is pushed into the bone), the
        share of the fusion area bridged by bone (``graft_bridged_area_fraction``, -: the
        narrowest cross-section of the bone linking the endplates over the graft's, 0 when not
        bridged, the least of the levels in a multi-level fusion, per level
        ``graft_bridged_area_fraction_<L4_L5>``; CT grade I above 0.5,
        :func:`spinesim.failure.bridging.ct_grade`). Per
        screw ``micromotion_<screw>_um`` (µm, largest over its tied nodes),
        ``pullout_<screw>_n`` (N, its largest pullout load), ``interface_factor_<screw>``
        (mean interface stiffness over its tied nodes as a fraction of bonded: 1 bonded,
        ``loosening.fibrous_stiffness_fraction`` loose), ``loosened_share_<screw>`` (-,
        share of its tied nodes below ``loosening.loosened_factor`` of their day-0
        stiffness; the screw counts as loosened from ``loosening.screw_share``),
        per active activity ``activity_rom_<activity>_deg`` (rotation of the top vertebra
        about the activity's moment axis at its peak, deg), per tissue phase
        ``fraction_<phase>`` (-, share of graft elements whose dominant
        phase it is, by volume), and with the Prendergast-Lacroix rule
        ``graft_resorption_window_fraction`` (-, share of the graft by volume whose stimulus
        lies in the rule's resorption window, S <= 0.01; those elements count as mature bone
        unless ``healing.prendergast.resorption``,
        :func:`spinesim.failure.healing.resorption_window_share`).
    verdicts : dict
        :data:`VERDICT_KEYS` -> ``{"fails": bool, "week": int | None, "driver": str,
        "value": float, "threshold": float}`` (see :func:`run_timeline`).
    info : dict
        Model size, build and per-step seconds, solves and factorizations, where the steps'
        time went (``refill_s``: matrix refills; ``solve_s``: solves including the
        factorizations they start; ``factorize_s``: those factorizations alone, 0 for a
        condensed or soft-tissue solve; seconds summed over the run), whether the weeks
        were ``condensed`` (``condensed_dofs``; ``condense_setup_s``, 0 when an earlier case
        built it; ``condensed_from_week``, None if never), healing rate and odds ratio, the
        modelling choices, and ``fatigue``: per part (``rod``, ``screw``) under the last
        week's responses and activity, ``damage_per_year`` (-/year), ``years_to_crack`` (from
        the damage collected; inf without damage) and ``cycles_to_crack`` (all activity
        cycles until then),
        ``critical_point_mm`` (beam-end position of the critical surface point),
        ``safety_factor`` (effective endurance limit over the largest equivalent amplitude)
        and ``max_equivalent_amplitude_mpa``, ``static_overload`` (a point fails statically;
        years and safety factor 0 there); ``intact_rom_deg`` (ROM of the intact segment per
        direction and ``activity_<name>`` under each activity's peak, deg, with
        ``output.intact_reference``, else None); ``pullout``: each screw's pullout strength
        (``strengths_n``, N, by column-name screw key, :func:`pullout_strengths`), the
        largest pullout and transverse loads of any screw over the timeline
        (``max_pullout_n``, ``max_transverse_n``, N), the screw nearest to pulling out
        (``critical_screw``: the smallest strength over its largest pullout load; None when
        no screw is pulled), that load (``critical_pullout_n``, N), its strength
        (``strength_n``, N; the smallest strength when no screw is pulled, None without
        screws) and that ``safety_factor`` (inf when no screw is pulled).
    fields : dict
        Week of ``output.vtu_weeks`` -> fields at the *start* of that week (the last week: at
        the end of the timeline): ``displacement_mm`` (n_nodes, 3) under the peak of the
        heaviest activity (``activity``), per solid cell ``von_mises_mpa``, ``E_mpa``, ``nu`` and
        ``tissue_level`` (healing maturity level of graft cells, -1 elsewhere), with
        ``healing.cells.migration`` ``cell_concentration`` (of graft cells, 0-1; -1
        elsewhere), and per tied screw node ``interface_factor``.
    mesh : Mesh
        The segment mesh the fields live on.
    hardware_segments : (m, 2, 3) array
        End points (mm) of every rod and screw beam element, for drawing the hardware.
    """

    timeline: pd.DataFrame
    verdicts: dict
    info: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    mesh: object = None
    hardware_segments: np.ndarray | None = None


def _resolution(value: Any) -> float:
    """A ``resolution`` argument (overriding ``segment.resolution``) checked like that key:
    a number (not a string or a bool) in its range; SpinesimError naming the argument."""
    from spinesim.scenario_schema import FieldValueError, check

    try:
        return check(schema_field("segment.resolution"), value)
    except FieldValueError as exc:
        raise SpinesimError(f"resolution argument: {exc}") from None


def _timeline_weeks(scenario: Scenario, weeks: Any) -> float:
    """Length of a timeline (weeks): ``timeline.weeks``, or the ``weeks`` argument, which may
    be fractional but must be a number (not a string or a bool) in (0, the largest
    ``timeline.weeks``]: a longer one would run for hours (a million weeks: days)."""
    if weeks is None:
        return float(scenario.get("timeline.weeks"))
    most = schema_field("timeline.weeks").high
    value = weeks.item() if isinstance(weeks, np.generic) else weeks
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not (math.isfinite(value) and 0 < value <= most):
        raise SpinesimError(f"weeks = {weeks!r} must be a number of weeks > 0 and at most "
                            f"{most:g} (the range of timeline.weeks)")
    return float(value)


def graft_surfaces(construct: str, upper: str, lower: str) -> tuple[str, str]:
    """Names of the node sets a fused level's graft must bridge between, (upper, lower), for
    the vertebrae ``upper`` and ``lower``: their endplates for an interbody graft, the facing
    faces of their transverse processes for a ``posterolateral`` one."""
    if construct == "posterolateral":
        return f"{upper}_transverse_inferior", f"{lower}_transverse_superior"
    return f"{upper}_inferior_endplate", f"{lower}_superior_endplate"


def segment_options(scenario: Scenario, resolution: float | None = None) -> SegmentOptions:
    """The :class:`SegmentOptions` of a scenario for the timeline (soft tissue only with
    ``timeline.soft_tissue``, see the module notes); ``resolution`` overrides
    ``segment.resolution``.

    Raises
    ------
    SpinesimError
        A construct without graft or screws or an imported mesh; a screw thinner than the
        default core diameter without a core diameter; a cage footprint without a 1 mm wall
        around the graft window; a ``resolution`` that is not a number in the range of
        ``segment.resolution``.
    """
    construct = scenario.get("segment.construct")
    if construct not in TIMELINE_CONSTRUCTS:
        raise SpinesimError(f"segment.construct = {construct!r}: the fused-segment analyses "
                            "(timeline, load histories, screw pullout) need a graft and screws; "
                            f"allowed: {', '.join(TIMELINE_CONSTRUCTS)}")
    if scenario.get("segment.mesh") is not None:
        raise SpinesimError("segment.mesh: imported meshes have no screws; the timeline runs "
                            "on generated segments only")
    d = SegmentOptions()

    def g(key: str) -> Any:  # a cage key of a cage-less construct: the builder's default
        return scenario.get(key) if scenario.applies(key) else None

    quality = g("bone.quality")
    outer, core = g("hardware.screw.diameter_mm"), g("hardware.screw.core_diameter_mm")
    if core is None and outer <= d.screw_core_diameter_mm:
        raise SpinesimError(f"hardware.screw.diameter_mm = {outer} mm leaves no thread around "
                            f"the default core diameter {d.screw_core_diameter_mm} mm "
                            "(hardware.screw.core_diameter_mm unset): give a core diameter "
                            "below the outer one")
    for key, window in zip(("cage.width_mm", "cage.depth_mm"), d.graft_window_mm):
        size = g(key)
        if size is not None and size < window + 2.0:
            raise SpinesimError(f"{key} = {size} mm leaves no 1 mm wall around the graft window "
                                f"({window:g} mm that way); allowed from {window + 2.0:g} mm")
    return SegmentOptions(
        levels=g("segment.levels"), construct=construct,
        resolution=g("segment.resolution") if resolution is None else _resolution(resolution),
        bone_quality=quality,
        rho_app_g_cm3=g("bone.apparent_density_g_cm3") if quality == "healthy" else None,
        density_relation=g("bone.density_relation") or d.density_relation,
        cancellous_scale=g("bone.cancellous_modulus_scale"),
        posterior_scale=g("bone.posterior_modulus_scale"),
        rod_material=g("hardware.rod.material"), rod_diameter_mm=g("hardware.rod.diameter_mm"),
        screw_material=g("hardware.screw.material"),
        screw_diameter_mm=g("hardware.screw.diameter_mm"),
        screw_core_diameter_mm=core or d.screw_core_diameter_mm,
        screw_length_mm=g("hardware.screw.length_mm"),
        cage_material=g("cage.material") or d.cage_material,
        cage_width_mm=g("cage.width_mm") or d.cage_width_mm,
        cage_depth_mm=g("cage.depth_mm") or d.cage_depth_mm, cage_height_mm=g("cage.height_mm"),
        interface_scale=g("loosening.bonded_tie_factor") / Interface().tie_factor,
        soft_tissue=bool(g("timeline.soft_tissue")),
        cage_interface=g("cage.interface") or d.cage_interface,
        dimensions=dims.items if (dims := g("segment.dimensions")) is not None else ())


def protocol_cases(scenario: Scenario) -> list[LoadCase]:
    """The ROM load cases of the in-vitro protocol: ``protocol.moment_nm`` (N·m) in each of
    :data:`ROM_DIRECTIONS`, with the follower preload ``protocol.preload_n`` (N)."""
    return moment_load_cases(scenario.get("protocol.moment_nm"),
                             scenario.get("protocol.preload_n"), ROM_DIRECTIONS)


def healing_rule(scenario: Scenario) -> healing.Rule:
    """The mechanoregulation rule of ``healing.rule`` with its scenario parameters."""
    name = scenario.get("healing.rule")
    if name == "prendergast":
        return healing.PrendergastLacroix(
            a=scenario.get("healing.prendergast.a"),
            b_mm_s=1e-3 * scenario.get("healing.prendergast.b_um_s"),
            resorption=bool(scenario.get("healing.prendergast.resorption")))
    if name == "claes":
        return healing.ClaesHeigele(bone_strain=scenario.get("healing.claes.bone_strain"),
                                    cartilage_strain=scenario.get("healing.claes.cartilage_strain"),
                                    pressure_mpa=scenario.get("healing.claes.pressure_mpa"))
    preset = scenario.get("healing.strain_window.preset")
    if preset != "perren":
        raise SpinesimError(f"healing.strain_window.preset = {preset!r}; allowed: 'perren'")
    return healing.perren()


def _curve(scenario: Scenario, material: str, notch: float | None) -> tuple[SNCurve, float,
                                                                             float | None]:
    """S-N curve (scenario constants and knock-downs), UTS and yield (MPa) of ``material``."""
    def factor(key: str) -> float | None:
        v = scenario.get(key)
        return None if v is None or v == 1.0 else float(v)

    curve = sn_curve(material, sigma_f_mpa=scenario.get(f"fatigue.{material}.sigma_f_mpa"),
                     endurance_mpa=scenario.get(f"fatigue.{material}.endurance_mpa"),
                     surface_factor=factor("fatigue.surface_factor"),
                     size_factor=factor("fatigue.size_factor"),
                     notch_factor=None if notch is None or notch == 1.0 else float(notch))
    mat = implant_material(material)
    return curve, float(mat.uts_mpa), mat.yield_mpa


def _static_split(results: list, cycles: np.ndarray, curve: tuple
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Surface stresses (n, 2, K) of one part's cases with the points that fail statically
    zeroed, that mask (n, 2), and the peak von Mises stress (n, 2) over the cases.

    A point fails statically when a case with cycles reaches the ultimate strength at its peak
    (von Mises ``sqrt(sigma^2 + 3 tau^2) >= UTS``) or its mean stress reaches the
    mean-stress limit (UTS, or the yield strength for Soderberg), beyond which no S-N curve
    applies: the part fractures on the first such load instead of accumulating damage."""
    sigma = np.stack([r.sigma_at_max for r in results], axis=-1)
    tau = np.stack([r.tau_at_max for r in results], axis=-1)
    _, uts, yield_, method = curve
    cycled = np.asarray(cycles) > 0
    peak = np.sqrt(sigma * sigma + 3.0 * tau * tau)
    over = fails_statically(peak, 0.5 * sigma, uts, yield_, method) & cycled
    static = over.any(axis=-1)
    if static.any():
        sigma = np.where(static[..., None], 0.0, sigma)
        tau = np.where(static[..., None], 0.0, tau)
    return sigma, tau, static, peak.max(axis=-1, initial=0.0)


def _damage(results: list, cycles: np.ndarray, curve: tuple
            ) -> tuple[np.ndarray, float, float, bool]:
    """Miner damage per beam-end surface point (n, 2) of one step's cycles (one count per
    case in ``cycles``), the largest von Mises stress amplitude and peak stress (MPa), and
    whether a point fails statically (:func:`_static_split`; its damage is left out),
    zero-to-peak cycles (module notes); ``curve`` is (SNCurve, UTS, yield, mean-stress
    method)."""
    sigma, tau, static, peak = _static_split(results, cycles, curve)
    sn, uts, yield_, method = curve
    fat = section_fatigue(sigma, tau, cycles, sn, uts, yield_, method=method)
    return (fat.damage_per_year, float(0.5 * peak.max(initial=0.0)),
            float(peak.max(initial=0.0)), bool(static.any()))


def _peak_strain(responses: list[Response]) -> tuple[np.ndarray, np.ndarray]:
    """Per graft element, strain and pressure of the activity with the largest principal
    strain magnitude in it."""
    eps = np.stack([r.graft_strain for r in responses])            # (K, n, 3, 3)
    p = np.stack([r.graft_pressure for r in responses])            # (K, n)
    pick = healing.max_abs_principal_strain(eps).argmax(axis=0)   # (n,)
    n = np.arange(eps.shape[1])
    return eps[pick, n], p[pick, n]


def _fatigue_summary(results: list, cycles_per_year: np.ndarray, curve: tuple,
                     cumulative: np.ndarray | None, critical: float, beams: dict) -> dict:
    """Fatigue outputs of one part (rods or screws) at the end of the timeline, under the last
    week's responses and activity: Miner damage per year (-/year) and years to the first crack
    (from the damage already collected) and the activity cycles until then at the critical
    surface point, its position (mm), the smallest safety factor against the effective
    endurance limit (-), the largest equivalent amplitude (MPa) of the points that do not fail
    statically, and whether some point fails statically (``static_overload``: years and
    safety factor 0 there)."""
    sigma, tau, static, _ = _static_split(results, cycles_per_year, curve)
    sn, uts, yield_, method = curve
    fat = section_fatigue(sigma, tau, cycles_per_year, sn, uts, yield_, method=method)
    done = np.zeros_like(fat.damage_per_year) if cumulative is None else cumulative
    with np.errstate(divide="ignore", invalid="ignore"):
        years = np.where(fat.damage_per_year > 0,
                         np.maximum(critical - done, 0.0) / fat.damage_per_year, np.inf)
    years[static] = 0.0  # fractures on the first load
    safety = np.where(static, 0.0, fat.safety_factor)
    i = np.unravel_index(int(np.argmin(np.where(np.isfinite(years), years, np.inf)
                                       - 1e-12 * fat.damage_per_year)), years.shape)
    if not np.isfinite(years).any():  # no damage anywhere: the point of least safety
        i = np.unravel_index(int(np.argmin(safety)), years.shape)
    end = beams["x1"] if i[1] == 0 else beams["x2"]
    return {"damage_per_year": float(fat.damage_per_year.max()),
            "years_to_crack": float(years[i]),
            "cycles_to_crack": float(years[i] * cycles_per_year.sum()),
            "critical_point_mm": [round(float(v), 3) for v in end[i[0]]],
            "safety_factor": float(safety.min()),
            "max_equivalent_amplitude_mpa": float(fat.sigma_ar.max()),
            "static_overload": bool(static.any())}


def intact_rom(scenario: Scenario, resolution: float | None = None,
               activities: tuple = ()) -> dict[str, float]:
    """ROM (deg, one-sided) of the intact segment with the scenario's levels, bone and mesh
    under the protocol moment and preload (:func:`protocol_cases`; from the preloaded
    position), per :data:`ROM_COLUMNS` direction: the nonlinear model with ligaments, annulus
    fibres and facet contact (:func:`spinesim.model.segment.solve_rom`).

    With ``activities`` (:class:`spinesim.model.activity.ActivityLoad`), also the rotation
    (deg) about each activity's moment axis under its peak (moment and compression), keyed
    ``activity_<name>``, as the timeline's ``activity_rom_<name>_deg`` columns of the fused
    segment."""
    from spinesim.model.segment import solve_rom

    opts = replace(segment_options(scenario, resolution), construct="intact", soft_tissue=True)
    seg = build_segment(opts)
    cases = protocol_cases(scenario)
    res = solve_rom(seg, cases)
    out = {c: float(res[d].rom_deg) for c, d in zip(ROM_COLUMNS, ROM_DIRECTIONS)}
    # the rotation under each activity's whole peak, as the timeline's
    peaks = [replace(a.load_case(), name=f"activity_{a.name}") for a in activities]
    out.update({name: float(r.rom_deg) for name, r in
                solve_rom(seg, peaks, from_preloaded=False).items()})
    return out


def healing_odds_ratio(scenario: Scenario) -> float:
    """Product of the clinical odds ratios of pseudarthrosis that apply to the patient
    (``healing.modifiers.*``: smoking, age over the reference age, extra fused levels,
    osteoporosis, graft type; values and sources in the scenario schema, [Boon24]).

    Raises
    ------
    SpinesimError
        The product is 0 or infinite in floating point (e.g. an age odds ratio of 1e-4 per
        year over 80 years), naming the factors that make it.
    """
    g = scenario.get
    terms = [("healing.modifiers.graft_odds_ratio", 1.0)]  # (key, exponent)
    if g("healing.modifiers.smoker"):
        terms.append(("healing.modifiers.smoking_odds_ratio", 1.0))
    age = g("healing.modifiers.age_years")
    if age is not None:
        terms.append(("healing.modifiers.age_odds_ratio_per_year",
                      float(age - g("healing.modifiers.reference_age_years"))))
    terms.append(("healing.modifiers.levels_odds_ratio", float(len(scenario.vertebrae) - 2)))
    if g("bone.quality") == "osteoporotic":
        terms.append(("healing.modifiers.osteoporosis_odds_ratio", 1.0))
    log_odds = math.fsum(n * math.log(float(g(key))) for key, n in terms if n != 0.0)
    if not abs(log_odds) < 700.0:  # exp(+-700): inside the float range with a margin
        used = ", ".join(f"{key} = {g(key)}" + (f" ** {n:g}" if n != 1.0 else "")
                         for key, n in terms if n != 0.0)
        raise SpinesimError(f"the healing odds ratio {used} is exp({log_odds:.4g}), outside "
                            "the floating-point range: the healing rate would be 0 or "
                            "infinite; give odds ratios nearer 1")
    odds = 1.0
    for key, n in terms:  # the product itself, as it always was computed
        odds *= float(g(key)) if n == 1.0 else float(g(key)) ** n
    return float(odds)


def healing_rate(scenario: Scenario) -> float:
    """Tissue-phase steps per week: ``healing.rate_per_week`` divided by
    :func:`healing_odds_ratio`. Mapping an odds ratio onto a rate is a modelling choice made
    here (the reference gives odds ratios and asks that their mapping be stated): a patient
    with three times the odds of nonunion differentiates three times slower, so the graft
    stays soft, and the rods loaded, for three times as long."""
    return float(scenario.get("healing.rate_per_week")) / healing_odds_ratio(scenario)


def graft_tissue(scenario: Scenario) -> dict[str, Any]:
    """The scenario's keywords of :func:`healing.tissue_properties`: the day-0 granulation
    modulus ``graft.initial_modulus_mpa`` (MPa), whether the phases are undrained
    (``graft.drainage``) and, with ``healing.prendergast.resorption``, the resorbed tissue's
    modulus (MPa) and Poisson's ratio."""
    out = {"granulation_E_mpa": scenario.get("graft.initial_modulus_mpa"),
           "undrained": scenario.get("graft.drainage") == "undrained"}
    if scenario.applies("healing.prendergast.resorption") \
            and scenario.get("healing.prendergast.resorption"):
        out.update(resorption_E_mpa=scenario.get("healing.prendergast.resorbed_modulus_mpa"),
                   resorption_nu=scenario.get("healing.prendergast.resorbed_poisson"))
    return out


def graft_state_segment(scenario: Scenario, resolution: float | None = None,
                        graft_level: float = 0.0) -> Segment:
    """The scenario's segment (built once per process and options, as the timeline's) with
    every graft cell at tissue maturity ``graft_level`` (0 granulation tissue, the day-0
    graft, ... :attr:`healing.Phase.MATURE_BONE` fused; :func:`healing.tissue_properties`,
    drained or undrained as ``graft.drainage``) and every screw interface bonded, ready to
    solve."""
    seg, _ = cached_segment(segment_options(scenario, resolution))
    cells = np.flatnonzero(seg.geometry.mesh.cells_in_region("graft"))
    E, nu = seg.E.copy(), seg.nu.copy()
    E[cells], nu[cells] = healing.tissue_properties(np.full(len(cells), float(graft_level)),
                                                    **graft_tissue(scenario))
    seg.model.update(E=E, nu=nu, **bonded_interfaces(seg))
    return seg


def day0_activity_peaks(scenario: Scenario | None = None, resolution: float | None = None
                        ) -> tuple[Segment, list, list]:
    """The scenario's day-0 segment (:func:`graft_state_segment` at granulation tissue, screws
    bonded; default scenario :meth:`Scenario.default`), its active activities
    (:meth:`ActivitySpectrum.active`) and the solution under each activity's peak (moments
    in N·m and compression in N at the edge, mm internally)."""
    scenario = Scenario.default() if scenario is None else scenario
    seg = graft_state_segment(scenario, resolution, 0.0)
    active = activity_spectrum(scenario).active()
    return seg, active, solve_cases(seg, [case_loads(seg, a.load_case()) for a in active])


def pullout_strengths(scenario: Scenario, seg: Segment) -> dict[str, float]:
    """Pullout strength (N) of each screw of ``seg`` (built from ``scenario``), by screw
    name: ``loosening.pullout_strength_n`` for every screw when set, else predicted from the
    bone its thread holds in (:func:`spinesim.failure.pullout.tie_pullout_strengths_n`: the
    thread shape factor of the screw's outer and core diameter and
    ``hardware.screw.thread_pitch_mm``, the shear strength
    ``loosening.bone_shear_strength_ratio`` x yield strain x the modulus of each tied node's
    bone cell). Empty without screws."""
    hw = seg.hardware
    if hw is None or not hw.ties:
        return {}
    outer, tsf = thread_geometry(scenario, seg)
    return tie_pullout_strengths_n(hw.ties, seg.E, outer, tsf,
                                   ratio=scenario.get("loosening.bone_shear_strength_ratio"),
                                   given=scenario.get("loosening.pullout_strength_n"))


def thread_geometry(scenario: Scenario, seg: Segment) -> tuple[float, float]:
    """Outer (crest) diameter (mm) and thread shape factor (-,
    :func:`spinesim.failure.pullout.thread_shape_factor`) of the segment's screws, with the
    pitch ``hardware.screw.thread_pitch_mm``."""
    o = seg.options
    pitch = scenario.get("hardware.screw.thread_pitch_mm") or Screw.thread_pitch_mm
    return o.screw_diameter_mm, thread_shape_factor(o.screw_diameter_mm,
                                                    o.screw_core_diameter_mm, pitch)


@dataclass(frozen=True)
class _GraftCells:
    """The graft's cell concentration in a timeline with ``healing.cells.migration``
    (:mod:`spinesim.failure.cell_migration`): the operator, the concentration per graft cell
    (0-1), the diffusion coefficient slowed by the healing odds ratio (mm^2/day) and the
    concentration from which a cell's bone counts."""

    migration: CellMigration
    concentration: np.ndarray
    diffusion: float
    bone_concentration: float

    @classmethod
    def of(cls, scenario: Scenario, mesh: Mesh, graft: np.ndarray,
           endplates: list[tuple[str, str]]) -> "_GraftCells | None":
        """Day 0 of the scenario's cell migration, or None without ``healing.cells.migration``
        (cells everywhere: the graft's phases alone). The cells come from every fused
        level's two endplates; D is divided by :func:`healing_odds_ratio`, as the rate."""
        if not scenario.get("healing.cells.migration"):
            return None
        g = scenario.get
        sources = [s for pair in endplates for s in pair]
        try:
            migration = cell_migration(mesh, graft, sources)
        except ValueError as exc:  # a user's mesh whose graft does not touch its endplates
            raise SpinesimError(f"healing.cells.migration = true: {exc} (endplate node sets "
                                f"{', '.join(sources)})") from exc
        return cls(migration,
                   np.full(len(graft), float(g("healing.cells.initial_concentration"))),
                   float(g("healing.cells.diffusion_mm2_per_day")) / healing_odds_ratio(scenario),
                   float(g("healing.cells.bone_concentration")))

    def advanced(self, weeks: float) -> "_GraftCells":
        """The state ``weeks`` later (7 days a week)."""
        return replace(self, concentration=self.migration.step(self.concentration,
                                                               7.0 * weeks, self.diffusion))

    @property
    def populated(self) -> np.ndarray:
        """Graft cells whose concentration has reached the bone concentration, bool (n,)."""
        return self.concentration >= self.bone_concentration


def run_timeline(scenario: Scenario | None = None, *, weeks: float | None = None,
                 resolution: float | None = None, fields: bool = True,
                 condense: bool | None = None) -> TimelineResult:
    """Run the coupled healing, loosening and fatigue timeline of a fused segment.

    Parameters
    ----------
    scenario : Scenario, optional
        Default :meth:`Scenario.default` (bilateral cage, L4-L5).
    weeks : float, optional
        Length of the timeline, weeks (fractional allowed, at most the largest
        ``timeline.weeks``, 520); default ``timeline.weeks``.
    resolution : float, optional
        Mesh resolution, in the range of ``segment.resolution``; default
        ``segment.resolution``.
    fields : bool
        Keep the fields of ``output.vtu_weeks`` (False for sweeps and Monte Carlo, which
        write no VTU).
    condense : bool, optional
        Solve the weeks on the model condensed onto its graft and screw-interface DOFs
        (:class:`spinesim.fem.condense.CondensedModel`: exact, one factorization and about a
        thousand right-hand sides once per segment, then a dense solve of that size per
        changed week instead of a sparse refactorization; the fields of ``output.vtu_weeks``
        by one more solve with the condensation's factorization). True or False decides for
        the whole run. Default (None): from the start when ``fields`` is False, the model is
        linear (no ``timeline.soft_tissue``) and the segment is reused from an earlier case
        in this process, i.e. from the second case on of a sweep or Monte Carlo worker whose
        cases share the segment; otherwise refactorize, and condense once the run has
        refactorized :data:`~spinesim.timeline_model.CONDENSE_AFTER_FACTORIZATIONS` times and
        then only its screw interfaces change (``info["condensed_from_week"]``).

    The segment model is built once per process and options: a second call with the same
    segment options (another sweep or Monte Carlo case) reuses it, its state reset to day 0.

    Returns
    -------
    TimelineResult
        The timeline table, the verdicts (:func:`spinesim.verdicts.timeline_verdicts`) and
        the fields of ``output.vtu_weeks``:

        * ``hardware_fatigue``: fails when the rod or screw damage reaches
          ``fatigue.critical_damage``; driver ``"rod_damage"`` or ``"screw_damage"``
          (whichever is larger at the end), value its final damage. A part loaded beyond
          its strength (peak von Mises >= UTS, or a mean stress at the mean-stress limit)
          fractures on the first cycle instead: driver ``"rod_static_overload"`` or
          ``"screw_static_overload"``, value its peak stress (MPa), threshold its UTS (MPa);
          the ``rod_overloaded`` / ``screw_overloaded`` columns mark those weeks.
        * ``insufficient_support``: fails when a screw is loosened
          (:meth:`LooseningRule.loosened_screws`); driver ``"loosened_screws"``, value the
          largest number of loosened screws, threshold 1. A screw whose pullout load at an
          activity peak reaches its pullout strength (:func:`pullout_strengths`) pulls out
          on that load instead: driver ``"screw_pullout"``, value the largest pullout load
          of the screw with the smallest strength over load (N), threshold its strength (N).
        * ``nonunion``: fails when the graft has not bridged by the horizon
          (:func:`nonunion_horizon`: ``timeline.nonunion_horizon_weeks`` if given, else 52
          weeks or the run's length if shorter, ``weeks`` included); driver
          ``"weeks_to_union"``, value the first bridged week (inf if none), threshold the
          horizon. A timeline shorter than a given horizon that has not bridged does not fail
          (undecided; ``week`` None). Union is lasting (:func:`lasting_union_week`): a graft
          that bridged but is not bridged in the horizon's week (its bone resorbed,
          ``healing.prendergast.resorption``, or strained back out of the bone windows) has
          not united, and one that lost its bridge and bridged again counts from the last
          time.

        ``week`` is the first week at which the mode fails, None if it does not. A static
        failure (a fractured rod or screw, a pulled-out screw) does not change the model: the
        rows after it continue with the part in place, so they are not a prediction of what
        follows the failure.
    """
    scenario = Scenario.default() if scenario is None else scenario
    total = _timeline_weeks(scenario, weeks)
    t_start = time.perf_counter()
    rate = healing_rate(scenario)  # (checked before the model is built)
    opts = segment_options(scenario, resolution)
    seg, reused = cached_segment(opts)
    mesh, hw = seg.geometry.mesh, seg.hardware
    graft = np.flatnonzero(mesh.cells_in_region("graft"))
    strain_of = cell_strain_operator(mesh, graft)
    volume = strain_of.volume / strain_of.volume.sum()  # graft cell volume fractions
    pairs = list(zip(seg.geometry.levels[:-1], seg.geometry.levels[1:]))  # fused levels
    endplates = [graft_surfaces(seg.options.construct, a, b) for a, b in pairs]
    topology = fusion_topology(mesh, graft, endplates, [f"{a}-{b}" for a, b in pairs])
    cells = _GraftCells.of(scenario, mesh, graft, endplates)
    level_keys = [f"{a}_{b}" for a, b in pairs] if len(pairs) > 1 else []  # timeline columns
    spec = activity_spectrum(scenario)
    active = spec.active()
    rule = healing_rule(scenario)
    state = healing.initial_state(len(graft), rule,
                                  n_average=scenario.get("healing.averaging_iterations"))
    lrule = loosening_rule(scenario)
    method = scenario.get("fatigue.mean_stress")
    rod_curve = (*_curve(scenario, scenario.get("hardware.rod.material"),
                         scenario.get("hardware.rod.notch_factor")), method)
    screw_curve = (*_curve(scenario, scenario.get("hardware.screw.material"), None), method)
    critical = float(scenario.get("fatigue.critical_damage"))
    step = float(scenario.get("timeline.step_weeks"))
    n_steps = max(1, math.ceil(total / step - 1e-9))
    moment = scenario.get("protocol.moment_nm")
    activity_cases = [a.load_case() for a in active]
    rom_cases = protocol_cases(scenario)
    moduli = partial(healing.tissue_properties, **graft_tissue(scenario))
    # with a preload, the preload alone last: the ROM is measured from the preloaded position
    preload = [replace(rom_cases[0], moment_nm=0.0)] if rom_cases[0].preload_n > 0 else []
    model = WeeklyModel(opts, seg, reused, graft, moduli,
                        [case_loads(seg, c) for c in activity_cases + rom_cases + preload],
                        activity_cases, rom_cases, strain_of, condense=condense, fields=fields,
                        graft_keeps_changing=cells is not None or getattr(rule, "resorption",
                                                                            False))
    t_built = time.perf_counter()
    vtu_weeks = {float(w) for w in (scenario.get("output.vtu_weeks") or ())
                 if w <= total} if fields else set()
    heaviest = max(range(len(active)), key=lambda i: (active[i].compression_n,
                                                      active[i].moment_nm), default=None)

    # screw name per tied node, in the order of ``hardware_results`` (the ties' concatenation)
    screw_names = [name for t in hw.ties.values() for name in t["screw"]]
    screws = sorted(set(screw_names))
    screw_of = np.array([screws.index(s) for s in screw_names])
    screw_keys = [s.replace(" ", "_") for s in screws]  # column-name form, "L4_left"
    strengths = pullout_strengths(scenario, seg)
    strength_of = {k: strengths[s] for k, s in zip(screw_keys, screws)}
    initial_factor = float(scenario.get("loosening.initial_factor"))
    factor = np.full(len(screw_names), initial_factor)
    rod_cum = screw_cum = None
    kept: dict[float, dict] = {}  # fields of the reported weeks
    rows, seconds = [], []
    bridged_last = None  # (bone cells, their bridging): most weeks the bone does not change
    for k in range(1, n_steps + 1):
        t0 = time.perf_counter()
        w0, w1 = (k - 1) * step, min(k * step, total)
        conc = None if cells is None else cells.concentration
        if model.refresh(state.level, factor, w0, conc) or not model.roms:
            model.solve(factor)  # else the same matrix and loads: last week's responses hold
        if w0 in vtu_weeks and heaviest is not None:
            kept[w0] = model.fields(heaviest, active[heaviest].name, state.level, factor, conc)
        cycles = cycles_between(spec, w0, w1)
        loads = _step_loads(model.responses, np.array([cycles[a.name] for a in active]),
                            rod_curve, screw_curve, len(screw_names), len(screws))
        if loads.rod_damage is not None:
            rod_cum = loads.rod_damage if rod_cum is None else rod_cum + loads.rod_damage
            screw_cum = loads.screw_damage if screw_cum is None else \
                screw_cum + loads.screw_damage
        gamma = np.zeros(0)
        if loads.strain is not None:  # no load cycles: no stimulus, the graft stays as it is
            gamma = healing.octahedral_shear_strain(loads.strain)
            state = healing.step(state, loads.strain, 0.0, rule, w1 - w0,
                                 pressure_mpa=loads.pressure, max_steps_per_week=rate)
        if cells is not None:  # the cells spread whether or not the graft is loaded
            cells = cells.advanced(w1 - w0)
        # no load cycles: micromotion 0 (osseointegration)
        factor = lrule.step(factor, loads.micromotion_um, w1 - w0)
        # loosened: a screw whose interface lost more than the rule's share of its day-0
        # stiffness (bonded at day 0 by default; an unintegrated day-0 interface is not loose)
        relative = factor / initial_factor
        loosened = sum(lrule.loosened_screws(relative, screw_names).values())
        loose_nodes = lrule.loosened_nodes(relative)
        bone = state.is_bone() if cells is None else state.is_bone() & cells.populated
        if bridged_last is None or not np.array_equal(bone, bridged_last[0]):
            bridged_last = (bone, topology.bridging(bone))  # its min cut: ~1 ms a week
        br = bridged_last[1]
        row = {"week": w1, "graft_bone_fraction": br.bone_fraction,
               "bridged": br.bridged, "max_graft_shear_strain": float(gamma.max(initial=0.0)),
               "max_rod_stress_amplitude_mpa": loads.rod_amplitude_mpa,
               "rod_damage": 0.0 if rod_cum is None else float(rod_cum.max()),
               "screw_damage": 0.0 if screw_cum is None else float(screw_cum.max()),
               "max_micromotion_um": float(loads.micromotion_um.max(initial=0.0)),
               "loosened_screws": int(loosened),
               **{f"rom_{c}_deg": r for c, r in zip(ROM_COLUMNS, model.roms)},
               "max_rod_stress_mpa": loads.rod_peak_mpa,
               "max_screw_stress_mpa": loads.screw_peak_mpa,
               "rod_overloaded": loads.rod_over, "screw_overloaded": loads.screw_over,
               "median_graft_shear_strain":
                   healing.volume_quantile(gamma, volume, 0.5) if len(gamma) else 0.0,
               "max_screw_pullout_n": float(loads.screw_load_n[:, 0].max(initial=0.0)),
               "max_screw_transverse_n": float(loads.screw_load_n[:, 1].max(initial=0.0)),
               "graft_bridged_area_fraction": br.bridged_area_fraction}
        row.update(_detail_columns(active, model.roms[len(ROM_COLUMNS):], screw_keys,
                                   screw_of, loads, factor, loose_nodes, level_keys, br,
                                   state.phase, volume))
        if cells is not None:
            row["graft_cell_concentration"] = float(volume @ cells.concentration)
        if isinstance(rule, healing.PrendergastLacroix):  # 0 before the first loaded step
            shielded = healing.resorption_window_share(state, rule, volume)
            row["graft_resorption_window_fraction"] = 0.0 if shielded is None else shielded
        rows.append(row)
        seconds.append(time.perf_counter() - t0)
        log.debug("week %g: bone %.2f, rod damage %.3g", w1, br.bone_fraction,
                  rows[-1]["rod_damage"])
    if total in vtu_weeks and heaviest is not None and total not in kept:
        conc = None if cells is None else cells.concentration
        if model.refresh(state.level, factor, total, conc):
            model.solve(factor)
        kept[total] = model.fields(heaviest, active[heaviest].name, state.level, factor, conc)
    fatigue = {}
    if model.responses:
        last = cycles_between(spec, max(total - 1.0, 0.0), total)
        per_year = 52.0 * np.array([last[a.name] for a in active])
        for part, key, curve, cum in (("rod", "rod_beams", rod_curve, rod_cum),
                                      ("screw", "screw_beams", screw_curve, screw_cum)):
            fatigue[part] = _fatigue_summary([getattr(r, part) for r in model.responses],
                                             per_year, curve, cum, critical, hw.beams[key])
    intact = intact_rom(scenario, resolution, tuple(active)) \
        if scenario.get("output.intact_reference") else None
    table = pd.DataFrame(rows)
    table = table[list(COLUMNS) + [c for c in table.columns if c not in COLUMNS]]
    verdicts = timeline_verdicts(table, critical, nonunion_horizon(scenario, total),
                         {"rod": rod_curve[1], "screw": screw_curve[1]}, strength_of)
    cond = model.cond
    info = {"dofs": seg.info["dofs"], "graft_cells": len(graft), "tied_nodes": len(screw_names),
            "screws": screw_keys, "active_activities": [a.name for a in active],
            "build_s": t_built - t_start, "model_reused": reused, "step_s": seconds,
            "total_s": time.perf_counter() - t_start, "solves": model.n_solves,
            "factorizations": model.n_factorizations, "condensed": cond is not None,
            "condensed_from_week": model.condensed_from,
            "condensed_dofs": cond.m if cond is not None else None,
            "condense_setup_s": cond.setup_s if model.condensed_now else 0.0,
            **model.timing,
            "healing_rate_per_week": rate,
            "healing_odds_ratio": healing_odds_ratio(scenario), "fatigue": fatigue,
            "pullout": pullout_summary(table, strength_of),
            "protocol_moment_nm": float(moment), "intact_rom_deg": intact,
            "soft_tissue": seg.options.soft_tissue,
            "cage_interface": seg.options.cage_interface, "fluid_velocity_mm_s": 0.0,
            "cell_diffusion_mm2_per_day": None if cells is None else cells.diffusion}
    log.info("timeline: %d steps, %d DOFs, %d factorizations, %.1f s", n_steps, info["dofs"],
             model.n_factorizations, info["total_s"])
    segments = np.stack([np.concatenate([b["x1"] for b in hw.beams.values()]),
                         np.concatenate([b["x2"] for b in hw.beams.values()])], axis=1)
    return TimelineResult(table, verdicts, info, kept, mesh, segments)


@dataclass(frozen=True, eq=False)
class _StepLoads:
    """What the activity peaks of one timeline step put on the parts: Miner damage of the
    step's cycles per beam-end surface point (None before the first solve), the largest rod
    stress amplitude and the peak rod and screw stresses (MPa), whether a rod or screw fails
    statically, the graft's peak strain and pressure (MPa) per cell (None in a step without
    cycles), the micromotion per tied screw node (µm, largest over the loaded activities) and
    the largest pullout and transverse load per screw (N)."""

    micromotion_um: np.ndarray
    screw_load_n: np.ndarray
    rod_damage: np.ndarray | None = None
    screw_damage: np.ndarray | None = None
    rod_amplitude_mpa: float = 0.0
    rod_peak_mpa: float = 0.0
    screw_peak_mpa: float = 0.0
    rod_over: bool = False
    screw_over: bool = False
    strain: np.ndarray | None = None
    pressure: np.ndarray | None = None


def _step_loads(responses: list[Response], counts: np.ndarray, rod_curve: tuple,
                screw_curve: tuple, n_tied: int, n_screws: int) -> _StepLoads:
    """The :class:`_StepLoads` of one step: ``counts`` cycles of each activity whose peak
    response is in ``responses``."""
    micro, screw_load = np.zeros(n_tied), np.zeros((n_screws, 2))
    if not responses:
        return _StepLoads(micro, screw_load)
    d_rod, amp, rod_peak, rod_over = _damage([r.rod for r in responses], counts, rod_curve)
    d_screw, _, screw_peak, screw_over = _damage([r.screw for r in responses], counts,
                                                 screw_curve)
    eps = p = None
    if counts.sum() > 0:
        eps, p = _peak_strain(responses)
        micro = np.max([r.micromotion_um for r in responses], axis=0)
        if n_screws:  # over the activities with cycles (no cycles: no load)
            loaded = [r.screw_load_n for r, c in zip(responses, counts) if c > 0]
            screw_load = np.maximum(np.max(loaded, axis=0), 0.0)
    return _StepLoads(micro, screw_load, d_rod, d_screw, amp, rod_peak, screw_peak, rod_over,
                      screw_over, eps, p)


def _detail_columns(active: list, activity_roms: list[float], screw_keys: list[str],
                    screw_of: np.ndarray, loads: _StepLoads, factor: np.ndarray,
                    loose_nodes: np.ndarray, level_keys: list[str], bridging: Any,
                    phase: np.ndarray,
                    volume: np.ndarray) -> dict:
    """The per-activity, per-screw, per-level and per-phase columns of one timeline row."""
    row = {f"activity_rom_{a.name}_deg": r for a, r in zip(active, activity_roms)}
    for i, name in enumerate(screw_keys):
        on = screw_of == i
        row[f"micromotion_{name}_um"] = float(loads.micromotion_um[on].max())
        row[f"interface_factor_{name}"] = float(factor[on].mean())
        row[f"loosened_share_{name}"] = float(loose_nodes[on].mean())
        row[f"pullout_{name}_n"] = float(loads.screw_load_n[i, 0])
    for key, b in zip(level_keys, bridging.levels):  # a multi-level fusion: per level
        row[f"bridged_{key}"] = b.bridged
        row[f"graft_bone_fraction_{key}"] = b.bone_fraction
        row[f"graft_bridged_area_fraction_{key}"] = b.bridged_area_fraction
    phase = np.clip(phase, 0, len(healing.Phase) - 1)
    for ph in healing.Phase:
        row[f"fraction_{ph.name.lower()}"] = float(volume[phase == ph].sum())
    return row
