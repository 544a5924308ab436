"""Monte Carlo statistics: sampling uncertain inputs, probability intervals, rank sensitivity.

Distributions are those of :mod:`spinesim.scenario_schema` (``Scenario.uncertain()`` returns
``key -> (distribution, (low, high))``):

* ``uniform``: uniform on [low, high];
* ``lognormal_ci95``: log-normal whose 2.5 % and 97.5 % quantiles are low and high (median
  sqrt(low high), sigma of ln = ln(high / low) / (2 x 1.96)).

Seeding: with an integer seed (or a ``numpy.random.SeedSequence``) each input draws from its own
child stream keyed by a CRC32 of its name, so adding or removing one input does not change the
draws of the others; with a ``numpy.random.Generator`` the inputs are drawn from it in sorted
key order.

>>> x = sample_inputs({"activity.level": ("uniform", (0.62, 1.07))}, 4, seed=0)
>>> x["activity.level"].shape
(4,)
>>> ci = probability_ci(5, 100)
>>> round(ci.low, 4), round(ci.high, 4)
(0.0215, 0.1118)
"""

from __future__ import annotations

import logging
import math
import statistics
import zlib
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError
from spinesim.scenario_schema import lognormal_ci95

__all__ = ["DISTRIBUTIONS", "ProbabilityCI", "RiskStatsError", "probability_ci",
           "rank_sensitivity", "sample_inputs", "stratify"]

logger = logging.getLogger(__name__)

#: Distributions :func:`sample_inputs` draws from.
DISTRIBUTIONS = ("uniform", "lognormal_ci95")


class RiskStatsError(SpinesimError):
    """Bad inputs to the Monte Carlo statistics (the message names key and value)."""


class ProbabilityCI(NamedTuple):
    """A probability estimate with its confidence interval (all probabilities in [0, 1])."""

    estimate: float
    low: float
    high: float
    level: float


def _streams(keys: list[str], seed: int | np.random.SeedSequence | np.random.Generator
             ) -> dict[str, np.random.Generator]:
    if isinstance(seed, np.random.Generator):
        return {k: seed for k in sorted(keys)}
    if isinstance(seed, np.random.SeedSequence):
        entropy, spawn = seed.entropy, tuple(seed.spawn_key)
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise RiskStatsError(f"seed = {seed!r} must be an integer >= 0, a "
                                 "numpy.random.SeedSequence or a numpy.random.Generator")
        entropy, spawn = int(seed), ()
    return {k: np.random.default_rng(np.random.SeedSequence(
        entropy, spawn_key=spawn + (zlib.crc32(k.encode()),))) for k in sorted(keys)}


