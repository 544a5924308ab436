"""Researcher's script: how hard each pedicle screw is pulled on day 0, against its pullout
strength, and how little that load depends on the unsourced interface stiffness; or the
in-vitro pullout test, simulated.

For each scenario (default: the three example scenarios) and each bonded interface stiffness
(``loosening.bonded_tie_factor``, default 10, 1 and 0.1 x the host bone's E per mm of screw)
the fused segment is solved in its day-0 state under the peak of every daily activity
(``spinesim.screw_pullout.day0_screw_loads``). Per screw: the pullout load (N, positive out of
the bone), the transverse load (N), the largest micromotion (µm), the screw's pullout
strength predicted from the bone its thread holds in (Chapman's thread shear-out with the
bone's shear strength, ``spinesim.failure.pullout``; it does not depend on the interface
stiffness) and the safety factor against it. Where the largest micromotion is: which tied
node (0 at the entry), the bone region holding it, and the motion there along and across the
screw axis (µm). The loads are what the rod puts on the screw
heads; only their share between screws and cage moves with the tie factor (1-31 % for
10 -> 0.1 at resolution 1.0), while the micromotion grows 6-13x. The table is written to
``OUT/screw_pullout.csv``.

Where the predicted strength comes from is tabulated per scenario, screw and bone region of
the thread (``spinesim.screw_pullout.thread_strengths``: thread length, modulus, shear
strength, strength and share) in ``OUT/thread_strength.csv``: in the generated segment 15.6
of the 35 mm of thread lie in the posterior elements, which hold 97-99 % of it.

The posterior elements are one homogenized material (3 500 MPa) that osteoporosis leaves
unscaled (no sourced factor). ``--posterior-scales`` repeats both tables with their modulus
scaled (``bone.posterior_modulus_scale``, column ``posterior_scale``): 0.34 scales them like
the osteoporotic cancellous bone, 0.01 (35 MPa) leaves no cortical bone in them at all, a
lower bound on how much the posterior bone can soften the screws' hold.

``--pullout-test`` simulates the in-vitro pullout test instead, the one measured output of
which depends on the interface stiffness: its axial stiffness. Matthews, Cadman, Tomka,
Dabirrahmani, Appleyard & Kam (J Spine Surg 6(1):3-12, 2020, PMC7154348; human L1-L5
vertebrae potted in cement, each screw pulled along its axis) measured 1 016 +- 263 N/mm
(open technique) and 936 +- 217 N/mm (minimally invasive); validation data, nothing in
spinesim is fitted to them. ``spinesim.screw_pullout.pullout_test_stiffness`` takes each
screw's vertebra out of the day-0 segment, holds the outer faces of its body (the potting;
rigid, and the machine infinitely stiff, so the simulated stiffness bounds the test's from
above), pulls the head along the axis and divides the load by the head's axial displacement,
for each tie factor (default 10, 1000 (a rigid interface: the bone's own stiffness), 1, 0.1,
0.03 and 0.01) and posterior scale. ``interface_n_per_mm`` is the interface springs' own
axial stiffness, what the test tends to as the interface softens. The table, with the ratio
to the measured mean, goes to ``OUT/pullout_test.csv``.

Run: ``python examples/screw_pullout.py [scenario.toml ...] [--out results/screw_pullout]
[--resolution 1.0] [--tie-factors 10 1 0.1] [--posterior-scales 1] [--pullout-test]``
(1 min 15 s for the three scenarios and three tie factors at resolution 1.0 on a 2-core
machine, with the thread table; each further posterior scale adds about as much again. The
pullout test: about 27 s per scenario and posterior scale.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = tuple(HERE / "scenarios" / f"{n}.toml" for n in
                  ("healthy_fusion", "osteoporotic_loosening", "smoker_nonunion_rod_fracture"))
TIE_FACTORS = (10.0, 1.0, 0.1)
PULLOUT_TEST_TIE_FACTORS = (10.0, 1000.0, 1.0, 0.1, 0.03, 0.01)
POSTERIOR_SCALES = (1.0,)
#: Axial pullout stiffness of lumbar pedicle screws, open technique, mean and SD (N/mm):
#: Matthews et al., J Spine Surg 6(1):3-12 (2020), PMC7154348, human cadaveric L1-L5.
#: Validation data, not a model input.
MEASURED_N_PER_MM = (1016.0, 263.0)


def _variants(path: Path, posterior_scales):
    """(scale, scenario) of a scenario file for each posterior-modulus factor."""
    from spinesim.scenario import Scenario

    base = Scenario.from_toml(path)
    for scale in posterior_scales:
        yield float(scale), base.with_values({"bone.posterior_modulus_scale": float(scale)})


def _per_variant(scenarios, posterior_scales, table_of):
    """``table_of(scenario)`` for each scenario file and posterior-modulus factor, in one
    DataFrame with ``scenario`` (file stem) and ``posterior_scale`` columns in front."""
    import pandas as pd

    tables = []
    for path in scenarios:
        for scale, scenario in _variants(path, posterior_scales):
            table = table_of(scenario)
            table.insert(0, "posterior_scale", scale)
            table.insert(0, "scenario", Path(path).stem)
            tables.append(table)
    return pd.concat(tables, ignore_index=True)


def run(out: Path, scenarios=SCENARIOS, resolution: float | None = None,
        tie_factors=TIE_FACTORS, posterior_scales=POSTERIOR_SCALES):
    """The day-0 screw-load table of each scenario file, posterior-modulus factor and tie
    factor, one DataFrame with ``scenario`` (file stem), ``posterior_scale`` and
    ``tie_factor`` columns, written atomically to ``out/screw_pullout.csv``; returns it."""
    import pandas as pd

    from spinesim.atomic import write_csv
    from spinesim.screw_pullout import day0_screw_loads

    def loads(base):
        tables = []
        for factor in tie_factors:
            scenario = base.with_values({"loosening.bonded_tie_factor": float(factor)})
            table = day0_screw_loads(scenario, resolution)
            table.insert(0, "tie_factor", float(factor))
            tables.append(table)
        return pd.concat(tables, ignore_index=True)

    table = _per_variant(scenarios, posterior_scales, loads)
    write_csv(out / "screw_pullout.csv", table, index=False)
    return table


def run_threads(out: Path, scenarios=SCENARIOS, resolution: float | None = None,
                posterior_scales=POSTERIOR_SCALES):
    """Each scenario file's thread-strength table by region for each posterior-modulus factor,
    one DataFrame with ``scenario`` and ``posterior_scale`` columns, written atomically to
    ``out/thread_strength.csv``; returns it."""
    from spinesim.atomic import write_csv
    from spinesim.screw_pullout import thread_strengths

    table = _per_variant(scenarios, posterior_scales,
                         lambda scenario: thread_strengths(scenario, resolution))
    write_csv(out / "thread_strength.csv", table, index=False)
    return table


def run_pullout_test(out: Path, scenarios=SCENARIOS, resolution: float | None = None,
                     tie_factors=PULLOUT_TEST_TIE_FACTORS, posterior_scales=POSTERIOR_SCALES):
    """The simulated pullout-test table of each scenario file and posterior-modulus factor,
    one DataFrame with ``scenario``, ``posterior_scale`` and ``measured_ratio`` (stiffness
    over the measured mean) columns, written atomically to ``out/pullout_test.csv``; returns
    it."""
    from spinesim.atomic import write_csv
    from spinesim.screw_pullout import pullout_test_stiffness

    table = _per_variant(scenarios, posterior_scales,
                         lambda scenario: pullout_test_stiffness(scenario, resolution,
                                                                 tie_factors))
    table["measured_ratio"] = table["stiffness_n_per_mm"] / MEASURED_N_PER_MM[0]
    write_csv(out / "pullout_test.csv", table, index=False)
    return table


def _print_pullout_test(table, out: Path) -> None:
    mean, sd = MEASURED_N_PER_MM
    print(f"simulated pullout test, axial stiffness (measured: {mean:.0f} +- {sd:.0f} N/mm, "
          "Matthews et al. 2020)")
    print(f"{'scenario':30s} {'post.':>5s} {'tie':>6s} {'screw':9s} {'stiffness':>12s} "
          f"{'x measured':>10s} {'interface alone':>15s}")
    for r in table.itertuples():
        print(f"{r.scenario:30s} {r.posterior_scale:5g} {r.tie_factor:6g} {r.screw:9s} "
              f"{r.stiffness_n_per_mm:7.0f} N/mm {r.measured_ratio:10.2f} "
              f"{r.interface_n_per_mm:10.0f} N/mm")
    print(f"table: {out / 'pullout_test.csv'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("scenarios", nargs="*", type=Path, default=list(SCENARIOS))
    ap.add_argument("--out", type=Path, default=Path("results/screw_pullout"))
    ap.add_argument("--resolution", type=float, help="coarser meshes for a quick look")
    ap.add_argument("--tie-factors", type=float, nargs="+",
                    help="bonded interface stiffness, x host E per mm of screw (default "
                         f"{' '.join(f'{f:g}' for f in TIE_FACTORS)}; with --pullout-test "
                         f"{' '.join(f'{f:g}' for f in PULLOUT_TEST_TIE_FACTORS)})")
    ap.add_argument("--posterior-scales", type=float, nargs="+",
                    default=list(POSTERIOR_SCALES),
                    help="factors on the posterior elements' modulus (3500 MPa), "
                         "bone.posterior_modulus_scale")
    ap.add_argument("--pullout-test", action="store_true",
                    help="simulate the in-vitro pullout test instead (pullout_test.csv)")
    args = ap.parse_args(argv)
    from spinesim.scenario_schema import field

    low, high = field("segment.resolution").low, field("segment.resolution").high
    if args.resolution is not None and not low <= args.resolution <= high:
        ap.error(f"--resolution must be in [{low:g}, {high:g}] (segment.resolution), got "
                 f"{args.resolution}")
    held = args.out  # checked before the work, not when the first table is written
    while not held.exists():
        held = held.parent
    if not held.is_dir():
        ap.error(f"--out {args.out}: {held} is a file; give a folder (created if missing)")
    from spinesim.errors import SpinesimError

    try:  # bad input: one line and status 2, not a traceback
        for path in args.scenarios:  # every file and scale, before the first solve
            for _ in _variants(path, args.posterior_scales):
                pass
        if args.pullout_test:
            table = run_pullout_test(args.out, args.scenarios, args.resolution,
                                     args.tie_factors or PULLOUT_TEST_TIE_FACTORS,
                                     args.posterior_scales)
            _print_pullout_test(table, args.out)
            return 0
        return _day0(args)
    except (SpinesimError, OSError) as exc:
        print(f"screw_pullout: {exc}", file=sys.stderr)
        return 2


def _day0(args: argparse.Namespace) -> int:
    """The day-0 screw-load and thread-strength tables of ``main``'s arguments, printed."""
    table = run(args.out, args.scenarios, args.resolution, args.tie_factors or TIE_FACTORS,
                args.posterior_scales)
    print("screw loads on the bone, day 0, peak of each activity (pullout > 0: out of the "
          "bone)")
    print(f"{'scenario':30s} {'post.':>5s} {'tie':>5s} {'activity':12s} {'screw':9s} "
          f"{'pullout':>8s} {'transverse':>10s} {'micromotion':>11s} {'at node (0 = entry)':28s} "
          f"{'axial':>7s} {'normal':>7s} {'strength':>8s} {'safety':>7s}")
    for r in table.itertuples():
        at = f"{r.micromotion_node:2d} of {r.screw_nodes:2d}, {r.micromotion_region}"
        print(f"{r.scenario:30s} {r.posterior_scale:5g} {r.tie_factor:5g} {r.activity:12s} "
              f"{r.screw:9s} {r.pullout_n:6.1f} N {r.transverse_n:8.1f} N "
              f"{r.max_micromotion_um:8.1f} µm {at:28s} {r.micromotion_axial_um:7.1f} "
              f"{r.micromotion_normal_um:7.1f} {r.strength_n:6.0f} N {r.safety_factor:7.3g}")
    print(f"table: {args.out / 'screw_pullout.csv'}")
    threads = run_threads(args.out, args.scenarios, args.resolution, args.posterior_scales)
    print("\nwhere the predicted pullout strength comes from (thread in each bone region)")
    print(f"{'scenario':30s} {'post.':>5s} {'screw':9s} {'region':12s} {'thread':>7s} "
          f"{'E':>8s} {'shear str.':>10s} {'strength':>8s} {'share':>6s}")
    for r in threads.itertuples():
        print(f"{r.scenario:30s} {r.posterior_scale:5g} {r.screw:9s} {r.region:12s} "
              f"{r.thread_mm:4.1f} mm {r.modulus_mpa:4.0f} MPa {r.shear_strength_mpa:6.2f} MPa "
              f"{r.strength_n:6.0f} N {100 * r.share:5.1f} %")
    print(f"table: {args.out / 'thread_strength.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
