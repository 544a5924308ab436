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

:func:`thread_strengths` says where each screw's predicted strength comes from: the length of
its thread in each bone region and that part's share of the strength.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from spinesim.failure.pullout import bone_shear_strength_mpa, pullout_strengths_n, screw_loads
from spinesim.model.hardware import hardware_results
from spinesim.scenario import Scenario
from spinesim.simulate import (day0_activity_peaks, graft_state_segment, pullout_strengths,
                               thread_geometry)

__all__ = ["SCREW_LOAD_COLUMNS", "THREAD_COLUMNS", "day0_screw_loads", "thread_strengths"]

logger = logging.getLogger(__name__)

#: Columns of :func:`thread_strengths`'s table.
THREAD_COLUMNS = ("screw", "region", "thread_mm", "modulus_mpa", "shear_strength_mpa",
                  "strength_n", "share")
#: Columns of :func:`day0_screw_loads`'s table.
SCREW_LOAD_COLUMNS = ("activity", "screw", "pullout_n", "transverse_n", "max_micromotion_um",
                      "micromotion_node", "screw_nodes", "micromotion_region",
                      "micromotion_axial_um", "micromotion_normal_um", "strength_n",
                      "safety_factor")


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
    where it is: ``micromotion_node`` (the tied node, counted from 0 at the entry; the tip
    is ``screw_nodes - 1``), ``micromotion_region`` (the bone region of the cell holding
    that node) and the motion there along and across the screw axis
    (``micromotion_axial_um``, ``micromotion_normal_um``, µm),
    ``strength_n`` (N, the screw's predicted pullout strength, or
    ``loosening.pullout_strength_n`` when set) and ``safety_factor`` (strength over the
    pullout load; inf for a screw pushed in).
    """
    scenario = Scenario.default() if scenario is None else scenario
    seg, active, solutions = day0_activity_peaks(scenario, resolution)
    strength = pullout_strengths(scenario, seg)
    hw = seg.hardware
    region = _tie_regions(seg)
    rows = []
    for activity, sol in zip(active, solutions):
        _, tie = hardware_results(hw, sol)
        names = np.asarray(tie.screw, dtype=str)
        for screw, load in screw_loads(tie.screw, tie.force_n, tie.axis).items():
            on = np.flatnonzero(names == screw)
            at = on[np.argmax(tie.micromotion_um[on])]
            safety = strength[screw] / load.pullout_n if load.pullout_n > 0 else np.inf
            rows.append((activity.name, screw, load.pullout_n, load.transverse_n,
                         float(tie.micromotion_um[at]), int(tie.index[at]), len(on),
                         str(region[at]), float(tie.axial_um[at]), float(tie.normal_um[at]),
                         strength[screw], safety))
    logger.info("day-0 screw loads of %d activities, %d screws", len(active),
                len(rows) // max(len(active), 1))
    return pd.DataFrame(rows, columns=list(SCREW_LOAD_COLUMNS))


def thread_strengths(scenario: Scenario | None = None, resolution: float | None = None,
                     ) -> pd.DataFrame:
    """Where each screw's predicted pullout strength comes from, by bone region.

    Parameters
    ----------
    scenario : the scenario (default :meth:`Scenario.default`); a timeline construct (a
        construct without screws is refused, as by :func:`spinesim.simulate.segment_options`)
    resolution : mesh resolution; default ``segment.resolution``

    Returns
    -------
    DataFrame, one row per (screw, region its thread crosses), columns
    :data:`THREAD_COLUMNS`: ``thread_mm`` (mm of thread held by that region's cells),
    ``modulus_mpa`` (their modulus, MPa, the length-weighted mean), ``shear_strength_mpa``
    (the bone's shear strength there, MPa, same mean), ``strength_n`` (that part's pullout
    strength, N) and ``share`` (its fraction of the screw's strength). The strengths of a
    screw's rows add up to its predicted strength (:func:`spinesim.simulate.pullout_strengths`
    without ``loosening.pullout_strength_n``, which this table ignores).
    """
    scenario = Scenario.default() if scenario is None else scenario
    seg = graft_state_segment(scenario, resolution, 0.0)  # refuses a construct without screws
    ties = seg.hardware.ties.values()
    screw = np.array([s for t in ties for s in t["screw"]], dtype=str)
    host = np.concatenate([t["host_cell"] for t in ties])
    length = np.concatenate([t["tributary_mm"] for t in ties])
    region = _tie_regions(seg)
    shear = bone_shear_strength_mpa(seg.E[host],
                                    scenario.get("loosening.bone_shear_strength_ratio"))
    outer, tsf = thread_geometry(scenario, seg)
    labels = np.char.add(np.char.add(screw, "\t"), region)
    rows = []
    for label, strength in pullout_strengths_n(labels, shear, length, outer, tsf).items():
        name, where = label.split("\t")
        on = labels == label
        mm = float(length[on].sum())
        rows.append((name, where, mm, float(seg.E[host[on]] @ length[on]) / mm,
                     float(shear[on] @ length[on]) / mm, strength))
    table = pd.DataFrame(rows, columns=list(THREAD_COLUMNS[:-1]))
    table["share"] = table["strength_n"] / table.groupby("screw")["strength_n"].transform("sum")
    return table


def _tie_regions(seg) -> np.ndarray:
    """Bone region name of the cell holding each tied screw node, in the order of the ties
    (and of :class:`spinesim.model.hardware.ScrewInterfaceResult`)."""
    mesh = seg.geometry.mesh
    host = np.concatenate([t["host_cell"] for t in seg.hardware.ties.values()])
    tags, which = np.unique(mesh.solid_regions[host], return_inverse=True)
    return np.array([mesh.region_names.get(int(r), str(r)) for r in tags], dtype=str)[which]
