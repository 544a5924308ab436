"""Screw-bone interface loosening: a weekly update of one stiffness factor per tied screw node.

State: per tied screw node a factor ``f`` on the bonded interface stiffness (1 = bonded, the
default of ``spinesim.model.hardware``; pass it to ``hardware.interface_values(hw, f)``).
Each step the node's peak cyclic micromotion ``m`` (µm, the largest over the week's
activities) sets a target ``T``, and ``f`` relaxes towards it exponentially:

    f(t + dt) = T + (f(t) - T) exp(-dt / tau),    tau = loosening.transition_weeks

===========================================  ===============================================
micromotion                                  target T
===========================================  ===============================================
m <= bone_threshold_um                       1 (bone grows onto the screw: osseointegration)
m >= fibrous_threshold_um                    fibrous_stiffness_fraction (fibrous tissue)
in between, ``between="hold"`` (default)     clip(f, fibrous fraction, 1): f is unchanged
in between, ``between="linear"``             linear in m from 1 at the bone threshold to the
                                             fibrous fraction at the fibrous threshold
===========================================  ===============================================

The rule is the "suggested loosening rule" row of the spinesim reference
(implants_fatigue.md, *Bone-implant interface and micromotion*): the interface stiffens with
osseointegration while cyclic micromotion stays below 28-40 µm and degrades toward fibrous
tissue (about 1-10 % of the bonded stiffness) above 150 µm. That row is *derived here*, from
the thresholds of Pilliar, Lee, Maniatopoulos, Clin Orthop Relat Res 208:108 (1986) (<= 28 µm
bone, >= 150 µm fibrous) and Jasty et al., J Bone Joint Surg Am 79:707 (1997) (<= 20 µm bone,
40 µm mixed, >= 150 µm fibrous), confidence **L**; Kohli, Stoddart, van Arkel, Sci Rep
11:10797 (2021) find no universal threshold. Every number of the rule is therefore a
parameter taken from the scenario's ``loosening.*`` fields, which carry the ranges for Monte
Carlo. The default "hold" between the thresholds is the literal reading of that row (it says
nothing about the mixed zone); "linear" is the alternative for sensitivity studies
(``loosening.between`` in a scenario).

Design choices (not sourced; scenario fields too): ``tau`` is an exponential time constant
(after ``tau`` weeks 63 % of the way, after 3 ``tau`` 95 %); a node counts as loosened when
``f < loosened_factor`` (default 0.5: below half the bonded stiffness); a screw is loosened
when at least ``screw_share`` (default 0.5, "most") of its tied nodes are.

Both targets are ordered (1 >= clip(f) >= fibrous fraction), so more micromotion never gives a
stiffer interface, for any state f.

>>> rule = LooseningRule(28.0, 150.0, 0.055, 4.0)
>>> rule.step(np.array([0.5, 0.5, 0.5]), np.array([10.0, 80.0, 400.0]), 4.0).round(4)
array([0.8161, 0.5   , 0.2187])
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError
from spinesim.scenario_schema import FieldValueError, check, field

__all__ = ["BETWEEN_RULES", "LooseningError", "LooseningRule", "loosening_rule"]

logger = logging.getLogger(__name__)

#: What the interface does between the two thresholds (the choices of ``loosening.between``).
BETWEEN_RULES = tuple(field("loosening.between").choices)


class LooseningError(SpinesimError):
    """Loosening parameters or states are out of range (the message names key and value)."""


#: The rule's numbers, each a scenario field ``loosening.<name>``.
_NUMBERS = ("bone_threshold_um", "fibrous_threshold_um", "fibrous_stiffness_fraction",
            "transition_weeks", "loosened_factor", "screw_share")


def _checked(key: str, value: Any) -> float:
    try:
        return check(field(key), value)
    except FieldValueError as exc:
        raise LooseningError(str(exc)) from None


@dataclass(frozen=True)
class LooseningRule:
    """The loosening rule with its parameters (names as the scenario's ``loosening.*``).

    Attributes
    ----------
    bone_threshold_um : float
        Micromotion at or below which the interface osseointegrates, µm.
    fibrous_threshold_um : float
        Micromotion at or above which the interface turns fibrous, µm (> bone threshold).
    fibrous_stiffness_fraction : float
        Steady fibrous stiffness as a fraction of the bonded one, - in (0, 1].
    transition_weeks : float
        Exponential time constant of the change, weeks (> 0).
    between : {"hold", "linear"}
        Target between the thresholds (see the module table).
    loosened_factor : float
        A node is loosened when its factor is below this, - in (0, 1] (modelling default
        0.5).
    screw_share : float
        A screw is loosened when at least this share of its nodes is, - in (0, 1]
        (modelling default 0.5).
    """

    bone_threshold_um: float
    fibrous_threshold_um: float
    fibrous_stiffness_fraction: float
    transition_weeks: float
    between: str = "hold"
    loosened_factor: float = 0.5
    screw_share: float = 0.5

    def __post_init__(self) -> None:
        for key in _NUMBERS:
            object.__setattr__(self, key, _checked(f"loosening.{key}", getattr(self, key)))
        if self.bone_threshold_um >= self.fibrous_threshold_um:
            raise LooseningError(
                f"loosening.bone_threshold_um = {self.bone_threshold_um} must be below "
                f"loosening.fibrous_threshold_um = {self.fibrous_threshold_um} µm")
        if self.between not in BETWEEN_RULES:
            raise LooseningError(f"between = {self.between!r} is not one of the allowed "
                                 f"choices: {', '.join(map(repr, BETWEEN_RULES))}")
    # -- the rule ------------------------------------------------------------------------
    def target(self, factor: ArrayLike, micromotion_um: ArrayLike) -> np.ndarray:
        """Target factor T of each node for its micromotion (module table), -.

        Parameters
        ----------
        factor : array_like
            Current stiffness factors, - (>= 0).
        micromotion_um : array_like
            Peak cyclic micromotion per node, µm (>= 0), broadcast against ``factor``.
        """
        f, m = self._state(factor, micromotion_um)
        lo, hi = self.bone_threshold_um, self.fibrous_threshold_um
        phi = self.fibrous_stiffness_fraction
        if self.between == "linear":
            s = np.clip((m - lo) / (hi - lo), 0.0, 1.0)
            return 1.0 + (phi - 1.0) * s
        return np.where(m <= lo, 1.0, np.where(m >= hi, phi, np.clip(f, phi, 1.0)))

    def step(self, factor: ArrayLike, micromotion_um: ArrayLike, dt_weeks: float
             ) -> np.ndarray:
        """Factors after ``dt_weeks`` of micromotion ``micromotion_um`` (a new array).

        Parameters
        ----------
        factor : array_like
            Stiffness factor per tied node at the start of the step, - (>= 0; 1 = bonded).
        micromotion_um : array_like
            Peak cyclic micromotion per node during the step, µm (>= 0).
        dt_weeks : float
            Step length, weeks (>= 0).

        Returns
        -------
        numpy.ndarray
            Factor per node at the end of the step, -.
        """
        dt = float(dt_weeks)
        if not (math.isfinite(dt) and dt >= 0.0):
            raise LooseningError(f"dt_weeks = {dt_weeks!r} is out of range; allowed range "
                                 "[0, inf) weeks")
        f, _ = self._state(factor, micromotion_um)
        t = self.target(factor, micromotion_um)
        moved = -math.expm1(-dt / self.transition_weeks)  # share of the way to T, 1 - exp
        return f + (t - f) * moved

    def steady_state(self, factor: ArrayLike, micromotion_um: ArrayLike) -> np.ndarray:
        """Factor reached under constant micromotion ``micromotion_um`` (µm) after a long time,
        -."""
        return self.target(factor, micromotion_um)

    # -- loosened flags ------------------------------------------------------------------
    def loosened_nodes(self, factor: ArrayLike) -> np.ndarray:
        """Boolean per node: ``factor < loosened_factor``."""
        f, _ = self._state(factor, 0.0)
        return f < self.loosened_factor

    def loosened_screws(self, factor: ArrayLike, screw: Sequence[str] | ArrayLike
                        ) -> dict[str, bool]:
        """Loosened flag per screw: at least ``screw_share`` of its tied nodes loosened.

        Parameters
        ----------
        factor : array_like, shape (n,)
            Factor per tied node, -.
        screw : sequence of str, length n
            Screw name of each node (``ScrewInterfaceResult.screw`` order).

        Returns
        -------
        dict of str to bool
            Screw name -> loosened, in order of first appearance.
        """
        f = np.ravel(np.asarray(factor, float))
        labels = np.asarray(screw, dtype=object).ravel()
        if len(labels) != len(f):
            raise LooseningError(f"screw names ({len(labels)}) must be one per node factor "
                                 f"({len(f)})")
        if len(f) == 0:
            return {}
        names, first, inverse = np.unique(labels.astype(str), return_index=True,
                                          return_inverse=True)
        loose = np.bincount(inverse, weights=self.loosened_nodes(f), minlength=len(names))
        total = np.bincount(inverse, minlength=len(names))
        flag = loose >= self.screw_share * total
        order = np.argsort(first)
        return {str(names[i]): bool(flag[i]) for i in order}

    def _state(self, factor: ArrayLike, micromotion_um: ArrayLike
               ) -> tuple[np.ndarray, np.ndarray]:
        f = np.asarray(factor, float)
        m = np.asarray(micromotion_um, float)
        if not np.all(np.isfinite(f)) or np.any(f < 0):
            bad = f[~(np.isfinite(f) & (f >= 0))].ravel()[:3]
            raise LooseningError(f"interface factor must be finite and >= 0, got {bad.tolist()}")
        if not np.all(np.isfinite(m)) or np.any(m < 0):
            bad = m[~(np.isfinite(m) & (m >= 0))].ravel()[:3]
            raise LooseningError(f"micromotion must be finite and >= 0 µm, got {bad.tolist()}")
        try:
            f, m = np.broadcast_arrays(f, m)
        except ValueError:
            raise LooseningError(f"factor shape {f.shape} and micromotion shape {m.shape} do "
                                 "not match") from None
        return f, m


def loosening_rule(params: Any, **options: Any) -> LooseningRule:
    """The :class:`LooseningRule` of a scenario.

    Parameters
    ----------
    params : Scenario or Mapping
        A :class:`spinesim.scenario.Scenario` (needs a construct with screws) or a mapping of
        the ``loosening.*`` field names (with or without the ``loosening.`` prefix); a mapping
        without a key gets the schema default.
    **options
        Override the scenario's ``loosening.*`` of the same name (e.g. ``between``,
        ``screw_share``; see :class:`LooseningRule`).

    Returns
    -------
    LooseningRule
    """
    if isinstance(params, LooseningRule):
        return params
    values = {}
    for k in (*_NUMBERS, "between"):
        key = f"loosening.{k}"
        if isinstance(params, Mapping):
            values[k] = params.get(key, params.get(k, field(key).default))
        else:
            values[k] = params.get(key)
    rule = LooseningRule(**{**values, **options})
    logger.debug("loosening rule %s", rule)
    return rule
