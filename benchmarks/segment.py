"""Build and solve times of the lumbar segment models: intact (nonlinear: tension-only
ligaments and fibres, facet contact, active-set iterations) and fused (bilateral-cage) L4-L5 at
two mesh sizes, six pure-moment load cases each, with the active-set iteration counts.

Run: ``python benchmarks/segment.py [--json FILE] [--resolutions 0.8 1.0]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from _common import write_records  # noqa: E402  (benchmarks/ helper)


def case(construct: str, resolution: float) -> dict:
    from spinesim.model.loadcases import moment_load_cases
    from spinesim.model.segment import SegmentOptions, build_segment, solve_rom

    t0 = time.perf_counter()
    seg = build_segment(SegmentOptions(construct=construct, resolution=resolution))
    t1 = time.perf_counter()
    res = solve_rom(seg, moment_load_cases())
    t2 = time.perf_counter()
    its = [r.iterations for r in res.values()]
    return {"construct": construct, "resolution": resolution, "dofs": seg.info["dofs"],
            "springs": int(sum(len(s.nodes) for s in seg.springs)),
            "solver": seg.model._solver.method, "build_s": t1 - t0,
            "solve_s": t2 - t1, "per_case_s": (t2 - t1) / len(res),
            "iterations": its, "rom_deg": {k: r.rom_deg for k, r in res.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the records to this file")
    ap.add_argument("--resolutions", type=float, nargs="+", default=[0.8, 1.0])
    args = ap.parse_args(argv)
    rows = [case(c, r) for r in args.resolutions for c in ("intact", "bilateral-cage")]
    print(f"{'construct':16s} {'res':>4s} {'DOFs':>7s} {'springs':>7s} {'solver':>8s} "
          f"{'build s':>8s} {'6 cases s':>9s} {'per case':>8s}  active-set iterations")
    for r in rows:
        print(f"{r['construct']:16s} {r['resolution']:4.1f} {r['dofs']:7d} {r['springs']:7d} "
              f"{r['solver']:>8s} {r['build_s']:8.1f} {r['solve_s']:9.1f} "
              f"{r['per_case_s']:8.1f}  {r['iterations']}")
    write_records(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
