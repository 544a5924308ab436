"""The standard figures of a result folder, rendered from its files alone (what
``spinesim plot DIR`` does): a run folder (``spinesim run``), a Monte Carlo folder
(``spinesim risk -o DIR``) or a sweep folder (``spinesim sweep``). Every figure is a function
of :mod:`spinesim.plot` (each takes an Axes and returns it); this module only reads the files
and lays them out. PNGs are written atomically into ``DIR/plots`` (or the folder given).

=================  ==========================================  ==============================
folder             recognised by                               figures
=================  ==========================================  ==============================
run                report.json + timeline.csv                  :data:`PLOTS`, von Mises on the
                                                               mid-sagittal slice with the
                                                               hardware for the first and last
                                                               reported week (if fields exist),
                                                               ROM bars intact vs fused (if the
                                                               run had an intact reference)
Monte Carlo        risk.json + samples.csv                     one tornado chart per outcome
sweep              sweep.json + results.csv                    failure heatmap per mode over
                                                               the first two swept parameters
=================  ==========================================  ==============================
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesim.atomic import atomic_path
from spinesim.errors import SpinesimError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["PLOTS", "render_folder", "render_plots", "render_risk", "render_sweep"]

#: Standard figures of a run folder (file stem -> what it shows).
PLOTS = {
    "race": "graft bone fraction and rod damage on one time axis",
    "bone_fraction": "graft bone fraction and bridged share of the fusion area against weeks "
                     "with the bridging week",
    "tissue_phases": "tissue phases in the graft over weeks",
    "micromotion": "screw-bone micromotion per screw over weeks",
    "screw_pullout": "pullout load of each screw on the bone over weeks, against its strength",
    "rom": "range of motion per direction over weeks",
    "damage": "cumulative rod and screw damage against time",
    "sn_curve": "rod S-N curve with the operating points and the endurance limit",
}
_MODES = ("insufficient_support", "hardware_fatigue", "nonunion")
#: Units of the outcomes a tornado chart can be drawn for.
_OUTCOME_UNITS = {"rod_damage": "Miner sum (-)", "max_micromotion_um": "µm",
                  "max_screw_pullout_n": "N",
                  "union_week": "week", "screw_damage": "Miner sum (-)",
                  "initial_graft_strain": "-"}


class _Canvas:
    """Saves figures of one folder atomically and collects their paths."""

    def __init__(self, target: Path, source: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        self.target, self.source = target, source
        self.paths: list[Path] = []  # (the target folder is made with the first figure)

    def save(self, name: str, draw: Callable[[Any], Any], size=(7.5, 4.6)) -> None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=size, constrained_layout=True)
        try:
            try:
                draw(ax)
            except ValueError as exc:  # the plot functions check their data and say what
                raise SpinesimError(f"{self.source}: cannot draw {name}: {exc}") from None
            self.target.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.target / f"{name}.png", suffix=".png") as tmp:
                fig.savefig(tmp, dpi=120)
            self.paths.append(self.target / f"{name}.png")
        finally:
            plt.close(fig)


def _read_json(path: Path, kind: type = dict) -> Any:
    """The JSON of ``path``, which must be a ``kind`` (object or array)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise SpinesimError(f"{path}: cannot read it ({exc})") from exc
    if not isinstance(data, kind):
        raise SpinesimError(f"{path}: expected a JSON {'object' if kind is dict else 'array'}"
                            f", got {type(data).__name__}")
    return data


