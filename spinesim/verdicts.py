"""The verdicts of a timeline: does the fusion fail, when, which way, and what drives it.

A timeline table (:attr:`spinesim.simulate.TimelineResult.timeline`, one row per week) in,
the three failure modes out (:func:`timeline_verdicts`), each ``{"fails", "week", "driver",
"value", "threshold"}``:

* ``hardware_fatigue``: a rod or screw reaches the critical Miner sum, or is loaded beyond its
  ultimate strength (a static fracture outranks damage, the rod first);
* ``insufficient_support``: a screw counts as loosened, or its pullout load reaches its pullout
  strength (a pullout outranks loosening);
* ``nonunion``: no lasting bridge by the nonunion horizon (:func:`nonunion_horizon`,
  :func:`lasting_union_week`): "no continuous bridging bone between the two endplates at 12
  months", the reference's design note after the ISSLS definition of pseudarthrosis.

Also the screw nearest to pulling out (:func:`critical_screw`) and the pullout summary of a run
(:func:`pullout_summary`). Plain functions of the table: the sweep and Monte Carlo outcomes
and the reports read their results, and the tests call them on hand-made tables.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spinesim.outcomes import FAILURE_MODES, first_week
from spinesim.scenario import Scenario
from spinesim.scenario_schema import field as schema_field

__all__ = ["VERDICT_KEYS", "critical_screw", "lasting_union_week", "nonunion_horizon",
           "pullout_summary", "timeline_verdicts"]

#: Keys of the verdicts (:func:`timeline_verdicts`), in report order: the failure modes.
VERDICT_KEYS = FAILURE_MODES


def pullout_summary(table: pd.DataFrame, strength_of: dict[str, float]) -> dict:
    """``info["pullout"]`` of :class:`spinesim.simulate.TimelineResult` from the timeline
    table and each screw's pullout strength (N)."""
    key = critical_screw(table, strength_of)
    worst = float(table[f"pullout_{key}_n"].max()) if key else None
    return {"strengths_n": strength_of,
            "strength_n": strength_of[key] if key else min(strength_of.values(), default=None),
            "max_pullout_n": float(table["max_screw_pullout_n"].max()),
            "max_transverse_n": float(table["max_screw_transverse_n"].max()),
            "critical_screw": key,
            "critical_pullout_n": worst,
            "safety_factor": strength_of[key] / worst if key else math.inf}


def critical_screw(table: pd.DataFrame, strength_n: dict[str, float]) -> str | None:
    """The screw key whose largest pullout load over ``table`` (its ``pullout_<key>_n``
    column, N) is the largest fraction of its strength (N); None when no screw is pulled."""
    share = {k: table[f"pullout_{k}_n"].max() / s for k, s in strength_n.items()
             if f"pullout_{k}_n" in table}
    worst = max(share, key=share.get, default=None)
    return worst if worst is not None and share[worst] > 0 else None


def nonunion_horizon(scenario: Scenario, weeks: float) -> float:
    """The nonunion horizon (weeks) of a timeline ``weeks`` long: the scenario's
    ``timeline.nonunion_horizon_weeks`` if given, else its default rule applied to this run's
    length (52, or ``weeks`` if shorter), so ``run_timeline(weeks=N)`` decides like a
    scenario with ``timeline.weeks = N``."""
    key = "timeline.nonunion_horizon_weeks"
    if scenario.is_given(key):
        return float(scenario.get(key))
    return float(schema_field(key).default.rule(weeks))


def lasting_union_week(table: pd.DataFrame, horizon: float) -> int | None:
    """The week (rounded up) from which a timeline table's graft stays bridged (column
    ``bridged``) through the horizon (weeks; through the table's end when it ends before),
    as the nonunion verdict counts union: "no continuous bridging bone between the two
    endplates at 12 months" (the reference's design note). A graft not bridged in the
    horizon's week has no lasting union by then: the first week it bridges after the horizon,
    or None. Without a lost bridge this is the first bridged week."""
    bridged = table["bridged"].to_numpy(bool)
    upto = table["week"].to_numpy(float) <= horizon + 1e-9
    b = bridged[upto]
    if b.size and b[-1]:  # bridged at the horizon: the start of its last bridged run
        start = b.size - int(np.argmin(b[::-1])) if not b.all() else 0
        return math.ceil(table["week"].iloc[start])
    return first_week(table[~upto], bridged[~upto])


def timeline_verdicts(table: pd.DataFrame, critical: float, horizon: float,
              uts: dict[str, float], pullout_n: dict[str, float] | None = None
              ) -> dict[str, dict]:
    """The three verdicts of a timeline table (module docstring;
    :func:`spinesim.simulate.run_timeline` documents them with the run): ``critical`` is the
    Miner sum at which a part cracks (``fatigue.critical_damage``), ``horizon`` the nonunion
    horizon (weeks, :func:`nonunion_horizon`), ``uts`` the ultimate strength (MPa) of the
    ``rod`` and ``screw`` material, ``pullout_n`` each screw's pullout strength (N) by its
    column key (``pullout_<key>_n``). Returns :data:`VERDICT_KEYS` -> ``{"fails", "week",
    "driver", "value", "threshold"}``."""
    rod, screw = float(table["rod_damage"].iloc[-1]), float(table["screw_damage"].iloc[-1])
    driver = "rod_damage" if rod >= screw else "screw_damage"
    value, threshold = max(rod, screw), critical
    over = {p: table[f"{p}_overloaded"].astype(bool) for p in ("rod", "screw")}
    for part in ("screw", "rod"):  # a static fracture outranks damage; the rod first
        if over[part].any():
            driver, threshold = f"{part}_static_overload", float(uts[part])
            value = float(table.loc[over[part], f"max_{part}_stress_mpa"].max())
    broken = (table["rod_damage"] >= critical) | (table["screw_damage"] >= critical) | \
        over["rod"] | over["screw"]
    loose = table["loosened_screws"] >= 1
    support = {"driver": "loosened_screws", "value": float(table["loosened_screws"].max()),
               "threshold": 1.0}
    pulled = pd.Series(False, index=table.index)
    for key, strength in (pullout_n or {}).items():
        pulled |= table[f"pullout_{key}_n"] >= strength
    if pulled.any():  # a static pullout outranks loosening, as a fracture outranks damage
        worst = critical_screw(table, pullout_n)
        support = {"driver": "screw_pullout",
                   "value": float(table[f"pullout_{worst}_n"].max()),
                   "threshold": float(pullout_n[worst])}
    unsupported = loose | pulled
    union = lasting_union_week(table, horizon)
    decided = float(table["week"].iloc[-1]) >= horizon
    nonunion = decided and (union is None or union > horizon)
    return {
        "insufficient_support": {"fails": bool(unsupported.any()),
                                 "week": first_week(table, unsupported), **support},
        "hardware_fatigue": {"fails": bool(broken.any()), "week": first_week(table, broken),
                             "driver": driver, "value": value, "threshold": threshold},
        "nonunion": {"fails": bool(nonunion),
                     "week": math.ceil(horizon) if nonunion else None,
                     "driver": "weeks_to_union",
                     "value": math.inf if union is None else float(union),
                     "threshold": horizon},
    }
