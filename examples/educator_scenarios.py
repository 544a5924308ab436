"""Educator's script: the three example scenarios side by side (healthy fusion, osteoporotic
screw loosening, a smoker's nonunion with rod fracture), one column each: the race between
graft bone and rod damage on top, the screw-bone micromotion per screw below.

Each scenario file in examples/scenarios/ states the outcome it is meant to show, the physical
reasons, and what the model actually predicts (two of the three miss their intended outcome:
see the files and the README).

Run: ``python examples/educator_scenarios.py [--out results/scenarios] [--weeks 52]
[--resolution 1.0]`` (about 20-70 s per scenario at full size on a 2-core machine).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = ("healthy_fusion", "osteoporotic_loosening", "smoker_nonunion_rod_fracture")
TITLES = ("Healthy fusion", "Osteoporotic bone, daily lifting", "Smoker, one rod, lifting")


def run(out: Path, weeks: float | None = None, resolution: float | None = None) -> dict:
    """Run the three scenarios into ``out/<name>/`` and draw ``out/side_by_side.png``; returns
    {name: TimelineResult}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinesim import plot
    from spinesim.atomic import atomic_path
    from spinesim.report import write_report
    from spinesim.scenario import Scenario
    from spinesim.simulate import run_timeline

    results = {}
    fig, axes = plt.subplots(2, 3, figsize=(16, 8.5), constrained_layout=True)
    for col, (name, title) in enumerate(zip(SCENARIOS, TITLES)):
        scenario = Scenario.from_toml(HERE / "scenarios" / f"{name}.toml")
        overrides = {}
        if weeks is not None:
            overrides["timeline.weeks"] = weeks
        if resolution is not None:
            overrides["segment.resolution"] = resolution
        scenario = scenario.with_values(overrides) if overrides else scenario
        result = run_timeline(scenario)
        write_report(result, scenario, out / name, plots=False, vtu=False)
        results[name] = result
        t = result.timeline
        union = result.verdicts["nonunion"]["value"]
        ax = plot.race(t["week"], t["graft_bone_fraction"], t["rod_damage"],
                       bridged_week=None if union == float("inf") else union, ax=axes[0, col])
        ax.set_title(f"{title}\n{ax.get_title()}", fontsize=10)
        micro = [c for c in t.columns if c.startswith("micromotion_")]
        for c, ls in zip(micro, ("-", "--", ":", "-.")):
            axes[1, col].plot(t["week"], t[c], ls=ls, lw=1.8,
                              label=c.removeprefix("micromotion_").removesuffix("_um"))
        axes[1, col].axhline(scenario.get("loosening.bone_threshold_um"), color="0.4", ls="--",
                             lw=1, label="bone ingrowth threshold")
        axes[1, col].set(xlabel="weeks after surgery", ylabel="screw-bone micromotion (µm)",
                         ylim=(0, 1.3 * scenario.get("loosening.bone_threshold_um")))
        axes[1, col].legend(fontsize=8)
        axes[1, col].grid(alpha=0.3)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "side_by_side.png", suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/scenarios")
    ap.add_argument("--weeks", type=float, help="shorter timelines for a quick look")
    ap.add_argument("--resolution", type=float, help="coarser meshes for a quick look")
    args = ap.parse_args(argv)
    results = run(Path(args.out), args.weeks, args.resolution)
    print(f"{'scenario':30s} {'union week':>10s} {'max micromotion':>16s} {'rod damage':>11s}"
          f" {'screw pullout / strength':>25s}  failing modes")
    for name, r in results.items():
        t = r.timeline
        failing = [m for m, v in r.verdicts.items() if v["fails"]] or ["none"]
        p = r.info["pullout"]
        print(f"{name:30s} {r.verdicts['nonunion']['value']:10g} "
              f"{t['max_micromotion_um'].max():13.1f} µm {t['rod_damage'].iloc[-1]:11.3g}"
              f" {p['max_pullout_n']:11.0f} N / {p['strength_n']:5.0f} N"
              f"  {', '.join(failing)}")
    print(f"figure: {Path(args.out) / 'side_by_side.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
