"""The pure-moment protocol of in-vitro spine testing: named load cases and their signs.

Axes (as in the README): x to the patient's left, y anterior, z cranial. A moment vector M
acts on the reference node coupled to the upper endplate of the top vertebra; the lower
endplate of the lowest vertebra is fixed. With the right-hand rule a rotation about +x lifts
anterior points (y > 0) upwards, so:

======================  ==============  ==========================================
load case               moment axis     what the upper vertebra does
======================  ==============  ==========================================
flexion                 -x              anterior edge down (bends forward)
extension               +x              anterior edge up
lateral_bending_left    +y              left edge (x > 0) down
lateral_bending_right   -y              right edge down
axial_rotation_left     -z              anterior surface turns to the patient's left
axial_rotation_right    +z              anterior surface turns to the right
======================  ==============  ==========================================

These signs are defined here once and tested on a block in ``tests/test_loadcases.py``.

Magnitudes: 7.5 N·m is the standard lumbar pure moment (Dreischarf et al., J Biomech 47:1757,
2014, doi 10.1016/j.jbiomech.2014.04.002; Heuer et al., J Biomech 40:271, 2007); 10 N·m is the
alternative of Yamamoto et al., Spine 14:1256 (1989). A compressive follower preload (500-1175 N
in the validation of Remus et al., PLoS ONE 16:e0250456, 2021) is optional.

ROM convention: **one-sided**, the rotation (degrees) of the upper vertebra relative to the lower
one about the loading axis, positive in the direction of the load (Yamamoto et al. 1989 report
one-sided values; many instrumented studies report total = the sum of both sides).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError
from spinesim.fem.loads import NMM_PER_NM

__all__ = ["DIRECTIONS", "LOAD_CASES", "LoadCase", "STANDARD_MOMENT_NM", "load_case",
           "moment_load_cases", "rom_deg"]

#: Standard lumbar pure moment, N·m (Dreischarf et al. 2014; Heuer et al. 2007).
STANDARD_MOMENT_NM = 7.5


@dataclass(frozen=True)
class LoadCase:
    """A named pure-moment load case.

    Attributes
    ----------
    name : str
        One of :data:`DIRECTIONS`.
    axis : (3,) unit vector
        Direction of the moment vector (and of the positive rotation that is reported).
    moment_nm : float
        Magnitude of the pure moment, N·m (user-facing unit).
    preload_n : float
        Compressive follower preload, N (0 = none).
    """

    name: str
    axis: tuple[float, float, float]
    moment_nm: float = STANDARD_MOMENT_NM
    preload_n: float = 0.0

    @property
    def moment_nmm(self) -> np.ndarray:
        """Moment vector (3,), N·mm (internal unit)."""
        return NMM_PER_NM * self.moment_nm * np.asarray(self.axis, float)

    def reference_load(self) -> np.ndarray:
        """Load (6,) on the reference node: zero force (the preload is applied separately,
        as a follower load) and the moment in N·mm."""
        return np.concatenate([np.zeros(3), self.moment_nmm])


#: Moment axis of each load case (see the module table).
LOAD_CASES: dict[str, tuple[float, float, float]] = {
    "flexion": (-1.0, 0.0, 0.0),
    "extension": (1.0, 0.0, 0.0),
    "lateral_bending_left": (0.0, 1.0, 0.0),
    "lateral_bending_right": (0.0, -1.0, 0.0),
    "axial_rotation_left": (0.0, 0.0, -1.0),
    "axial_rotation_right": (0.0, 0.0, 1.0),
}
DIRECTIONS: tuple[str, ...] = tuple(LOAD_CASES)


def _check_magnitudes(moment_nm: float, preload_n: float) -> tuple[float, float]:
    m, p = float(moment_nm), float(preload_n)
    if not (np.isfinite(m) and 0.0 < m <= 30.0):
        raise SpinesimError(f"moment must be in (0, 30] N·m, got {moment_nm!r}")
    if not (np.isfinite(p) and 0.0 <= p <= 3000.0):
        raise SpinesimError(f"preload must be in [0, 3000] N (compressive), got {preload_n!r}")
    return m, p


def load_case(name: str, moment_nm: float = STANDARD_MOMENT_NM,
              preload_n: float = 0.0) -> LoadCase:
    """The load case called ``name`` with a moment in N·m and a follower preload in N."""
    key = str(name).strip().lower()
    if key not in LOAD_CASES:
        raise SpinesimError(f"unknown load case {name!r}; allowed: {', '.join(DIRECTIONS)}")
    m, p = _check_magnitudes(moment_nm, preload_n)
    return LoadCase(key, LOAD_CASES[key], m, p)


def moment_load_cases(moment_nm: float = STANDARD_MOMENT_NM, preload_n: float = 0.0,
                      directions: tuple[str, ...] = DIRECTIONS) -> list[LoadCase]:
    """The six standard directions (or a subset) at one moment (N·m) and preload (N)."""
    return [load_case(d, moment_nm, preload_n) for d in directions]


def rom_deg(rotation_rad: ArrayLike, case: LoadCase) -> float:
    """One-sided ROM in degrees: the component of the relative rotation vector (rad) of the
    upper vertebra about the load case's moment axis."""
    r = np.asarray(rotation_rad, float).reshape(3)
    return float(np.degrees(r @ np.asarray(case.axis, float)))
