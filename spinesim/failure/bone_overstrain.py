"""Trabecular bone strained past its yield strain: a check of the bone, not of the hardware.

The yield strain of trabecular bone hardly depends on its density, while its modulus does
(E ~ rho^1.56, Morgan et al. 2003): soft, osteoporotic bone is strained further under the
same load and yields first. This module compares the principal strains of bone cells with the
yield strains of vertebral trabecular bone,

    ratio = max(-eps_3 / eps_yield_compression, eps_1 / eps_yield_tension, 0)

(``eps_1 >= eps_2 >= eps_3`` the principal strains of the cell-average strain), so ``ratio >=
1`` marks a cell strained past yield. The yield strains, 0.84 % in compression and 0.78 % in
tension, are the on-axis values for vertebral trabecular bone of Kopperdahl & Keaveny,
J Biomech 31:601 (1998) (reference bone.md, [KK98]; about 0.7-0.8 % at other sites, Morgan &
Keaveny, J Biomech 34:569 (2001), [MK01]). Applying an on-axis yield strain to the principal
strains is the simplest multiaxial extension (a maximum-principal-strain criterion); it is a
choice made here, not a sourced law. Trabecular bone loaded past yield loses stiffness on
reloading (Keaveny, Wachtel & Kopperdahl, J Orthop Res 17:346, 1999; from the literature,
not re-checked, not in the reference notes), which is why bone strained past yield around a
screw thread cannot hold it: the ratio is an indicator for the *insufficient support* mode
(:func:`spinesim.bone_strain.day0_bone_strain`, a check beside the timeline); it does not
drive the timeline's loosening rule (README, "What the model predicts", for why).

>>> eps = np.diag([0.0021, 0.0021, -0.0084])  # 0.84 % axial compression, lateral expansion
>>> yield_strain_ratio(eps[None]).round(3)
array([1.])
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from spinesim.mesh.mesh import Mesh

if TYPE_CHECKING:
    from spinesim.model.hardware import HardwareSystem

__all__ = ["YIELD_STRAIN_COMPRESSION", "YIELD_STRAIN_TENSION", "StrainSummary",
           "strain_summary", "thread_cells", "yield_strain_ratio"]

logger = logging.getLogger(__name__)

#: Yield strain of vertebral trabecular bone in compression (-): 0.84 %, Kopperdahl & Keaveny
#: (1998) [KK98], reference bone.md (from the literature, not re-checked; conf M).
YIELD_STRAIN_COMPRESSION = 0.0084
#: Yield strain of vertebral trabecular bone in tension (-): 0.78 %, [KK98], as above.
YIELD_STRAIN_TENSION = 0.0078


def yield_strain_ratio(strain: ArrayLike, compression: float = YIELD_STRAIN_COMPRESSION,
                       tension: float = YIELD_STRAIN_TENSION) -> np.ndarray:
    """Largest principal strain relative to the yield strain of its sign, per cell (-).

    Parameters
    ----------
    strain : (n, 3, 3) small-strain tensors (-), symmetric
    compression, tension : yield strains (-, > 0), defaults [KK98]

    Returns
    -------
    (n,) ``max(-eps_3 / compression, eps_1 / tension, 0)``; >= 1 is past yield.
    """
    eps = np.asarray(strain, dtype=float)
    if eps.ndim != 3 or eps.shape[1:] != (3, 3):
        raise ValueError(f"strain must have shape (n, 3, 3), got {eps.shape}")
    for name, v in (("compression", compression), ("tension", tension)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"yield strain in {name} must be a finite number > 0, got {v!r}")
    if not np.all(np.isfinite(eps)):
        bad = np.flatnonzero(~np.all(np.isfinite(eps), axis=(1, 2)))
        raise ValueError(f"strain of cell(s) {bad[:10].tolist()} is not finite")
    w = np.linalg.eigvalsh(eps)  # ascending
    return np.maximum(np.maximum(-w[:, 0] / compression, w[:, 2] / tension), 0.0)


@dataclass(frozen=True)
class StrainSummary:
    """Yield-strain ratios of a set of cells: largest, volume-weighted median and 90th
    percentile (-), and the volume fraction past yield (ratio >= 1, -)."""

    max_ratio: float
    median_ratio: float
    p90_ratio: float
    fraction_past_yield: float


def strain_summary(ratio: ArrayLike, volume: ArrayLike) -> StrainSummary:
    """:class:`StrainSummary` of per-cell ``ratio`` (-) with cell volumes ``volume`` (mm^3);
    the percentiles are :func:`spinesim.failure.healing.volume_quantile`."""
    from spinesim.failure.healing import volume_quantile

    r = np.asarray(ratio, dtype=float).ravel()
    v = np.asarray(volume, dtype=float).ravel()
    if r.shape != v.shape or not r.size:
        raise ValueError(f"ratio and volume need the same, non-zero length; got {r.size} and "
                         f"{v.size}")
    if np.any(v <= 0):
        raise ValueError(f"cell volumes must be > 0 mm^3; cell {int(np.argmin(v))} has "
                         f"{v.min():g}")
    return StrainSummary(float(r.max()), volume_quantile(r, v, 0.5), volume_quantile(r, v, 0.9),
                         float(v[r >= 1.0].sum() / v.sum()))


def thread_cells(mesh: Mesh, hardware: HardwareSystem, outer_radius_mm: float, *,
                 spacing_mm: float = 0.5) -> dict[str, np.ndarray]:
    """Solid cells (block order) that the thread-crest cylinder of each screw passes through.

    The cylinder of radius ``outer_radius_mm`` (mm) about each tied screw node's axis, over the
    node's tributary length (``span_mm`` of the tie), is sampled about every ``spacing_mm``
    (mm) round and along it, as the screw-bone ties are; the cells holding the samples are the
    screw's bone-thread cells. ``hardware`` is a :class:`spinesim.model.hardware.HardwareSystem`.

    Returns ``{screw name: sorted cell ids}``, an empty dict for hardware without screws.
    """
    from spinesim.mesh.locate import locate_points
    from spinesim.model.hardware import thread_surface_points

    for name, v in (("outer_radius_mm", outer_radius_mm), ("spacing_mm", spacing_mm)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be > 0 mm, got {v!r}")
    out: dict[str, list] = {}
    allp = np.vstack([mesh.points, hardware.points])
    for t in hardware.ties.values():
        axis = np.asarray(t["axis"], float)
        tie, arm = thread_surface_points(axis, outer_radius_mm, t["span_mm"][:, 0],
                                         t["span_mm"][:, 1], spacing_mm)
        loc = locate_points(mesh, allp[t["node"]][tie] + arm)
        owner = np.asarray(t["screw"], dtype=object)[tie]
        for name in dict.fromkeys(t["screw"]):
            out.setdefault(name, []).append(loc.cell[(owner == name) & loc.inside])
    return {k: np.unique(np.concatenate(v)).astype(np.int64) for k, v in out.items()}
