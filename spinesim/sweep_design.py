"""Sweep designs: which cases a parameter sweep runs.

A sweep spec (a dict, e.g. read from ``sweep.toml``) names a design and the parameters it
varies, by dotted keys into the nested scenario parameters::

    {"design": "lhs", "samples": 20, "seed": 7,
     "parameters": {"hardware.rod.diameter_mm": {"low": 4.5, "high": 6.5},
                    "hardware.rod.material": {"choices": ["Ti6Al4V", "CoCr"]},
                    "bone.density_g_cm3": {"mean": 0.9, "std": 0.1, "low": 0.5,
                                           "distribution": "normal"}}}

Designs
-------
``grid``
    Full factorial over each parameter's ``values`` (the last parameter varies fastest).
``random``
    ``samples`` independent draws.
``lhs``
    ``samples`` Latin-hypercube points (:class:`scipy.stats.qmc.LatinHypercube`): each of the
    ``samples`` equal-probability strata of every parameter is hit exactly once.

Parameter forms: ``{"values": [...]}`` or ``{"choices": [...]}`` (or a bare list), discrete;
``{"low": a, "high": b, "distribution": "uniform" | "log-uniform"}``; ``{"mean": m, "std": s,
"distribution": "normal"}`` with optional ``low``/``high`` truncation. Continuous parameters
need a random or lhs design.

Every case gets its own seed, spawned from the root ``seed`` with
:class:`numpy.random.SeedSequence`, written into the case parameters at ``seed_key``
(``"seed"`` by default): a case function draws with ``numpy.random.default_rng(params["seed"])``
and its result depends only on its parameters, never on which worker ran it or when.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spinesim.errors import SweepError

__all__ = ["ParameterSpec", "SweepError", "SweepSpec", "apply_overrides", "case_seeds",
           "design_points", "expand", "parse_spec"]

DESIGNS = ("grid", "random", "lhs")
DISTRIBUTIONS = ("uniform", "log-uniform", "normal")
_SPEC_KEYS = ("design", "samples", "seed", "seed_key", "parameters")
_PARAM_KEYS = ("values", "choices", "low", "high", "mean", "std", "distribution")


# ------------------------------------------------------------------------------ the spec
@dataclass(frozen=True)
class ParameterSpec:
    """One swept parameter.

    Attributes
    ----------
    key : str
        Dotted key into the case parameters, e.g. ``hardware.rod.diameter_mm``.
    distribution : {"choice", "uniform", "log-uniform", "normal"}
    values : tuple
        The values of a discrete (``choice``) parameter, in order.
    low, high : float or None
        Bounds of a uniform or log-uniform parameter; optional truncation of a normal one.
    mean, std : float or None
        Mean and standard deviation of a normal parameter.
    """

    key: str
    distribution: str
    values: tuple = ()
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    std: float | None = None

    def from_unit(self, u: Sequence[float], strata: int | None = None) -> list[Any]:
        """Map points ``u`` in [0, 1) to parameter values through the inverse CDF.

        With ``strata`` = n (Latin hypercube), a discrete parameter maps stratum ``j`` of n to
        value ``floor(j k / n)`` of its k values, so each value gets n/k strata (rounded).
        """
        import numpy as np

        u = np.asarray(u, dtype=float)
        if self.distribution == "choice":
            k = len(self.values)
            if strata:
                j = np.minimum(np.floor(u * strata), strata - 1).astype(int)
                idx = (j * k) // strata
            else:
                idx = np.minimum(np.floor(u * k), k - 1).astype(int)
            return [copy.deepcopy(self.values[i]) for i in idx]
        if self.distribution == "uniform":
            x = self.low + u * (self.high - self.low)
        elif self.distribution == "log-uniform":
            lo, hi = math.log(self.low), math.log(self.high)
            x = np.exp(lo + u * (hi - lo))
        else:  # normal, optionally truncated
            from scipy import stats

            eps = 2.0 ** -53
            u = np.clip(u, eps, 1.0 - eps)  # ppf(0) would be -inf
            a = -np.inf if self.low is None else (self.low - self.mean) / self.std
            b = np.inf if self.high is None else (self.high - self.mean) / self.std
            x = stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.std)
        return [float(v) for v in x]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec; build it with :func:`parse_spec`.

    Attributes
    ----------
    design : {"grid", "random", "lhs"}
    parameters : tuple of ParameterSpec
    samples : int or None
        Number of cases of a random or lhs design; None for a grid.
    seed : int
        Root seed of the design draws and of the per-case seeds.
    seed_key : str
        Dotted key at which each case's seed is stored in its parameters.
    """

    design: str
    parameters: tuple[ParameterSpec, ...]
    samples: int | None = None
    seed: int = 0
    seed_key: str = "seed"

    @property
    def n_cases(self) -> int:
        """Number of cases of the design."""
        if self.design == "grid":
            return math.prod(len(p.values) for p in self.parameters)
        return int(self.samples)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _unknown(where: str, bad: list[str], allowed: Sequence[str]) -> SweepError:
    hints = []
    for k in bad:
        close = difflib.get_close_matches(k, allowed, n=1)
        hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return SweepError(f"{where}: unknown key {', '.join(hints)}; allowed: {', '.join(allowed)}")


