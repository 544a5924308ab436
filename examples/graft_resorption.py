"""Researcher's script: is the fused graft stress-shielded, and what if the rule resorbs it?

The Prendergast-Lacroix rule resorbs bone whose stimulus falls to S <= 0.01. Once the graft in
a cage has fused, the cage and the bone round it shield it into that window; spinesim counts
the window as mature bone unless ``[healing.prendergast] resorption = true`` (README, "What
the model predicts"). This script runs one scenario three ways:

1. ``resorption = false`` (the default): the share of the graft in the resorption window;
2. ``resorption = true``: shielded bone steps into resorbed tissue (marrow's properties), is
   strained again and steps back to bone;
3. the same with the stimulus averaged over ``--averaging`` weeks
   (``healing.averaging_iterations``).

It writes ``graft_resorption.csv`` (per week and variant: graft bone fraction, bridged, the
share of the fusion area bridged by bone, the share in the resorption window, the share
resorbed) and ``graft_resorption.png`` (bone fraction and bridged share of the fusion area over
the weeks, one panel per variant, with the weeks the graft is bridged). A resorbing graft keeps
most of its volume as bone but bridges a smaller share of its cross-section: with 10-week
averaging on the default scenario, in its bridged weeks from week 7 the median is 85 % bone
but 51 % of the fusion area, and 9 of its 46 bridged weeks are CT grade II (50 % or less).

Run: ``python examples/graft_resorption.py [scenario.toml] [--weeks 52] [--resolution 1.0]
[--averaging 10] [--out DIR]`` (about 1 min at the default resolution on a 2-core machine).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def variants(averaging: int) -> dict[str, dict]:
    """Scenario values of the three variants, by name."""
    on = {"healing.prendergast.resorption": True}
    return {"counted as bone": {"healing.prendergast.resorption": False},
            "resorbed": {**on, "healing.averaging_iterations": 1},
            f"resorbed, {averaging}-week average": {**on,
                                                    "healing.averaging_iterations": averaging}}


def run(scenario_path: Path | None = None, weeks: float | None = None,
        resolution: float | None = None, averaging: int = 10, out: Path | None = None):
    """The per-week table of the three variants (a DataFrame), with the verdict of each in
    ``table.attrs["nonunion"]``; CSV and figure written atomically to ``out`` when given.
    An invalid scenario file, or one the variants cannot be made of (another rule, an
    undrained graft, an averaging window out of range), exits with one line saying why."""
    import pandas as pd

    from spinesim.atomic import write_csv
    from spinesim.scenario import Scenario, ScenarioError
    from spinesim.simulate import run_timeline

    try:
        base = Scenario.default() if scenario_path is None else Scenario.from_toml(scenario_path)
    except ScenarioError as exc:
        raise SystemExit(f"graft_resorption: {exc}") from None
    if base.get("healing.rule") != "prendergast":
        raise SystemExit(f"graft_resorption: {base.source}: healing.rule = "
                         f"{base.get('healing.rule')!r} has no resorption window; this script "
                         "needs 'prendergast'")
    try:  # every variant checked before the first runs
        scenarios = {name: base.with_values(v) for name, v in variants(averaging).items()}
    except ScenarioError as exc:
        raise SystemExit(f"graft_resorption: {exc}") from None
    rows, verdicts = [], {}
    for name, scenario in scenarios.items():
        result = run_timeline(scenario, weeks=weeks, resolution=resolution, fields=False)
        t = result.timeline
        verdicts[name] = result.verdicts["nonunion"]
        rows.append(pd.DataFrame({
            "variant": name, "week": t["week"], "graft_bone_fraction": t["graft_bone_fraction"],
            "bridged": t["bridged"].astype(bool),
            "bridged_area_fraction": t["graft_bridged_area_fraction"],
            "resorption_window_fraction": t["graft_resorption_window_fraction"],
            "resorbed_fraction": t["fraction_resorption"]}))
    table = pd.concat(rows, ignore_index=True)
    table.attrs["nonunion"] = verdicts
    if out is not None:
        write_csv(Path(out) / "graft_resorption.csv", table, index=False)
        _figure(table, Path(out) / "graft_resorption.png")
    return table


def _figure(table, path: Path) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinesim.atomic import atomic_path

    names = list(dict.fromkeys(table["variant"]))
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.4 * len(names)), sharex=True,
                             constrained_layout=True)
    for ax, name in zip(axes, names):
        t = table[table["variant"] == name]
        # a row holds for its step: from the previous row's week (0 before the first) to its own
        edges = np.concatenate([[0.0], t["week"].to_numpy(float)])
        for lo, hi in zip(edges[:-1][t["bridged"].to_numpy()], edges[1:][t["bridged"].to_numpy()]):
            ax.axvspan(lo, hi, color="tab:green", alpha=0.15, lw=0)
        ax.stairs(100 * t["graft_bone_fraction"].to_numpy(), edges, lw=2, label="bone in graft")
        ax.stairs(100 * t["bridged_area_fraction"].to_numpy(), edges, lw=1.5, ls=":",
                  color="tab:green", label="fusion area bridged by bone")
        ax.stairs(100 * t["resorption_window_fraction"].to_numpy(), edges, lw=1.2, ls="--",
                  color="tab:red", label="in the resorption window (S <= 0.01)")
        ax.plot([], [], color="tab:green", alpha=0.3, lw=6, label="bridged")
        ax.set(ylim=(0, 105), ylabel="% of graft", title=f"resorption window {name}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="center right")
    axes[-1].set_xlabel("weeks after surgery")
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", type=Path)
    ap.add_argument("--weeks", type=float, help="timeline length (default the scenario's)")
    ap.add_argument("--resolution", type=float, help="coarser meshes for a quick look")
    ap.add_argument("--averaging", type=int, default=10,
                    help="weeks of stimulus averaged in the third variant (default 10)")
    ap.add_argument("--out", type=Path, default=Path("results/graft_resorption"))
    args = ap.parse_args(argv)
    from spinesim.failure.bridging import ct_grade

    table = run(args.scenario, args.weeks, args.resolution, args.averaging, args.out)
    for name, t in table.groupby("variant", sort=False):
        bridged = "".join("B" if b else "." for b in t["bridged"])
        v = table.attrs["nonunion"][name]
        area = t["bridged_area_fraction"].iloc[-1]
        print(f"{name}: bridged weeks {bridged}  (B bridged); in the resorption window at the "
              f"end {100 * t['resorption_window_fraction'].iloc[-1]:.0f} %; fusion area bridged "
              f"{100 * area:.0f} % (CT grade {ct_grade(area)}); nonunion "
              f"{'fails' if v['fails'] else 'does not fail'} ({v['driver']} = {v['value']:g})")
    print(f"table and figure: {args.out}/graft_resorption.csv, graft_resorption.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
