"""Screw pullout: the axial load each pedicle screw puts on the bone, against the pullout
strength of cadaveric lumbar vertebrae.

Per screw, the bone's interface forces on its tied nodes (``ScrewInterfaceResult.force_n``,
N, on the screw) are summed into one resultant. Its component along the screw's axis (the
direction into the bone) is the **pullout load**: positive when the bone holds the screw
against being pulled out of it, negative when the screw is pushed in. The rest is the
**transverse load** (N), the "toggle" that clinical loosening is associated with.

The sum is the load the rod puts on the screw head: the screw is in equilibrium between the
rod and the bone. Only its share between the screws and the cage depends on how stiff the
screw-bone interface is taken to be, so it changes far less with that stiffness than the
micromotion, which grows as the interface softens. Dividing the unsourced bonded interface
stiffness (``loosening.bonded_tie_factor``) by 100 changes the osteoporotic scenario's screw
loads over 20 N by 0.5-4.8 % and the single-rod smoker's by 11-20 %, while the micromotion
grows 2.1-4.9x (``examples/screw_pullout.py``, resolution 1.0; README, "What the model
predicts").

Pullout strength of a pedicle screw in cadaveric lumbar vertebrae, by bone quality
([ASJ18]: axial pullout tests; mean ± SD):

==========================  =================
bone                        pullout strength
==========================  =================
normal                      970 ± 400 N
osteoporotic                370 ± 140 N
extremely osteoporotic      180 ± 110 N
==========================  =================

[ASJ18] Asian Spine J 12(3):398-406 (2018), doi 10.4184/asj.2018.12.3.398, PMC6002167
("Testing pullout strength of pedicle screw using synthetic bone models: is a bilayer foam
model a better representation of vertebra?"), results of the cadaver vertebrae; found in
source (abstract). Not in the spinesim reference tables; the screw size of those tests is not
re-checked against spinesim's default screw (6.5 mm thread, 35 mm), and pullout strength
grows with the screw's diameter and length.

A screw **pulls out** when its pullout load at an activity peak reaches the strength: a
static failure of the fixation on the first such load, as a rod loaded beyond its ultimate
strength fractures on its first cycle. The strength is that of a screw inserted in a fresh
specimen; cyclic loading loosens screws below it (not modelled: no fatigue law of the
screw-bone interface is sourced here).

>>> import numpy as np
>>> forces = np.array([[0.0, 0.0, 30.0], [3.0, 0.0, 10.0], [0.0, 0.0, -5.0]])
>>> loads = screw_loads(["L4 left", "L4 left", "L5 left"], forces,
...                     np.array([[0.0, 0.0, 1.0]] * 3))
>>> loads["L4 left"], loads["L5 left"]
(ScrewLoad(pullout_n=40.0, transverse_n=3.0), ScrewLoad(pullout_n=-5.0, transverse_n=0.0))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError

__all__ = ["PULLOUT_SD_N", "PULLOUT_STRENGTH_N", "PulloutError", "ScrewLoad",
           "pullout_strength_n", "screw_loads"]

#: Mean pullout strength (N) of a pedicle screw in cadaveric lumbar vertebrae by
#: ``bone.quality`` [ASJ18] (module notes): normal bone for ``healthy``.
PULLOUT_STRENGTH_N = {"healthy": 970.0, "osteoporotic": 370.0}
#: Their standard deviations (N) [ASJ18].
PULLOUT_SD_N = {"healthy": 400.0, "osteoporotic": 140.0}


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
    unique, first, inverse = np.unique(np.asarray(names, dtype=str), return_index=True,
                                       return_inverse=True)
    total = np.zeros((len(unique), 3))
    np.add.at(total, inverse.ravel(), force)
    unit = ax[first] / length[first, None]  # each screw's axis at its first tied node
    along = np.einsum("si,si->s", total, unit)
    across = np.linalg.norm(total - along[:, None] * unit, axis=1)
    order = np.argsort(first)  # screws in order of first appearance
    return {str(unique[i]): ScrewLoad(float(along[i]), float(across[i])) for i in order}


def pullout_strength_n(quality: str, given: float | None = None) -> float:
    """Pullout strength (N) of a screw in bone of ``quality`` (``healthy`` or
    ``osteoporotic``: the cadaveric means of :data:`PULLOUT_STRENGTH_N`), or ``given`` (N)
    when set (``loosening.pullout_strength_n``)."""
    if given is not None:
        value = float(given)
        if not (np.isfinite(value) and value > 0):
            raise PulloutError(f"loosening.pullout_strength_n = {given!r} must be a force "
                               "> 0 N")
        return value
    try:
        return PULLOUT_STRENGTH_N[str(quality)]
    except KeyError:
        raise PulloutError(f"no pullout strength for bone.quality = {quality!r}; known: "
                           f"{', '.join(PULLOUT_STRENGTH_N)}") from None
