"""The files of one run (``spinesim run``): report.json, report.txt, timeline.csv, the standard
figures and VTU fields for ParaView.

Layout of a run folder::

    report.json          verdicts, outcomes, scenario (resolved), model info
    report.txt           the same for a reader
    timeline.csv         one row per week (columns: spinesim.simulate.TimelineResult)
    scenario.toml        the resolved scenario, to rerun it
    plots/*.png          race, bone fraction, tissue phases, micromotion, screw pullout, ROM,
                         damage, S-N
    fields/week_XXX.vtu  displacement, von Mises, moduli, graft tissue level per reported week

How a run folder is written (:func:`write_report`). The whole run goes to a hidden staging
folder ``.<name>.partial-<random>`` on the output folder's filesystem: inside the output folder
when it exists, next to it when it does not (so only the folder that ``spinesim run`` checks
for write access is written to). The figures are rendered from the staged files alone
(:func:`spinesim.figures.render_plots`, which is what ``spinesim plot DIR`` does for a
finished run). Only when every file is staged is the run moved into place:

* a new output folder is the staging folder renamed: it appears complete or not at all;
* in an existing output folder the spinesim-owned entries of an earlier run (the files of
  :data:`REPORT_FILES`, ``fields/`` and ``plots/`` with anything put inside them) are replaced
  as a whole, one rename each, and those this run does not write (``plots/`` after
  ``--no-plots``) are removed, so no stale VTU file or figure survives; anything else in the
  folder is left alone. An entry in the way (a folder named report.json, a file named fields)
  is refused before anything is moved.

Any error (a file that cannot be written, a full disk, a figure that cannot be drawn, a rename
that fails) removes the staging folder and leaves the output folder as it was (a failed rename
undoes the ones before it), and is raised as a :class:`SpinesimError` that names the output
file in plain words, never a temporary name. Not atomic: a crash or kill of the process
*during* the final renames of an existing folder (a few renames, microseconds) can leave a mix
of the earlier run's and this run's entries, and a hidden staging folder holding the rest;
every single file is still whole (each is written to a temporary name and renamed). Parent
folders of a new output folder are created and stay even when the run then fails.

A run killed while it writes (``kill -9``, a power cut) leaves its staging folder behind. A
run holds an exclusive lock (``flock``) on its staging folder from right after making it until
it is done, and the system drops the lock when the process ends, however it ends. So the next
:func:`write_report` into the same output folder first removes each ``.<name>.partial-*``
folder inside and next to it whose lock it can take, when the folder is at least
:data:`STALE_AFTER_S` old (that covers the instant between making a folder and locking it, and
clocks of a network file server a little behind). The staging folder of a concurrent run is
locked and left alone. Where there are no such locks (no ``fcntl``, as on Windows; a file
system that refuses them) nothing is removed. Not protected: two machines writing into one
output folder at the same moment over a network file system whose locks each machine keeps to
itself (NFS mounted with ``local_lock``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesim import __version__
from spinesim.atomic import _umask, atomic_path, json_safe, write_csv, write_json
from spinesim.errors import SpinesimError
from spinesim.figures import PLOTS, render_plots
from spinesim.outcomes import FAILURE_MODES, first_week, outcomes

try:
    import fcntl
except ImportError:  # Windows: no flock, so no staging folder is ever judged stale
    fcntl = None

if TYPE_CHECKING:

    from spinesim.scenario import Scenario
    from spinesim.simulate import TimelineResult

log = logging.getLogger(__name__)

__all__ = ["PLOTS", "REPORT_FILES", "check_output_folder", "report_dict", "report_text",
           "write_report"]

#: Files every run folder holds.
REPORT_FILES = ("report.json", "report.txt", "timeline.csv", "scenario.toml")
#: Folders of a run folder; with REPORT_FILES the entries a rerun replaces or removes.
REPORT_FOLDERS = ("fields", "plots")
#: Age in s from which an unlocked staging folder is a killed run's leftover (module notes).
STALE_AFTER_S = 60.0
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


def _loosening(result: TimelineResult, scenario: Scenario) -> dict[str, Any] | None:
    """The screw nearest to counting as loosened: the largest share of its tied nodes below
    ``loosening.loosened_factor`` of their day-0 stiffness in any week, against
    ``loosening.screw_share``; None without the per-screw columns."""
    t = result.timeline
    cols = [c for c in t.columns if c.startswith("loosened_share_")]
    if not cols or t.empty:
        return None
    peak = t[cols].max()
    col = str(peak.idxmax())
    share = float(peak[col])
    return {"screw": col[len("loosened_share_"):], "max_loosened_share": share,
            "week": float(t["week"].loc[t[col].idxmax()]) if share > 0 else None,
            "screw_share": float(scenario.get("loosening.screw_share")),
            "loosened_factor": float(scenario.get("loosening.loosened_factor"))}


def _levels(result: TimelineResult) -> dict[str, dict[str, Any]] | None:
    """Per fused level of a multi-level fusion: first bridged week, final bone fraction and
    final bridged share of its fusion area."""
    t = result.timeline
    keys = [c[len("bridged_"):] for c in t.columns if c.startswith("bridged_")]
    if not keys:
        return None
    out = {}
    for k in keys:
        out[k.replace("_", "-")] = {
            "union_week": first_week(t, t[f"bridged_{k}"].astype(bool)),
            "final_bone_fraction": float(t[f"graft_bone_fraction_{k}"].iloc[-1]),
            "final_bridged_area_fraction": float(t[f"graft_bridged_area_fraction_{k}"].iloc[-1])}
    return out


def _resorption_window(result: TimelineResult, scenario: Scenario) -> dict[str, Any] | None:
    """Share of the graft whose stimulus lies in the Prendergast-Lacroix resorption window
    (column ``graft_resorption_window_fraction``): at the end, its largest, the first week it
    reached half of the graft, and whether the rule resorbs it (``resorbed``,
    ``healing.prendergast.resorption``) or counts it as mature bone; None for a rule without
    that window."""
    t = result.timeline
    col = "graft_resorption_window_fraction"
    if col not in t.columns:
        return None
    key = "healing.prendergast.resorption"
    return {"final_fraction": float(t[col].iloc[-1]), "largest_fraction": float(t[col].max()),
            "half_week": first_week(t, t[col] >= 0.5),
            "resorbed": bool(scenario.applies(key) and scenario.get(key))}


def _fusion_grade(o: dict[str, Any]) -> dict[str, Any]:
    """The CT fusion grade at the end (:func:`spinesim.failure.bridging.ct_grade`) from the
    outcomes ``o`` (:func:`spinesim.outcomes.outcomes`): the bridged share of the fusion area
    at the end, the first week it was grade I, and the grade I share."""
    from spinesim.failure.bridging import CT_GRADE_I_FRACTION, ct_grade

    final = o["final_bridged_area_fraction"]
    return {"final_grade": ct_grade(final), "final_bridged_area_fraction": final,
            "grade_i_week": o["grade_i_week"], "grade_i_fraction": CT_GRADE_I_FRACTION}


def report_dict(result: TimelineResult, scenario: Scenario) -> dict[str, Any]:
    """The content of report.json: ``verdicts`` (the three failure modes, each ``fails``,
    ``week``, ``driver``, ``value``, ``threshold``; non-finite values as null), ``outcomes``
    (:func:`spinesim.outcomes.outcomes`), ``rod_operating_points``, ``fatigue`` (per rod and
    screw: damage per year, years to the first crack, critical point, safety factor; see
    :class:`spinesim.simulate.TimelineResult`), ``pullout`` (each screw's predicted pullout
    strength, the largest pullout and transverse loads, the screw nearest to pulling out, its
    load, strength and safety factor, N), ``loosening`` (the screw nearest to counting as
    loosened: its largest share of tied nodes below ``loosening.loosened_factor`` of their
    day-0 stiffness, the first week it reached it, and the ``loosening.screw_share`` from
    which the screw counts as loosened),
    ``levels`` (a multi-level fusion: per fused level, e.g. ``"L3-L4"``, its first bridged
    week ``union_week`` or null, its graft's ``final_bone_fraction`` and
    ``final_bridged_area_fraction``; null for one level),
    ``fusion_grade`` (the CT grade at the end, ``final_grade`` "I", "II" or "III-V", from the
    share of the fusion area bridged by bone ``final_bridged_area_fraction``, the least fused
    level's; ``grade_i_week``, the first week above ``grade_i_fraction`` or null;
    :mod:`spinesim.failure.bridging`),
    ``resorption_window`` (Prendergast-Lacroix rule: the share of the graft by volume whose
    stimulus lies in the rule's resorption window, S <= 0.01, which spinesim counts as mature
    bone unless ``healing.prendergast.resorption`` (``resorbed``): ``final_fraction``,
    ``largest_fraction`` and ``half_week``, the first week it reached half of the graft or
    null; null for the other rules),
    ``rom_vs_intact`` (with ``output.intact_reference``, else null), ``scenario``
    (resolved), ``model`` (size, timings) and ``units``."""
    info = result.info
    model = {k: info[k] for k in ("dofs", "graft_cells", "tied_nodes", "build_s", "total_s",
                                  "solves", "factorizations", "healing_rate_per_week",
                                  "healing_odds_ratio", "fluid_velocity_mm_s",
                                  "cell_diffusion_mm2_per_day") if k in info}
    model.update(screws=list(info.get("screws", [])), soft_tissue=info.get("soft_tissue"),
                 cage_interface=info.get("cage_interface"),
                 active_activities=list(info.get("active_activities", [])))
    o = outcomes(result)
    return json_safe({
        "spinesim_version": __version__,
        "scenario_source": scenario.source,
        "verdicts": {m: result.verdicts[m] for m in FAILURE_MODES},
        "outcomes": o,
        "rod_operating_points": _operating_points(result, scenario),
        "fatigue": info.get("fatigue", {}),
        "pullout": info.get("pullout"),
        "loosening": _loosening(result, scenario),
        "levels": _levels(result),
        "fusion_grade": _fusion_grade(o),
        "resorption_window": _resorption_window(result, scenario),
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


def _grade_line(g: dict[str, Any]) -> str:
    """report.txt line of the CT fusion grade (:func:`_fusion_grade`)."""
    since = "" if g["grade_i_week"] is None else \
        f"; over {_fmt(100.0 * g['grade_i_fraction'])} % from week {g['grade_i_week']}"
    return (f"  fusion area bridged by bone       {_fmt(100.0 * g['final_bridged_area_fraction'])}"
            f" % at the end: CT grade {g['final_grade']} (narrowest bony cross-section{since})")


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
        if mode != "nonunion":
            continue
        first = report["outcomes"]["union_week"]
        if first is not None and v["value"] != first:  # bridge lost: resorbed or strained
            lasting = "not bridged at the horizon" if v["value"] is None \
                else f"bridged without a break from week {_fmt(v['value'])}"
            lines.append(f"      (bridged first in week {first}, then lost; {lasting})")
        if v["threshold"] is not None and v["threshold"] < NONUNION_CLINICAL_WEEKS:
            lines.append(f"      (horizon {_fmt(v['threshold'])} weeks, shorter than the clinical "
                         f"definition: no bony union within {NONUNION_CLINICAL_WEEKS} weeks, "
                         "ISSLS; set by timeline.nonunion_horizon_weeks or the run's length)")
    o = report["outcomes"]
    lines += ["", "Outcomes",
              f"  union week                        {_fmt(o['union_week'])}",
              f"  graft bone fraction at the end    {_fmt(o['final_bone_fraction'])}",
              _grade_line(report["fusion_grade"]),
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
                     f"fraction at the end {_fmt(lv['final_bone_fraction'])}, bridged share of "
                     f"the fusion area {_fmt(lv['final_bridged_area_fraction'])}")
    rw = report.get("resorption_window")
    if rw:
        since = "" if rw["half_week"] is None else \
            f"; half of the graft or more from week {rw['half_week']}"
        fate = "resorbed (healing.prendergast.resorption)" if rw["resorbed"] else \
            "bone the rule would remove, counted as mature bone"
        lines.append(f"  graft in the resorption window    {_fmt(100.0 * rw['final_fraction'])} "
                     f"% at the end (Prendergast-Lacroix S <= 0.01{since}): {fate}")
    p = report.get("pullout")
    if p and p.get("critical_screw"):
        lines.append(f"  screw pullout: {p['critical_screw'].replace('_', ' ')} nearest, load "
                     f"{_fmt(p['critical_pullout_n'])} N against its predicted strength "
                     f"{_fmt(p['strength_n'])} N (safety factor {_fmt(p['safety_factor'])}); "
                     f"largest transverse load {_fmt(p['max_transverse_n'])} N")
    elif p and p.get("strength_n") is not None:
        lines.append(f"  screw pullout: no screw is pulled out of the bone (smallest strength "
                     f"{_fmt(p['strength_n'])} N)")
    lo = report.get("loosening")
    if lo and not lo["max_loosened_share"] > 0:
        lines.append(f"  screw loosening: no tied node of any screw fell below "
                     f"{_fmt(100.0 * lo['loosened_factor'])} % of its day-0 stiffness (a "
                     f"screw counts as loosened from {_fmt(100.0 * lo['screw_share'])} % of "
                     "its nodes)")
    elif lo:
        lines.append(f"  screw loosening: {lo['screw'].replace('_', ' ')} furthest, "
                     f"{_fmt(100.0 * lo['max_loosened_share'])} % of its tied nodes below "
                     f"{_fmt(100.0 * lo['loosened_factor'])} % of their day-0 stiffness (a "
                     f"screw counts as loosened from {_fmt(100.0 * lo['screw_share'])} %)")
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
              f" phases/week (odds ratio {_fmt(m.get('healing_odds_ratio'))})"
              + (f"; cells migrate from the endplates at D = "
                 f"{_fmt(m['cell_diffusion_mm2_per_day'])} mm^2/day"
                 if m.get("cell_diffusion_mm2_per_day") is not None else "")]
    return "\n".join(lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_report(result: TimelineResult, scenario: Scenario, out_dir: str | os.PathLike, *,
                 plots: bool | None = None, vtu: bool = True) -> list[Path]:
    """Write a run folder through a staging folder (module notes) and return the files written,
    in their final places.

    Parameters
    ----------
    plots : bool, optional
        Render the figures; default ``output.plots`` of the scenario.
    vtu : bool
        Write the fields of ``result.fields`` as VTU files.

    Raises
    ------
    SpinesimError
        ``out_dir`` cannot be created or written, a file cannot be written or moved into
        place, or an entry of another kind stands where the run writes one (the message names
        the folder and the file). The output folder is then left as it was.
    """
    out = Path(out_dir)
    report = report_dict(result, scenario)
    draw = scenario.get("output.plots") if plots is None else plots
    with _staging(out) as stage:
        names = _write_staged(stage, out, result, scenario, report, draw=draw, vtu=vtu)
        _move_into_place(stage, out, {Path(n).parts[0] for n in names})
    log.info("output folder %s: %d files written", out, len(names))
    return [out / n for n in names]


def check_output_folder(out_dir: str | os.PathLike, scenario: Scenario, *,
                        plots: bool | None = None, vtu: bool = True) -> None:
    """Refuse, before the work, an entry of ``out_dir`` that stands where :func:`write_report`
    (same ``plots`` and ``vtu``) would write a run file or folder but is of the other kind,
    e.g. a folder named report.json or a file named fields (SpinesimError naming both)."""
    names = set(REPORT_FILES)
    if scenario.get("output.plots") if plots is None else plots:
        names.add("plots")
    if vtu and scenario.get("output.vtu_weeks"):
        names.add("fields")
    out = Path(out_dir)
    if out.resolve().is_dir():
        _refuse_in_the_way(out, names)


def _staging_folder(out: Path) -> Path:
    """A new hidden folder on the filesystem of ``out``: inside ``out`` if it exists, else
    next to it (its parents created)."""
    target = out.resolve()
    if target.exists() and not target.is_dir():
        raise SpinesimError(f"output folder {out}: is a file; give a folder")
    where = target if target.is_dir() else target.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=where))
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp gives 0700; a new folder is renamed
    except OSError as exc:
        doing = "write in" if target.is_dir() else "create"
        raise SpinesimError(f"output folder {out}: cannot {doing} it ({exc.strerror})") from exc
    return stage


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A new staging folder for ``out`` (:func:`_staging_folder`), locked until it is removed
    at the end; the leftovers of killed runs are removed first (module notes)."""
    _remove_stale_staging(out)
    stage = _staging_folder(out)
    lock = _try_lock(stage)
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if stage.exists():
            log.warning("output folder %s: could not remove the staging folder %s", out, stage)
        if lock is not None:
            os.close(lock)


