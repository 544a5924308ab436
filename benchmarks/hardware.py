"""Build-and-solve times of hardware models: the ASTM F1717 construct, and a 2-level construct
(4 pedicle screws, 2 rods) in a block of bone at two mesh sizes, with the time split into
point location, the other hardware set-up, assembly (model set-up incl. constraints and solver
preparation) and solve.

Usage: ``python benchmarks/hardware.py [--json FILE]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from _common import write_records  # noqa: E402  (benchmarks/ helper)


def f1717_case(blocks: str = "uhmwpe", h_mm: float = 2.5) -> dict:
    """The F1717 construct: elastic UHMWPE blocks at block mesh ``h_mm``, or rigid blocks."""
    from spinesim.model.f1717 import F1717Setup, solve_f1717

    t = time.perf_counter()
    r = solve_f1717(F1717Setup(blocks=blocks, block_mesh_mm=h_mm))
    total = time.perf_counter() - t
    if blocks == "rigid":
        return {"case": "F1717, rigid blocks (beam model)", "cells": 0, "total_s": total,
                "stiffness_n_per_mm": r.stiffness_n_per_mm}
    tm = r.timings
    return {"case": f"F1717, UHMWPE blocks, h = {h_mm} mm", "cells": tm["cells"],
            "dofs": tm["dofs"], "locate_s": tm["locate"], "hardware_other_s": tm["hardware"],
            "assembly_s": tm["assembly"], "solve_s": tm["solve"] + tm["results"],
            "total_s": total, "solver": "auto", "stiffness_n_per_mm": r.stiffness_n_per_mm}


def two_level_case(h_mm: float) -> dict:
    """A 40 x 40 x 80 mm block of cancellous-like bone (E 100 MPa, nu 0.2 as in the FE core's
    quick start) with two pairs of screws 40 mm apart and one rod per side."""
    from spinesim.fem.constraints import Support
    from spinesim.fem.static import LinearElasticModel
    from spinesim.mesh.generate import box
    from spinesim.model.hardware import Rod, Screw, build_hardware, hardware_results

    n = tuple(int(round(v / h_mm)) for v in (40.0, 40.0, 80.0))
    mesh = box((40.0, 40.0, 80.0), n, "hexahedron")
    E = np.full(mesh.n_solid_cells, 100.0)
    screws = [Screw(f"{lvl} {side}", head=(x, -12.0, z), entry=(x, 0.0, z),
                    direction=(0.0, 1.0, 0.0), length_mm=35.0, n_segments=10)
              for lvl, z in (("upper", 60.0), ("lower", 20.0))
              for side, x in (("left", 10.0), ("right", 30.0))]
    rods = [Rod(f"rod {side}", (f"upper {side}", f"lower {side}"))
            for side in ("left", "right")]
    t0 = time.perf_counter()
    hw = build_hardware(mesh, screws, rods, E)
    t1 = time.perf_counter()
    model = LinearElasticModel(mesh, E, 0.2, supports=[Support(mesh.node_sets["zmin"])],
                               extra_points=hw.points, element_sets=hw.element_sets,
                               element_values=hw.element_values, solver="auto")
    t2 = time.perf_counter()
    loads = np.zeros((len(hw.points), 6))
    heads = [0, 11]  # the two upper screw heads (first node of each screw)
    loads[heads, 2] = -200.0
    sol = model.solve(node_loads=loads)
    _, tie = hardware_results(hw, sol)
    t3 = time.perf_counter()
    return {"case": f"2-level construct in bone, h = {h_mm} mm", "cells": mesh.n_solid_cells,
            "dofs": model.layout.n_dofs, "locate_s": hw.timings["locate"],
            "hardware_other_s": (t1 - t0) - hw.timings["locate"], "assembly_s": t2 - t1,
            "solve_s": t3 - t2, "total_s": t3 - t0, "solver": sol.info.get("method"),
            "iterations": sol.info.get("iterations"),
            "max_micromotion_um": float(tie.micromotion_um.max())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the records to this file")
    args = ap.parse_args(argv)
    two_level_case(4.0)  # warm-up: numba kernels load from the disk cache
    rows = [f1717_case("rigid"), f1717_case("uhmwpe", 2.5), f1717_case("uhmwpe", 1.25),
            two_level_case(2.0), two_level_case(1.0)]
    print(f"{'case':42s} {'cells':>8} {'DOFs':>8} {'locate':>7} {'hw':>7} {'setup':>9} "
          f"{'solve':>7} {'total':>7}  shares (locate/setup/solve); setup = pattern, assembly, factorization or AMG hierarchy")
    for r in rows:
        if "locate_s" in r:
            tot = r["total_s"]
            print(f"{r['case']:42s} {r['cells']:8d} {r['dofs']:8d} {r['locate_s']:7.3f} "
                  f"{r['hardware_other_s']:7.3f} {r['assembly_s']:9.3f} {r['solve_s']:7.3f} "
                  f"{tot:7.3f}  {r['locate_s'] / tot:.0%} / {r['assembly_s'] / tot:.0%} / "
                  f"{r['solve_s'] / tot:.0%} ({r['solver']}"
                  + (f", {r['iterations']} it." if r.get("iterations") else "") + ")")
        else:
            print(f"{r['case']:42s} {'-':>8} {'-':>8} {'':>7} {'':>7} {'':>9} {'':>7} "
                  f"{r['total_s']:7.3f}")
    write_records(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
