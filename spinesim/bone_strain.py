"""Day-0 bone strain of a scenario against the yield strain of trabecular bone.

:func:`day0_bone_strain` builds the scenario's fused segment in its day-0 state (granulation
tissue in the graft, bonded screw interfaces), solves the peak of every active activity and
compares the principal strains of the cancellous bone with the trabecular yield strains
(:mod:`spinesim.failure.bone_overstrain`): over the whole cancellous core, and over the cells
each screw's thread passes through inside it. Day 0 is the state with the least load carried
by the graft; a screw that is to loosen from overloaded bone does so from the first weeks.

This is a check, beside the timeline, of how close the bone is to yield; it does not change
the timeline's loosening rule, which is driven by micromotion (README, "What the model
predicts", for what it shows and why it is not a verdict).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from spinesim.failure.bone_overstrain import strain_summary, thread_cells, yield_strain_ratio
from spinesim.fem.post import cell_strain_operator
from spinesim.scenario import Scenario
from spinesim.simulate import day0_activity_peaks

__all__ = ["BONE_STRAIN_COLUMNS", "day0_bone_strain"]

logger = logging.getLogger(__name__)

#: Columns of :func:`day0_bone_strain`'s table.
BONE_STRAIN_COLUMNS = ("activity", "part", "cells", "volume_mm3", "max_ratio", "median_ratio",
                       "p90_ratio", "fraction_past_yield")


def day0_bone_strain(scenario: Scenario | None = None, resolution: float | None = None,
                     ) -> pd.DataFrame:
    """Yield-strain ratios of the cancellous bone under each active activity's peak, day 0.

    Parameters
    ----------
    scenario : the scenario (default :meth:`Scenario.default`); a timeline construct
    resolution : mesh resolution; default ``segment.resolution``

    Returns
    -------
    DataFrame, one row per (activity, part), columns :data:`BONE_STRAIN_COLUMNS`: ``part`` is
    ``"cancellous core"`` (every cancellous cell of the segment) or ``"<screw> thread"`` (the
    cancellous cells the screw's thread-crest cylinder passes through; a screw whose thread
    reaches no cancellous cell has no row); ``volume_mm3`` their volume (mm^3); the ratios are
    the volume-weighted statistics of :func:`yield_strain_ratio` (-, >= 1 past yield) and
    ``fraction_past_yield`` the volume fraction with ratio >= 1 (-).
    """
    seg, active, solutions = day0_activity_peaks(scenario, resolution)
    mesh, hw = seg.geometry.mesh, seg.hardware
    cancellous = mesh.cells_in_region("cancellous")
    parts = {"cancellous core": np.flatnonzero(cancellous)}
    threads = thread_cells(mesh, hw, 0.5 * seg.options.screw_diameter_mm)
    for name, cells in threads.items():
        inside = cells[cancellous[cells]]
        logger.info("screw %s: %d of its %d thread cells are cancellous", name, len(inside),
                    len(cells))
        if len(inside):
            parts[f"{name} thread"] = inside
    operators = {k: cell_strain_operator(mesh, c) for k, c in parts.items()}
    rows = []
    for activity, sol in zip(active, solutions):
        for part, op in operators.items():
            s = strain_summary(yield_strain_ratio(op(sol.displacement)), op.volume)
            rows.append((activity.name, part, len(op.volume), float(op.volume.sum()),
                         s.max_ratio, s.median_ratio, s.p90_ratio, s.fraction_past_yield))
    return pd.DataFrame(rows, columns=list(BONE_STRAIN_COLUMNS))
