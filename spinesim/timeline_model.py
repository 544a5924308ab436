"""The segment model as the weeks of a timeline see it: brought to each week's graft and
screw-interface state, solved under the week's load cases, its responses handed to the
failure rules.

:class:`WeeklyModel` owns everything of :func:`spinesim.simulate.run_timeline` that is about
matrices and solves, so that the timeline itself reads as the physics of a week:

* **state -> matrix.** :meth:`WeeklyModel.refresh` puts the graft moduli of the healing state
  and the screw-bone interface stiffness of the loosening state into the model, each only when
  it changed, refilled together (pattern reused, one numeric factorization at the next solve).
* **solve.** :meth:`WeeklyModel.solve` solves all load cases at once (one multi-right-hand-side
  solve of the linear model, or one active-set solve per case with soft tissue) and turns each
  activity's solution into a :class:`Response` (graft strain and pressure, rod and screw
  sections, micromotion, screw loads) and every case into a rotation (ROM, deg).
* **condensation.** With a :class:`spinesim.fem.condense.CondensedModel` (cached per segment in
  this process) a changed week is a dense solve on the graft and screw-interface DOFs instead
  of a refactorization; a run not told whether to condense switches to it once it has
  refactorized :data:`CONDENSE_AFTER_FACTORIZATIONS` times and only its interfaces still change;
  a run whose graft changes every week (cell migration) condenses from the start.
* **where the time goes.** ``timing`` sums the seconds of matrix refills, of solves (with the
  factorizations they start) and of those factorizations alone.

The segment of a scenario is built once per process and options (:func:`cached_segment`), so
sweep and Monte Carlo cases that share it reuse geometry, pattern, maps and condensation.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spinesim.errors import SpinesimError
from spinesim.failure.pullout import screw_loads
from spinesim.fem.active_set import solve_condensed_active_set
from spinesim.fem.condense import CondensedModel, CondensedSolution
from spinesim.fem.post import MeshStrain, isotropic_stress, mesh_strain_operator, von_mises
from spinesim.fem.springs import SpringSet
from spinesim.model.cage_interface import NORMAL_SET
from spinesim.model.hardware import hardware_results, interface_values, tie_scales
from spinesim.model.loadcases import rom_deg
from spinesim.model.segment import Segment, SegmentOptions, build_segment

if TYPE_CHECKING:
    from spinesim.fem.static import StaticSolution

__all__ = ["CONDENSE_AFTER_FACTORIZATIONS", "Response", "WeeklyModel", "bonded_interfaces",
           "cached_segment", "solve_cases"]

#: A run not told whether to condense (``condense=None``) condenses its model once it has
#: refactorized this many times and then only its screw interfaces change (not the graft):
#: the condensation costs about as much as 8 refactorizing weeks (default segment, 90k DOF,
#: this 2-core machine: 17-21 s against 2.3-3.0 s per changed week with its solves). Graft
#: changes end when the graft has healed (4 tissue steps at the healing rate: 5 changed weeks
#: by default, 13 for the smoker's third of the rate), where refactorizing stays cheaper;
#: interfaces under progressive loosening (or stiffening from a day-0 factor below 1) change
#: every week to the end of the timeline, where 52 refactorizations would cost several times
#: one condensation. With cell migration (``graft_keeps_changing``) the graft changes every week
#: to the end, and the run condenses from the start.
CONDENSE_AFTER_FACTORIZATIONS = 8

#: The last segment built for a timeline in this process, by its options: sweep and Monte
#: Carlo cases that share the model (most uncertain inputs are loads, rates and thresholds)
#: reuse geometry, hardware, pattern and maps instead of building them again.
_LAST_BUILT: dict[SegmentOptions, Segment] = {}

#: The condensation of the cached segment onto its graft and screw interfaces, built by the
#: first condensed timeline of that segment and reused by the later ones.
_CONDENSED: dict[SegmentOptions, CondensedModel] = {}


def cached_segment(opts: SegmentOptions) -> tuple[Segment, bool]:
    """The segment of ``opts``, from the one-entry cache when it matches; (segment, reused)."""
    seg = _LAST_BUILT.get(opts)
    if seg is not None:
        return seg, True
    _LAST_BUILT.clear()  # one model at a time: free the old one before building
    _CONDENSED.clear()
    seg = build_segment(opts)
    _LAST_BUILT[opts] = seg
    return seg, False


def solve_cases(seg: Segment, loads: list[np.ndarray]) -> list:
    """Solutions of the segment's model in its current state under each load array of
    ``loads`` (:func:`spinesim.model.segment.case_loads`: (n_extra, 6) forces in N and moments
    in N·mm on the 6-DOF nodes): one multi-right-hand-side solve of the linear model, or one
    active-set solve per case when the segment has one-sided springs (``seg.springs``:
    tension-only ligaments, compression-only facet or cage contact; a factorization updated
    by the few springs that switch, :mod:`spinesim.fem.low_rank`). An active-set solve starts
    from the springs' states of the same case's last solve on this segment
    (:data:`_LAST_STATES`): a week's graft or interface change moves few of them, so it ends
    in a few iterations instead of starting from all contacts open (the iteration converges
    to the same equilibrium from any start). The first solves start from the default state,
    whose first iteration is one solve for all cases
    (:func:`spinesim.fem.active_set.first_states`)."""
    if seg.springs:
        from spinesim.fem.active_set import first_states, solve_active_set

        last = _LAST_STATES.get(seg)
        if last is None or len(last) != len(loads):
            last = first_states(seg.model, loads, list(seg.springs)) if len(loads) > 1 \
                else [None] * len(loads)
        out = [solve_active_set(seg.model, {"node_loads": m}, list(seg.springs),
                                initial=start, reuse_preconditioner=True)
               for m, start in zip(loads, last)]
        _LAST_STATES[seg] = [rep.states for _, rep in out]
        return [sol for sol, _ in out]
    return seg.model.solve_many(loads)


#: Per segment (weakly held), the springs' law segments at the end of the last active-set
#: solve of each load case of :func:`solve_cases`: the start of the next one.
_LAST_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class Response:
    """What one solved load case hands to the failure rules."""

    displacement: np.ndarray    # (n_nodes, 3) mm
    graft_strain: np.ndarray    # (n_graft, 3, 3) cell-averaged strain
    graft_pressure: np.ndarray  # (n_graft,) MPa, compression positive
    rod: object                 # BeamSectionResults
    screw: object
    micromotion_um: np.ndarray  # (n_tied,)
    screw_load_n: np.ndarray    # (n_screws, 2) pullout and transverse load per screw, N


def response(seg: Segment, sol: StaticSolution | CondensedSolution, strain_of: Callable,
             E_graft: np.ndarray, nu_graft: np.ndarray, factor: np.ndarray | None = None
             ) -> Response:
    """Graft strain and pressure (MPa), rod and screw sections, micromotion (µm) and screw
    loads (N, in the sorted order of the screw names) of one solution, solved with the
    interface stiffness ``factor`` per tied screw node (None: bonded)."""
    sections, tie = hardware_results(seg.hardware, sol, factor)  # the hardware nodes only
    loads = screw_loads(tie.screw, tie.force_n, tie.axis)
    screw_load = np.array([[loads[s].pullout_n, loads[s].transverse_n] for s in sorted(loads)])
    strain = strain_of(sol.displacement)
    lam = E_graft * nu_graft / ((1 + nu_graft) * (1 - 2 * nu_graft))
    mu = E_graft / (2 * (1 + nu_graft))
    tr = np.trace(strain, axis1=1, axis2=2)
    pressure = -(lam + 2.0 * mu / 3.0) * tr  # -mean stress of the cell-averaged strain
    return Response(sol.displacement, strain, pressure, sections["rod_beams"],
                    sections["screw_beams"], tie.micromotion_um, screw_load)


def bonded_interfaces(seg: Segment) -> dict[str, np.ndarray]:
    """Element values of the segment's screw-bone interfaces with every tied node bonded
    (stiffness factor 1; :func:`spinesim.model.hardware.interface_values`)."""
    n_tied = sum(len(t["node"]) for t in seg.hardware.ties.values())
    return interface_values(seg.hardware, np.ones(n_tied))


def cage_contact_springs(seg: Segment) -> SpringSet | None:
    """The segment's cage contact springs (``cage_interface = "contact"``) when they are its
    only one-sided springs (no soft tissue): the timeline then condenses them with the graft
    and the screw ties and solves their contact on the condensed model."""
    if len(seg.springs) == 1 and seg.springs[0].name == NORMAL_SET:
        return seg.springs[0]
    return None


def _to_reference(seg: Segment) -> None:
    """Refill the segment's model with the state it is condensed at: graft moduli as built,
    every screw interface bonded, the cage contact (if any) closed (factorized at the next
    solve)."""
    contact = cage_contact_springs(seg)
    closed = {} if contact is None else {contact.name: contact.matrices_for(
        np.zeros(contact.n, np.int64))}
    seg.model.update(E=seg.E, nu=seg.nu, **bonded_interfaces(seg), **closed)


def condensed_model(opts: SegmentOptions, seg: Segment, graft: np.ndarray, loads: list
                    ) -> tuple[CondensedModel, bool]:
    """The segment condensed onto its graft cells, screw-bone ties and cage contact springs
    (if any; cached per segment): factorized once at the built state (graft moduli as built,
    interfaces bonded, the cage contact closed); (condensation, built now)."""
    load_nodes = np.flatnonzero(np.any(np.stack(loads) != 0, axis=(0, 2)))
    cond = _CONDENSED.get(opts)
    if cond is not None and np.all(np.isin(load_nodes, cond.load_nodes)):
        return cond, False
    hw = seg.hardware
    _to_reference(seg)
    hosts = np.unique(np.concatenate([t["host"].ravel() for t in hw.ties.values()])) \
        if hw.ties else np.zeros(0, np.int64)
    contact = cage_contact_springs(seg)
    sets = list(hw.ties) + ([contact.name] if contact is not None else [])
    if contact is not None:
        hosts = np.union1d(hosts, contact.nodes.ravel())
    cond = CondensedModel(seg.model, graft, seg.E[graft], seg.nu[graft], sets=sets,
                          load_nodes=load_nodes, output_nodes=hosts)
    _CONDENSED.clear()
    _CONDENSED[opts] = cond
    return cond, True


class WeeklyModel:
    """The timeline's segment model in the current healing and loosening state.

    Parameters
    ----------
    opts, seg, reused : the segment's options, the segment (:func:`cached_segment`) and
        whether an earlier case in this process built it (its state is reset here)
    graft : graft cell ids
    graft_moduli : tissue maturity level per graft cell and keyword ``cells`` (the cell
        concentration per graft cell with cell migration, else None) -> (E in MPa, Poisson's
        ratio), e.g. :func:`spinesim.failure.healing.tissue_properties`
    loads : load arrays of the cases (N, N·mm): the ``len(activity_cases)`` activity peaks
        first, then the ROM cases, then (if the ROM cases have a preload) the preload alone,
        from whose position the ROM is measured
    activity_cases, rom_cases : :class:`spinesim.model.loadcases.LoadCase` of the activity
        peaks and of the protocol-moment directions (their moment axes give the rotations)
    strain_of : graft cell strain operator (:func:`spinesim.fem.post.cell_strain_operator`)
    condense : True/False decide for the whole run; None condenses from the start when
        ``fields`` is False, the model is linear and the segment is shared by several cases
        (reused, or already condensed), or when the linear model's graft keeps changing
        (``graft_keeps_changing``), and later once it keeps refactorizing
    fields : whether the run writes VTU fields
    graft_keeps_changing : the graft's moduli change every week to the end (cell migration):
        an undecided run (``condense=None``) of the linear model condenses from the start

    Attributes after :meth:`solve`: ``responses`` (one :class:`Response` per activity),
    ``roms`` (deg: the ROM cases, then the rotation about each activity's moment axis).
    """

    def __init__(self, opts: SegmentOptions, seg: Segment, reused: bool, graft: np.ndarray,
                 graft_moduli: Callable[..., tuple[np.ndarray, np.ndarray]],
                 loads: list[np.ndarray], activity_cases: Sequence, rom_cases: Sequence,
                 strain_of: Callable, *, condense: bool | None, fields: bool,
                 graft_keeps_changing: bool = False) -> None:
        self.opts, self.seg, self.reused, self.graft = opts, seg, reused, graft
        self.hw, self.mesh = seg.hardware, seg.geometry.mesh
        self.graft_moduli, self.loads, self.strain_of = graft_moduli, loads, strain_of
        self.activity_cases, self.rom_cases = list(activity_cases), list(rom_cases)
        # the cage contact alone: condensed from the start, its contact solved on the dense
        # condensed system (an active set on the full model refactorizes per case and step)
        self.contact = cage_contact_springs(seg)
        self._contact_states: list | None = None
        # not told: condense later in the run if it keeps refactorizing (linear model only)
        self.adaptive = condense is None and not seg.springs
        if condense is None:  # a reused segment: more cases share it (sweep, Monte Carlo);
            # a graft that changes every week (cell migration) would refactorize every week
            condense = self.contact is not None or (not seg.springs and (
                graft_keeps_changing or (not fields and (reused or opts in _CONDENSED))))
        if condense and seg.springs and self.contact is None:
            raise SpinesimError("condense=True needs the linear model (timeline.soft_tissue = "
                                "false): the soft tissue's active set changes the matrix with "
                                "every load case")
        self.cond, self.condensed_now = (condensed_model(opts, seg, graft, loads) if condense
                                         else (None, False))
        self.condensed_from: float | None = 0.0 if self.cond is not None else None
        self.E, self.nu = seg.E.copy(), seg.nu.copy()
        self._level: np.ndarray | None = None   # state last put into the model
        self._cells: np.ndarray | None = None
        self._factor: np.ndarray | None = None
        self.responses: list[Response] = []
        self.roms: list[float] = []
        self.n_solves = self.n_factorizations = 0
        # where the weeks' time goes (s): matrix refills, solves (their factorizations included)
        self.timing = {"refill_s": 0.0, "solve_s": 0.0, "factorize_s": 0.0}
        self._refilled = False
        self._mesh_strain: MeshStrain | None = None

    def refresh(self, level: np.ndarray, factor: np.ndarray, week: float,
                cells: np.ndarray | None = None) -> bool:
        """Bring the model to the graft's tissue ``level`` (with cell migration: and its cell
        concentration ``cells``, 0-1) and the interface stiffness ``factor`` (fraction of
        bonded, per tied screw node) at ``week``; True if any changed (then :meth:`solve`
        again)."""
        changes: dict = {}
        changed = graft_changed = False
        if (self._level is None or not np.array_equal(level, self._level)
                or not np.array_equal(cells, self._cells)):
            self.E[self.graft], self.nu[self.graft] = self.graft_moduli(level, cells=cells)
            changes.update(E=self.E, nu=self.nu)
            self._level, changed, graft_changed = level.copy(), True, True
            self._cells = None if cells is None else cells.copy()
        if self._factor is None or not np.array_equal(factor, self._factor):
            if self.cond is None and (self._factor is not None or self.reused
                                      or not np.all(factor == 1.0)):
                changes.update(interface_values(self.hw, factor))  # a reused model: reset too
            self._factor, changed = factor.copy(), True
        if not changes or self.cond is not None:  # (the condensed solve takes E and factor)
            return changed
        if self.adaptive and not graft_changed \
                and self.n_factorizations >= CONDENSE_AFTER_FACTORIZATIONS:
            # the interfaces keep changing after the graft: condense once instead of
            # refactorizing every week
            self.cond, self.condensed_now = condensed_model(self.opts, self.seg, self.graft,
                                                            self.loads)
            self.condensed_from = week
        else:  # one assembly and one factorization for both
            t = time.perf_counter()
            self.seg.model.update(**changes)
            self.timing["refill_s"] += time.perf_counter() - t
            self._refilled = True
            self.n_factorizations += 1
        return changed

    def solve(self, factor: np.ndarray) -> None:
        """All activity peaks and the ROM cases in the current state: one
        multi-right-hand-side solve of the linear model (or of its condensation), or one
        active-set solve per case with soft tissue."""
        t = time.perf_counter()
        g = self.graft
        if self.cond is not None and self.contact is not None:
            sols, self._contact_states = solve_condensed_active_set(
                self.cond, self.E[g], self.nu[g], tie_scales(self.hw, factor), self.loads,
                self.contact, initial=self._contact_states)
        elif self.cond is not None:
            sols = self.cond.solve_many(self.E[g], self.nu[g], tie_scales(self.hw, factor),
                                        self.loads)
        else:
            sols = solve_cases(self.seg, self.loads)
            if self._refilled and not self.seg.springs:  # it factorized the refill first
                self.timing["factorize_s"] += sols[0].info.get("setup_s", 0.0)
            self._refilled = False
        self.timing["solve_s"] += time.perf_counter() - t
        self.n_solves += 1
        n, m = len(self.activity_cases), len(self.rom_cases)
        self.responses = [response(self.seg, s, self.strain_of, self.E[g], self.nu[g], factor)
                          for s in sols[:n]]
        # from the preloaded position when the preload alone is the last case
        start = sols[n + m].node_dofs[-1, 3:] if len(sols) > n + m else np.zeros(3)
        self.roms = [rom_deg(s.node_dofs[-1, 3:] - start, c)
                     for s, c in zip(sols[n:n + m], self.rom_cases)]
        self.roms += [rom_deg(s.node_dofs[-1, 3:], c)  # rotation under each activity
                      for s, c in zip(sols[:n], self.activity_cases)]

    def displacement(self, case: int, factor: np.ndarray) -> np.ndarray:
        """The whole displacement field (mm) of activity ``case`` (a condensed solve has it on
        its output nodes only: one more solve with the condensation's factorization, the
        reference state put back first if the model was refilled since)."""
        if self.cond is None:
            return self.responses[case].displacement
        cond, g = self.cond, self.graft
        if self.seg.model.revision != cond.reference_revision:
            _to_reference(self.seg)
            cond.reference_revision = self.seg.model.revision
        scales = tie_scales(self.hw, factor)
        if self.contact is not None and self._contact_states is not None:
            scales[self.contact.name] = self._contact_states[case].astype(float)
        return cond.full_displacements(self.E[g], self.nu[g], scales, [self.loads[case]])[0]

    def fields(self, case: int, name: str, level: np.ndarray, factor: np.ndarray,
               cells: np.ndarray | None = None) -> dict:
        """This week's fields for ParaView: displacement (mm) of activity ``case`` (called
        ``name``), its von Mises stress per cell (of the cell's mean stress, as the solve's
        B-bar fields give it; the mesh strain operator is built on first use), moduli, the
        graft's tissue level (-1 outside the graft), with cell migration the graft's cell
        concentration ``cells`` (-1 outside) and the interface factor per tied node."""
        if self._mesh_strain is None:
            self._mesh_strain = mesh_strain_operator(self.mesh)
        u = self.displacement(case, factor)
        vm = von_mises(isotropic_stress(self._mesh_strain(u), self.E, self.nu))
        tissue = np.full(len(self.E), -1.0)
        tissue[self.graft] = level
        out = {"activity": name, "displacement_mm": u.copy(), "von_mises_mpa": vm,
               "E_mpa": self.E.copy(), "nu": self.nu.copy(), "tissue_level": tissue,
               "interface_factor": factor.copy()}
        if cells is not None:
            out["cell_concentration"] = np.full(len(self.E), -1.0)
            out["cell_concentration"][self.graft] = cells
        return out
