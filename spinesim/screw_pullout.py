"""Day-0 screw loads of a scenario against the pullout strength of the screws.

:func:`day0_screw_loads` builds the scenario's fused segment in its day-0 state (granulation
tissue in the graft, bonded screw interfaces), solves the peak of every active activity and
tabulates per screw its pullout and transverse load on the bone
(:mod:`spinesim.failure.pullout`), its largest micromotion and its pullout strength, predicted
from the bone its thread holds in (:func:`spinesim.simulate.pullout_strengths`).

The loads are the loads the rod puts on the screw heads; only their share between screws
and cage moves with the interface stiffness, which has no source
(``loosening.bonded_tie_factor``), so they change far less with it than the micromotion does.
Run it over several tie factors (``examples/screw_pullout.py``) to see both.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from spinesim.failure.pullout import screw_loads
from spinesim.model.hardware import hardware_results
from spinesim.scenario import Scenario
from spinesim.simulate import day0_activity_peaks, pullout_strengths

__all__ = ["SCREW_LOAD_COLUMNS", "day0_screw_loads"]

logger = logging.getLogger(__name__)

#: Columns of :func:`day0_screw_loads`'s table.
SCREW_LOAD_COLUMNS = ("activity", "screw", "pullout_n", "transverse_n", "max_micromotion_um",
                      "strength_n", "safety_factor")


def day0_screw_loads(scenario: Scenario | None = None, resolution: float | None = None,
                     ) -> pd.DataFrame:
    """Pullout and transverse load of every screw under each active activity's peak, day 0.

    Parameters
    ----------
    scenario : the scenario (default :meth:`Scenario.default`); a timeline construct
    resolution : mesh resolution; default ``segment.resolution``

    Returns
    -------
    DataFrame, one row per (activity, screw), columns :data:`SCREW_LOAD_COLUMNS`:
    ``pullout_n`` (N, along the screw axis, positive out of the bone, negative pushed in),
    ``transverse_n`` (N), ``max_micromotion_um`` (µm, largest over the screw's tied nodes),
    ``strength_n`` (N, the screw's predicted pullout strength, or
    ``loosening.pullout_strength_n`` when set) and ``safety_factor`` (strength over the
    pullout load; inf for a screw pushed in).
    """
    scenario = Scenario.default() if scenario is None else scenario
    seg, active, solutions = day0_activity_peaks(scenario, resolution)
    strength = pullout_strengths(scenario, seg)
    hw = seg.hardware
    rows = []
    for activity, sol in zip(active, solutions):
        _, tie = hardware_results(hw, sol)
        names = np.asarray(tie.screw, dtype=str)
        for screw, load in screw_loads(tie.screw, tie.force_n, tie.axis).items():
            micro = float(tie.micromotion_um[names == screw].max())
            safety = strength[screw] / load.pullout_n if load.pullout_n > 0 else np.inf
            rows.append((activity.name, screw, load.pullout_n, load.transverse_n, micro,
                         strength[screw], safety))
    logger.info("day-0 screw loads of %d activities, %d screws", len(active),
                len(rows) // max(len(active), 1))
    return pd.DataFrame(rows, columns=list(SCREW_LOAD_COLUMNS))
