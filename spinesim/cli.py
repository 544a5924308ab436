"""The ``spinesim`` command line. Subcommands arrive with the issues that build them; today:

    spinesim results DIR [--csv FILE]     summary of a results store (read-only), CSV export
    spinesim rom [--levels L4-L5] [--construct C] [--moment 7.5] [--preload N]
                 [--bone-density G_CM3 | --bone-quality osteoporotic] [--json FILE]
                                          range of motion under the pure-moment protocol
    spinesim risk [scenario.toml] --samples N --seed S [--workers W] [--json FILE]
                  [--resolution R] [--weeks W] [-o DIR]
                                          Monte Carlo failure probabilities and sensitivities
    spinesim sweep sweep.toml [-o DIR] [--workers N] [--scheduler ADDRESS]
                                          parameter sweep, one timeline per case; table as
                                          CSV and Parquet (exit 1 if a case failed)

    spinesim run [scenario.toml] [-o DIR] [--weeks W] [--resolution R] [--no-plots]
                                          the main job: the coupled healing timeline of a
                                          fused segment; report.json/.txt, timeline.csv,
                                          plots and VTU fields in DIR (default results/run)
    spinesim plot RESULT_DIR [-o DIR]     render the standard figures of a run, Monte Carlo
                                          or sweep folder

Bad input exits with status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from spinesim import __version__
from spinesim.sweeps import STORE_NAME, available_cpus

#: Most ``--workers`` per available CPU that ``risk`` and ``sweep`` accept: a worker is a
#: single-threaded process that builds its own segment model, so beyond the CPUs more of them
#: only share the CPUs and multiply the memory; 2 keeps ``--workers 2`` valid on one CPU.
WORKERS_PER_CPU = 2


def _results(args: argparse.Namespace) -> int:
    from spinesim.store import ResultsStore

    if args.csv is not None:
        _check_output_file("results", "--csv", args.csv)
    folder = Path(args.dir)
    db = folder / STORE_NAME if folder.is_dir() else folder
    if not db.is_file():
        raise SystemExit(f"spinesim results: no results store at {db} (expected a folder with "
                         f"{STORE_NAME} or the store file itself)")
    with ResultsStore(db, readonly=True) as store:  # a summary never writes to the store
        counts = store.summary()
        parts = ", ".join(f"{n} {k}" for k, n in counts.items())
        print(f"{db}: {sum(counts.values())} cases ({parts})")
        if args.csv is not None:
            out = store.export_csv(args.csv)
            print(f"table written to {out}")
    return 0


def _rom(args: argparse.Namespace) -> int:
    from spinesim.atomic import write_json
    from spinesim.model.rom import rom_study
    from spinesim.model.segment import SegmentOptions

    if args.json is not None:
        _check_output_file("rom", "--json", args.json)
    _check_mesh_options(args)
    dims = _dimensions_file(args.dimensions) if args.dimensions is not None else None
    _check_rom_options(args, dims)
    generator = {name: getattr(args, dest) for dest, name, _ in _GENERATOR_OPTIONS
                 if dest != "dimensions" and getattr(args, dest) is not None}
    opts = SegmentOptions(**generator, bone_quality=args.bone_quality,
                          rho_app_g_cm3=args.bone_density, cage_material=args.cage_material,
                          mesh_path=args.mesh, dimensions=dims.items if dims else ())
    shaped_by = nullcontext() if dims is None else _geometry_from(
        "rom", f"--dimensions {args.dimensions}")
    with shaped_by:
        out = rom_study(opts, moment_nm=args.moment, preload_n=args.preload)
    if dims is not None:
        out["dimensions"] = dims.as_dict()
    model = (f"given mesh {args.mesh} (as meshed: no soft tissue, screws or rods added)"
             if args.mesh is not None else f"{opts.levels} {opts.construct}")
    print(f"{model}, {args.moment:g} N·m, preload {args.preload:g} N "
          f"({out['model']['dofs']} DOF, {out['seconds']:.0f} s); ROM one-sided, degrees")
    if args.cage_interface == "contact" and args.preload == 0:
        print("  note: the cage is in contact with no preload, so only the rods (and the "
              "ligaments) hold it where it lifts off; a real cage is press-fit. Give "
              "--preload (e.g. 500 N) for in-vitro-like ROM")
    for name, row in out["cases"].items():
        extra = ""
        if "rom_percent_of_intact" in row:
            extra = f"  {row['rom_percent_of_intact']:6.1f} % of intact"
            if row["rod_max_von_mises_mpa"] is not None:
                extra += (f", rod {row['rod_max_von_mises_mpa']:.0f} MPa, screw micromotion "
                          f"{row['screw_max_micromotion_um']:.1f} µm")
        elif row.get("intradiscal_pressure_mpa") is not None:
            extra = f"  nucleus pressure {row['intradiscal_pressure_mpa']:.3f} MPa"
        print(f"  {name:24s} {row['rom_deg']:6.2f}{extra}")
    if args.json is not None:
        write_json(args.json, out)
        print(f"written: {args.json}")
    return 0


#: ``spinesim rom`` options that shape the generated segment: (argparse dest, SegmentOptions
#: field, flag). They default to None (SegmentOptions supplies the default), so that one given
#: with --mesh is seen and refused.
_GENERATOR_OPTIONS = (("levels", "levels", "--levels"), ("construct", "construct", "--construct"),
                      ("resolution", "resolution", "--resolution"),
                      ("rod_material", "rod_material", "--rod-material"),
                      ("rod_diameter", "rod_diameter_mm", "--rod-diameter"),
                      ("fibre_target", "fibre_target_deg", "--fibre-target"),
                      ("cage_interface", "cage_interface", "--cage-interface"),
                      ("dimensions", "dimensions", "--dimensions"))


def _check_mesh_options(args: argparse.Namespace) -> None:
    """With ``--mesh``, refuse the options that only shape a generated segment, naming them:
    an imported mesh is the model as meshed (no generated geometry, screws, rods or soft
    tissue), so they would be ignored silently."""
    if args.mesh is None:
        return
    given = [flag for dest, _, flag in _GENERATOR_OPTIONS if getattr(args, dest) is not None]
    if given:
        verb = "does" if len(given) == 1 else "do"
        raise SystemExit(f"spinesim rom: --mesh {args.mesh}: {', '.join(given)} {verb} not apply "
                         "to a given mesh (it is the model as meshed: no generated geometry, "
                         "screws, rods or soft tissue); with --mesh give only --moment, "
                         "--preload, --bone-quality, --bone-density, --cage-material, --json")


def _check_rom_options(args: argparse.Namespace, dims) -> None:
    """Refuse, before the work and naming the flags, what the segment builder would refuse
    under its own parameter names (``levels``, ``rho_app_g_cm3``, ``quality``, ``dimensions``):
    a --levels that is not a span of vertebrae, --bone-density with --bone-quality osteoporotic,
    a --dimensions table for a vertebra outside --levels, a --cage-interface without a cage."""
    from spinesim.errors import SpinesimError
    from spinesim.geometry.lumbar import parse_levels
    from spinesim.model.segment import SegmentOptions
    from spinesim.scenario_schema import CONSTRUCT_PARTS

    levels = SegmentOptions.levels if args.levels is None else args.levels
    try:
        span = parse_levels(levels, given_as=f"--levels {levels}")
    except SpinesimError as exc:
        raise SystemExit(f"spinesim rom: {exc}") from None
    if args.bone_density is not None and args.bone_quality != "healthy":
        raise SystemExit(f"spinesim rom: --bone-density {args.bone_density:g} with --bone-quality "
                         f"{args.bone_quality}: give one or the other (the density already sets "
                         "the cancellous modulus)")
    construct = SegmentOptions.construct if args.construct is None else args.construct
    caged = [c for c, parts in CONSTRUCT_PARTS.items() if "cage" in parts]
    if args.cage_interface is not None and construct not in caged:  # as a scenario's cage.*
        given = "" if args.construct is not None else " (the default)"
        raise SystemExit(f"spinesim rom: --cage-interface {args.cage_interface} needs a construct "
                         f"with a cage ({', '.join(caged)}); --construct {construct}{given} "
                         "has none")
    outside = [lv for lv, _ in dims.items if lv not in span] if dims is not None else []
    if outside:
        given = "" if args.levels is not None else " (the default)"
        raise SystemExit(f"spinesim rom: --dimensions {args.dimensions}: "
                         f"[segment.dimensions.{outside[0]}] is given, but --levels "
                         f"{levels}{given} spans {', '.join(span)}")


def _dimensions_file(path: str):
    """The checked ``[segment.dimensions]`` tables of a TOML file (other tables ignored)."""
    from spinesim.scenario_schema import FieldValueError, check_dimensions, field
    from spinesim.toml_file import read_toml

    data = read_toml(path, "dimensions file",
                     lambda message: SystemExit(f"spinesim rom: --dimensions {message}"))
    table = data.get("segment", {}).get("dimensions") if isinstance(data.get("segment"),
                                                                    dict) else None
    if table is None:
        raise SystemExit(f"spinesim rom: --dimensions {path}: no [segment.dimensions.<vertebra>] "
                         "table")
    try:
        return check_dimensions(field("segment.dimensions"), table)
    except FieldValueError as exc:
        raise SystemExit(f"spinesim rom: --dimensions {path}: {exc}") from None


def _risk_int(flag: str, text: str | None, key: str, what: str) -> int | None:
    """An integer flag of ``spinesim risk`` (None if not given) within the range of the
    scenario field ``key``; one-line error naming the flag otherwise."""
    from spinesim.scenario_schema import field

    if text is None:
        return None
    low, high = int(field(key).low), int(field(key).high)
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise SystemExit(f"spinesim risk: {flag} {text}: must be an integer from {low} to "
                         f"{high} ({what}; {key})")
    return value


def _workers(command: str, text: str | None) -> int | None:
    """``--workers`` of ``risk`` and ``sweep`` (None if not given): an integer from 1 to
    :data:`WORKERS_PER_CPU` per available CPU; one-line error otherwise."""
    if text is None:
        return None
    cap = WORKERS_PER_CPU * available_cpus()
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= cap:
        raise SystemExit(f"spinesim {command}: --workers {text}: must be an integer >= 1 and at "
                         f"most {cap} ({WORKERS_PER_CPU} per CPU available here: each worker is "
                         "a single-threaded process with its own segment model)")
    return value


def _workers_help(default: str) -> str:
    """Help text of ``--workers``: the bound and why."""
    return (f"worker processes (default {default}), up to {WORKERS_PER_CPU} per available CPU "
            f"({WORKERS_PER_CPU * available_cpus()} here): each is a single-threaded process "
            "with its own segment model, so more only share the CPUs and multiply the memory")


def _risk_field(flag: str, text: str | None, key: str, command: str = "risk"
                ) -> float | int | None:
    """A ``spinesim risk``/``run`` flag that overrides scenario field ``key`` (None if not
    given)."""
    from spinesim.scenario_schema import FieldValueError, check, field

    if text is None:
        return None
    f = field(key)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    try:
        return check(f, value)
    except (ValueError, FieldValueError):
        if math.isfinite(value) and (f.kind != "int" or value.is_integer()):
            what = "is out of range"
        else:
            what = "must be " + ("a whole number" if f.kind == "int" else "a number")
        raise SystemExit(f"spinesim {command}: {flag} {text}: {what} ({key}); "
                         f"{f.allowed()}") from None


def _risk(args: argparse.Namespace) -> int:
    from spinesim.atomic import write_json
    from spinesim.montecarlo import risk
    from spinesim.scenario import Scenario

    samples = _risk_int("--samples", args.samples, "risk.samples",
                        "number of Monte Carlo samples")
    seed = _risk_int("--seed", args.seed, "risk.seed", "root seed of the draws")
    workers = _workers("risk", args.workers)
    resolution = _risk_field("--resolution", args.resolution, "segment.resolution")
    weeks = _risk_field("--weeks", args.weeks, "timeline.weeks")
    if args.json is not None:
        _check_output_file("risk", "--json", args.json)
    if args.out is not None:
        _out_folder("risk", args.out)
    scenario = Scenario.default() if args.scenario is None else Scenario.from_toml(args.scenario)
    _check_timeline("risk", scenario)  # fails here, not once per sample
    result = risk(scenario, samples=samples, seed=seed, workers=workers or 1,
                  resolution=resolution, weeks=weeks, out_dir=args.out, progress=None)
    info = result.info
    per = info["seconds_per_sample"]
    per = "" if per is None else f", {per:.3g} s per sample"
    print(f"Monte Carlo risk of {scenario.source}: {result.n_samples} samples, seed "
          f"{result.seed}, {len(result.inputs)} uncertain inputs, {result.failed} failed "
          f"({info['seconds']:.1f} s{per})")
    for key, strata in info.get("stratified", {}).items():
        print(f"  {key} drawn from {strata} equiprobable strata at their medians (it changes "
              "the segment model: one model per stratum and worker)")
    level = f"{100 * info['confidence']:g} % interval"
    print(f"  {'failure mode':22s} {'probability':>11s}  {level:17s} failures")
    for mode, p in result.probabilities.items():
        if p["probability"] is None:
            print(f"  {mode:22s} {'-':>11s}")
            continue
        print(f"  {mode:22s} {p['probability']:11.3f}  [{p['low']:.3f}, {p['high']:.3f}]"
              f"    {p['failures']}/{p['samples']}")
    print("  strongest rank correlations (Spearman rho):")
    few = result.n_samples - result.failed < 3  # a rank correlation needs 3 samples
    for outcome, rhos in result.sensitivity.items():
        top = sorted(((k, r) for k, r in rhos.items() if r), key=lambda kr: -abs(kr[1]))[:2]
        text = ", ".join(f"{k} {r:+.2f}" for k, r in top) or (
            "none (fewer than 3 samples)" if few else "none (constant outcome)")
        print(f"    {outcome:28s} {text}")
    if result.errors:
        print(f"  {result.failed} sample(s) failed; first: {result.errors[0]}")
    if args.out is not None:
        print(f"results store: {info['store']} (run again to resume)")
    if args.json is not None:
        write_json(args.json, result.to_json_dict())
        print(f"written: {args.json}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from spinesim.errors import SpinesimError
    from spinesim.outcomes import FAILURE_MODES
    from spinesim.sweeps import _one_line, check_scheduler_address, sweep_scenarios

    workers = _workers("sweep", args.workers)
    if args.scheduler is not None:  # before the sweep file is read or the folder created
        try:
            check_scheduler_address(args.scheduler, "--scheduler", allow_inproc=False)
        except SpinesimError as exc:  # one line already (_one_line would strip the "--")
            raise SystemExit(f"spinesim sweep: {exc}") from None
    path = Path(args.file)
    out = _out_folder("sweep", str(Path("results") / path.stem) if args.out is None
                      else args.out)
    try:
        df = sweep_scenarios(path, out, workers=workers, scheduler=args.scheduler)
    except SpinesimError as exc:
        raise SystemExit(f"spinesim sweep: {_one_line(exc)}") from None
    counts = df.attrs.get("counts", {})
    done = df["status"] == "done"
    print(f"{path}: {len(df)} cases: {counts.get('done', 0)} done, "
          f"{counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped (already "
          "in the store)")
    modes = [(m, f"{m}_fails") for m in FAILURE_MODES if f"{m}_fails" in df.columns]
    if modes and done.any():
        print(f"failure modes (cases failing of {int(done.sum())} done): " + ", ".join(
            f"{m} {int(df.loc[done, c].fillna(False).astype(bool).sum())}" for m, c in modes))
    failed = df[df["status"] == "failed"]
    for case, row in failed.head(3).iterrows():
        print(f"  case {case} failed: {row['error']}")
    if len(failed) > 3:
        print(f"  ... {len(failed) - 3} more failed cases (see the error column)")
    files = df.attrs.get("files", {})
    print(f"table: {files.get('csv')}, {files.get('parquet')}; store: {files.get('store')} "
          "(run again to resume or retry failed cases)")
    return 1 if len(failed) else 0


def _run(args: argparse.Namespace) -> int:
    from spinesim.report import check_output_folder, write_report
    from spinesim.scenario import Scenario
    from spinesim.simulate import run_timeline

    out = _out_folder("run", args.out)
    scenario = Scenario.default() if args.scenario is None else Scenario.from_toml(args.scenario)
    overrides, flags = {}, []
    if args.weeks is not None:
        overrides["timeline.weeks"] = _risk_field("--weeks", args.weeks, "timeline.weeks",
                                                 "run")
        flags.append(f"--weeks {args.weeks}")
    if args.resolution is not None:
        overrides["segment.resolution"] = _risk_field("--resolution", args.resolution,
                                                      "segment.resolution", "run")
        flags.append(f"--resolution {args.resolution}")
    if overrides:  # an error names the flags that contradict the file
        scenario = scenario.with_values(
            overrides, source=f"{scenario.source} with {' and '.join(flags)}")
    _check_timeline("run", scenario)
    plots = False if args.no_plots else None
    check_output_folder(out, scenario, plots=plots)  # a folder named report.json, before the work
    with _geometry_from("run", scenario.source):
        result = run_timeline(scenario)
    files = write_report(result, scenario, out, plots=plots)
    print((out / "report.txt").read_text(encoding="utf-8"), end="")
    print(f"{len(files)} files written to {out}/")
    return 0


def _check_timeline(command: str, scenario) -> None:
    """Fail before the work if the timeline cannot run ``scenario`` (construct, imported mesh,
    levels), naming the scenario file."""
    from spinesim.errors import SpinesimError
    from spinesim.simulate import segment_options

    try:
        segment_options(scenario)
    except SpinesimError as exc:
        raise SystemExit(f"spinesim {command}: {scenario.source}: {exc}") from None


@contextmanager
def _geometry_from(command: str, where: str) -> Iterator[None]:
    """Name ``where`` (the scenario or dimensions file whose values shape the segment) in a
    MeshError raised inside: a cage or a dimension that does not fit is found only while the
    geometry is built, and its message names the keys but not the file."""
    from spinesim.errors import MeshError

    try:
        yield
    except MeshError as exc:
        raise SystemExit(f"spinesim {command}: {where}: {exc}") from None


def _can_create_in(folder: Path) -> bool:
    """True if a file can be created in the existing ``folder``: the permission bits, then a
    real temporary file (removed again), because root passes every access check and some
    file systems (/proc, read-only mounts) refuse anyway."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def _nearest_existing(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists (the root does): where a file or
    folder to be created would be written."""
    while not path.exists():
        path = path.parent
    return path


#: The file that marks the result folder of each command (``spinesim plot`` tells them apart
#: by it).
_RESULT_MARKERS = {"run": "report.json", "risk": "risk.json", "sweep": "sweep.json"}


def _out_folder(command: str, text: str) -> Path:
    """The ``-o`` folder of ``command``, checked before the work: a name (not empty), not a
    file, creatable and writable, and not the result folder of another command (a Monte Carlo
    into a sweep's folder shares its results store, and ``spinesim plot`` then draws one of
    them)."""
    if not text:
        raise SystemExit(f"spinesim {command}: -o: empty folder name")
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise SystemExit(f"spinesim {command}: -o {text}: is a file; give a folder (created if "
                         "missing)")
    if command in _RESULT_MARKERS and out.is_dir():
        for other, marker in _RESULT_MARKERS.items():
            if other != command and (out / marker).is_file():
                raise SystemExit(f"spinesim {command}: -o {text}: holds the results of "
                                 f"`spinesim {other}` ({marker}); give another folder")
    probe = _nearest_existing(out)  # the folder must be creatable and writable
    if not probe.is_dir() or not _can_create_in(probe):
        raise SystemExit(f"spinesim {command}: -o {out}: {probe} is not a writable folder")
    return out


def _check_output_file(command: str, flag: str, text: str) -> Path:
    """Fail before the work if the file ``text`` given with ``flag`` (``--json``, ``--csv``)
    cannot be written: an empty name, a folder, a path through a file, a missing or unwritable
    folder. The folder is not created."""
    if not text:
        raise SystemExit(f"spinesim {command}: {flag}: empty file name")
    target = Path(text)
    if target.is_dir():
        raise SystemExit(f"spinesim {command}: {flag} {text}: is a folder; give a file name")
    parent = target.resolve().parent
    probe = _nearest_existing(parent)
    if not probe.is_dir():
        raise SystemExit(f"spinesim {command}: {flag} {text}: {probe} is a file, not a folder")
    if probe != parent:
        raise SystemExit(f"spinesim {command}: {flag} {text}: folder {parent} does not exist")
    if not _can_create_in(parent):
        raise SystemExit(f"spinesim {command}: {flag} {text}: folder {parent} is not writable")
    return target


def _plot(args: argparse.Namespace) -> int:
    from spinesim.figures import render_folder

    folder = Path(args.dir)
    if folder.is_file():
        raise SystemExit(f"spinesim plot: {args.dir}: is a file, not a folder; "
                         + _result_folder_of(folder))
    if not folder.is_dir():
        raise SystemExit(f"spinesim plot: {args.dir}: no such folder (give the output folder "
                         "of `spinesim run`, `spinesim risk -o` or `spinesim sweep`)")
    out = _out_folder("plot", str(folder / "plots") if args.out is None else args.out)
    paths = render_folder(folder, out)
    if not paths:  # e.g. a Monte Carlo whose outcomes did not vary
        why = ("no outcome varies over its samples (a tornado chart needs an outcome that "
               "varies and at least 3 samples)" if (folder / "risk.json").is_file()
               else "it holds nothing to draw")
        print(f"no figures: {why}; nothing written to {out}/")
        return 0
    print(f"{len(paths)} figures written to {out}/: " + ", ".join(p.name for p in paths))
    return 0


def _result_folder_of(path: Path) -> str:
    """What to give ``spinesim plot`` instead of the file ``path``: the result folder it
    belongs to (its folder, or the one above for a file of fields/ or plots/), else a result
    folder of any command."""
    for folder in (path.parent, path.parent.parent):
        for command, marker in _RESULT_MARKERS.items():
            if (folder / marker).is_file():
                return (f"give the result folder it belongs to: spinesim plot {folder} "
                        f"(written by `spinesim {command}`)")
    return ("give the output folder of `spinesim run`, `spinesim risk -o` or "
            "`spinesim sweep`")


def _positive(kind: str, lo: float, hi: float, unit: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be a number in {unit}, got {text!r}")
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{kind} must be in [{lo:g}, {hi:g}] {unit}, "
                                             f"got {v:g}")
        return v
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``spinesim`` argument parser: global flags and one subparser per command."""
    p = argparse.ArgumentParser(prog="spinesim", description="Spinal fusion failure simulation.")
    p.add_argument("--version", action="version", version=f"spinesim {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    p.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("results", help="summarise a results store and export its table "
                       "(opened read-only: the store is never written to)")
    r.add_argument("dir", help="output folder of a run or sweep (or the store file)")
    r.add_argument("--csv", help="write the table of cases to this CSV file (its folder must "
                   "exist)")
    r.set_defaults(func=_results)
    from spinesim.model.segment import CONSTRUCTS, DEFAULT_RESOLUTION

    m = sub.add_parser("rom", help="range of motion of a lumbar segment under pure moments")
    m.add_argument("--levels", help="adjacent vertebrae, e.g. L4-L5 (default) or L3-L5")
    m.add_argument("--construct", choices=CONSTRUCTS, help="construct to build (default intact)")
    m.add_argument("--moment", type=_positive("--moment", 0.1, 30.0, "N·m"), default=7.5,
                   help="pure moment in N·m (default 7.5)")
    m.add_argument("--preload", type=_positive("--preload", 0.0, 3000.0, "N"), default=0.0,
                   help="compressive follower preload in N (default 0)")
    m.add_argument("--bone-density", type=_positive("--bone-density", 0.05, 1.0, "g/cm3"),
                   help="cancellous apparent density in g/cm3 (Morgan et al. 2003 modulus); "
                   "healthy bone only, not with --bone-quality osteoporotic")
    m.add_argument("--bone-quality", choices=("healthy", "osteoporotic"), default="healthy")
    m.add_argument("--resolution", type=_positive("--resolution", 0.3, 4.0, "(-)"),
                   help=f"mesh resolution (default {DEFAULT_RESOLUTION})")
    m.add_argument("--rod-material", choices=("ti6al4v", "cocr", "ss316l"),
                   help="rod alloy (default ti6al4v)")
    m.add_argument("--rod-diameter", type=_positive("--rod-diameter", 2.0, 12.0, "mm"),
                   help="rod diameter in mm (default 5.5)")
    m.add_argument("--cage-material", choices=("peek", "titanium"), default="peek",
                   help="cage material, also of the cage region of a --mesh (default peek)")
    m.add_argument("--cage-interface", choices=("bonded", "contact"),
                   help="cage on the endplates: bonded (default, the conforming mesh) or in "
                   "compression-only contact (active-set solve); cage constructs only")
    m.add_argument("--mesh", help="your own segment mesh (any meshio format) with named regions "
                   "and the node sets upper_endplate_top / lower_endplate_bottom; the model "
                   "as meshed: no soft tissue, screws or rods are added, and --levels, "
                   "--construct, --resolution, --rod-material, --rod-diameter, --fibre-target, "
                   "--cage-interface and --dimensions are refused with it")
    m.add_argument("--fibre-target", type=_positive("--fibre-target", 5.0, 60.0, "deg"),
                   default=None, metavar="DEG",
                   help="annulus fibre angle the fibre layout aims at (default 30 deg; the "
                        "mesh offers a few angles, 35.8, 20.3 and 14.0 deg on the default "
                        "L4-L5)")
    m.add_argument("--dimensions", metavar="FILE",
                   help="a TOML file whose [segment.dimensions.L4] ... tables replace the "
                        "cited dimensions (e.g. the subject_dimensions.toml of "
                        "examples/anatomy_comparison.py --fit)")
    m.add_argument("--json", help="write the results to this JSON file (its folder must exist; "
                   "checked before the solve)")
    m.set_defaults(func=_rom)
    k = sub.add_parser("risk", help="Monte Carlo failure probabilities over the uncertain "
                       "inputs of a scenario")
    k.add_argument("scenario", nargs="?", help="scenario TOML file (default: the default "
                   "scenario)")
    k.add_argument("--samples", metavar="N", help="number of samples, >= 1 (default: "
                   "risk.samples of the scenario)")
    k.add_argument("--seed", metavar="S", help="root seed of the draws, >= 0 (default: "
                   "risk.seed of the scenario)")
    k.add_argument("--workers", metavar="W", default="1", help=_workers_help("1"))
    k.add_argument("--resolution", metavar="R", help="mesh resolution of every sample "
                   "(default: segment.resolution)")
    k.add_argument("--weeks", metavar="W", help="timeline length in weeks of every sample "
                   "(default: timeline.weeks)")
    k.add_argument("-o", "--out", metavar="DIR", help="keep the results store in DIR (run "
                   "again to resume); default a temporary folder")
    k.add_argument("--json", metavar="FILE", help="write probabilities, sensitivities and "
                   "run info to this JSON file (its folder must exist; checked before the "
                   "samples run)")
    k.set_defaults(func=_risk)
    w = sub.add_parser("sweep", help="run a parameter sweep file (grid, random or Latin "
                       "hypercube over scenario keys), one full timeline per case")
    w.add_argument("file", help="sweep file (TOML): [sweep], [sweep.parameters], [scenario]")
    w.add_argument("-o", "--out", metavar="DIR",
                   help="output folder (default results/<sweep file name>)")
    w.add_argument("--workers", metavar="N",
                   help=_workers_help("one per CPU, at most one per case"))
    w.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, [scheme://]host:port, e.g. tcp://host:8786 "
                   "(schemes dask connects over: tcp, tls, ws, wss; port 1-65535): run on that "
                   "cluster. The address is checked and the scheduler connected (30 s timeout) "
                   "before the output folder is created")
    w.set_defaults(func=_sweep)
    u = sub.add_parser("run", help="the main job: coupled healing, loosening and fatigue "
                       "timeline of a fused segment, with report, plots and VTU fields")
    u.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded "
                   "default, fused L4-L5 with a PEEK cage and Ti rods, 52 weeks)")
    u.add_argument("-o", "--out", metavar="DIR", default="results/run",
                   help="output folder (default %(default)s)")
    u.add_argument("--weeks", metavar="W", help="timeline length in weeks (overrides "
                   "timeline.weeks)")
    u.add_argument("--resolution", metavar="R", help="mesh resolution (overrides "
                   "segment.resolution)")
    u.add_argument("--no-plots", action="store_true", help="skip the figures")
    u.set_defaults(func=_run)
    g = sub.add_parser("plot", help="render the standard figures of a run, Monte Carlo or "
                       "sweep folder")
    g.add_argument("dir", help="output folder of `spinesim run`, `spinesim risk -o` or "
                   "`spinesim sweep`")
    g.add_argument("-o", "--out", metavar="DIR", help="where to write the PNGs (default "
                   "DIR/plots)")
    g.set_defaults(func=_plot)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spinesim`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from spinesim.errors import SpinesimError

    try:
        return args.func(args)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        raise
    except (SpinesimError, OSError) as exc:
        print(f"spinesim {args.command}: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:  # an allocation refused (a kill by the kernel prints nothing)
        print(f"spinesim {args.command}: out of memory ({exc}); the model is too large for "
              "this machine: lower the mesh resolution (--resolution, segment.resolution) or "
              "the number of workers", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: files are written atomically, a sweep store resumes
        print(f"spinesim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
