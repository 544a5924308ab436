"""Drained or undrained? Biot consolidation of the healing tissues under an activity's load.

spinesim's graft is elastic (:mod:`spinesim.failure.healing`: fluid velocity 0), drained by
default. This module says how far that is from the poroelastic tissue of Lacroix & Prendergast
(2002) [LP02], with its own constants: how long each tissue takes to drain, and how it
responds when it has no time to (the undrained limit of Biot's theory, which a scenario selects
with ``graft.drainage = "undrained"``; :func:`spinesim.failure.healing.tissue_properties`).

For a phase with drained Young's modulus E and Poisson's ratio nu (the skeleton), permeability
k, grain and fluid bulk moduli K_s, K_f and porosity phi::

    K = E / (3 (1 - 2 nu)),  G = E / (2 (1 + nu)),  H = K + 4 G / 3   (drained; H confined)
    alpha = 1 - K / K_s                                              (Biot coefficient)
    1 / M = phi / K_f + (alpha - phi) / K_s                          (Biot modulus)
    c = k / (1 / M + alpha^2 / H)                                    (consolidation, mm^2/s)
    t_c = L^2 / c                                                    (drainage length L, s)
    K_u = K + alpha^2 M,  nu_u = (3 K_u - 2 G) / (2 (3 K_u + G))     (undrained)

(Biot's theory in the notation of Detournay & Cheng, "Fundamentals of poroelasticity", 1993;
c is the one-dimensional consolidation coefficient, t_c the time scale of Terzaghi's problem.)
A load held for a time t << t_c meets an undrained tissue: the pore fluid carries the volume
change, the pressure is ``alpha M`` times the volume lost, and the fluid moves only in a layer
about sqrt(c t) thick at the drained faces. t >> t_c meets the drained skeleton, spinesim's
default. :func:`degree_of_consolidation` is Terzaghi's solution in between.

Constants [LP02] as tabulated in the review of mechanobiological healing models, WIREs Syst
Biol Med, PMC5082538 (reference healing.md, "Healing-tissue properties (poroelastic)", found in
source, H); k in mm^4/(N s) (1 m^4/(N s) = 10^12 mm^4/(N s)):

==============  ==========  ==========  ==========  ========
phase           k           K_s (MPa)   K_f (MPa)   phi
==============  ==========  ==========  ==========  ========
granulation     1e-2        2 300       2 300       0.8
fibrous         1e-2        2 300       2 300       0.8
cartilage       5e-3        3 400       2 300       0.8
immature bone   0.1         13 920      2 300       0.8
mature bone     0.37        13 920      2 300       0.8
==============  ==========  ==========  ==========  ========

>>> t = consolidation_time_s(Phase.GRANULATION, 6.0)   # a 12 mm graft drained at both ends
>>> round(t / 3600, 1)                                   # hours
4.7
>>> round(float(undrained_poisson(Phase.GRANULATION)), 5)
0.49998
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.failure.healing import PHASE_E_MPA, PHASE_NU, Phase

__all__ = ["POROELASTIC", "Poroelastic", "biot", "consolidation_time_s",
           "degree_of_consolidation", "undrained_poisson"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Poroelastic:
    """[LP02] poroelastic constants of one tissue phase: permeability (mm^4/(N s)), grain
    and fluid bulk moduli (MPa), porosity (-)."""

    permeability: float
    grain_bulk_mpa: float
    fluid_bulk_mpa: float
    porosity: float


#: [LP02] via [RevWIREs] (PMC5082538), found in source, H; per :class:`Phase` up to mature bone.
POROELASTIC = {
    Phase.GRANULATION: Poroelastic(1e-2, 2_300.0, 2_300.0, 0.8),
    Phase.FIBROUS: Poroelastic(1e-2, 2_300.0, 2_300.0, 0.8),
    Phase.CARTILAGE: Poroelastic(5e-3, 3_400.0, 2_300.0, 0.8),
    Phase.IMMATURE_BONE: Poroelastic(0.1, 13_920.0, 2_300.0, 0.8),
    Phase.MATURE_BONE: Poroelastic(0.37, 13_920.0, 2_300.0, 0.8),
}


def _phase(phase: Phase | int) -> Phase:
    try:
        p = Phase(int(phase))
    except ValueError:
        p = None
    if p not in POROELASTIC:
        raise ValueError(f"phase {phase!r} has no poroelastic constants; phases: "
                         f"{', '.join(q.name.lower() for q in POROELASTIC)}")
    return p


def biot(phase: Phase | int, E_mpa: float | None = None) -> dict[str, float]:
    """Drained and Biot constants of ``phase`` (MPa, -): ``K``, ``G``, ``H`` (confined),
    ``alpha``, ``M``, ``c`` (consolidation coefficient, mm^2/s) and ``K_u``; ``E_mpa``
    replaces the phase's drained modulus (e.g. the Geris 1 MPa granulation tissue)."""
    p = _phase(phase)
    E, nu = float(PHASE_E_MPA[p] if E_mpa is None else E_mpa), float(PHASE_NU[p])
    if not (math.isfinite(E) and E > 0):
        raise ValueError(f"E_mpa must be > 0 MPa, got {E_mpa!r}")
    c = POROELASTIC[p]
    K = E / (3.0 * (1.0 - 2.0 * nu))
    G = E / (2.0 * (1.0 + nu))
    H = K + 4.0 * G / 3.0
    alpha = 1.0 - K / c.grain_bulk_mpa
    M = 1.0 / (c.porosity / c.fluid_bulk_mpa + (alpha - c.porosity) / c.grain_bulk_mpa)
    return {"K": K, "G": G, "H": H, "alpha": alpha, "M": M,
            "c": c.permeability / (1.0 / M + alpha**2 / H), "K_u": K + alpha**2 * M}


