"""Researcher's script: would a posterolateral graft be strained out of the bone window?

spinesim's fusions put the graft in an interbody cage, which shields it: the day-0 graft's
strain sits inside the Prendergast-Lacroix bone window, and the graft unites within weeks
(README, "What the model predicts"). Many lumbar fusions are posterolateral instead: the graft
lies between the transverse processes, with no cage (``segment.construct =
"posterolateral"``). This script estimates, without meshing a graft, what such a graft would
see, and was how that construct was motivated. It measures how far the transverse
processes of the two vertebrae move against each other under the protocol moments (the
largest moment of the activity spectrum, 7.5 N·m, with a compressive preload), for

* ``bilateral``: pedicle screws and rods, the disc kept: the segment a posterolateral graft
  would heal in before it has fused;
* ``intact`` (with ``--intact``; slower): the same segment without hardware, for scale.

A graft column between the processes whose ends move with them takes their relative
displacement d over its height g: a homogeneous deformation with gradient d n^T / g (n the
unit vector from the lower process's face to the upper one's; no lateral strain, the
column's sides taken as unstrained). The script gives its nominal axial strain (d . n) / g,
its nominal shear strain |d - (d . n) n| / g and its octahedral shear strain
(:func:`spinesim.failure.healing.octahedral_shear_strain`), against the 3.75 % bound of the
Prendergast-Lacroix bone window with no fluid flow (S = gamma / 0.0375 < 1; Lacroix &
Prendergast 2002). A granulation-tissue graft is far softer than the bone round it, so it
follows the processes' motion; the estimate is of that kinematic strain, not a solve with a
graft in place (which would stiffen the segment as it heals).

The transverse-process faces are found on the generated mesh, in each vertebra's own frame:
its posterior-element nodes within 90 % of its transverse-process length of each side's most
lateral point, and of those the face of the upper vertebra's process that faces down (the
smallest height) and the lower vertebra's that faces up (the largest).

Measured (resolution 0.8, 2-core VM): with 500 N the instrumented column stays inside the
bone window (largest octahedral shear strain 2.5 %, axial rotation; intact 11.8 %, lateral
bending); with the 1 650 N of lifting (``--preload 1650``, the activity spectrum's lifting
compression) it leaves it (5.3 % in flexion, 5.6 % in axial rotation: S about 1.4-1.5, the
cartilage window). The construct with its graft meshed gives less (README, "A posterolateral
graft is strained more, but not out of the bone window"): this column has no lateral strain,
and its segment has soft tissue.

Run: ``python examples/posterolateral_graft_strain.py [--resolution 0.8] [--moment 7.5]
[--preload 500] [--intact] [--out DIR]`` (about 1 min for ``bilateral`` at resolution 0.8 on
a 2-core machine; ``--intact`` adds about 3 min, its ligaments and facets being contacts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: Prendergast-Lacroix bone window with no fluid flow: octahedral shear strain below a = 3.75 %
#: (S = gamma / a + v / b < 1; Lacroix & Prendergast 2002, ../shared/reference/healing.md).
BONE_WINDOW_STRAIN = 0.0375


def process_faces(seg, band_fraction: float = 0.9) -> dict[str, tuple]:
    """Per side (``"left"``, ``"right"``) the node ids of the upper vertebra's transverse
    process face that faces down and of the lower vertebra's that faces up: in each
    vertebra's own frame, the posterior-element nodes within ``band_fraction`` of its
    ``transverse_process_length_mm`` of the side's most lateral point, at their smallest
    (upper) or largest (lower) height."""
    import numpy as np

    geo = seg.geometry
    mesh = geo.mesh
    P = mesh.points
    conn = np.concatenate([b.cells for b in mesh.solid_blocks])
    posterior = mesh.cells_in_region("posterior")
    out: dict[str, list] = {"left": [], "right": []}
    for i, (level, pick) in enumerate(((geo.levels[0], np.min), (geo.levels[1], np.max))):
        nodes = np.unique(conn[posterior & (geo.cell_vertebra == i)])
        frame = geo.frames[level]
        local = (P[nodes] - frame[:3, 3]) @ frame[:3, :3]
        band = band_fraction * geo.dimensions[level].transverse_process_length_mm
        for side, sign in (("left", 1.0), ("right", -1.0)):
            x = sign * local[:, 0]
            tip = (x > 0.0) & (x >= x.max() - band)
            z = local[tip, 2]
            face = nodes[tip][np.abs(z - pick(z)) < 1e-6 * (1.0 + np.abs(z).max())]
            if len(face) < 3:
                raise SystemExit(f"posterolateral_graft_strain: found no {side} transverse-"
                                 f"process face of {level} ({len(face)} nodes)")
            out[side].append(face)
    return {side: tuple(f) for side, f in out.items()}


def run(resolution: float = 0.8, moment_nm: float = 7.5, preload_n: float = 500.0,
        constructs: tuple[str, ...] = ("bilateral",),
        out: Path | None = None):
    """One row per construct, side and load case: the gap between the process faces (mm),
    their relative displacement (mm), the nominal axial and shear strain and the octahedral
    shear strain of a graft column between them (-), the ROM (deg). Written atomically as
    ``posterolateral_graft_strain.csv`` to ``out`` when given."""
    import numpy as np
    import pandas as pd

    from spinesim.atomic import write_csv
    from spinesim.failure.healing import octahedral_shear_strain
    from spinesim.model.loadcases import moment_load_cases
    from spinesim.model.segment import SegmentOptions, build_segment, solve_rom

    rows = []
    cases = moment_load_cases(moment_nm, preload_n)
    for construct in constructs:
        seg = build_segment(SegmentOptions(construct=construct, resolution=resolution))
        faces = process_faces(seg)
        P = seg.geometry.mesh.points
        results = solve_rom(seg, cases, keep_solutions=True, from_preloaded=False)
        for side, (top, bottom) in faces.items():
            span = P[top].mean(axis=0) - P[bottom].mean(axis=0)
            gap = float(np.linalg.norm(span))
            n = span / gap
            for name, r in results.items():
                u = r.solution.displacement
                d = u[top].mean(axis=0) - u[bottom].mean(axis=0)
                grad = np.outer(d, n) / gap
                axial = float(d @ n) / gap
                rows.append({
                    "construct": construct, "side": side, "case": name, "gap_mm": gap,
                    "relative_displacement_mm": float(np.linalg.norm(d)),
                    "axial_strain": axial,
                    "shear_strain": float(np.linalg.norm(d - (d @ n) * n)) / gap,
                    "octahedral_shear_strain": float(octahedral_shear_strain(
                        0.5 * (grad + grad.T))),
                    "rom_deg": r.rom_deg})
    table = pd.DataFrame(rows)
    if out is not None:
        write_csv(Path(out) / "posterolateral_graft_strain.csv", table, index=False)
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=0.8, help="mesh resolution")
    ap.add_argument("--moment", type=float, default=7.5, help="pure moment, N·m")
    ap.add_argument("--preload", type=float, default=500.0, help="compressive preload, N")
    ap.add_argument("--intact", action="store_true", help="also the intact segment (slower)")
    ap.add_argument("--out", type=Path, default=Path("results/posterolateral_graft_strain"))
    args = ap.parse_args(argv)
    constructs = ("bilateral", "intact") if args.intact else ("bilateral",)
    t = run(args.resolution, args.moment, args.preload, constructs, args.out)
    for (construct, side), g in t.groupby(["construct", "side"], sort=False):
        print(f"{construct}, {side} (gap {g['gap_mm'].iloc[0]:.1f} mm):")
        for r in g.itertuples(index=False):
            print(f"  {r.case:22s} ROM {r.rom_deg:5.2f} deg  axial {100 * r.axial_strain:6.2f} %"
                  f"  shear {100 * r.shear_strain:5.2f} %  octahedral "
                  f"{100 * r.octahedral_shear_strain:5.2f} %")
    worst = t.loc[t["octahedral_shear_strain"].idxmax()]
    inside = worst["octahedral_shear_strain"] < BONE_WINDOW_STRAIN
    print(f"largest octahedral shear strain {100 * worst['octahedral_shear_strain']:.2f} % "
          f"({worst['construct']}, {worst['side']}, {worst['case']}): "
          f"{'inside' if inside else 'outside'} the bone window (< "
          f"{100 * BONE_WINDOW_STRAIN:g} % with no fluid flow)")
    print(f"table: {args.out}/posterolateral_graft_strain.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
