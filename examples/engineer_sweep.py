"""The engineer's sweep: rod material and diameter x bone quality x cage construct.

Runs ``examples/sweeps/rod_bone_cage.toml`` (16 cases, each a full healing timeline) and
prints the failure table: which of the three failure modes (insufficient support, hardware
fatigue, nonunion) each case shows, and from which week.

Run: ``python examples/engineer_sweep.py [--out DIR] [--workers N] [--weeks W]
[--resolution R]``; ``--weeks`` and ``--resolution`` override ``timeline.weeks`` and
``segment.resolution`` in every case for a reduced run (e.g. ``--weeks 12 --resolution 0.5``).
Running it again resumes: cases already in ``DIR/results.sqlite`` are not run again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from spinesim.outcomes import FAILURE_MODES
from spinesim.sweeps import sweep_scenarios

HERE = Path(__file__).resolve().parent
SWEEP_FILE = HERE / "sweeps" / "rod_bone_cage.toml"
#: Short column names of the swept keys in the failure table.
SHORT = {"hardware.rod.material": "rod", "hardware.rod.diameter_mm": "rod_mm",
         "bone.quality": "bone", "segment.construct": "construct"}


def run(out: str | Path, *, workers: int | None = None, weeks: int | None = None,
        resolution: float | None = None, progress: bool | None = None,
        case_fn: Callable[[dict], Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Run the sweep into ``out`` (optionally reduced) and return its table."""
    overrides: dict[str, Any] = {}
    if weeks is not None:
        overrides["timeline.weeks"] = weeks
    if resolution is not None:
        overrides["segment.resolution"] = resolution
    return sweep_scenarios(SWEEP_FILE, out, workers=workers, progress=progress,
                           case_fn=case_fn, overrides=overrides or None)


def _verdict(fails: Any, week: Any) -> str:
    if fails is None or (isinstance(fails, float) and pd.isna(fails)):
        return "-"
    if not bool(fails):
        return "no"
    return "yes" if week is None or pd.isna(week) else f"yes, wk {int(week)}"


def failure_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per case: the swept values, each failure mode (``no`` or ``yes, wk N``), the
    week of union and the rod's fatigue damage; ``status`` for cases that did not run."""
    keys = df.attrs.get("parameters") or list(SHORT)
    table = df[keys].rename(columns=SHORT).copy()
    for mode in FAILURE_MODES:
        fails, week = f"{mode}_fails", f"{mode}_week"
        if fails in df.columns:
            table[mode] = [_verdict(f, w) for f, w in
                           zip(df[fails], df[week] if week in df.columns else [None] * len(df))]
    for col in ("union_week", "rod_damage"):
        if col in df.columns:
            table[col] = df[col]
    table["status"] = df["status"]
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/rod_bone_cage", help="output folder")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per CPU, at most one per case)")
    p.add_argument("--weeks", type=int, help="timeline length in weeks (reduced run)")
    p.add_argument("--resolution", type=float, help="mesh resolution (reduced run, e.g. 0.5)")
    args = p.parse_args(argv)
    df = run(args.out, workers=args.workers, weeks=args.weeks, resolution=args.resolution)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(failure_table(df).to_string())
    counts = df.attrs["counts"]
    print(f"\n{len(df)} cases: {counts['done']} done, {counts['failed']} failed, "
          f"{counts['skipped']} already stored; table in {df.attrs['files']['csv']}")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
