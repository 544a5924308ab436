"""Mesh convergence of the timeline's outputs: the same scenario at several mesh resolutions.

For each resolution the script runs the healing timeline and records, at the first week (the
day-0 graft of granulation tissue under the activity peaks) and over the whole run:

* ``max_graft_shear_strain`` and ``median_graft_shear_strain`` (-): the largest and the
  volume-weighted median octahedral shear strain of the graft elements. The largest sits in
  the graft's corner elements against the stiff cage walls and endplates, where the strain is
  singular, so it grows as the mesh is refined; the median converges;
* ``max_micromotion_um`` (µm), ``max_rod_stress_amplitude_mpa`` (MPa), ``rom_flexion_deg``
  (deg, protocol moment);
* ``union_week`` (first bridged week, None if none) and the verdicts that fail.

It writes ``convergence.json`` and ``convergence_table.txt`` (both atomically) to ``--out``
and prints the table. The README's "Verification" section quotes its numbers for the
example scenarios.

Run: ``python examples/mesh_convergence.py [scenario.toml] [--resolutions 0.5 0.75 1 1.25]
[--weeks W] [--out DIR]`` (default: the embedded default scenario, 12 weeks).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from spinesim.atomic import atomic_path, write_json
from spinesim.errors import SpinesimError
from spinesim.scenario import Scenario

#: Columns of the table, in order (name, format).
COLUMNS = (("resolution", "{:g}"), ("dofs", "{:d}"), ("graft_cells", "{:d}"),
           ("max_graft_shear_strain_pct", "{:.2f}"), ("median_graft_shear_strain_pct", "{:.2f}"),
           ("max_micromotion_um", "{:.1f}"), ("max_rod_stress_amplitude_mpa", "{:.1f}"),
           ("rom_flexion_deg", "{:.3f}"), ("union_week", "{}"), ("failing", "{}"),
           ("seconds", "{:.0f}"))


def run(out: Path, scenario: Scenario | None = None,
        resolutions: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25), weeks: float = 12.0
        ) -> list[dict]:
    """Run ``scenario`` (default: the embedded default) for ``weeks`` at each resolution, write
    the files to ``out`` and return one row per resolution (units in the column names)."""
    from spinesim.outcomes import outcomes
    from spinesim.simulate import run_timeline

    scenario = Scenario.default() if scenario is None else scenario
    if not resolutions:
        raise SpinesimError("give at least one resolution")
    rows = []
    for res in resolutions:
        t0 = time.perf_counter()
        r = run_timeline(scenario, weeks=weeks, resolution=float(res), fields=False,
                         condense=False)
        first = r.timeline.iloc[0]  # the week-1 row: responses of the day-0 state
        o = outcomes(r)
        rows.append({
            "resolution": float(res), "dofs": int(r.info["dofs"]),
            "graft_cells": int(r.info["graft_cells"]),
            "max_graft_shear_strain_pct": 100.0 * float(first["max_graft_shear_strain"]),
            "median_graft_shear_strain_pct": 100.0 * float(first["median_graft_shear_strain"]),
            "max_micromotion_um": o["max_micromotion_um"],
            "max_rod_stress_amplitude_mpa": o["max_rod_stress_amplitude_mpa"],
            "rom_flexion_deg": float(first["rom_flexion_deg"]),
            "union_week": o["union_week"],
            "failing": [k for k, v in r.verdicts.items() if v["fails"]],
            "seconds": time.perf_counter() - t0})
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "convergence.json", {"source": scenario.source, "weeks": weeks,
                                          "rows": rows})
    with atomic_path(out / "convergence_table.txt") as tmp:
        tmp.write_text(table(rows), encoding="utf-8")
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [", ".join(row[name]) or "none" if name == "failing"
                 else "-" if row[name] is None else fmt.format(row[name])
                 for name, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", type=Path, help="scenario TOML (default: embedded)")
    ap.add_argument("--resolutions", type=float, nargs="+", default=[0.5, 0.75, 1.0, 1.25])
    ap.add_argument("--weeks", type=float, default=12.0)
    ap.add_argument("--out", type=Path, default=Path("results/mesh_convergence"))
    args = ap.parse_args(argv)
    try:
        scenario = Scenario.from_toml(args.scenario) if args.scenario else None
        rows = run(args.out, scenario, tuple(args.resolutions), args.weeks)
    except SpinesimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(rows), end="")
    print(f"wrote {args.out / 'convergence.json'} and {args.out / 'convergence_table.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