def _numeric_table(path: Path, table: pd.DataFrame, columns: list[str]) -> None:
    """Refuse a table without rows, or whose ``columns`` hold text or non-finite numbers
    (naming the file, column and row)."""
    import pandas as pd

    if table.empty:
        raise SpinesimError(f"{path}: no rows to plot")
    for c in columns:
        values = pd.to_numeric(table[c], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            value = table[c].iloc[bad[0]]
            shown = repr(value) if isinstance(value, str) else str(value)
            raise SpinesimError(f"{path}: column {c}, row {int(bad[0]) + 1}: {shown} is not "
                                "a finite number")


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise SpinesimError(f"{path}: cannot read it ({exc})") from exc


def render_folder(folder: str | os.PathLike, out_dir: str | os.PathLike | None = None
                  ) -> list[Path]:
    """Render the standard figures of a run, Monte Carlo or sweep folder (module table)."""
    folder = Path(folder)
    if (folder / "report.json").is_file() or (folder / "timeline.csv").is_file():
        return render_plots(folder, out_dir)
    if (folder / "risk.json").is_file():
        return render_risk(folder, out_dir)
    if (folder / "sweep.json").is_file():
        return render_sweep(folder, out_dir)
    raise SpinesimError(f"{folder}: not a spinesim result folder (expected report.json and "
                        "timeline.csv of `spinesim run -o DIR`, risk.json of `spinesim risk "
                        "-o DIR`, or sweep.json and results.csv of `spinesim sweep`)")


# ------------------------------------------------------------------------------ run folder
def _read_run(run_dir: Path) -> tuple[pd.DataFrame, dict]:
    missing = [n for n in ("timeline.csv", "report.json") if not (run_dir / n).is_file()]
    if missing:
        raise SpinesimError(f"{run_dir}: not a spinesim run folder (missing "
                            f"{', '.join(missing)}; write one with `spinesim run -o DIR`)")
    table = _read_csv(run_dir / "timeline.csv")
    report = _read_json(run_dir / "report.json")
    need = {"week", "graft_bone_fraction", "rod_damage", "screw_damage"}
    if not need <= set(table.columns):
        raise SpinesimError(f"{run_dir / 'timeline.csv'}: lacks the columns "
                            f"{sorted(need - set(table.columns))}")
    if not isinstance(report.get("verdicts"), dict) or \
            not isinstance(report.get("outcomes"), dict):
        raise SpinesimError(f"{run_dir / 'report.json'}: lacks 'verdicts' and 'outcomes' "
                            "(write it with `spinesim run -o DIR`)")
    drawn = ("graft_bone_fraction", "graft_bridged_area_fraction", "fraction_", "micromotion_",
             "pullout_", "rom_")
    _numeric_table(run_dir / "timeline.csv", table,  # the columns the figures draw
                   [c for c in table.columns if c in need or c.startswith(drawn)])
    return table, report


def render_plots(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None
                 ) -> list[Path]:
    """Render the standard figures (:data:`PLOTS`, and the mid-sagittal von Mises of the first
    and last reported week when the run wrote fields) of a run folder from its timeline.csv,
    report.json and fields/ into ``out_dir`` (default ``run_dir/plots``); returns the PNGs."""
    from spinesim import plot

    run_dir = Path(run_dir)
    table, report = _read_run(run_dir)
    canvas = _Canvas(Path(out_dir) if out_dir is not None else run_dir / "plots", run_dir)
    save = canvas.save
    weeks = table["week"].to_numpy(float)
    union = report["outcomes"].get("union_week")
    horizon = report["verdicts"]["nonunion"]["threshold"]

    save("race", lambda ax: plot.race(weeks, table["graft_bone_fraction"], table["rod_damage"],
                                      bridged_week=union, ax=ax))
    levels = {c.removeprefix("graft_bone_fraction_").replace("_", "-"): table[c]
              for c in table.columns if c.startswith("graft_bone_fraction_")}
    area = table.get("graft_bridged_area_fraction")  # absent from runs before it existed
    save("bone_fraction", lambda ax: plot.bone_fraction_over_weeks(
        weeks, table["graft_bone_fraction"], bridged_week=union, horizon_weeks=horizon, ax=ax,
        levels=levels, bridged_area=area))
    phase_cols = [c for c in table.columns if c.startswith("fraction_")]
    if phase_cols:
        save("tissue_phases", lambda ax: plot.tissue_phases_over_weeks(
            weeks, table[phase_cols].to_numpy(float),
            [c.removeprefix("fraction_").replace("_", " ") for c in phase_cols], ax=ax))
    micro_cols = [c for c in table.columns if c.startswith("micromotion_")]
    if micro_cols:
        save("micromotion", lambda ax: _lines(
            ax, weeks, table, micro_cols, "screw-bone micromotion (µm)",
            "Peak screw-bone micromotion per screw", thresholds=_thresholds(report)))
    pull_cols = [c for c in table.columns if c.startswith("pullout_") and c.endswith("_n")]
    strength = (report.get("pullout") or {}).get("strength_n")
    if pull_cols and strength:
        save("screw_pullout", lambda ax: _lines(
            ax, weeks, table, pull_cols, "pullout load on the bone (N)",
            f"Peak screw pullout load per screw (smallest strength {strength:.0f} N)",
            thresholds={"smallest pullout strength": float(strength)}, unit="N"))
    rom_cols = [c for c in table.columns if c.startswith("rom_")]
    if rom_cols:
        save("rom", lambda ax: _lines(ax, weeks, table, rom_cols, "range of motion (deg)",
                                      "ROM under the protocol moment (one-sided)"))
    damage = table[["rod_damage", "screw_damage"]].to_numpy(float)
    save("damage", lambda ax: plot.damage_over_time(
        weeks / 52.0, damage, labels=["rod", "screw"], ax=ax,
        yscale="log" if damage.max() > 0 else "linear"))
    curve = _rod_curve(report)
    if curve is not None:
        points = report.get("rod_operating_points") or {}
        save("sn_curve", lambda ax: plot.sn_curve(
            curve, {f"rod, {k}": (v["equivalent_amplitude_mpa"], v["cycles_per_year"])
                    for k, v in points.items() if v["equivalent_amplitude_mpa"] is not None},
            ax=ax))
    vs = report.get("rom_vs_intact")
    if vs:  # activities whose peak rotates the segment backwards (sign < 0) are left out
        names = [n for n, r in vs.items() if not n.startswith("activity_")
                 or min(r["intact_deg"], r["fused_last_week_deg"]) >= 0]
        save("rom_vs_intact", lambda ax: plot.rom_bars(
            [n.replace("_", " ") for n in names], [vs[n]["intact_deg"] for n in names],
            [vs[n]["fused_last_week_deg"] for n in names], ax=ax))
    _sagittal(run_dir, report, canvas)
    return canvas.paths


def _sagittal(run_dir: Path, report: dict, canvas: _Canvas) -> None:
    """Von Mises on the mid-sagittal slice with the hardware, first and last field week."""
    from spinesim import plot
    from spinesim.mesh.io import read_mesh, read_meshio
    from spinesim.mesh.mesh import SOLID_TYPES

    files = sorted((run_dir / "fields").glob("week_*.vtu"))
    seg_file = run_dir / "fields" / "hardware_segments.json"
    if not files:
        return
    segments = np.asarray(_read_json(seg_file, list), float) if seg_file.is_file() else None
    for path in dict.fromkeys((files[0], files[-1])):
        m = read_meshio(path)  # the fields; read_mesh gives the Mesh with its regions
        mesh = read_mesh(path, check=False)
        if not {"E_mpa", "nu"} <= set(m.cell_data):
            continue
        E, nu = (np.concatenate([np.asarray(a, float).ravel() for blk, a in
                                 zip(m.cells, m.cell_data[name]) if blk.type in SOLID_TYPES])
                 for name in ("E_mpa", "nu"))
        kw = {}
        if segments is not None and len(segments):
            pts = segments.reshape(-1, 3)
            kw = {"hardware_points": pts,
                  "hardware_lines": np.arange(len(pts)).reshape(-1, 2)}
        week = path.stem.removeprefix("week_")
        disp = np.asarray(m.point_data["displacement_mm"], float)
        canvas.save(f"von_mises_week_{week}", lambda ax, mesh=mesh, disp=disp, E=E, nu=nu, kw=kw,
                    week=week: _titled(plot.sagittal_von_mises(mesh, disp, E, nu, ax=ax, **kw),
            f"Von Mises stress, mid-sagittal slice, week {int(week)} "
            f"(peak of the heaviest activity)"), size=(7.5, 6.0))


def _titled(ax: Any, title: str) -> Any:
    ax.set_title(title, fontsize=10)
    return ax


def _thresholds(report: dict) -> dict[str, float]:
    loos = report.get("scenario", {}).get("loosening", {})
    out = {}
    if "bone_threshold_um" in loos:
        out["bone ingrowth threshold"] = float(loos["bone_threshold_um"])
    if "fibrous_threshold_um" in loos:
        out["fibrous threshold"] = float(loos["fibrous_threshold_um"])
    return out


def _lines(ax: Any, weeks: np.ndarray, table: pd.DataFrame, cols: list[str], ylabel: str,
           title: str, thresholds: dict[str, float] | None = None, unit: str = "µm") -> Any:
    """One line per column over weeks; ``thresholds`` (name -> value in ``unit``) drawn
    dashed when within a decade of the data."""
    styles = ("-", "--", ":", "-.")
    for i, c in enumerate(cols):  # symmetric screws overlap: the line style tells them apart
        label = c.removeprefix("micromotion_").removeprefix("rom_").removeprefix("pullout_") \
            .removesuffix("_um").removesuffix("_deg").removesuffix("_n").replace("_", " ")
        ax.plot(weeks, table[c].to_numpy(float), lw=1.8, ls=styles[i % len(styles)],
                label=label)
    top = float(np.nanmax(table[cols].to_numpy(float))) if len(table) else 1.0
    for name, value in (thresholds or {}).items():
        if value <= 10.0 * max(top, 1e-9):  # draw thresholds within a decade of the data
            ax.axhline(value, ls="--", lw=1.0, color="0.4")
            ax.annotate(f"{name} {value:g} {unit}", (weeks[0], value),
                        textcoords="offset points", xytext=(2, 3), fontsize=8, color="0.3")
            top = max(top, value)
    ax.set_xlabel("weeks after surgery")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(0, 1.3 * top if top > 0 else 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return ax


def _rod_curve(report: dict) -> Any:
    """The rod S-N curve of the report's scenario (its constants and knock-down factors)."""
    from spinesim.scenario import Scenario
    from spinesim.simulate import _curve

    try:
        sc = Scenario.from_dict(report["scenario"], source="report.json")
    except (SpinesimError, KeyError) as exc:
        log.warning("S-N figure skipped: %s", exc)
        return None
    return _curve(sc, sc.get("hardware.rod.material"), sc.get("hardware.rod.notch_factor"))[0]


# ------------------------------------------------------------------------------ risk folder
def render_risk(folder: str | os.PathLike, out_dir: str | os.PathLike | None = None
                ) -> list[Path]:
    """One tornado chart (Spearman rank correlation of each sampled input) per outcome of a
    Monte Carlo folder's risk.json; outcomes that did not vary are skipped."""
    from spinesim import plot

    folder = Path(folder)
    risk = _read_json(folder / "risk.json")
    sensitivity = risk.get("sensitivity") or {}
    if not isinstance(sensitivity, dict) or \
            not all(isinstance(r, dict) for r in sensitivity.values()):
        raise SpinesimError(f"{folder / 'risk.json'}: 'sensitivity' must map each outcome to "
                            "{input: rank correlation}")
    canvas = _Canvas(Path(out_dir) if out_dir is not None else folder / "plots", folder)
    for outcome, rhos in sensitivity.items():
        try:
            values = {k: float(v) for k, v in rhos.items() if v is not None}
        except (TypeError, ValueError) as exc:
            raise SpinesimError(f"{folder / 'risk.json'}: sensitivity.{outcome}: {exc}") \
                from None
        if not values or not any(values.values()):
            continue
        if outcome.endswith("_fails"):
            label = f"{outcome.removesuffix('_fails').replace('_', ' ')} (fails: 1, else 0)"
        else:
            label = f"{outcome.replace('_', ' ')} ({_OUTCOME_UNITS.get(outcome, '-')})"
        canvas.save(f"tornado_{outcome}", lambda ax, values=values, label=label: plot.tornado(
            values, outcome=label, ax=ax),
                    size=(7.5, 0.45 * len(values) + 1.8))
    return canvas.paths


# ------------------------------------------------------------------------------ sweep folder
def render_sweep(folder: str | os.PathLike, out_dir: str | os.PathLike | None = None
                 ) -> list[Path]:
    """A failure heatmap per failure mode over the first two swept parameters of a sweep
    folder: the share of its cases that fail in each cell (over the other parameters and
    repeats), with the Wilson 95 % interval."""
    from spinesim import plot
    from spinesim.risk_stats import probability_ci

    folder = Path(folder)
    spec = _read_json(folder / "sweep.json")
    table = _read_csv(folder / "results.csv")
    keys = [k for k in (spec.get("parameters") or {}) if k in table.columns]
    if len(keys) < 2:
        raise SpinesimError(f"{folder}: a heatmap needs two swept parameters; sweep.json "
                            f"sweeps {keys or 'none'}")
    done = table[table["status"] == "done"] if "status" in table.columns else table
    if done.empty:
        raise SpinesimError(f"{folder / 'results.csv'}: no finished cases to plot "
                            f"({len(table)} case(s), none done)")
    xk, yk = keys[0], keys[1]
    xs, ys = _levels(done[xk]), _levels(done[yk])
    canvas = _Canvas(Path(out_dir) if out_dir is not None else folder / "plots", folder)
    for mode in _MODES:
        col = f"{mode}_fails"
        if col not in done.columns:
            continue
        p, lo, hi = (np.full((len(ys), len(xs)), np.nan) for _ in range(3))
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                cell = done[(done[xk] == x) & (done[yk] == y)][col].astype(bool)
                if len(cell):
                    ci = probability_ci(int(cell.sum()), len(cell))
                    p[i, j], lo[i, j], hi[i, j] = ci.estimate, ci.low, ci.high
        canvas.save(f"heatmap_{mode}", lambda ax, p=p, lo=lo, hi=hi, mode=mode:
                    plot.failure_heatmap(xs, ys, p, x_label=xk, y_label=yk, ci_low=lo,
                                         ci_high=hi, mode=mode.replace("_", " "), ax=ax))
    return canvas.paths


def _levels(column: pd.Series) -> list:
    values = list(dict.fromkeys(column.tolist()))
    try:
        return sorted(values)
    except TypeError:
        return values