def _try_lock(folder: Path) -> int | None:
    """An open descriptor of ``folder`` holding an exclusive ``flock`` on it; None if there
    are no such locks here or another process holds one."""
    if fcntl is None:
        return None
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove_stale_staging(out: Path) -> None:
    """Remove the staging folders of killed runs inside and next to ``out``: at least
    :data:`STALE_AFTER_S` old and not locked (module notes). Never fails: a folder that cannot
    be judged or removed stays."""
    target = out.resolve()
    prefix = f".{target.name}.partial-"
    for where in (target, target.parent):
        try:
            with os.scandir(where) as entries:
                found = [Path(e.path) for e in entries
                         if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False)]
        except OSError:  # not there (a new output folder) or not readable
            continue
        for folder in found:
            with suppress(OSError):
                if time.time() - folder.lstat().st_mtime < STALE_AFTER_S:
                    continue
                lock = _try_lock(folder)
                if lock is None:  # a live run's, or no locks to tell by
                    continue
                try:
                    shutil.rmtree(folder)
                    log.info("output folder %s: removed %s, left by a run that was killed",
                             out, folder)
                finally:
                    os.close(lock)


@contextmanager
def _writing(out: Path, stage: Path, name: str) -> Iterator[None]:
    """Turn an error while staging ``name`` into a SpinesimError naming the output folder and
    the file, never the staging folder or a temporary name."""
    try:
        yield
    except OSError as exc:
        why = exc.strerror or str(exc).replace(str(stage), str(out))
        raise SpinesimError(f"output folder {out}: cannot write {name} ({why})") from exc
    except SpinesimError as exc:  # a MeshError, or a figure that cannot be drawn
        why = str(exc).replace(str(stage), str(out))
        raise SpinesimError(f"output folder {out}: cannot write {name}: {why}") from exc