def consolidation_time_s(phase: Phase | int, drainage_length_mm: float) -> float:
    """Consolidation time scale ``L^2 / c`` (s) of ``phase`` over a drainage length (mm): the
    distance from the middle of the tissue to its nearest drained face."""
    if not (math.isfinite(drainage_length_mm) and drainage_length_mm > 0):
        raise ValueError(f"drainage_length_mm must be > 0 mm, got {drainage_length_mm!r}")
    return drainage_length_mm**2 / biot(phase)["c"]


def undrained_poisson(phase: Phase | int, E_mpa: float | None = None) -> float:
    """Undrained Poisson's ratio of ``phase`` (-): the tissue loaded faster than it drains
    (``E_mpa`` as in :func:`biot`)."""
    b = biot(phase, E_mpa)
    return (3.0 * b["K_u"] - 2.0 * b["G"]) / (2.0 * (3.0 * b["K_u"] + b["G"]))


def degree_of_consolidation(time_factor: ArrayLike, terms: int = 200) -> np.ndarray:
    """Terzaghi's average degree of consolidation U(T) (-) of a layer under a step load, for
    time factors ``T = c t / L^2`` (-): ``U = 1 - sum 2/m^2 exp(-m^2 T)``, ``m = pi (2j+1)/2``
    (``terms`` terms; for T < 1e-4, where the series converges slowly, its limit
    ``sqrt(4 T / pi)``).

    >>> degree_of_consolidation([0.0, 0.197, 1.0]).round(3)   # U(0.197) = 0.5 (Terzaghi)
    array([0.   , 0.5  , 0.931])
    """
    T = np.asarray(time_factor, dtype=float)
    if np.any(~np.isfinite(T)) or np.any(T < 0):
        raise ValueError("time factors must be finite and >= 0")
    m = np.pi * (2 * np.arange(terms) + 1) / 2.0
    series = 1.0 - np.sum(2.0 / m**2 * np.exp(-np.multiply.outer(T, m**2)), axis=-1)
    return np.where(T < 1e-4, np.sqrt(4.0 * T / np.pi), series)
