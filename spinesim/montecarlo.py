"""Monte Carlo risk: probability of each failure mode and sensitivity to the uncertain inputs.

:func:`risk` samples every input a scenario marks uncertain (``Scenario.uncertain()``: the
fields whose reference tables give a range, e.g. activity level, graft modulus, healing odds
ratios, loosening and fatigue thresholds), runs one timeline per sample through
:func:`spinesim.sweeps.run_sweep` (a process pool, a crash-safe SQLite store, a progress bar)
and returns a :class:`RiskResult`:

* ``probabilities``: for each failure mode of :data:`spinesim.outcomes.FAILURE_MODES`, the
  fraction of successful samples in which it fails, with its Wilson interval
  (:func:`spinesim.risk_stats.probability_ci`) at ``risk.confidence``;
* ``sensitivity``: Spearman rank correlation of each outcome with each input
  (:func:`spinesim.risk_stats.rank_sensitivity`);
* ``samples``: one row per sample (inputs, outcomes, status).

Inputs that change the segment model itself (:data:`SEGMENT_INPUTS`: the patient's
cancellous modulus, i.e. bone density) are drawn from ``risk.segment_strata`` equiprobable
strata, each at its median (:func:`spinesim.risk_stats.stratify`), and the samples are run
in the order of those values: a worker then builds and condenses one model per stratum
(from its first sample of the stratum on, :func:`spinesim.outcomes.run_shared_case`)
instead of one per sample, and reuses it for every other sample of the stratum.

Reproducibility: the draws depend only on the seed and on each input's name (see
:mod:`spinesim.risk_stats`), not on the number of workers; the first ``n`` draws of a run
with more samples are the ``n`` draws of the shorter run, so a larger run into the same
``out_dir`` reuses the samples already computed.

Example
-------
>>> from spinesim.montecarlo import risk
>>> result = risk(samples=50, seed=1, case_fn=_demo_case)  # a stand-in for the timeline
>>> p = result.probabilities["nonunion"]
>>> p["failures"], p["samples"], round(p["probability"], 2), round(p["high"], 3)
(11, 50, 0.22, 0.352)
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesim.atomic import json_safe, write_csv, write_json
from spinesim.errors import SpinesimError
from spinesim.outcomes import FAILURE_MODES, run_case, run_shared_case
from spinesim.risk_stats import probability_ci, rank_sensitivity, sample_inputs, stratify
from spinesim.scenario import Scenario, ScenarioError
from spinesim.scenario_schema import Field
from spinesim.scenario_schema import field as schema_field
from spinesim.store import case_key
from spinesim.sweeps import STORE_NAME, run_sweep

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SEGMENT_INPUTS", "SENSITIVITY_OUTCOMES", "RiskError", "RiskResult", "risk"]

logger = logging.getLogger(__name__)

#: Uncertain inputs that change the segment model (its stiffness matrix, not only the
#: graft and interface values a timeline refills): drawn from ``risk.segment_strata``
#: strata and run grouped by value (module notes). A test keeps this list complete.
SEGMENT_INPUTS = ("bone.cancellous_modulus_scale",)

#: Outcome columns whose sensitivity to each input is reported.
SENSITIVITY_OUTCOMES = (*(f"{m}_fails" for m in FAILURE_MODES), "rod_damage",
                        "max_micromotion_um", "max_screw_pullout_n", "union_week",
                        "initial_graft_strain")
#: Columns of the samples table after the inputs and outcomes.
_META = ("status", "error", "duration_s", "key")


class RiskError(SpinesimError):
    """A Monte Carlo risk run cannot be set up or gave no result (the message says why)."""


# ------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class RiskResult:
    """Result of :func:`risk`.

    Attributes
    ----------
    probabilities : dict
        Failure mode -> ``{"probability", "low", "high", "failures", "samples",
        "confidence"}``: the fraction of successful samples in which the mode fails (-), the
        Wilson interval (-) at ``confidence`` (-), the number of failing samples and of
        successful samples. ``probability``, ``low`` and ``high`` are None without successful
        samples.
    sensitivity : dict
        Outcome -> {input key -> Spearman rho (-, in [-1, 1])} for the outcomes of
        :data:`SENSITIVITY_OUTCOMES` the case function returned, over the successful
        samples. A never-bridged graft (``union_week`` None) ranks after every bridged one
        (as +inf). An outcome or input that is constant gives rho 0.0 (listed in
        ``info["constant_outcomes"]``).
    samples : pandas.DataFrame
        One row per sample (index ``sample``): the sampled inputs (dotted keys, field units),
        the outcomes, ``status`` ("done" or "failed"), ``error``, ``duration_s`` (s) and
        ``key`` (the case key in the store).
    failed : int
        Number of samples whose case function raised; their messages are in ``errors``.
    errors : tuple of str
        ``"sample <i>: <message>"`` of each failed sample.
    seed : int
        Root seed of the draws.
    inputs : dict
        Input key -> (distribution, (low, high)) as sampled (field units).
    info : dict
        ``seconds`` (wall time of this call, s), ``seconds_per_sample`` (mean wall time of
        one successful case, s), ``counts`` (cases ``done``/``failed`` by this call and
        ``skipped`` because already stored), ``store`` (results store path or None),
        ``resolution``, ``weeks``, ``confidence``, ``clipped`` (input -> number of draws
        clipped into the field's allowed range), ``constant_outcomes``.
    """

    probabilities: dict[str, dict[str, Any]]
    sensitivity: dict[str, dict[str, float]]
    samples: pd.DataFrame
    failed: int
    errors: tuple[str, ...] = ()
    seed: int = 0
    inputs: dict[str, tuple[str, tuple[float, float]]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        """Number of samples drawn."""
        return len(self.samples)

    def to_json_dict(self) -> dict[str, Any]:
        """The result as JSON values (no NaN or infinity: None instead).

        Returns
        -------
        dict
            ``{"probabilities", "sensitivity", "samples"`` (number drawn), ``"seed",
            "inputs"`` ({key: [distribution, low, high]}), ``"failed_samples"`` (count),
            ``"errors"`` ([{"sample", "error"}]), ``"seconds"`` (wall time, s),
            ``"seconds_per_sample"`` (s), ``"confidence", "resolution", "weeks",
            "stratified"}`` (the last: {key: number of strata} of the inputs drawn in strata).
        """
        errors = []
        for text in self.errors:
            head, _, msg = text.partition(": ")
            errors.append({"sample": int(head.split()[-1]), "error": msg})
        out = {
            "probabilities": self.probabilities,
            "sensitivity": self.sensitivity,
            "samples": self.n_samples,
            "seed": self.seed,
            "inputs": {k: [d, lo, hi] for k, (d, (lo, hi)) in self.inputs.items()},
            "failed_samples": self.failed,
            "errors": errors,
            "seconds": self.info.get("seconds"),
            "seconds_per_sample": self.info.get("seconds_per_sample"),
            "confidence": self.info.get("confidence"),
            "stratified": dict(self.info.get("stratified", {})),
            "resolution": self.info.get("resolution"),
            "weeks": self.info.get("weeks"),
        }
        return json_safe(out)


# ------------------------------------------------------------------------------ set-up
def _integer(name: str, value: Any, low: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise RiskError(f"{name} = {value!r} must be an integer >= {low} ({what})")
    return int(value)


def _flat(data: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(_flat(v, key))
        else:
            out[key] = v
    return out


def _base(scenario: Scenario, seed: int, resolution: float | None,
          weeks: float | None) -> Scenario:
    """The scenario every sample starts from: overrides of resolution, weeks and seed."""
    for name, value in (("resolution", resolution), ("weeks", weeks)):
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, (int, float, np.number))):
            raise RiskError(f"{name} = {value!r} must be a number")
    updates: dict[str, Any] = {"risk.seed": seed}
    if resolution is not None:
        updates["segment.resolution"] = resolution
    if weeks is not None:
        updates["timeline.weeks"] = weeks
        key = "timeline.nonunion_horizon_weeks"
        if scenario.applies(key) and scenario.get(key) > weeks:
            logger.info("timeline.weeks = %s is shorter than %s = %s: the nonunion horizon "
                        "is set to %s weeks too", weeks, key, scenario.get(key), weeks)
            updates[key] = weeks
        given = _flat(scenario.to_dict(full=False))
        vtu = given.get("output.vtu_weeks")
        if vtu is not None and any(w > weeks for w in vtu):
            kept = [w for w in vtu if w <= weeks]
            logger.info("timeline.weeks = %s: output.vtu_weeks %s trimmed to %s", weeks,
                        list(vtu), kept or "the default")
            updates["output.vtu_weeks"] = kept or None
    try:
        return scenario.with_values(updates)
    except ScenarioError as exc:
        problems = "; ".join(m for _, m in exc.problems) or str(exc)
        raise RiskError(f"{scenario.source}: cannot run the Monte Carlo with "
                        f"{', '.join(f'{k} = {v!r}' for k, v in updates.items())}: "
                        f"{problems}") from exc


def _check_geometry(base: Scenario) -> None:
    """Refuse a scenario whose segment cannot be meshed before any sample runs: no uncertain
    input is geometric (:func:`spinesim.scenario_schema.uncertain_fields`: moduli, loads,
    healing, interface and fatigue parameters), so every sample would fail the same way, one
    after the other (about 12 minutes for 1,000 samples at resolution 1)."""
    from spinesim.model.segment import segment_geometry
    from spinesim.simulate import segment_options

    try:
        segment_geometry(segment_options(base))
    except SpinesimError as exc:
        raise RiskError(f"{base.source}: {exc}") from None


def _bounds(f: Field) -> tuple[float, float]:
    """Closed interval of allowed values of a numeric field (open bounds nudged inside)."""
    lo = -math.inf if f.low is None else float(f.low)
    hi = math.inf if f.high is None else float(f.high)
    if f.kind == "int":
        lo = math.floor(lo) + 1 if f.low_open and lo.is_integer() else math.ceil(lo)
        hi = math.ceil(hi) - 1 if f.high_open and hi.is_integer() else math.floor(hi)
    else:
        lo = math.nextafter(lo, math.inf) if f.low_open else lo
        hi = math.nextafter(hi, -math.inf) if f.high_open else hi
    return lo, hi


def _coerce(key: str, draws: np.ndarray) -> tuple[list[Any], int]:
    """Draws of ``key`` as field values: integers rounded, clipped into the allowed range.

    Returns the values and how many were clipped.
    """
    f = schema_field(key)
    x = np.asarray(draws, dtype=float)
    if f.kind == "int":
        x = np.rint(x)
    lo, hi = _bounds(f)
    clipped = np.clip(x, lo, hi)
    n_clipped = int(np.count_nonzero(clipped != x))
    if n_clipped:
        logger.warning("%s: %d of %d draws fell outside the %s and were clipped to it", key,
                       n_clipped, x.size, f.allowed())
    if f.kind == "int":
        return [int(v) for v in clipped], n_clipped
    return [float(v) for v in clipped], n_clipped


def _sample_params(base: Scenario, values: dict[str, Any], i: int) -> dict:
    """Resolved parameters of sample ``i`` (validated; dependent defaults recomputed)."""
    try:
        return base.with_values(values, source=f"Monte Carlo sample {i}").to_dict()
    except ScenarioError as exc:
        bad = [k for k, _ in exc.problems if k in values] or list(values)
        drawn = ", ".join(f"{k} = {values[k]!r}" for k in bad)
        problems = "; ".join(m for _, m in exc.problems) or str(exc)
        raise RiskError(f"Monte Carlo sample {i} is invalid ({drawn}): {problems}") from exc


# ------------------------------------------------------------------------------ statistics
def _probabilities(ok: pd.DataFrame, level: float) -> dict[str, dict[str, Any]]:
    out = {}
    for mode in FAILURE_MODES:
        col = f"{mode}_fails"
        if col not in ok.columns:
            raise RiskError(f"the case function returned no {col!r} outcome; a Monte Carlo "
                            f"case must return {', '.join(f'{m}_fails' for m in FAILURE_MODES)}")
        values = [v for v in ok[col] if v is not None and not (isinstance(v, float)
                                                                 and math.isnan(v))]
        n, k = len(values), int(sum(bool(v) for v in values))
        if n == 0:
            out[mode] = {"probability": None, "low": None, "high": None, "failures": 0,
                         "samples": 0, "confidence": level}
            continue
        ci = probability_ci(k, n, level)
        out[mode] = {"probability": ci.estimate, "low": ci.low, "high": ci.high,
                     "failures": k, "samples": n, "confidence": level}
    return out


def _outcome_values(ok: pd.DataFrame, col: str) -> np.ndarray:
    """An outcome as floats for ranking: None -> NaN, except a missing union week -> after
    every week that bridged (rank-wise +inf)."""
    y = np.array([np.nan if v is None else float(v) for v in ok[col]], dtype=float)
    if col == "union_week":
        never = np.array([v is None or (isinstance(v, float) and math.isnan(v))
                          for v in ok[col]])
        finite = y[~never]
        y[never] = (finite.max() + 1.0) if finite.size else 0.0
    return y


def _sensitivity(ok: pd.DataFrame, inputs: list[str]
                 ) -> tuple[dict[str, dict[str, float]], list[str]]:
    x = {k: ok[k].to_numpy(dtype=float) for k in inputs}
    out, constant = {}, []
    for col in SENSITIVITY_OUTCOMES:
        if col not in ok.columns:
            logger.debug("no %s outcome: no sensitivity for it", col)
            continue
        y = _outcome_values(ok, col)
        finite = y[np.isfinite(y)]
        if finite.size == 0 or np.ptp(finite) == 0:
            constant.append(col)
        out[col] = rank_sensitivity(x, y) if inputs else {}
    return out, constant


# ------------------------------------------------------------------------------ the run
def risk(scenario: Scenario | None = None, *, samples: int | None = None,
         seed: int | None = None, workers: int = 1, resolution: float | None = None,
         weeks: float | None = None, out_dir: str | os.PathLike | None = None,
         progress: bool | None = None,
         case_fn: Callable[[dict], Mapping] | None = None) -> RiskResult:
    """Monte Carlo over the uncertain inputs of a scenario: failure probabilities and
    sensitivities.

    Parameters
    ----------
    scenario : Scenario, optional
        Base scenario; default :meth:`Scenario.default`. Every field it marks uncertain
        (``scenario.uncertain()``) is sampled; the others keep their values.
    samples : int, optional
        Number of samples (>= 1); default ``risk.samples``.
    seed : int, optional
        Root seed of the draws (>= 0); default ``risk.seed``. Written into each sample's
        ``risk.seed``.
    workers : int
        Local worker processes (1 runs in this process). The result does not depend on it.
    resolution : float, optional
        Mesh resolution (-) of every sample, instead of ``segment.resolution``.
    weeks : float, optional
        Timeline length (weeks, integral) of every sample, instead of ``timeline.weeks``. A
        nonunion horizon beyond it is brought down to it (logged), as are explicit
        ``output.vtu_weeks`` after it.
    out_dir : path, optional
        Folder of the results store (``out_dir/results.sqlite``, created if missing): run
        again with the same arguments to resume an interrupted run without recomputing the
        stored samples. At the end ``risk.json`` (:meth:`RiskResult.to_json_dict`) and
        ``samples.csv`` are written there too (``spinesim plot`` draws the tornado charts
        from them). Default: a temporary folder, removed afterwards.
    progress : bool, optional
        Progress bar on stderr; default only when stderr is a terminal.
    case_fn : callable
        ``case_fn(params) -> outcomes`` with ``params`` the nested resolved scenario of one
        sample (:meth:`Scenario.to_dict`) and outcomes holding at least the
        ``<mode>_fails`` columns of :data:`spinesim.outcomes.OUTCOME_COLUMNS`; default the
        timeline, :func:`spinesim.outcomes.run_shared_case` (the samples share their segment
        model, per stratum of a segment input: each worker condenses a model from its first
        sample on), or :func:`spinesim.outcomes.run_case` for a single sample. Picklable
        (top level of a module) if ``workers > 1``.

    Returns
    -------
    RiskResult

    Raises
    ------
    RiskError
        Bad ``samples``, ``seed`` or ``workers``; overrides the scenario rejects; a sample
        that is invalid even after clipping into the allowed ranges (naming key and value);
        no sample succeeded; outcomes without the failure modes.
    spinesim.errors.SweepError
        A worker process died (the finished samples stay stored in ``out_dir``).

    Notes
    -----
    Sampled values outside a field's allowed range (a log-normal tail) are clipped into it,
    with a warning; integer fields get rounded integers. The probability of each mode is
    over the samples whose case function succeeded; the failed samples are counted in
    ``failed`` and their messages kept.
    """
    t0 = time.perf_counter()
    scenario = Scenario.default() if scenario is None else scenario
    if not isinstance(scenario, Scenario):
        raise RiskError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    n = _integer("samples", scenario.get("risk.samples") if samples is None else samples, 1,
                 "number of Monte Carlo samples")
    seed = _integer("seed", scenario.get("risk.seed") if seed is None else seed, 0,
                    "root seed of the draws")
    workers = _integer("workers", workers, 1, "worker processes")
    level = float(scenario.get("risk.confidence"))
    base = _base(scenario, seed, resolution, weeks)
    inputs = base.uncertain()
    if not inputs:
        logger.warning("%s has no uncertain inputs: every sample is the same case",
                       scenario.source)
    given, nominal = _flat(scenario.to_dict(full=False)), _flat(Scenario.default().to_dict())
    replaced = {k: given[k] for k in inputs if k in given and given[k] != nominal.get(k)}
    if replaced:
        logger.warning("%s sets %s, which the Monte Carlo samples over their uncertainty "
                       "ranges instead (the given values are not used)", scenario.source,
                       ", ".join(f"{k} = {v!r}" for k, v in replaced.items()))
    draws = sample_inputs(inputs, n, seed)
    strata = int(base.get("risk.segment_strata"))
    grouped = [k for k in inputs if k in SEGMENT_INPUTS]
    for key in grouped:
        dist, (lo, hi) = inputs[key]
        draws[key] = stratify(draws[key], dist, lo, hi, strata)
    values, clipped = {}, {}
    for key, arr in draws.items():
        values[key], clipped[key] = _coerce(key, arr)
    cases = [_sample_params(base, {k: values[k][i] for k in inputs}, i) for i in range(n)]
    logger.info("risk: %d samples of %d uncertain inputs, seed %d, %d worker(s)", n,
                len(inputs), seed, workers)

    keys = [case_key(c) for c in cases]
    unique = list(dict(zip(keys, cases)).values())  # identical samples run once
    if grouped:  # one segment model per group, reused by the worker (module notes)
        unique.sort(key=lambda c: tuple(_flat(c)[k] for k in grouped))
    if len(unique) < n:
        logger.info("%d of %d samples repeat an earlier one and share its run",
                    n - len(unique), n)
    if case_fn is None:  # the samples share segment models (module notes)
        _check_geometry(base)
        case_fn = run_shared_case if len(unique) > 1 else run_case
    if out_dir is not None:
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise RiskError(f"{out}: output folder is a file")
        out.mkdir(parents=True, exist_ok=True)
        store = out / STORE_NAME
        df = run_sweep(unique, case_fn, store, workers=workers, progress=progress)
    else:
        store = None
        with tempfile.TemporaryDirectory(prefix="spinesim-risk-") as tmp:
            df = run_sweep(unique, case_fn, Path(tmp) / STORE_NAME, workers=workers,
                           progress=progress)

    table = _samples_table(df, cases, keys, values, list(inputs))
    ok = table[table["status"] == "done"]
    bad = table[table["status"] != "done"]
    errors = tuple(f"sample {i}: {e}" for i, e in zip(bad.index, bad["error"]))
    if ok.empty:
        first = f"; first error: {errors[0]}" if errors else ""
        raise RiskError(f"{scenario.source}: all {n} Monte Carlo samples failed{first}")
    probabilities = _probabilities(ok, level)
    sensitivity, constant = _sensitivity(ok, list(inputs))
    seconds = time.perf_counter() - t0
    per = ok["duration_s"].astype(float)
    per = per[np.isfinite(per)]
    info = {"seconds": seconds, "seconds_per_sample": float(per.mean()) if per.size else None,
            "counts": dict(df.attrs.get("counts", {})),
            "store": None if store is None else str(store), "resolution":
            base.get("segment.resolution") if base.applies("segment.resolution") else None,
            "weeks": base.get("timeline.weeks"), "confidence": level,
            "clipped": {k: v for k, v in clipped.items() if v}, "constant_outcomes": constant,
            "stratified": {k: strata for k in grouped}}
    logger.info("risk finished in %.1f s: %d done, %d failed", seconds, len(ok), len(bad))
    result = RiskResult(probabilities=probabilities, sensitivity=sensitivity, samples=table,
                        failed=len(bad), errors=errors, seed=seed, inputs=dict(inputs),
                        info=info)
    if out_dir is not None:  # the folder `spinesim plot` reads: risk.json and samples.csv
        write_json(out / "risk.json", result.to_json_dict())
        write_csv(out / "samples.csv", table)
    return result


def _samples_table(df: pd.DataFrame, cases: list[dict], keys: list[str],
                   values: dict[str, list], inputs: list[str]) -> pd.DataFrame:
    """One row per sample (identical samples share their stored case)."""
    import pandas as pd

    params = set()
    for c in cases[:1]:
        params.update(_flat(c))
    outcome_cols = [c for c in df.columns if c not in params and c not in _META]
    by_key = df.set_index("key", drop=False)
    rows = by_key.loc[keys, [*outcome_cols, *_META]]
    rows.index = pd.RangeIndex(len(cases), name="sample")
    table = pd.DataFrame({k: values[k] for k in inputs}, index=rows.index)
    return pd.concat([table, rows], axis=1)


def _demo_case(params: dict) -> dict:
    """A stand-in timeline for examples: failures from simple thresholds on the inputs."""
    level = params["activity"]["level"]
    graft = params["graft"]["initial_modulus_mpa"]
    return {"insufficient_support_fails": level > 1.0,
            "hardware_fatigue_fails": level * params["hardware"]["rod"]["notch_factor"] > 2.2,
            "nonunion_fails": graft < 0.4, "rod_damage": level ** 3,
            "max_micromotion_um": 10.0 * level, "union_week": None if graft < 0.4 else 12}
