"""Researcher's script: is the graft drained or undrained under the daily activities?

spinesim's graft is elastic, drained by default, with fluid velocity 0. With the poroelastic
constants of Lacroix & Prendergast (2002) this script shows how far that is from a poroelastic
graft:

1. per tissue phase, the consolidation time over the graft's drainage length (half its height:
   drained at both endplates, the cage walls taken as impermeable) and Terzaghi's degree of
   consolidation after a load held 0.1, 1 or 10 s (``spinesim.failure.graft_drainage``);
2. for the day-0 graft (granulation tissue) under each activity peak: the median octahedral
   shear strain and pressure (minus the mean stress, as the Claes-Heigele rule sees it) with
   ``graft.drainage = "drained"`` (the default) and ``"undrained"`` (the tissue loaded faster
   than it drains; the pressure is then mostly pore pressure).

Run: ``python examples/graft_drainage.py [scenario.toml] [--resolution 1.0] [--out DIR]``
(about 15 s at the default resolution on a 2-core machine).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LOAD_TIMES_S = (0.1, 1.0, 10.0)


def drainage_length_mm(seg) -> float:
    """Half the graft's height along the segment axis (mm)."""
    import numpy as np

    mesh = seg.geometry.mesh
    cells = np.flatnonzero(mesh.cells_in_region("graft"))
    conn = np.concatenate([b.cells for b in mesh.solid_blocks])[cells]
    h = mesh.points[np.unique(conn)] @ seg.axis
    return 0.5 * float(h.max() - h.min())


def run(scenario_path: Path | None = None, resolution: float | None = None,
        out: Path | None = None) -> dict:
    """Both tables as DataFrames, ``{"phases": ..., "graft": ...}``, written atomically as CSV
    to ``out`` when given."""
    import numpy as np
    import pandas as pd

    from spinesim.atomic import write_csv
    from spinesim.failure import graft_drainage as gd
    from spinesim.failure import healing
    from spinesim.fem.post import cell_strain_operator
    from spinesim.model.activity import activity_spectrum
    from spinesim.model.segment import case_loads
    from spinesim.scenario import Scenario
    from spinesim.simulate import graft_state_segment, solve_cases

    scenario = Scenario.default() if scenario_path is None else Scenario.from_toml(scenario_path)
    seg = graft_state_segment(scenario, resolution, 0.0)
    L = drainage_length_mm(seg)
    phases = []
    for phase in gd.POROELASTIC:
        b = gd.biot(phase)
        row = {"phase": phase.name.lower(), "drainage_length_mm": L,
               "consolidation_coefficient_mm2_s": b["c"],
               "consolidation_time_s": gd.consolidation_time_s(phase, L),
               "undrained_poisson": gd.undrained_poisson(phase)}
        for t in LOAD_TIMES_S:
            row[f"consolidated_after_{t:g}_s"] = float(gd.degree_of_consolidation(b["c"] * t / L**2))
        phases.append(row)

    mesh = seg.geometry.mesh
    graft = np.flatnonzero(mesh.cells_in_region("graft"))
    strain_of = cell_strain_operator(mesh, graft)
    volume = strain_of.volume
    active = activity_spectrum(scenario).active()
    loads = [case_loads(seg, a.load_case()) for a in active]
    rows = []
    for state in ("drained", "undrained"):  # the timeline's day-0 graft, graft.drainage = state
        seg = graft_state_segment(scenario.with_values({"graft.drainage": state}), resolution)
        E_g, nu_g = healing.tissue_properties(
            np.zeros(len(graft)), granulation_E_mpa=scenario.get("graft.initial_modulus_mpa"),
            undrained=state == "undrained")
        K = E_g / (3.0 * (1.0 - 2.0 * nu_g))  # drained: skeleton; undrained: ~ pore fluid
        for a, sol in zip(active, solve_cases(seg, loads)):
            eps = strain_of(sol.displacement)
            p = -K * np.trace(eps, axis1=1, axis2=2)  # -mean stress, as the timeline's
            rows.append({"state": state, "activity": a.name,
                         "median_octahedral_shear_strain": healing.volume_quantile(
                             healing.octahedral_shear_strain(eps), volume, 0.5),
                         "median_pressure_mpa": healing.volume_quantile(p, volume, 0.5)})
    tables = {"phases": pd.DataFrame(phases), "graft": pd.DataFrame(rows)}
    if out is not None:
        for name, table in tables.items():
            write_csv(Path(out) / f"graft_drainage_{name}.csv", table, index=False)
    return tables


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", type=Path)
    ap.add_argument("--resolution", type=float, help="coarser meshes for a quick look")
    ap.add_argument("--out", type=Path, default=Path("results/graft_drainage"))
    args = ap.parse_args(argv)
    t = run(args.scenario, args.resolution, args.out)
    ph, gr = t["phases"], t["graft"]
    print(f"drainage length {ph['drainage_length_mm'].iloc[0]:.1f} mm (half the graft height)")
    print(f"{'phase':14s} {'c (mm2/s)':>10s} {'t_c (s)':>10s} {'nu_u':>8s}  consolidated after "
          + ", ".join(f"{x:g} s" for x in LOAD_TIMES_S))
    for _, r in ph.iterrows():
        after = ", ".join(f"{100 * r[f'consolidated_after_{x:g}_s']:.1f} %" for x in LOAD_TIMES_S)
        print(f"{r['phase']:14s} {r['consolidation_coefficient_mm2_s']:10.3g} "
              f"{r['consolidation_time_s']:10.3g} {r['undrained_poisson']:8.5f}  {after}")
    print("day-0 graft (granulation tissue), median over its volume:")
    for r in gr.itertuples(index=False):
        print(f"  {r.state:9s} {r.activity:12s} octahedral shear strain "
              f"{100 * r.median_octahedral_shear_strain:5.2f} %, pressure "
              f"{r.median_pressure_mpa:6.3f} MPa")
    print(f"tables: {args.out}/graft_drainage_phases.csv, graft_drainage_graft.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