def _staged(stage: Path, out: Path, name: str, write: Callable[[Path], Any]) -> str:
    """Run ``write(stage / name)`` with errors naming ``name``; return ``name``."""
    with _writing(out, stage, name):
        write(stage / name)
    return name


def _write_staged(stage: Path, out: Path, result: TimelineResult, scenario: Scenario,
                  report: dict[str, Any], *, draw: bool, vtu: bool) -> list[str]:
    """Write every file of the run into ``stage``; return their names relative to it (the
    order of :func:`write_report`'s return value)."""
    names = [
        _staged(stage, out, "timeline.csv", lambda p: write_csv(
            p, result.timeline, index=False, float_format="%.6g")),
        _staged(stage, out, "scenario.toml", lambda p: _write_text(
            p, scenario.toml_text(full=True))),
    ]
    if vtu and result.fields:
        names += _write_fields(result, stage, out)
    _staged(stage, out, "report.json", lambda p: write_json(p, report))  # for the figures
    if draw:
        with _writing(out, stage, "plots"):
            names += [str(p.relative_to(stage)) for p in render_plots(stage)]
    names += ["report.json", "report.txt"]
    report["files"] = sorted(names)
    _staged(stage, out, "report.json", lambda p: write_json(p, report))
    _staged(stage, out, "report.txt", lambda p: _write_text(p, report_text(report)))
    return names


