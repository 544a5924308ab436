"""The ``spinesim`` command line. Subcommands arrive with the issues that build them; today:

    spinesim results DIR [--csv FILE]     summary of a results store, optional CSV export

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
