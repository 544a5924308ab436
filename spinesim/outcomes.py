"""Flat outcomes of one timeline run: the row a sweep or Monte Carlo case contributes.

:func:`outcomes` turns a :class:`spinesim.simulate.TimelineResult` into a flat dict of JSON
values (booleans, numbers, ``None``); :func:`run_case` is the picklable case function of
sweeps and Monte Carlo runs: scenario parameters in, outcomes out (:func:`run_shared_case`
when several cases share one segment model).

Columns (:data:`OUTCOME_COLUMNS`):

* ``<mode>_fails`` (bool) and ``<mode>_week`` (first failing week or None) for the three
  failure modes ``insufficient_support``, ``hardware_fatigue``, ``nonunion``;
* ``union_week`` (first bridged week, None if the graft never bridged), ``final_bone_fraction``
  (-), ``rod_damage`` and ``screw_damage`` (Miner sums at the end, -),
  ``max_rod_stress_amplitude_mpa`` (MPa), ``max_micromotion_um`` (µm, largest over the
  timeline), ``max_loosened_screws`` (count), ``max_screw_pullout_n`` (N, the largest
  pullout load of any screw over the timeline) and ``pullout_safety_factor`` (-, the pullout
  strength over it; None when no screw is pulled), ``rom_flexion_deg`` at the end (deg), the
  construct's ``flexion_stiffness_nm_per_deg`` (protocol moment over that ROM, N·m/deg) and
  ``initial_graft_strain`` (-): the volume median of the graft elements' octahedral shear
  strain in the first step with load cycles (the day-0 graft under the activity peaks: the
  graft does not change before its first loaded step; 0 without any), the stimulus that
  decides the first tissue steps; unlike the maximum it converges with the mesh;
  ``final_graft_strain`` (-), the same median in the last step with load cycles (the fused
  graft's stimulus: how much the cage and the surrounding bone shield it), and
  ``final_resorption_window_fraction`` (-, the share of the graft by volume in the
  Prendergast-Lacroix resorption window at the end, S <= 0.01; None for the other rules);
* ``final_bridged_area_fraction`` (-, the share of the fusion area bridged by bone at the end:
  the narrowest cross-section of the bone linking the endplates over the graft's, the least
  fused level's; :mod:`spinesim.failure.bridging`) and ``grade_i_week`` (the first week in
  which it exceeded :data:`~spinesim.failure.bridging.CT_GRADE_I_FRACTION`, CT grade I; None
  if never).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spinesim.simulate import TimelineResult

__all__ = ["FAILURE_MODES", "OUTCOME_COLUMNS", "first_week", "outcomes", "run_case",
           "run_shared_case"]

#: The three failure modes, in report order.
FAILURE_MODES = ("insufficient_support", "hardware_fatigue", "nonunion")
#: Keys of :func:`outcomes`, in order.
OUTCOME_COLUMNS = (*(f"{m}_{k}" for m in FAILURE_MODES for k in ("fails", "week")),
                   "union_week", "final_bone_fraction", "rod_damage", "screw_damage",
                   "max_rod_stress_amplitude_mpa", "max_micromotion_um", "max_loosened_screws",
                   "max_screw_pullout_n", "pullout_safety_factor",
                   "rom_flexion_deg", "flexion_stiffness_nm_per_deg", "initial_graft_strain",
                   "final_graft_strain", "final_resorption_window_fraction",
                   "final_bridged_area_fraction", "grade_i_week")


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def first_week(table: Any, mask: Any) -> int | None:
    """First week (rounded up to whole weeks) of a timeline table whose row is true in
    ``mask`` (bool per row: bridged, a loosened screw, a crack ...); None if none is."""
    return math.ceil(table["week"][mask].iloc[0]) if mask.any() else None


def outcomes(result: TimelineResult) -> dict[str, Any]:
    """Flat outcomes (:data:`OUTCOME_COLUMNS`) of a timeline result; units in the module notes."""
    t, v = result.timeline, result.verdicts
    out: dict[str, Any] = {}
    for m in FAILURE_MODES:
        out[f"{m}_fails"] = bool(v[m]["fails"])
        out[f"{m}_week"] = v[m]["week"]
    out["union_week"] = first_week(t, t["bridged"].astype(bool))
    last = t.iloc[-1]
    out["final_bone_fraction"] = float(last["graft_bone_fraction"])
    out["rod_damage"] = _num(last["rod_damage"])
    out["screw_damage"] = _num(last["screw_damage"])
    out["max_rod_stress_amplitude_mpa"] = float(t["max_rod_stress_amplitude_mpa"].max())
    out["max_micromotion_um"] = float(t["max_micromotion_um"].max())
    out["max_loosened_screws"] = int(t["loosened_screws"].max())
    out["max_screw_pullout_n"] = float(t["max_screw_pullout_n"].max())
    pullout = result.info.get("pullout") or {}
    out["pullout_safety_factor"] = _num(pullout.get("safety_factor", math.inf))
    out["rom_flexion_deg"] = float(last["rom_flexion_deg"])
    moment = result.info.get("protocol_moment_nm")
    out["flexion_stiffness_nm_per_deg"] = None if not moment or not out["rom_flexion_deg"] \
        else float(moment) / out["rom_flexion_deg"]
    loaded = t["median_graft_shear_strain"][t["median_graft_shear_strain"] > 0]
    out["initial_graft_strain"] = float(loaded.iloc[0]) if len(loaded) else 0.0
    out["final_graft_strain"] = float(loaded.iloc[-1]) if len(loaded) else 0.0
    window = "graft_resorption_window_fraction"
    out["final_resorption_window_fraction"] = float(last[window]) if window in t.columns \
        else None
    from spinesim.failure.bridging import CT_GRADE_I_FRACTION

    area = t["graft_bridged_area_fraction"]
    out["final_bridged_area_fraction"] = float(area.iloc[-1])
    out["grade_i_week"] = first_week(t, area > CT_GRADE_I_FRACTION)
    return out


def run_case(params: Mapping[str, Any]) -> dict[str, Any]:
    """Case function of sweeps and Monte Carlo runs: build the scenario of ``params`` (nested
    scenario tables, as :meth:`Scenario.to_dict` or a TOML file), run its timeline and return
    :func:`outcomes`. Top-level and picklable, so process pools and Dask workers can run it.
    The intact reference (``output.intact_reference``) is not solved: no outcome reads it,
    and it would cost each case about two minutes at the default mesh.

    Raises
    ------
    spinesim.scenario.ScenarioError
        Invalid parameters (the message names the key).
    """
    return _run(params, shared=False)


def run_shared_case(params: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`run_case` for cases that share their segment model: the cases of a sweep
    grouped by model, the samples of a Monte Carlo run. The timeline is condensed onto its
    graft and screw-interface DOFs from the first case of a model in a worker on (when the
    model is linear: no ``timeline.soft_tissue``), not from the second: the condensation
    costs about what one refactorizing 52-week timeline does, and the later cases on the
    model then take about 0.9 s instead (README, "Performance"). The outcomes are the same
    (the condensation is exact)."""
    return _run(params, shared=True)


def _run(params: Mapping[str, Any], shared: bool) -> dict[str, Any]:
    from spinesim.scenario import Scenario
    from spinesim.simulate import run_timeline

    scenario = Scenario.from_dict(params, source="<case>")
    if scenario.get("output.intact_reference"):  # no outcome reads it; about 2 min a case
        scenario = scenario.replace(**{"output.intact_reference": False})
    condense = (not scenario.get("timeline.soft_tissue")) if shared else None
    return outcomes(run_timeline(scenario, fields=False, condense=condense))
