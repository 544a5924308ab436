"""The ``spinesim`` command line. Subcommands arrive with the issues that build them; today:

    spinesim results DIR [--csv FILE]     summary of a results store, optional CSV export
    spinesim rom [--levels L4-L5] [--construct C] [--moment 7.5] [--preload N]
                 [--bone-density G_CM3 | --bone-quality osteoporotic] [--json FILE]
                                          range of motion under the pure-moment protocol

Bad input exits with status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from spinesim import __version__
from spinesim.sweep import STORE_NAME


def _results(args: argparse.Namespace) -> int:
    from spinesim.store import ResultsStore

    folder = Path(args.dir)
    db = folder / STORE_NAME if folder.is_dir() else folder
    if not db.is_file():
        raise SystemExit(f"spinesim results: no results store at {db} (expected a folder with "
                         f"{STORE_NAME} or the store file itself)")
    with ResultsStore(db) as store:
        counts = store.summary()
        parts = ", ".join(f"{n} {k}" for k, n in counts.items())
        print(f"{db}: {sum(counts.values())} cases ({parts})")
        if args.csv:
            out = store.export_csv(args.csv)
            print(f"table written to {out}")
    return 0


def _rom(args: argparse.Namespace) -> int:
    from spinesim.atomic import write_json
    from spinesim.model.rom import rom_study
    from spinesim.model.segment import SegmentOptions

    if args.json is not None:
        parent = Path(args.json).resolve().parent
        if not parent.is_dir():
            raise SystemExit(f"spinesim rom: --json {args.json}: folder {parent} does not exist")
    opts = SegmentOptions(levels=args.levels, construct=args.construct,
                          resolution=args.resolution, bone_quality=args.bone_quality,
                          rho_app_g_cm3=args.bone_density, rod_material=args.rod_material,
                          rod_diameter_mm=args.rod_diameter, cage_material=args.cage_material,
                          mesh_path=args.mesh)
    out = rom_study(opts, moment_nm=args.moment, preload_n=args.preload)
    print(f"{args.levels} {args.construct}, {args.moment:g} N·m, preload {args.preload:g} N "
          f"({out['model']['dofs']} DOF, {out['seconds']:.0f} s); ROM one-sided, degrees")
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
    p = argparse.ArgumentParser(prog="spinesim", description="Spinal fusion failure simulation.")
    p.add_argument("--version", action="version", version=f"spinesim {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    p.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("results", help="summarise a results store and export its table")
    r.add_argument("dir", help="output folder of a run or sweep (or the store file)")
    r.add_argument("--csv", help="write the table of cases to this CSV file")
    r.set_defaults(func=_results)
    from spinesim.model.segment import CONSTRUCTS, DEFAULT_RESOLUTION

    m = sub.add_parser("rom", help="range of motion of a lumbar segment under pure moments")
    m.add_argument("--levels", default="L4-L5", help="adjacent vertebrae, e.g. L4-L5 or L3-L5")
    m.add_argument("--construct", default="intact", choices=CONSTRUCTS)
    m.add_argument("--moment", type=_positive("--moment", 0.1, 30.0, "N·m"), default=7.5,
                   help="pure moment in N·m (default 7.5)")
    m.add_argument("--preload", type=_positive("--preload", 0.0, 3000.0, "N"), default=0.0,
                   help="compressive follower preload in N (default 0)")
    m.add_argument("--bone-density", type=_positive("--bone-density", 0.05, 1.0, "g/cm3"),
                   help="cancellous apparent density in g/cm3 (Morgan et al. 2003 modulus)")
    m.add_argument("--bone-quality", choices=("healthy", "osteoporotic"), default="healthy")
    m.add_argument("--resolution", type=_positive("--resolution", 0.3, 4.0, "(-)"),
                   default=DEFAULT_RESOLUTION, help="mesh resolution (default %(default)s)")
    m.add_argument("--rod-material", choices=("ti6al4v", "cocr", "ss316l"), default="ti6al4v")
    m.add_argument("--rod-diameter", type=_positive("--rod-diameter", 2.0, 12.0, "mm"),
                   default=5.5, help="rod diameter in mm (default 5.5)")
    m.add_argument("--cage-material", choices=("peek", "titanium"), default="peek")
    m.add_argument("--mesh", help="your own segment mesh (any meshio format) with named regions "
                   "and the node sets upper_endplate_top / lower_endplate_bottom; no soft "
                   "tissue or screws are added to it")
    m.add_argument("--json", help="write the results to this JSON file")
    m.set_defaults(func=_rom)
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


if __name__ == "__main__":
    sys.exit(main())
