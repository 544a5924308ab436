"""Screw pullout: the axial load each pedicle screw puts on the bone, against the pullout
strength predicted from the bone its thread holds in.

**Loads.** Per screw, the bone's interface forces on its tied nodes
(``ScrewInterfaceResult.force_n``, N, on the screw) are summed into one resultant. Its
component along the screw's axis (the direction into the bone) is the **pullout load**:
positive when the bone holds the screw against being pulled out of it, negative when the
screw is pushed in. The rest is the **transverse load** (N), the "toggle" that clinical
loosening is associated with.

The sum is the load the rod puts on the screw head: the screw is in equilibrium between the
rod and the bone. Only its share between the screws and the cage depends on how stiff the
screw-bone interface is taken to be, so it changes far less with that stiffness than the
micromotion, which grows as the interface softens. Dividing the unsourced bonded interface
stiffness (``loosening.bonded_tie_factor``) by 100 changes the osteoporotic scenario's screw
loads over 20 N by 1-10 % and the single-rod smoker's by 16-31 %, while the micromotion grows
6-13x (``examples/screw_pullout.py``, resolution 1.0; README, "What the model predicts").

**Strength.** A screw in porous material pulls out by shearing the internal thread that the
material forms around it, so its pullout strength is the material's shear strength S times
the area of the cylinder through the thread crests, reduced by a thread shape factor
([Chapman96]):

    F = S · π D L · TSF,    TSF = 0.5 + 0.57735 · d / p

with D the outer (crest) diameter, L the engaged thread length, d the thread depth
((D - core diameter) / 2) and p the pitch (the same form as the shear area of an internal
thread in engineering thread tables). In the model each tied screw node holds its tributary
length ℓ_i of thread in the bone cell it lies in, so ``F = TSF · π D · Σ S_i ℓ_i``.

The bone's shear strength comes from its modulus: the yield strain of trabecular bone hardly
depends on density ([KK98], 0.84 % in compression, :data:`YIELD_STRAIN_COMPRESSION`), so its
compressive yield strength is ε_y E, and its shear yield strength is a fixed fraction of that,
0.44 ± 0.16 (mean ± SD, independent of bone volume fraction, [Sanyal12]):

    S = r · ε_y · E,    r = 0.44 (``loosening.bone_shear_strength_ratio``)

Osteoporosis (cancellous E × 0.34) lowers the strength of the cancellous share of the thread
in proportion. The same two ratios are applied to every bone region the thread crosses; for
the posterior elements (a homogenized 3 500 MPa) this is an extrapolation: it gives
S ≈ 12.9 MPa there. For cortical bone (12 000 MPa) it gives 44 MPa, near the 51.6 MPa
measured in pure shear of human cortical bone ([Turner01]); that is a check, not an input.

Measured pullout strengths are **not** inputs: they are validation data for this prediction
(README, "What the model predicts", compares them: cadaveric lumbar pedicle screws pull out
at 970 ± 400 N in normal and 370 ± 140 N in osteoporotic bone, [ASJ18]).

A screw **pulls out** when its pullout load at an activity peak reaches its strength: a
static failure of the fixation on the first such load, as a rod loaded beyond its ultimate
strength fractures on its first cycle. The strength is that of a freshly inserted screw;
cyclic loading loosens screws below it (not modelled: no fatigue law of the screw-bone
interface is sourced here).

Sources:

* [Chapman96] Chapman, Harrington, Lee, Anderson, Tencer, Kowalski, J Biomech Eng
  118(3):391-398 (1996), doi 10.1115/1.2796022: pullout force of cancellous bone screws
  against the predicted thread shear failure force, slope 1.05, R² = 0.947 (found in source,
  abstract); the TSF formula as commonly quoted from it, not re-checked against the paper.
* [KK98] Kopperdahl & Keaveny, J Biomech 31:601 (1998), reference bone.md (from the
  literature, not re-checked; conf M).
* [Sanyal12] Sanyal, Gupta, Bayraktar, Kwon, Keaveny, "Shear strength behavior of human
  trabecular bone", J Biomech 45(15):2513-2519 (2012): ratio of shear to compressive yield
  strength 0.44 ± 0.16 over 54 specimens of four sites, bone volume fraction 0.06-0.38, by
  micro-CT non-linear FE (found in source: the abstract, in the bone literature database
  wbldb.lievers.net, entry 10130092; the journal, volume and pages are from memory, not
  re-checked; not in the spinesim reference tables).
* [Turner01] Turner, Wang, Burr, Calcif Tissue Int 69:373-378 (2001),
  doi 10.1007/s00223-001-1006-1: shear strength of human cortical bone along its axis 51.6
  MPa (found in source, abstract).
* [ASJ18] Asian Spine J 12(3):398-406 (2018), doi 10.4184/asj.2018.12.3.398, PMC6002167:
  pullout of pedicle screws from cadaver lumbar vertebrae (found in source, abstract).

>>> forces = np.array([[0.0, 0.0, 30.0], [3.0, 0.0, 10.0], [0.0, 0.0, -5.0]])
>>> loads = screw_loads(["L4 left", "L4 left", "L5 left"], forces,
...                     np.array([[0.0, 0.0, 1.0]] * 3))
>>> loads["L4 left"], loads["L5 left"]
(ScrewLoad(pullout_n=40.0, transverse_n=3.0), ScrewLoad(pullout_n=-5.0, transverse_n=0.0))
>>> round(thread_shape_factor(6.5, 4.5, 2.5), 4)  # thread depth 1 mm, pitch 2.5 mm
0.7309
>>> s = bone_shear_strength_mpa([100.0])  # MPa: 0.44 x 0.84 % x 100 MPa
>>> s.round(3)
array([0.37])
>>> round(pullout_strengths_n(["a"], s, [30.0], 6.5, 0.7309)["a"], 1)  # N over 30 mm
165.5
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError
from spinesim.failure.bone_overstrain import YIELD_STRAIN_COMPRESSION

__all__ = ["SHEAR_STRENGTH_RATIO", "SHEAR_STRENGTH_RATIO_SD", "PulloutError", "ScrewLoad",
           "bone_shear_strength_mpa", "pullout_strengths_n", "screw_loads",
           "thread_shape_factor", "tie_pullout_strengths_n"]

#: Shear over compressive yield strength of human trabecular bone (-), mean [Sanyal12].
SHEAR_STRENGTH_RATIO = 0.44
#: Its standard deviation over specimens (-) [Sanyal12].
SHEAR_STRENGTH_RATIO_SD = 0.16


class PulloutError(SpinesimError):
    """Screw loads or a pullout strength asked for with bad input (the message says which)."""


@dataclass(frozen=True)
class ScrewLoad:
    """Load of one screw on the bone (N): ``pullout_n`` along the screw axis (positive:
    out of the bone), ``transverse_n`` the magnitude across it."""

    pullout_n: float
    transverse_n: float


def screw_loads(screw: Sequence[str], force_n: ArrayLike, axis: ArrayLike
                ) -> dict[str, ScrewLoad]:
    """Pullout and transverse load of each screw from its tied nodes' interface forces.

    Parameters
    ----------
    screw : screw name per tied node (``ScrewInterfaceResult.screw``)
    force_n : (n, 3) interface force of the bone on the screw at each tied node, N
    axis : (n, 3) screw axis at each tied node, pointing into the bone (any length > 0)

    Returns
    -------
    dict screw name -> :class:`ScrewLoad` (N), in order of first appearance.
    """
    names = list(screw)
    force = np.asarray(force_n, float)
    ax = np.asarray(axis, float)
    n = len(names)
    if force.shape != (n, 3) or ax.shape != (n, 3):
        raise PulloutError(f"need one name, one force (3,) and one axis (3,) per tied node: "
                           f"got {n} names, forces {force.shape}, axes {ax.shape}")
    if not (np.all(np.isfinite(force)) and np.all(np.isfinite(ax))):
        raise PulloutError("screw interface forces and axes must be finite (a NaN or inf "
                           "reached the pullout check)")
    length = np.linalg.norm(ax, axis=1)
    if np.any(length <= 0):
        raise PulloutError(f"screw axis of tied node {int(np.argmin(length))} is zero")
    if n == 0:
        return {}
    unique, first, inverse = _group(names)
    total = np.zeros((len(unique), 3))
    np.add.at(total, inverse, force)
    unit = ax[first] / length[first, None]  # each screw's axis at its first tied node
    along = np.einsum("si,si->s", total, unit)
    across = np.linalg.norm(total - along[:, None] * unit, axis=1)
    order = np.argsort(first)  # screws in order of first appearance
    return {str(unique[i]): ScrewLoad(float(along[i]), float(across[i])) for i in order}


def _group(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique names, the index of each one's first appearance, and each name's group."""
    unique, first, inverse = np.unique(np.asarray(names, dtype=str), return_index=True,
                                       return_inverse=True)
    return unique, first, inverse.ravel()