def _parse_parameter(key: Any, raw: Any, design: str, where: str) -> ParameterSpec:
    if not isinstance(key, str) or not key or any(not part for part in key.split(".")):
        raise SweepError(f"{where}: parameter name {key!r} is not a dotted key such as "
                         "'hardware.rod.diameter_mm'")
    where = f"{where}: parameter {key!r}"
    if isinstance(raw, (list, tuple)):
        raw = {"values": list(raw)}
    if not isinstance(raw, Mapping):
        raise SweepError(f"{where}: expected a table with 'values', 'choices', 'low'/'high' "
                         f"or 'mean'/'std', got {raw!r}")
    bad = [k for k in raw if k not in _PARAM_KEYS]
    if bad:
        raise _unknown(where, bad, _PARAM_KEYS)
    if "values" in raw and "choices" in raw:
        raise SweepError(f"{where}: give 'values' or 'choices', not both")
    discrete = raw.get("values", raw.get("choices"))
    numeric = [k for k in ("low", "high", "mean", "std", "distribution") if k in raw]
    if discrete is not None:
        if numeric:
            raise SweepError(f"{where}: a discrete parameter ('values'/'choices') takes no "
                             f"{', '.join(map(repr, numeric))}")
        if not isinstance(discrete, (list, tuple)) or not discrete:
            raise SweepError(f"{where}: 'values'/'choices' must be a non-empty list, "
                             f"got {discrete!r}")
        return ParameterSpec(key, "choice", values=tuple(discrete))
    if design == "grid":
        raise SweepError(f"{where}: the grid design needs a list of 'values' (got "
                         f"{', '.join(map(repr, numeric)) or 'none'}); use design 'random' or "
                         "'lhs' to sample a range")
    dist = raw.get("distribution", "normal" if "mean" in raw or "std" in raw else "uniform")
    if dist == "loguniform":
        dist = "log-uniform"
    if dist not in DISTRIBUTIONS:
        raise SweepError(f"{where}: 'distribution' must be one of {', '.join(DISTRIBUTIONS)}, "
                         f"got {dist!r}")
    for k in ("low", "high", "mean", "std"):
        if k in raw and not _is_number(raw[k]):
            raise SweepError(f"{where}: {k!r} must be a finite number, got {raw[k]!r}")
    low, high = raw.get("low"), raw.get("high")
    if dist == "normal":
        missing = [k for k in ("mean", "std") if k not in raw]
        if missing:
            raise SweepError(f"{where}: a normal distribution needs 'mean' and 'std' "
                             f"(missing {', '.join(map(repr, missing))})")
        mean, std = float(raw["mean"]), float(raw["std"])
        if std <= 0:
            raise SweepError(f"{where}: 'std' must be > 0, got {std!r}")
        if low is not None and high is not None and not low < high:
            raise SweepError(f"{where}: 'low' ({low!r}) must be below 'high' ({high!r})")
        return ParameterSpec(key, dist, low=None if low is None else float(low),
                             high=None if high is None else float(high), mean=mean, std=std)
    extra = [k for k in ("mean", "std") if k in raw]
    if extra:
        raise SweepError(f"{where}: a {dist} distribution takes 'low' and 'high', not "
                         f"{', '.join(map(repr, extra))}")
    if low is None or high is None:
        raise SweepError(f"{where}: a {dist} distribution needs 'low' and 'high'")
    if not low < high:
        raise SweepError(f"{where}: 'low' ({low!r}) must be below 'high' ({high!r})")
    if dist == "log-uniform" and low <= 0:
        raise SweepError(f"{where}: a log-uniform distribution needs 'low' > 0, got {low!r}")
    return ParameterSpec(key, dist, low=float(low), high=float(high))


