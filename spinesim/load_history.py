"""Fatigue damage of rods and screws under an arbitrary load history (issue 6, "Activity and
load cycles": time series reduced by rainflow counting, ASTM E1049).

A history is a time series of the loads on the segment: compression (N) and the moments of
flexion (N·m; negative = extension), lateral bending (N·m; positive = left) and axial rotation
(N·m; positive = left), the sign conventions of :mod:`spinesim.model.loadcases`. The fused
segment of a scenario is linear (``soft_tissue=False``, see :mod:`spinesim.simulate`), so the
surface stresses of every rod and screw element are a superposition of four unit-load
solutions, solved together once:

    sigma(t) = sum_k h_k(t) sigma_k,   tau(t) likewise,   at 36 angles around each beam end.

At each surface point the signed equivalent stress ``sign(sigma) sqrt(sigma^2 + 3 tau^2)`` is
rainflow-counted (:func:`spinesim.failure.fatigue.rainflow_cycles`, the ``rainflow`` package),
each cycle mean-stress corrected (``fatigue.mean_stress``) and summed by Palmgren-Miner on the
scenario's S-N curve with its knock-down factors. Approximations, stated: the signed von Mises
equivalent treats normal and shear stress as in phase (proportional loading); rainflow is run
only at the points whose equivalent-stress range is at least half the largest range: with the
Basquin exponents of the alloys here (1/b about 16 to 23) a point at half the range collects
less than 1e-4 of the damage of the critical one, and ranges below the endurance limit none.

>>> import numpy as np
>>> h = np.zeros((7, 4)); h[1::2, 1] = 7.5          # three flexion pulses of 7.5 N·m
>>> rng, mean, count = series_cycles(h[:, 1])       # rainflow of the flexion moment
>>> float(count.sum()), float(rng.max()), float(mean.max())
(3.0, 7.5, 3.75)
"""

from __future__ import annotations

import logging
import math
import numbers
import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError
from spinesim.failure import healing
from spinesim.failure.fatigue import equivalent_amplitude, rainflow_cycles
from spinesim.fem.beam import surface_stresses
from spinesim.model.hardware import hardware_results
from spinesim.model.loadcases import LOAD_CASES, NMM_PER_NM
from spinesim.scenario import Scenario

log = logging.getLogger(__name__)

__all__ = ["HISTORY_COLUMNS", "HistoryDamage", "history_damage", "series_cycles"]

#: Columns of a load history, in order (N, N·m, N·m, N·m).
HISTORY_COLUMNS = ("compression_n", "flexion_nm", "lateral_bending_nm", "axial_rotation_nm")
#: Surface angles per beam end at which stresses are counted.
N_ANGLES = 36
#: Points whose equivalent-stress range is below this share of the largest are not counted.
RANGE_SHARE = 0.5
_AXES = {"flexion_nm": "flexion", "lateral_bending_nm": "lateral_bending_left",
         "axial_rotation_nm": "axial_rotation_left"}