def thread_shape_factor(outer_diameter_mm: float, core_diameter_mm: float, pitch_mm: float
                        ) -> float:
    """Thread shape factor of [Chapman96] (-): ``0.5 + 0.57735 d / p``, with the thread depth
    ``d = (outer - core) / 2`` and the pitch ``p`` (mm)."""
    outer, core, pitch = float(outer_diameter_mm), float(core_diameter_mm), float(pitch_mm)
    if not (np.isfinite([outer, core, pitch]).all() and 0 < core <= outer and pitch > 0):
        raise PulloutError(f"thread needs 0 < core diameter ({core} mm) <= outer diameter "
                           f"({outer} mm) and a pitch > 0 (got {pitch} mm)")
    return 0.5 + 0.57735 * 0.5 * (outer - core) / pitch


def bone_shear_strength_mpa(modulus_mpa: ArrayLike, ratio: float = SHEAR_STRENGTH_RATIO,
                            yield_strain: float = YIELD_STRAIN_COMPRESSION) -> np.ndarray:
    """Shear yield strength (MPa) of bone of Young's modulus ``modulus_mpa`` (MPa):
    ``ratio · yield_strain · E`` (module notes: [KK98] yield strain, [Sanyal12] ratio)."""
    E = np.asarray(modulus_mpa, float)
    if not (0 < ratio <= 1 and 0 < yield_strain < 1):
        raise PulloutError(f"shear strength ratio {ratio!r} must lie in (0, 1] and yield "
                           f"strain {yield_strain!r} in (0, 1)")
    if not np.all(np.isfinite(E)) or np.any(E <= 0):
        bad = int(np.flatnonzero(~(np.isfinite(E) & (E > 0)))[0])
        raise PulloutError(f"bone modulus must be finite and > 0 MPa: entry {bad} is "
                           f"{float(E[bad])!r}")
    return ratio * yield_strain * E