def parse_spec(spec: Mapping | SweepSpec, source: str | None = None) -> SweepSpec:
    """Validate a sweep spec given as a dict (e.g. read from ``sweep.toml``).

    Parameters
    ----------
    spec : Mapping or SweepSpec
        Keys ``design`` ("grid", "random" or "lhs"), ``samples`` (random and lhs only),
        ``seed`` (root seed, int >= 0, default 0), ``seed_key`` (default "seed") and
        ``parameters`` (dotted key -> parameter table or list of values). A SweepSpec is
        returned unchanged.
    source : str, optional
        File name to start error messages with.

    Returns
    -------
    SweepSpec

    Raises
    ------
    SweepError
        Naming the key, the value and what is allowed.
    """
    if isinstance(spec, SweepSpec):
        return spec
    where = source or "sweep spec"
    if not isinstance(spec, Mapping):
        raise SweepError(f"{where}: expected a table of sweep settings, got {spec!r}")
    bad = [k for k in spec if k not in _SPEC_KEYS]
    if bad:
        raise _unknown(where, bad, _SPEC_KEYS)
    design = spec.get("design")
    if design == "latin_hypercube":
        design = "lhs"
    if design not in DESIGNS:
        raise SweepError(f"{where}: 'design' must be one of {', '.join(DESIGNS)}, "
                         f"got {design!r}")
    samples = spec.get("samples")
    if design == "grid":
        if samples is not None:
            raise SweepError(f"{where}: 'samples' is not used by the grid design (its size is "
                             "the product of the numbers of values); remove it")
    elif not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise SweepError(f"{where}: the {design} design needs 'samples', an integer >= 1, "
                         f"got {samples!r}")
    seed = spec.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SweepError(f"{where}: 'seed' must be an integer >= 0, got {seed!r}")
    seed_key = spec.get("seed_key", "seed")
    if not isinstance(seed_key, str) or not seed_key or "" in seed_key.split("."):
        raise SweepError(f"{where}: 'seed_key' must be a dotted key such as 'risk.seed', "
                         f"got {seed_key!r}")
    params = spec.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise SweepError(f"{where}: 'parameters' must be a non-empty table of dotted keys, "
                         f"got {params!r}")
    if seed_key in params:
        raise SweepError(f"{where}: parameter {seed_key!r} is the per-case seed key "
                         "('seed_key'); it cannot be swept")
    parsed = tuple(_parse_parameter(k, v, design, where) for k, v in params.items())
    keys = [p.key for p in parsed]
    for a, b in itertools.permutations(keys + [seed_key], 2):
        if b.startswith(a + "."):
            raise SweepError(f"{where}: parameters {a!r} and {b!r} overlap (one is inside "
                             "the other)")
    return SweepSpec(design, parsed, samples, seed, seed_key)


# ------------------------------------------------------------------------------ designs
def case_seeds(root: int, n: int) -> list[int]:
    """Independent per-case seeds from one root seed.

    Child ``i`` of ``numpy.random.SeedSequence(root).spawn(n)``, reduced to a 63-bit integer
    (it fits a signed 64-bit table column) for ``numpy.random.default_rng``. Seed ``i`` does
    not depend on ``n``.

    >>> case_seeds(7, 3)[:2] == case_seeds(7, 2)
    True
    """
    import numpy as np

    children = np.random.SeedSequence(root).spawn(n)
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


def _latin_hypercube(d: int, n: int, rng: Any) -> Any:
    from scipy.stats import qmc

    try:
        sampler = qmc.LatinHypercube(d=d, rng=rng)
    except TypeError:  # scipy < 1.15 names it seed
        sampler = qmc.LatinHypercube(d=d, seed=rng)
    return sampler.random(n)


def design_points(spec: Mapping | SweepSpec) -> list[dict[str, Any]]:
    """The design's cases as ``{dotted key: value}`` overrides, in case order (no seeds).

    The random and lhs draws use ``numpy.random.default_rng(SeedSequence(seed))``, a stream
    independent of the per-case seeds (the children of the same root).
    """
    spec = parse_spec(spec)
    params = spec.parameters
    if spec.design == "grid":
        return [{p.key: copy.deepcopy(v) for p, v in zip(params, combo)}
                for combo in itertools.product(*(p.values for p in params))]
    import numpy as np

    n = int(spec.samples)
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed))
    if spec.design == "random":
        u, strata = rng.random((n, len(params))), None
    else:
        u, strata = _latin_hypercube(len(params), n, rng), n
    columns = [p.from_unit(u[:, j], strata) for j, p in enumerate(params)]
    return [{p.key: columns[j][i] for j, p in enumerate(params)} for i in range(n)]


