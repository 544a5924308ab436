"""The files of one run (``spinesim run``): report.json, report.txt, timeline.csv, the standard
figures and VTU fields for ParaView.

Everything is written atomically (temporary name, then rename), so a run killed half way
leaves either the previous file or the new one, never half of one. The figures are rendered
from the written files alone (:func:`spinesim.figures.render_plots`), which is what
``spinesim plot DIR`` does for a finished run.

Layout of a run folder::

    report.json          verdicts, outcomes, scenario (resolved), model info
    report.txt           the same for a reader
    timeline.csv         one row per week (columns: spinesim.simulate.TimelineResult)
    scenario.toml        the resolved scenario, to rerun it
    plots/*.png          race, bone fraction, tissue phases, micromotion, screw pullout, ROM,
                         damage, S-N
    fields/week_XXX.vtu  displacement, von Mises, moduli, graft tissue level per reported week
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesim import __version__
from spinesim.atomic import atomic_path, json_safe, write_csv, write_json
from spinesim.errors import SpinesimError
from spinesim.figures import PLOTS, render_plots
from spinesim.outcomes import FAILURE_MODES, first_week, outcomes

if TYPE_CHECKING:

    from spinesim.scenario import Scenario
    from spinesim.simulate import TimelineResult

log = logging.getLogger(__name__)

__all__ = ["PLOTS", "REPORT_FILES", "report_dict", "report_text", "write_report"]

#: Files every run folder holds.
REPORT_FILES = ("report.json", "report.txt", "timeline.csv", "scenario.toml")
_MODE_TEXT = {"insufficient_support": "insufficient support (screw loosening)",
              "hardware_fatigue": "hardware fatigue (rod/screw crack)",
              "nonunion": "nonunion (no bridging bone)"}


def _operating_points(result: TimelineResult, scenario: Scenario) -> dict[str, dict]:
    """Rod operating points for the S-N figure: the worst and the last week's peak von Mises
    amplitude, as the fully reversed amplitude of the zero-to-peak cycle (mean = amplitude,
    mean-stress corrected with ``fatigue.mean_stress``), and the cycles per year at full
    activity (MPa, cycles/year). A point whose peak reaches the mean-stress limit fails
    statically, not by fatigue: its equivalent amplitude is null and ``static_overload`` true
    (no S-N curve applies)."""
    from spinesim.failure.fatigue import equivalent_amplitude, fails_statically
    from spinesim.model.activity import activity_spectrum
    from spinesim.model.implant_materials import implant_material

    t = result.timeline
    amp = t["max_rod_stress_amplitude_mpa"].to_numpy()
    if not np.any(amp > 0):
        return {}
    spec = activity_spectrum(scenario)
    per_year = 365.0 * scenario.get("activity.level") * sum(a.per_day for a in spec.active())
    mat = implant_material(scenario.get("hardware.rod.material"))
    method = scenario.get("fatigue.mean_stress")
    out = {}
    worst, last = int(np.argmax(amp)), len(amp) - 1
    picks = [("worst week", worst)]
    if amp[last] < 0.95 * amp[worst]:  # a second point only where fusion unloaded the rod
        picks.append(("last week", last))
    for label, i in picks:
        sa = float(amp[i])
        static = bool(fails_statically(2.0 * sa, sa, float(mat.uts_mpa), mat.yield_mpa, method))
        eq = None if static else float(equivalent_amplitude(
            sa, sa, float(mat.uts_mpa), mat.yield_mpa, method=method))
        out[f"{label} ({t['week'].iloc[i]:g})"] = {
            "amplitude_mpa": sa, "equivalent_amplitude_mpa": eq, "cycles_per_year": per_year,
            "static_overload": static}
    return out


def _rom_vs_intact(result: TimelineResult) -> dict[str, dict] | None:
    """Per protocol direction, then per activity (``activity_<name>``: the rotation about its
    moment axis under its peak): intact ROM, the fused ROM of the first and last week (deg)
    and the last as a percentage of intact (null where the intact rotation is below 0.001
    deg); None without ``output.intact_reference``."""
    intact = result.info.get("intact_rom_deg")
    if not intact:
        return None
    t = result.timeline
    out = {}
    for name, deg in intact.items():
        col = f"activity_rom_{name[len('activity_'):]}_deg" if name.startswith("activity_") \
            else f"rom_{name}_deg"
        first, last = (float(t[col].iloc[i]) for i in (0, -1))
        out[name] = {"intact_deg": deg, "fused_first_week_deg": first,
                     "fused_last_week_deg": last,
                     "percent_of_intact": 100.0 * last / deg if abs(deg) >= 1e-3 else None}
    return out


def _levels(result: TimelineResult) -> dict[str, dict[str, Any]] | None:
    """Per fused level of a multi-level fusion: first bridged week and final bone fraction."""
    t = result.timeline
    keys = [c[len("bridged_"):] for c in t.columns if c.startswith("bridged_")]
    if not keys:
        return None
    out = {}
    for k in keys:
        out[k.replace("_", "-")] = {
            "union_week": first_week(t, t[f"bridged_{k}"].astype(bool)),
            "final_bone_fraction": float(t[f"graft_bone_fraction_{k}"].iloc[-1])}
    return out


def report_dict(result: TimelineResult, scenario: Scenario) -> dict[str, Any]:
    """The content of report.json: ``verdicts`` (the three failure modes, each ``fails``,
    ``week``, ``driver``, ``value``, ``threshold``; non-finite values as null), ``outcomes``
    (:func:`spinesim.outcomes.outcomes`), ``rod_operating_points``, ``fatigue`` (per rod and
    screw: damage per year, years to the first crack, critical point, safety factor; see
    :class:`spinesim.simulate.TimelineResult`), ``pullout`` (each screw's predicted pullout
    strength, the largest pullout and transverse loads, the screw nearest to pulling out, its
    load, strength and safety factor, N),
    ``levels`` (a multi-level fusion: per fused level, e.g. ``"L3-L4"``, its first bridged
    week ``union_week`` or null and its graft's ``final_bone_fraction``; null for one level),
    ``rom_vs_intact`` (with ``output.intact_reference``, else null), ``scenario``
    (resolved), ``model`` (size, timings) and ``units``."""
    info = result.info
    model = {k: info[k] for k in ("dofs", "graft_cells", "tied_nodes", "build_s", "total_s",
                                  "solves", "factorizations", "healing_rate_per_week",
                                  "healing_odds_ratio", "fluid_velocity_mm_s") if k in info}
    model.update(screws=list(info.get("screws", [])), soft_tissue=info.get("soft_tissue"),
                 active_activities=list(info.get("active_activities", [])))
    return json_safe({
        "spinesim_version": __version__,
        "scenario_source": scenario.source,
        "verdicts": {m: result.verdicts[m] for m in FAILURE_MODES},
        "outcomes": outcomes(result),
        "rod_operating_points": _operating_points(result, scenario),
        "fatigue": info.get("fatigue", {}),
        "pullout": info.get("pullout"),
        "levels": _levels(result),
        "model": model,
        "rom_vs_intact": _rom_vs_intact(result),
        "fields_weeks": sorted(float(w) for w in result.fields),
        "units": {"week": "weeks", "damage": "Miner sum (-)", "stress": "MPa",
                  "micromotion": "µm", "rom": "deg", "force": "N",
                  "bone_fraction": "volume fraction (-)"},
        "scenario": scenario.to_dict(),
    })


def _fmt(x: Any) -> str:
    if x is None:
        return "none"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        # three significant digits, without an exponent for 1 000 to 1e6 (a strength in N)
        return f"{x:.0f}" if 1e3 <= abs(x) < 1e6 else f"{x:.3g}"
    return str(x)


#: Pseudarthrosis: no bony union within 12 months after surgery (ISSLS definition, reference
#: healing.md, found in source); a shorter horizon is stated in report.txt.
NONUNION_CLINICAL_WEEKS = 52


def report_text(report: dict[str, Any]) -> str:
    """report.txt: verdicts with driver, value and threshold, then the key outcomes."""
    lines = [f"spinesim {report['spinesim_version']} - fusion failure report",
             f"scenario: {report['scenario_source']}",
             f"segment {report['scenario']['segment']['levels']}, construct "
             f"{report['scenario']['segment']['construct']}, "
             f"{report['scenario']['timeline']['weeks']} weeks", "", "Verdicts"]
    for mode in FAILURE_MODES:
        v = report["verdicts"][mode]
        state = f"FAILS in week {v['week']}" if v["fails"] else "does not fail"
        value = "never" if v["value"] is None and v["driver"] == "weeks_to_union" \
            else _fmt(v["value"])
        lines.append(f"  {_MODE_TEXT[mode]:42s} {state}")
        lines.append(f"      driver {v['driver']} = {value} (threshold {_fmt(v['threshold'])})")
        if mode == "nonunion" and v["threshold"] is not None \
                and v["threshold"] < NONUNION_CLINICAL_WEEKS:
            lines.append(f"      (horizon {_fmt(v['threshold'])} weeks, shorter than the clinical "
                         f"definition: no bony union within {NONUNION_CLINICAL_WEEKS} weeks, "
                         "ISSLS; set by timeline.nonunion_horizon_weeks or the run's length)")
    o = report["outcomes"]
    lines += ["", "Outcomes",
              f"  union week                        {_fmt(o['union_week'])}",
              f"  graft bone fraction at the end    {_fmt(o['final_bone_fraction'])}",
              f"  rod damage (Miner sum)            {_fmt(o['rod_damage'])}",
              f"  screw damage (Miner sum)          {_fmt(o['screw_damage'])}",
              f"  largest rod stress amplitude      {_fmt(o['max_rod_stress_amplitude_mpa'])} MPa",
              f"  largest screw-bone micromotion    {_fmt(o['max_micromotion_um'])} µm",
              f"  day-0 graft shear strain, median  "
              f"{_fmt(100.0 * o['initial_graft_strain'])} % (octahedral, by volume)",
              f"  most loosened screws              {_fmt(o['max_loosened_screws'])}",
              f"  flexion ROM at the end            {_fmt(o['rom_flexion_deg'])} deg "
              f"(construct stiffness {_fmt(o['flexion_stiffness_nm_per_deg'])} N·m/deg)"]
    for part, f in report.get("fatigue", {}).items():
        crack = "never (no damage)" if f["years_to_crack"] is None \
            else f"in {_fmt(f['years_to_crack'])} years"
        lines.append(f"  {part} fatigue: damage {_fmt(f['damage_per_year'])} per year, first "
                     f"crack {crack}, safety factor {_fmt(f['safety_factor'])} against the "
                     f"endurance limit, critical point {f['critical_point_mm']} mm")
    for name, lv in (report.get("levels") or {}).items():
        lines.append(f"  level {name}: union week {_fmt(lv['union_week'])}, graft bone "
                     f"fraction at the end {_fmt(lv['final_bone_fraction'])}")
    p = report.get("pullout")
    if p and p.get("critical_screw"):
        lines.append(f"  screw pullout: {p['critical_screw'].replace('_', ' ')} nearest, load "
                     f"{_fmt(p['critical_pullout_n'])} N against its predicted strength "
                     f"{_fmt(p['strength_n'])} N (safety factor {_fmt(p['safety_factor'])}); "
                     f"largest transverse load {_fmt(p['max_transverse_n'])} N")
    elif p and p.get("strength_n") is not None:
        lines.append(f"  screw pullout: no screw is pulled out of the bone (smallest strength "
                     f"{_fmt(p['strength_n'])} N)")
    if report.get("rom_vs_intact"):
        lines += ["", "ROM under the protocol moment and each activity's peak (deg, "
                  "one-sided): intact / fused at the end"]
        for name, r in report["rom_vs_intact"].items():
            lines.append(f"  {name.replace('_', ' '):18s} {_fmt(r['intact_deg']):>6s} / "
                         f"{_fmt(r['fused_last_week_deg']):>6s}  "
                         f"({_fmt(r['percent_of_intact'])} % of intact)")
    m = report["model"]
    lines += ["", f"model: {m.get('dofs')} DOFs, {m.get('factorizations')} factorizations, "
              f"{_fmt(m.get('total_s'))} s; healing rate {_fmt(m.get('healing_rate_per_week'))}"
              f" phases/week (odds ratio {_fmt(m.get('healing_odds_ratio'))})"]
    return "\n".join(lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_report(result: TimelineResult, scenario: Scenario, out_dir: str | os.PathLike, *,
                 plots: bool | None = None, vtu: bool = True) -> list[Path]:
    """Write a run folder (module notes) and return the files written.

    Parameters
    ----------
    plots : bool, optional
        Render the figures; default ``output.plots`` of the scenario.
    vtu : bool
        Write the fields of ``result.fields`` as VTU files.

    Raises
    ------
    SpinesimError
        ``out_dir`` cannot be created or written (the message names it).
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpinesimError(f"output folder {out}: cannot create it ({exc.strerror})") from exc
    if not os.access(out, os.W_OK):
        raise SpinesimError(f"output folder {out}: not writable")
    report = report_dict(result, scenario)
    written = []
    write_csv(out / "timeline.csv", result.timeline, index=False, float_format="%.6g")
    written.append(out / "timeline.csv")
    _write_text(out / "scenario.toml", scenario.toml_text(full=True))
    written.append(out / "scenario.toml")
    if vtu and result.fields:
        written += _write_fields(result, out / "fields")
    write_json(out / "report.json", report)  # the figures are rendered from the files
    if scenario.get("output.plots") if plots is None else plots:
        written += render_plots(out)
    report["files"] = sorted(str(p.relative_to(out)) for p in
                             [*written, out / "report.json", out / "report.txt"])
    write_json(out / "report.json", report)
    _write_text(out / "report.txt", report_text(report))
    return [*written, out / "report.json", out / "report.txt"]


def _write_fields(result: TimelineResult, folder: Path) -> list[Path]:
    from spinesim.mesh.io import write_mesh

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for week, f in sorted(result.fields.items()):
        path = folder / f"week_{int(round(week)):03d}.vtu"
        write_mesh(path, result.mesh, point_data={"displacement_mm": f["displacement_mm"]},
                   cell_data={"von_mises_mpa": f["von_mises_mpa"], "E_mpa": f["E_mpa"],
                              "nu": f["nu"], "tissue_level": f["tissue_level"]})
        paths.append(path)
    if result.hardware_segments is not None:  # rods and screws as straight segments, mm
        seg = folder / "hardware_segments.json"
        write_json(seg, np.asarray(result.hardware_segments, float).round(6).tolist())
        paths.append(seg)
    return paths