def pullout_strengths_n(screw: Sequence[str], shear_strength_mpa: ArrayLike,
                        length_mm: ArrayLike, outer_diameter_mm: float,
                        thread_shape: float) -> dict[str, float]:
    """Pullout strength (N) of each screw by [Chapman96]: ``TSF · π D · Σ S_i ℓ_i`` over its
    tied nodes.

    Parameters
    ----------
    screw : screw name per tied node
    shear_strength_mpa : (n,) shear strength of the bone holding each node's thread, MPa
    length_mm : (n,) each node's tributary length of thread, mm
    outer_diameter_mm : thread crest diameter D, mm
    thread_shape : thread shape factor (:func:`thread_shape_factor`), -

    Returns
    -------
    dict screw name -> strength (N), in order of first appearance.
    """
    names = list(screw)
    S, ell = np.asarray(shear_strength_mpa, float), np.asarray(length_mm, float)
    if S.shape != (len(names),) or ell.shape != (len(names),):
        raise PulloutError(f"need one shear strength and one length per tied node: got "
                           f"{len(names)} names, {S.shape} strengths, {ell.shape} lengths")
    if not (np.all(np.isfinite(S)) and np.all(S >= 0) and np.all(np.isfinite(ell))
            and np.all(ell >= 0)):
        raise PulloutError("thread shear strengths (MPa) and lengths (mm) must be finite "
                           "and >= 0")
    if not (outer_diameter_mm > 0 and 0 < thread_shape <= 1.5):
        raise PulloutError(f"outer diameter {outer_diameter_mm!r} mm must be > 0 and the "
                           f"thread shape factor {thread_shape!r} in (0, 1.5]")
    if not names:
        return {}
    unique, first, inverse = _group(names)
    held = np.bincount(inverse, weights=S * ell, minlength=len(unique))  # N/mm of perimeter
    force = thread_shape * np.pi * outer_diameter_mm * held
    return {str(unique[i]): float(force[i]) for i in np.argsort(first)}


def tie_pullout_strengths_n(ties: Mapping[str, Mapping], cell_modulus_mpa: ArrayLike,
                            outer_diameter_mm: float, thread_shape: float,
                            ratio: float = SHEAR_STRENGTH_RATIO,
                            given: float | None = None) -> dict[str, float]:
    """Pullout strength (N) of every screw of a built hardware system (``HardwareSystem.ties``:
    per tie set the screw name, host cell and tributary length of each tied node), from the
    modulus (MPa) of each solid cell, or ``given`` (N) for every screw when set
    (``loosening.pullout_strength_n``)."""
    names = [s for t in ties.values() for s in t["screw"]]
    if given is not None:
        value = float(given)
        if not (np.isfinite(value) and value > 0):
            raise PulloutError(f"loosening.pullout_strength_n = {given!r} must be a force "
                               "> 0 N")
        return {s: value for s in dict.fromkeys(names)}
    if not names:
        return {}
    E = np.asarray(cell_modulus_mpa, float)
    host = np.concatenate([np.asarray(t["host_cell"]) for t in ties.values()])
    length = np.concatenate([np.asarray(t["tributary_mm"], float) for t in ties.values()])
    return pullout_strengths_n(names, bone_shear_strength_mpa(E[host], ratio), length,
                               outer_diameter_mm, thread_shape)