def _write_fields(result: TimelineResult, stage: Path, out: Path) -> list[str]:
    """Stage fields/week_XXX.vtu per reported week and fields/hardware_segments.json."""
    from spinesim.mesh.io import write_mesh

    _staged(stage, out, "fields", lambda p: p.mkdir())
    names = []
    for week, f in sorted(result.fields.items()):
        names.append(_staged(
            stage, out, os.path.join("fields", f"week_{int(round(week)):03d}.vtu"),
            lambda p, f=f: write_mesh(
                p, result.mesh, point_data={"displacement_mm": f["displacement_mm"]},
                cell_data={"von_mises_mpa": f["von_mises_mpa"], "E_mpa": f["E_mpa"],
                           "nu": f["nu"], "tissue_level": f["tissue_level"],
                           **({"cell_concentration": f["cell_concentration"]}
                              if "cell_concentration" in f else {})})))
    if result.hardware_segments is not None:  # rods and screws as straight segments, mm
        segments = np.asarray(result.hardware_segments, float).round(6).tolist()
        names.append(_staged(stage, out, os.path.join("fields", "hardware_segments.json"),
                             lambda p: write_json(p, segments)))
    return names


def _kind(path: Path) -> str:
    """``folder``, ``file`` (symbolic links followed) or ``link or special file``."""
    return "folder" if path.is_dir() else "file" if path.is_file() else "link or special file"