# ------------------------------------------------------------------------------ overrides
def _dotted_keys(value: Any, prefix: str = "") -> list[str]:
    out = []
    items = (value.items() if isinstance(value, Mapping)
             else enumerate(value) if isinstance(value, list) else ())
    for k, v in items:
        name = f"{prefix}.{k}" if prefix else str(k)
        out.append(name)
        out.extend(_dotted_keys(v, name))
    return out


def _missing(base: Mapping, key: str, parent: str, part: str, holder: Any,
             label: str) -> SweepError:
    close = difflib.get_close_matches(key, _dotted_keys(base), n=1, cutoff=0.5)
    here = (list(holder) if isinstance(holder, Mapping)
            else [str(i) for i in range(len(holder))] if isinstance(holder, list) else [])
    msg = f"{label} {key!r}: the base parameters have no key {part!r}"
    msg += f" under {parent!r}" if parent else " at the top level"
    if close:
        msg += f"; did you mean {close[0]!r}?"
    if here:
        msg += f" (keys there: {', '.join(here[:12])}{', ...' if len(here) > 12 else ''})"
    elif not isinstance(holder, Mapping):
        msg += f" ({parent!r} is a value, {holder!r}, not a table)"
    return SweepError(msg)


def _set(params: dict, base: Mapping, key: str, value: Any, *, create_leaf: bool,
         label: str = "sweep parameter") -> None:
    parts = key.split(".")
    node: Any = params
    for depth, part in enumerate(parts):
        parent = ".".join(parts[:depth])
        last = depth == len(parts) - 1
        if isinstance(node, dict) and (part in node or (last and create_leaf)):
            if last:
                node[part] = value
            else:
                node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        else:
            raise _missing(base, key, parent, part, node, label)


def apply_overrides(base: Mapping, overrides: Mapping[str, Any], *,
                    seed_key: str | None = None, seed: int | None = None) -> dict:
    """A deep copy of ``base`` with dotted-key overrides applied.

    Parameters
    ----------
    base : Mapping
        Nested parameters (dicts; list items are addressed by index, ``screws.0.length_mm``).
    overrides : Mapping
        ``{dotted key: value}``; each key must exist in ``base``.
    seed_key, seed : optional
        Also store ``seed`` at ``seed_key``; its parent must exist, the key itself need not.

    Raises
    ------
    SweepError
        For a key missing in ``base``, naming the closest existing key.

    Examples
    --------
    >>> apply_overrides({"rod": {"diameter_mm": 6.0}}, {"rod.diameter_mm": 5.5})
    {'rod': {'diameter_mm': 5.5}}
    """
    params = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        _set(params, base, key, copy.deepcopy(value), create_leaf=False)
    if seed_key is not None:
        _set(params, base, seed_key, seed, create_leaf=True, label="sweep seed_key")
    return params


def expand(base_params: Mapping, spec: Mapping | SweepSpec) -> list[dict]:
    """The fully resolved parameters of every case of a sweep, in design order.

    Parameters
    ----------
    base_params : Mapping
        Nested parameters of the base scenario.
    spec : Mapping or SweepSpec
        Sweep spec (see :func:`parse_spec`).

    Returns
    -------
    list of dict
        One deep copy of ``base_params`` per case, with the design's overrides applied and the
        case's own seed (:func:`case_seeds`) at ``spec.seed_key``.

    Examples
    --------
    >>> cases = expand({"rod": {"diameter_mm": 6.0}},
    ...                {"design": "grid", "parameters": {"rod.diameter_mm": [5.5, 6.5]}})
    >>> [c["rod"]["diameter_mm"] for c in cases], len({c["seed"] for c in cases})
    ([5.5, 6.5], 2)
    """
    spec = parse_spec(spec)
    if not isinstance(base_params, Mapping):
        raise SweepError(f"base parameters must be a table (dict), got "
                         f"{type(base_params).__name__}")
    # check every key once, before drawing anything
    apply_overrides(base_params, {p.key: None for p in spec.parameters},
                    seed_key=spec.seed_key, seed=0)
    points = design_points(spec)
    seeds = case_seeds(spec.seed, len(points))
    return [apply_overrides(base_params, point, seed_key=spec.seed_key, seed=seed)
            for point, seed in zip(points, seeds)]