def sample_inputs(uncertain: Mapping[str, tuple[str, tuple[float, float]]], n: int,
                  seed: int | np.random.SeedSequence | np.random.Generator = 0
                  ) -> dict[str, np.ndarray]:
    """Draw ``n`` samples of each uncertain input.

    Parameters
    ----------
    uncertain : Mapping
        Key -> (distribution, (low, high)), as ``Scenario.uncertain()`` returns; values in the
        unit of each field.
    n : int
        Number of samples (>= 1).
    seed : int, SeedSequence or Generator
        Root of the draws (see the module notes on streams).

    Returns
    -------
    dict of str to numpy.ndarray
        Key -> samples, shape (n,), in the order of ``uncertain``.

    Raises
    ------
    RiskStatsError
        Unknown distribution, bounds not finite or not ordered, lognormal bounds <= 0.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise RiskStatsError(f"n = {n!r} must be an integer >= 1 (number of samples)")
    specs = {}
    for key, spec in uncertain.items():
        try:
            dist, (lo, hi) = spec
            lo, hi = float(lo), float(hi)
        except (TypeError, ValueError):
            raise RiskStatsError(f"{key}: expected (distribution, (low, high)), got "
                                 f"{spec!r}") from None
        if dist not in DISTRIBUTIONS:
            raise RiskStatsError(f"{key}: unknown distribution {dist!r}; allowed: "
                                 f"{', '.join(DISTRIBUTIONS)}")
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise RiskStatsError(f"{key}: range ({lo}, {hi}) must be finite with low <= high")
        if dist == "lognormal_ci95" and not (0.0 < lo < hi):
            raise RiskStatsError(f"{key}: lognormal_ci95 needs 0 < low < high, got "
                                 f"({lo}, {hi})")
        specs[key] = (dist, lo, hi)
    rngs = _streams(list(specs), seed)
    drawn = {}
    for key in sorted(specs):
        dist, lo, hi = specs[key]
        if dist == "uniform":
            drawn[key] = rngs[key].uniform(lo, hi, int(n))
        else:
            median, sigma = lognormal_ci95(lo, hi)
            drawn[key] = rngs[key].lognormal(math.log(median), sigma, int(n))
    logger.debug("drew %d samples of %d inputs", n, len(drawn))
    return {key: drawn[key] for key in specs}


def stratify(draws: ArrayLike, distribution: str, low: float, high: float,
             strata: int) -> np.ndarray:
    """Each draw replaced by the median of the equiprobable stratum it falls in.

    The distribution's CDF maps a draw to u in [0, 1]; stratum k = floor(u x strata) is
    represented by its median, the quantile at (k + 1/2) / strata. The values are then one of
    ``strata`` points, each with probability 1 / strata, in the order of the draws (a monotone
    map, so rank correlations keep their sign). ``strata = 1`` gives the median; many strata
    approach the draws themselves.

    Parameters
    ----------
    draws : array_like
        Samples of the distribution, in the unit of its field.
    distribution, low, high
        As in :func:`sample_inputs`.
    strata : int
        Number of equiprobable strata (>= 1).

    >>> stratify([0.05, 0.5, 0.99], "uniform", 0.0, 1.0, 4)
    array([0.125, 0.625, 0.875])
    """
    if isinstance(strata, bool) or not isinstance(strata, (int, np.integer)) or strata < 1:
        raise RiskStatsError(f"strata = {strata!r} must be an integer >= 1")
    from scipy.special import ndtr, ndtri

    x = np.asarray(draws, dtype=float)
    lo, hi = float(low), float(high)
    if distribution == "uniform":
        u = (x - lo) / (hi - lo) if hi > lo else np.full_like(x, 0.5)
    elif distribution == "lognormal_ci95":
        median, sigma = lognormal_ci95(lo, hi)
        u = ndtr((np.log(x) - math.log(median)) / sigma)
    else:
        raise RiskStatsError(f"unknown distribution {distribution!r}; allowed: "
                             f"{', '.join(DISTRIBUTIONS)}")
    k = np.clip(np.floor(np.clip(u, 0.0, 1.0) * strata), 0, strata - 1)
    q = (k + 0.5) / strata
    if distribution == "uniform":
        return lo + q * (hi - lo)
    return np.exp(math.log(median) + sigma * ndtri(q))


def probability_ci(k: int, n: int, level: float = 0.95) -> ProbabilityCI:
    """Wilson score interval of a probability from ``k`` events in ``n`` trials.

    Parameters
    ----------
    k : int
        Number of events (failures), 0 <= k <= n.
    n : int
        Number of trials (samples), >= 1.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    ProbabilityCI
        ``estimate`` k / n and the Wilson interval (``low``, ``high``).

    Notes
    -----
    Wilson (1927): with z the (1 + level)/2 normal quantile, p = k/n,
    centre = (p + z^2/(2n)) / (1 + z^2/n), half-width = z sqrt(p(1-p)/n + z^2/(4n^2)) /
    (1 + z^2/n). Unlike the normal approximation it stays inside [0, 1] and is not empty at
    k = 0 or k = n.
    """
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise RiskStatsError(f"{name} = {v!r} must be an integer")
    if n < 1 or not 0 <= k <= n:
        raise RiskStatsError(f"need 0 <= k <= n and n >= 1, got k = {k}, n = {n}")
    lv = float(level)
    if not (0.0 < lv < 1.0):
        raise RiskStatsError(f"level = {level!r} is out of range; allowed range (0, 1)")
    z = statistics.NormalDist().inv_cdf(0.5 + 0.5 * lv)
    p = k / n
    z2n = z * z / n
    centre = (p + 0.5 * z2n) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return ProbabilityCI(p, low, high, lv)


def rank_sensitivity(inputs: Mapping[str, ArrayLike], outcome: ArrayLike
                     ) -> dict[str, float]:
    """Spearman rank correlation of the outcome with each input.

    Parameters
    ----------
    inputs : Mapping
        Input name -> samples, shape (n,).
    outcome : array_like, shape (n,)
        Outcome per sample (numbers or booleans such as "failed").

    Returns
    -------
    dict of str to float
        Input name -> rho in [-1, 1]. Samples where the input or the outcome is NaN are left
        out (pairwise); an input or outcome that is constant over the remaining samples, or
        fewer than 3 remaining samples, gives 0.0 (no warning).
    """
    from scipy.stats import spearmanr

    y = np.asarray(outcome, float).ravel()
    out = {}
    for name, values in inputs.items():
        x = np.asarray(values, float).ravel()
        if x.shape != y.shape:
            raise RiskStatsError(f"input {name!r} has {x.size} samples but the outcome has "
                                 f"{y.size}")
        ok = np.isfinite(x) & np.isfinite(y)
        xs, ys = x[ok], y[ok]
        if xs.size < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
            out[name] = 0.0
            continue
        out[name] = float(spearmanr(xs, ys).statistic)
    return out