def _owned(target: Path) -> list[str]:
    """The spinesim entries of an earlier run in ``target``: its files and folders of the
    names and kinds a run writes."""
    return [n for n in REPORT_FILES if (target / n).is_file()] + \
        [n for n in REPORT_FOLDERS if (target / n).is_dir()]


def _refuse_in_the_way(out: Path, names: set[str]) -> None:
    """SpinesimError if an entry of ``out`` named as one of ``names`` is of the other kind."""
    target = out.resolve()
    for name in sorted(names):
        path = target / name
        want = "folder" if name in REPORT_FOLDERS else "file"
        if os.path.lexists(path) and _kind(path) != want:
            raise SpinesimError(f"output folder {out}: cannot write {name} (there is a "
                                f"{_kind(path)} of that name; move it away)")


def _move_into_place(stage: Path, out: Path, names: set[str]) -> None:
    """Move the staged entries ``names`` into ``out``: rename the staging folder to a new
    ``out``, or replace the entries of an earlier run one rename each (module notes)."""
    target = out.resolve()
    fresh = not target.exists()
    if not fresh:
        _refuse_in_the_way(out, names)
    trash = stage / ".earlier"  # staged names never start with a dot
    try:
        if fresh:
            os.rename(stage, target)
            return
        trash.mkdir()
    except OSError as exc:
        raise SpinesimError(f"output folder {out}: cannot move the run into place "
                            f"({exc.strerror})") from exc
    old = _owned(target)
    order = [n for n in (*REPORT_FILES, *REPORT_FOLDERS) if n in names or n in old]
    moves = []
    for name in order:
        if name in old:
            moves.append((target / name, trash / name))
        if name in names:
            moves.append((stage / name, target / name))
    _renames(out, moves)


def _renames(out: Path, moves: list[tuple[Path, Path]]) -> None:
    """Rename each (source, destination) in turn; on an error undo the done ones in reverse
    and raise SpinesimError naming the entry."""
    done = []
    try:
        for src, dst in moves:
            os.rename(src, dst)
            done.append((src, dst))
    except BaseException as exc:
        undone = 0
        for back_src, back_dst in reversed(done):
            with suppress(OSError):
                os.rename(back_dst, back_src)
                undone += 1
        if isinstance(exc, OSError):
            state = "left as it was" if undone == len(done) else \
                f"partly replaced ({len(done) - undone} rename(s) could not be undone)"
            raise SpinesimError(f"output folder {out}: cannot replace {src.name} "
                                f"({exc.strerror}); the folder is {state}") from exc
        raise
