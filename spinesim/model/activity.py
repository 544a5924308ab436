"""The activity spectrum: which load cycles the segment sees in each healing week.

Each daily activity (walking, bending, full flexion, lifting, and any further ones a scenario
lists in ``activity.custom``, e.g. stair climbing) is one load cycle from rest to a peak
(compressive force in N and a pure moment in N·m about one load-case direction of
:mod:`spinesim.model.loadcases`) and back. Its count per week is

    cycles(week) = per_day x level x ramp(week) x 7 days/week

where ``ramp`` is the post-operative activity ramp: piecewise linear through the points
(``activity.ramp_weeks``, ``activity.ramp_fraction``), held at the first value before the first
point and at the last value after the last point (``numpy.interp``).

Every number comes from the scenario's ``activity.*`` fields (:mod:`spinesim.scenario_schema`,
which carries the sources: cycles per day after Stienen et al., Sci Rep 10:4939 (2020),
PMC7080733, and Rohlmann et al., Eur Spine J 23:2375 (2014); the ramp after Stienen et al. 2020;
the forces after Dreischarf et al., J Biomech (2015), doi 10.1016/j.jbiomech.2015.01.007, and
Rohlmann et al., PLoS ONE 9:e98510 (2014)). This module adds no defaults of its own: a plain
mapping that omits a key gets the schema default of that key.

>>> spec = activity_spectrum({"activity.level": 1.0})
>>> round(cycles_per_week(spec, 8.0)["walking"])
39368
>>> round(cycles_per_week(spec, 0.0)["full_flexion"], 2)
101.5
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from spinesim.errors import SpinesimError
from spinesim.fem.loads import NMM_PER_NM
from spinesim.model.loadcases import LOAD_CASES, LoadCase
from spinesim.scenario_schema import ACTIVITIES, FieldValueError, check, field

__all__ = [
    "ACTIVITIES",
    "DAYS_PER_WEEK",
    "ActivityError",
    "ActivityLoad",
    "ActivitySpectrum",
    "activity_spectrum",
    "cycles_between",
    "cycles_per_week",
]

logger = logging.getLogger(__name__)

DAYS_PER_WEEK = 7.0


class ActivityError(SpinesimError):
    """An activity parameter is missing, out of range or inconsistent (the message names it)."""


@dataclass(frozen=True)
class ActivityLoad:
    """One activity: its cycle count at baseline and the load case of one cycle.

    Attributes
    ----------
    name : str
        One of :data:`ACTIVITIES` (the built-in activities of the scenario schema) or the
        name of an ``activity.custom`` entry.
    per_day : float
        Cycles per day at full (baseline) activity, cycles/day.
    compression_n : float
        Peak compressive force on the segment per cycle, N (0 = none).
    moment_nm : float
        Peak pure moment per cycle, N·m (0 = compression only).
    direction : str
        Load-case direction of the moment, a key of ``spinesim.model.loadcases.LOAD_CASES``.
    """

    name: str
    per_day: float
    compression_n: float
    moment_nm: float
    direction: str

    @property
    def axis(self) -> tuple[float, float, float]:
        """Unit moment axis of :attr:`direction` (signs of :mod:`spinesim.model.loadcases`)."""
        return LOAD_CASES[self.direction]

    @property
    def moment_nmm(self) -> np.ndarray:
        """Peak moment vector (3,), N·mm (internal unit)."""
        return NMM_PER_NM * self.moment_nm * np.asarray(self.axis, float)

    def load_case(self) -> LoadCase:
        """The peak of one cycle as a :class:`~spinesim.model.loadcases.LoadCase`: the moment
        about :attr:`direction` and the compression as its (follower) preload, N.

        Whether the compression is applied as a follower load is the caller's modelling
        choice; the load case only carries the magnitude.
        """
        return LoadCase(self.direction, self.axis, self.moment_nm, self.compression_n)


@dataclass(frozen=True)
class ActivitySpectrum:
    """Activities, activity level and post-operative ramp of one scenario.

    Attributes
    ----------
    loads : tuple of ActivityLoad
        One per activity of :data:`ACTIVITIES`, in that order (also those with 0 per day),
        then the scenario's ``activity.custom`` entries in their order.
    level : float
        Multiplier on every count per day, - (1 = baseline).
    ramp_weeks : tuple of float
        Weeks of the ramp points, strictly increasing, weeks.
    ramp_fraction : tuple of float
        Activity as a fraction of baseline at each ramp point, -.
    """

    loads: tuple[ActivityLoad, ...]
    level: float
    ramp_weeks: tuple[float, ...]
    ramp_fraction: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.ramp_weeks) != len(self.ramp_fraction) or not self.ramp_weeks:
            raise ActivityError(
                f"activity.ramp_weeks has {len(self.ramp_weeks)} point(s) but "
                f"activity.ramp_fraction has {len(self.ramp_fraction)}; give one fraction per "
                "week (at least one point)")
        w = np.asarray(self.ramp_weeks, float)
        if np.any(np.diff(w) <= 0):
            raise ActivityError(f"activity.ramp_weeks = {list(self.ramp_weeks)} must be "
                                "strictly increasing")

    def load(self, name: str) -> ActivityLoad:
        """The :class:`ActivityLoad` called ``name``."""
        for a in self.loads:
            if a.name == name:
                return a
        raise ActivityError(f"unknown activity {name!r}; this spectrum has: "
                            f"{', '.join(a.name for a in self.loads)}")

    def active(self) -> tuple[ActivityLoad, ...]:
        """Activities with cycles (per_day x level > 0): the load cases worth solving."""
        return tuple(a for a in self.loads if a.per_day * self.level > 0.0)

    def ramp(self, week: float | np.ndarray) -> float | np.ndarray:
        """Activity fraction of baseline at time ``week`` (weeks after surgery), -."""
        out = np.interp(np.asarray(week, float), self.ramp_weeks, self.ramp_fraction)
        return float(out) if np.ndim(out) == 0 else out

    def ramp_integral(self, week0: float, week1: float) -> float:
        """Exact integral of :meth:`ramp` over [week0, week1], fraction x weeks."""
        w0, w1 = float(week0), float(week1)
        if not (np.isfinite(w0) and np.isfinite(w1)) or w1 < w0:
            raise ActivityError(f"week interval [{week0}, {week1}] must be finite with "
                                "week1 >= week0")
        knots = np.asarray(self.ramp_weeks, float)
        t = np.concatenate([[w0], knots[(knots > w0) & (knots < w1)], [w1]])
        y = np.interp(t, self.ramp_weeks, self.ramp_fraction)
        return float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(t)))


def _value(params: Any, key: str) -> Any:
    """``key`` from a Scenario (``.get``) or a mapping (dotted key, with or without the
    ``activity.`` prefix); a mapping without the key gets the schema default."""
    if isinstance(params, Mapping):
        short = key.split(".", 1)[1]
        if key in params:
            value = params[key]
        elif short in params:
            value = params[short]
        else:
            value = field(key).default
    else:
        value = params.get(key)
    try:
        return check(field(key), value)
    except FieldValueError as exc:
        raise ActivityError(str(exc)) from None


def activity_spectrum(params: Any) -> ActivitySpectrum:
    """The :class:`ActivitySpectrum` of a scenario.

    Parameters
    ----------
    params : Scenario or Mapping
        A :class:`spinesim.scenario.Scenario`, an :class:`ActivitySpectrum` (returned as is),
        or a mapping of the ``activity.*`` field names (``"activity.walking.per_day"`` or
        ``"walking.per_day"``, ``"activity.custom"`` or ``"custom"`` for further activities);
        missing keys take the schema default.

    Returns
    -------
    ActivitySpectrum

    Raises
    ------
    ActivityError
        A value out of its range (naming key, value, allowed range and unit) or ramp lists
        of different lengths.
    """
    if isinstance(params, ActivitySpectrum):
        return params
    loads = tuple(
        ActivityLoad(name, _value(params, f"activity.{name}.per_day"),
                     _value(params, f"activity.{name}.compression_n"),
                     _value(params, f"activity.{name}.moment_nm"),
                     _value(params, f"activity.{name}.direction"))
        for name in ACTIVITIES)
    loads += tuple(ActivityLoad(e.name, e.per_day, e.compression_n, e.moment_nm, e.direction)
                   for e in _value(params, "activity.custom"))
    spec = ActivitySpectrum(loads, _value(params, "activity.level"),
                            _value(params, "activity.ramp_weeks"),
                            _value(params, "activity.ramp_fraction"))
    logger.debug("activity spectrum: level %g, active %s", spec.level,
                 [a.name for a in spec.active()])
    return spec


def cycles_per_week(params: Any, week: float) -> dict[str, float]:
    """Load cycles of each activity per week at time ``week``.

    ``per_day x level x ramp(week) x 7``, the ramp evaluated at ``week`` (piecewise linear,
    held before the first and after the last ramp point).

    Parameters
    ----------
    params : Scenario, Mapping or ActivitySpectrum
        See :func:`activity_spectrum`.
    week : float
        Time after surgery, weeks (>= 0).

    Returns
    -------
    dict of str to float
        Activity name -> cycles per week, for every activity of the spectrum.
    """
    w = _check_week(week, "week")
    spec = activity_spectrum(params)
    scale = spec.level * spec.ramp(w) * DAYS_PER_WEEK
    return {a.name: a.per_day * scale for a in spec.loads}


def cycles_between(params: Any, week0: float, week1: float) -> dict[str, float]:
    """Load cycles of each activity between ``week0`` and ``week1`` (the ramp integrated
    exactly), for timeline steps longer than a week.

    Parameters
    ----------
    params : Scenario, Mapping or ActivitySpectrum
        See :func:`activity_spectrum`.
    week0, week1 : float
        Start and end of the interval, weeks after surgery (0 <= week0 <= week1).

    Returns
    -------
    dict of str to float
        Activity name -> cycles in the interval.
    """
    w0, w1 = _check_week(week0, "week0"), _check_week(week1, "week1")
    spec = activity_spectrum(params)
    scale = spec.level * spec.ramp_integral(w0, w1) * DAYS_PER_WEEK
    return {a.name: a.per_day * scale for a in spec.loads}


def _check_week(week: float, name: str) -> float:
    try:
        w = float(week)
    except (TypeError, ValueError):
        raise ActivityError(f"{name} = {week!r} must be a number of weeks >= 0") from None
    if not (np.isfinite(w) and w >= 0.0):
        raise ActivityError(f"{name} = {week!r} is out of range; allowed range [0, inf) weeks")
    return w