def series_cycles(series: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rainflow cycles (range, mean, count) of one series; see
    :func:`spinesim.failure.fatigue.rainflow_cycles`."""
    return rainflow_cycles(series)


@dataclass(frozen=True, eq=False)
class HistoryDamage:
    """Result of :func:`history_damage` for one part (rods or screws).

    Attributes
    ----------
    damage : float
        Miner damage of one pass of the history at the critical surface point (-).
    damage_per_year : float or None
        ``damage`` times the passes per year, when given (-/year).
    years_to_crack : float
        ``fatigue.critical_damage`` over the damage per year (years; inf without damage or
        without passes per year).
    critical_point_mm : (3,) array
        Position of the critical beam end (mm).
    critical_angle_rad : float
        Surface angle of the critical point (rad, from the local y axis of the beam).
    max_equivalent_amplitude_mpa : float
        Largest mean-stress-corrected amplitude of a counted cycle (MPa).
    cycles_counted : float
        Full cycles (half cycles count 0.5) counted at the critical point.
    points_counted : int
        Surface points rainflow-counted (the others are below :data:`RANGE_SHARE`).
    """

    damage: float
    damage_per_year: float | None
    years_to_crack: float
    critical_point_mm: np.ndarray
    critical_angle_rad: float
    max_equivalent_amplitude_mpa: float
    cycles_counted: float
    points_counted: int


def _history(history: ArrayLike) -> np.ndarray:
    """(T, 4) float array from an array or a DataFrame with :data:`HISTORY_COLUMNS`."""
    if hasattr(history, "columns"):
        unknown = [c for c in history.columns if c not in HISTORY_COLUMNS]
        if unknown:
            raise SpinesimError(f"load history: unknown column(s) {unknown}; allowed: "
                                f"{', '.join(HISTORY_COLUMNS)} (missing ones are 0)")
        try:
            h = np.column_stack([np.asarray(history[c], float) if c in history.columns
                                 else np.zeros(len(history)) for c in HISTORY_COLUMNS])
        except (TypeError, ValueError) as exc:
            raise SpinesimError(f"load history: every value must be a number (N, N·m): "
                                f"{exc}") from None
    else:
        try:
            h = np.asarray(history, dtype=float)
        except (TypeError, ValueError) as exc:  # text, ragged rows
            raise SpinesimError(f"load history must be a (T, {len(HISTORY_COLUMNS)}) table of "
                                f"numbers with columns {', '.join(HISTORY_COLUMNS)} (N, N·m): "
                                f"{exc}") from None
        if h.ndim != 2 or h.shape[1] != len(HISTORY_COLUMNS):
            raise SpinesimError(f"load history must have shape (T, {len(HISTORY_COLUMNS)}) "
                                f"with columns {', '.join(HISTORY_COLUMNS)}; got {h.shape}")
    if len(h) < 2:
        raise SpinesimError(f"load history needs at least 2 time points, got {len(h)}")
    bad = np.argwhere(~np.isfinite(h))
    if len(bad):
        r, c = bad[0]
        raise SpinesimError(f"load history: row {r}, column {HISTORY_COLUMNS[c]} is {h[r, c]}; "
                            "every value must be finite (N, N·m)")
    return h


#: Per segment (weakly held, so they go with it), the unit-load section results of each graft
#: state solved on it: another history on the same scenario, or the other part, reuses them
#: instead of a refill, a refactorization and the four unit solves (about 2.5 s at
#: resolution 1.0).
_UNITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unit_sections(scenario: Scenario, graft: str, resolution: float | None) -> tuple:
    """The segment and the rod and screw section results of the four unit loads."""
    from spinesim.simulate import graft_state_segment, graft_tissue, segment_options
    from spinesim.timeline_model import cached_segment

    if graft not in ("unfused", "fused"):
        raise SpinesimError(f"graft = {graft!r}; allowed: 'unfused' (day 0, the graft as "
                            "granulation tissue) or 'fused' (mature bone)")
    level = 0.0 if graft == "unfused" else float(healing.Phase.MATURE_BONE)
    # what graft_state_segment sets besides the segment options (screws always bonded)
    state = (level, *sorted(graft_tissue(scenario).items()))
    seg, _ = cached_segment(segment_options(scenario, resolution))
    kept = _UNITS.setdefault(seg, {})
    if state in kept:
        return seg, kept[state]
    seg = graft_state_segment(scenario, resolution, level)
    loads = []
    for col in HISTORY_COLUMNS:
        m = np.zeros((seg.model.layout.n_extra, 6))
        if col == "compression_n":
            m[-1, :3] = -seg.axis  # 1 N of compression along the segment axis
        else:
            m[-1, 3:] = NMM_PER_NM * np.asarray(LOAD_CASES[_AXES[col]], float)  # 1 N·m
        loads.append(m)
    units = []
    for sol in seg.model.solve_many(loads):
        units.append(hardware_results(seg.hardware, sol)[0])  # the hardware nodes only
    kept[state] = units
    return seg, units


def history_damage(history: ArrayLike, scenario: Scenario | None = None, *,
                   part: str = "rod", graft: str = "unfused",
                   passes_per_year: float | None = None,
                   resolution: float | None = None) -> HistoryDamage:
    """Rainflow-counted Miner damage of a rod or screw under a load history (module notes).

    Parameters
    ----------
    history : array (T, 4) or DataFrame
        Loads over time, columns :data:`HISTORY_COLUMNS`: compression (N), flexion, lateral
        bending and axial rotation moments (N·m; signs in the module notes).
    scenario : Scenario, optional
        The fused segment and its hardware, S-N curves and mean-stress method; default
        :meth:`Scenario.default`.
    part : "rod" or "screw"
    graft : "unfused" or "fused"
        Graft state: day 0 (granulation tissue, the rods carry the most) or mature bone.
    passes_per_year : float, optional
        How often the history repeats per year (1/year), for the damage per year and life.
    resolution : float, optional
        Mesh resolution; default ``segment.resolution``.

    Returns
    -------
    HistoryDamage
    """
    from spinesim.simulate import _curve

    scenario = Scenario.default() if scenario is None else scenario
    if part not in ("rod", "screw"):
        raise SpinesimError(f"part = {part!r}; allowed: 'rod', 'screw'")
    if passes_per_year is not None and not (isinstance(passes_per_year, numbers.Real)
                                            and not isinstance(passes_per_year, bool)
                                            and math.isfinite(passes_per_year)
                                            and passes_per_year >= 0):
        raise SpinesimError(f"passes_per_year = {passes_per_year!r}; allowed: a number >= 0 "
                            "(1/year)")
    if scenario.get("timeline.soft_tissue"):
        raise SpinesimError("timeline.soft_tissue = true: load histories are superposed on the "
                            "linear model; set it to false (ligaments and facets change the "
                            "rod stress of a cage construct by about 3 %)")
    if scenario.applies("cage.interface") and scenario.get("cage.interface") == "contact":
        raise SpinesimError("cage.interface = 'contact': load histories are superposed on the "
                            "linear model; set it to 'bonded'")
    h = _history(history)
    seg, units = _unit_sections(scenario, graft, resolution)
    key = f"{part}_beams"
    beams = seg.hardware.beams[key]
    theta = np.linspace(0.0, 2 * np.pi, N_ANGLES, endpoint=False)
    unit_s, unit_t = zip(*(surface_stresses(u[key], beams["section"], theta) for u in units))
    sig = np.einsum("tk,kpea->tpea", h, np.stack(unit_s))   # (T, n, 2, m) MPa
    tau = np.einsum("tk,kpea->tpea", h, np.stack(unit_t))
    eq = np.sign(sig) * np.sqrt(sig * sig + 3.0 * tau * tau)
    flat = eq.reshape(len(h), -1)
    ranges = flat.max(axis=0) - flat.min(axis=0)
    picked = np.flatnonzero(ranges >= RANGE_SHARE * ranges.max()) if ranges.max() > 0 \
        else np.zeros(0, int)
    material = scenario.get(f"hardware.{part}.material")
    notch = scenario.get("hardware.rod.notch_factor") if part == "rod" else None
    curve, uts, yield_ = _curve(scenario, material, notch)
    method = scenario.get("fatigue.mean_stress")
    best = (-1.0, 0, 0.0, 0.0)  # damage, point, max amplitude, cycles
    top_amp = 0.0
    for p in picked:  # one rainflow per candidate point (the package counts one series)
        rng, mean, count = rainflow_cycles(flat[:, p])
        if not len(rng):
            continue
        sar = equivalent_amplitude(rng / 2.0, mean, uts, yield_, method)
        nf = curve.cycles_to_failure(sar)
        d = float(np.sum(np.divide(count, nf, out=np.zeros_like(count),
                                   where=np.isfinite(nf))))
        top_amp = max(top_amp, float(sar.max()))
        if d > best[0] or (d == best[0] == 0 and sar.max() > best[2]):
            best = (d, int(p), float(sar.max()), float(count.sum()))
    d, p, _, cycles = best
    d = max(d, 0.0)
    elem, end, angle = np.unravel_index(p, eq.shape[1:])
    where = (beams["x1"] if end == 0 else beams["x2"])[elem]
    per_year = None if passes_per_year is None else d * passes_per_year
    critical = float(scenario.get("fatigue.critical_damage"))
    years = critical / per_year if per_year else math.inf
    log.info("load history: %d points, %d counted, damage %.3g per pass", len(h), len(picked), d)
    return HistoryDamage(damage=d, damage_per_year=per_year, years_to_crack=years,
                         critical_point_mm=np.asarray(where, float),
                         critical_angle_rad=float(theta[angle]),
                         max_equivalent_amplitude_mpa=top_amp, cycles_counted=cycles,
                         points_counted=len(picked))
