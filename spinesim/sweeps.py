"""Parameter sweeps: run many cases on a local process pool or a Dask cluster.

A sweep is a list of fully resolved case parameters (:func:`expand` builds it from a base
scenario and a sweep spec, see :mod:`spinesim.sweep_design`) and a case function
``fn(params: dict) -> dict`` of outcomes. :func:`run_sweep` runs the cases not yet in the
results store (:class:`spinesim.store.ResultsStore`), writes each into the store as it
finishes, and returns one tidy table, one row per case in design order.

Sweep files (``spinesim sweep sweep.toml``, :func:`spinesim.sweep`) vary scenario keys:
:func:`load_sweep` validates one against the scenario schema and builds every case as a full
scenario dict; :func:`sweep_scenarios` runs them, one healing timeline per case
(:func:`spinesim.outcomes.run_case`), grouped by the segment model they need so that each
worker builds and condenses a model once (:func:`spinesim.outcomes.run_shared_case`).

Only the calling process writes to the store, so workers may run anywhere (a local pool, a
Dask cluster on other machines). A sweep killed at any point resumes where it stopped: run it
again with the same cases and store, and only the missing cases run.

Example
-------
>>> import tempfile, os
>>> from spinesim.sweeps import expand, run_sweep
>>> cases = expand({"rod": {"diameter_mm": 6.0}},
...                {"design": "grid", "parameters": {"rod.diameter_mm": [5.5, 6.0, 6.5]}})
>>> df = run_sweep(cases, _demo_case, tempfile.mkdtemp())  # a folder: folder/results.sqlite
>>> df["rod_stress_mpa"].round(1).tolist(), df["status"].tolist()
([459.2, 353.7, 278.2], ['done', 'done', 'done'])
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import pickle
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spinesim.atomic import atomic_path, write_json
from spinesim.store import ResultsStore, _canonical, _dumps, _flatten, case_key
from spinesim.sweep_design import (
    ParameterSpec,
    SweepError,
    SweepSpec,
    apply_overrides,
    case_seeds,
    design_points,
    expand,
    parse_spec,
)

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["SCENARIO_SEED_KEY", "STORE_NAME", "ScenarioSweep", "SweepError", "SweepSpec",
           "apply_overrides", "available_cpus", "case_seeds", "check_scheduler_address",
           "design_points", "expand", "load_spec", "load_sweep", "parse_spec", "run_sweep",
           "sweep", "sweep_scenarios", "sweep_table", "write_table"]

#: File name of the results store in a sweep's output folder.
STORE_NAME = "results.sqlite"
#: Environment variables that cap BLAS/OpenMP/numba threads in each worker process.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS")
#: Columns of the sweep table after the parameters and outcomes.
TABLE_META = ("status", "error", "duration_s", "key")

CaseFn = Callable[[dict], Mapping]
# outcomes, status, error, duration_s, traceback
_Result = tuple[dict | None, str, str | None, float, str | None]


def _demo_case(params: dict) -> dict:
    """Bending stress of a rod under 7.5 N·m, in MPa (for the module example)."""
    d = params["rod"]["diameter_mm"]
    return {"rod_stress_mpa": 32.0 * 7.5e3 / (3.141592653589793 * d ** 3)}


# ------------------------------------------------------------------------------ workers
_THREADPOOL_LIMITED = False


def _limit_threads() -> None:
    """Cap BLAS/OpenMP/numba threads at one in this process (worker initializer).

    The environment variables act on libraries loaded after this call; threadpoolctl (if
    installed) caps those already loaded; numba's count is set for the calling thread.
    """
    global _THREADPOOL_LIMITED
    for name in THREAD_ENV:
        os.environ[name] = "1"
    if not _THREADPOOL_LIMITED:
        _THREADPOOL_LIMITED = True
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            threadpool_limits(1)
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            numba.set_num_threads(1)
        except Exception:
            logger.debug("could not cap numba threads", exc_info=True)


def _run_case(fn: CaseFn, params: dict, limit_threads: bool = False) -> _Result:
    """Run one case where it is scheduled; a failure is a result, not an exception."""
    if limit_threads:
        _limit_threads()
    t0 = time.perf_counter()
    try:
        outcomes = fn(params)
        if not isinstance(outcomes, Mapping):
            raise TypeError(f"the case function returned {type(outcomes).__name__}, not a dict")
        outcomes = _canonical(outcomes, "", allow_nan=True)
        _dumps(outcomes, allow_nan=True)
        return outcomes, "done", None, time.perf_counter() - t0, None
    except Exception as exc:  # noqa: BLE001 - stored with the case
        import traceback

        return (None, "failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0,
                traceback.format_exc())


def _run_serial(todo: list[tuple[str, dict]], fn: CaseFn, store: ResultsStore
                ) -> Iterator[tuple[str, dict, _Result]]:
    for key, params in todo:
        if not _is_done(store, key):
            yield key, params, _run_case(fn, params)


def _is_done(store: ResultsStore, key: str) -> bool:
    """True if case ``key`` is stored as done (perhaps by another writer meanwhile)."""
    case = store.get(key)
    return case is not None and case["status"] == "done"


def _check_picklable(fn: CaseFn) -> None:
    try:
        pickle.dumps(fn)
    except Exception as exc:
        raise SweepError(
            f"the case function {fn!r} cannot be sent to worker processes ({exc}); define it "
            "at the top level of an importable module (not a lambda or a nested function)"
        ) from exc
    main = sys.modules.get("__main__")
    if getattr(fn, "__module__", None) == "__main__" and not getattr(main, "__file__", None):
        raise SweepError(
            f"the case function {fn!r} is defined in an interactive session; worker "
            "processes cannot import it: put it in a module, or use workers=1"
        )


@contextmanager
def _thread_env() -> Iterator[None]:
    """Set THREAD_ENV to 1 in this process while worker processes start (they inherit it
    before any import), and restore it afterwards."""
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    os.environ.update(dict.fromkeys(THREAD_ENV, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_pool(todo: list[tuple[str, dict]], fn: CaseFn, store: ResultsStore, workers: int
              ) -> Iterator[tuple[str, dict, _Result]]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    _check_picklable(fn)
    ctx = multiprocessing.get_context("spawn")  # no inherited locks, threads or connections
    queue = iter(todo)
    inflight: dict[Any, tuple[str, dict]] = {}
    with _thread_env(), ProcessPoolExecutor(workers, mp_context=ctx,
                                           initializer=_limit_threads) as pool:
        try:
            while True:
                # a short queue: cases another writer finished meanwhile are skipped
                while len(inflight) < 2 * workers:
                    key, params = next(queue, (None, None))
                    if key is None:
                        break
                    if not _is_done(store, key):
                        inflight[pool.submit(_run_case, fn, params)] = (key, params)
                if not inflight:
                    return
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                # results first: a broken pool must not hide cases that finished with it
                for fut in sorted(finished, key=lambda f: f.exception() is not None):
                    key, params = inflight.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool as exc:
                        raise SweepError(
                            "a worker process died (killed, out of memory or crashed in "
                            f"compiled code) while running case {key[:12]} or another one; "
                            f"the finished cases are in {str(store.path)!r}: run the sweep "
                            "again to resume"
                        ) from exc
                    yield key, params, result
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _import_distributed() -> Any:
    """The ``distributed`` module, or a SweepError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise SweepError(
            "running a sweep on a Dask cluster needs dask.distributed; install it with "
            "`pip install spinesim[dask]` (or `pip install \"dask[distributed]\"`)"
        ) from exc
    return distributed


def _scheme_problem(scheme: str, allow_inproc: bool) -> str | None:
    """Why dask cannot connect over address scheme ``scheme`` here (None if it can): unknown to
    its comm registry (built-in backends and ``distributed.comm.backends`` entry points), a
    backend that cannot make a connector (e.g. the ucx stub without UCX-Py), or inproc when
    not allowed."""
    from distributed.comm import registry

    try:
        backend = registry.get_backend(scheme)
    except ValueError:
        return f"unknown scheme {scheme!r}"
    if scheme == "inproc" and not allow_inproc:
        return ("an inproc address reaches only a scheduler inside the same process, which a "
                "command does not have")
    try:
        backend.get_connector()
    except Exception as exc:  # noqa: BLE001 - any failure means: not usable here
        return f"dask cannot connect over {scheme!r} here: {_one_line(exc)}"
    return None


def check_scheduler_address(address: str, what: str = "Dask scheduler address", *,
                            allow_inproc: bool = True) -> str:
    """Check a Dask scheduler address before anything connects to it or is written.

    The address is split as dask does (``distributed.comm.addressing.parse_address``, no
    scheme meaning dask's default, tcp), its scheme must be one dask can connect over here
    (its comm registry: tcp, tls, ws, wss, ...), and for a network scheme the location must
    be ``host:port`` (``parse_host_port``; IPv6 in brackets) with a host and a port from 1 to
    65535. ``inproc`` addresses (a scheduler in this process) pass unless ``allow_inproc`` is
    False. Returns ``address``; raises SweepError naming ``what``, the address, the problem
    and what is expected.
    """
    _import_distributed()
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    def bad(problem: str) -> SweepError:
        usable = ", ".join(k for k in sorted(registry.backends)
                           if _scheme_problem(k, allow_inproc) is None)
        return SweepError(f"{what} {address!r}: {problem}; expected [scheme://]host:port, e.g. "
                          f"tcp://host:8786, with a scheme dask can connect over ({usable}) "
                          "and a port from 1 to 65535")

    if not isinstance(address, str) or not address.strip():
        raise bad("empty address")
    scheme, location = parse_address(address)
    problem = _scheme_problem(scheme, allow_inproc)
    if problem is not None:
        raise bad(problem)
    if scheme == "inproc":
        return address
    try:
        host, port = parse_host_port(location)
    except ValueError as exc:
        raise bad(f"not host:port ({exc})") from None
    if not host:
        raise bad("no host")
    if not 1 <= port <= 65535:
        raise bad(f"port {port} is outside 1 to 65535")
    return address


@contextmanager
def _dask_client(scheduler: Any) -> Iterator[Any]:
    """A connected client for ``scheduler``: None for None; a client as given; an address (or
    a LocalCluster's) checked, connected here and closed afterwards. SweepError if the
    address is bad or the scheduler does not answer within 30 s."""
    if scheduler is None:
        yield None
        return
    distributed = _import_distributed()
    scheduler = getattr(scheduler, "scheduler_address", scheduler)  # a LocalCluster
    if not isinstance(scheduler, (str, os.PathLike)):
        yield scheduler
        return
    address = check_scheduler_address(str(scheduler))
    try:
        client = distributed.Client(address, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot connect to the Dask scheduler at {address!r}: "
                         f"{_one_line(exc)}") from exc
    try:
        yield client
    finally:
        client.close()


def _run_dask(todo: list[tuple[str, dict]], fn: CaseFn, client: Any
              ) -> Iterator[tuple[str, dict, _Result]]:
    """Run ``todo`` on the cluster of a connected ``client``, yielding results as they
    finish; unfinished cases are cancelled when the iteration stops."""
    import distributed

    futures: dict[Any, tuple[str, dict]] = {}
    try:
        futures = {client.submit(_run_case, fn, params, True, key=f"spinesim-case-{key}",
                                 pure=False): (key, params) for key, params in todo}
        for fut in distributed.as_completed(futures):
            key, params = futures.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:
                if fut.status == "cancelled":
                    raise SweepError(f"Dask cancelled case {key[:12]}: {exc}") from exc
                result = (None, "failed", f"{type(exc).__name__}: {exc}", float("nan"), None)
            yield key, params, result
    finally:
        if futures:
            client.cancel(list(futures))


# ------------------------------------------------------------------------------ the run
def _progress_bar(progress: bool | None, total: int, initial: int) -> Any:
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if show:
        try:
            from tqdm import tqdm
        except ImportError:
            logger.warning("progress bar unavailable: tqdm is not installed")
        else:
            return tqdm(total=total, initial=initial, unit="case", desc="sweep",
                        file=sys.stderr, dynamic_ncols=True)
    return None


def run_sweep(cases: Iterable[Mapping], fn: CaseFn, store_path: str | os.PathLike, *,
              workers: int = 1, scheduler: Any = None, progress: bool | None = None,
              retry_failed: bool = True,
              group_key: Callable[[dict], Hashable] | None = None) -> pd.DataFrame:
    """Run the cases not yet stored, store each as it finishes, return the table.

    Parameters
    ----------
    cases : iterable of Mapping
        Fully resolved case parameters in design order (see :func:`expand`).
    fn : callable
        ``fn(params) -> dict`` of outcomes (JSON-like values). For ``workers > 1`` or a Dask
        scheduler it must be picklable: a function at the top level of an importable module.
        An exception in ``fn`` stores the case as failed with its message; the sweep goes on.
    store_path : str or os.PathLike
        SQLite results store file (its folder must exist), or an existing folder: the store
        is then ``folder/results.sqlite``.
    workers : int
        Local worker processes (spawned, BLAS/OpenMP/numba capped at one thread each).
        ``1`` runs the cases in this process, uncapped.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``tcp://host:8786``) or a connected client: run the cases
        on that cluster instead of locally. Needs the ``spinesim[dask]`` extra. An address is
        checked (:func:`check_scheduler_address`) and connected before the store is opened,
        so a bad or silent scheduler creates no store file.
    progress : bool, optional
        Show a tqdm progress bar on stderr; by default only when stderr is a terminal.
    retry_failed : bool
        Run cases stored as failed again (default) or keep their failure.
    group_key : callable, optional
        ``group_key(params)`` -> a hashable value: cases with equal values are dispatched one
        after another (groups in order of first appearance, design order within a group), so
        that a worker's cached model is reused (:func:`sweep_scenarios` groups by the
        segment model a case needs). The table stays in design order.

    Returns
    -------
    pandas.DataFrame
        :func:`sweep_table` of the cases; ``df.attrs["counts"]`` holds this run's
        ``{"done", "failed", "skipped"}`` counts.

    Raises
    ------
    SweepError
        For bad arguments, an unpicklable ``fn``, a worker process that died, an unreachable
        scheduler or missing dask. Finished cases stay stored; run again to resume.

    Notes
    -----
    Only this process writes to the store. Local workers are started with the ``spawn``
    method: a script that calls ``run_sweep(workers=2)`` needs the usual
    ``if __name__ == "__main__":`` guard. While the pool runs, this process's
    ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and
    ``NUMBA_NUM_THREADS`` are set to 1 so that the workers start with them; they are restored
    afterwards. On Dask, each task caps numba (and BLAS through threadpoolctl, if installed)
    itself; Dask's nanny already starts workers with OMP/MKL/OpenBLAS at one thread. A
    sweep killed by a signal keeps every case stored before the kill; kill the whole process
    group (as a job scheduler does) so that no orphaned worker keeps computing.
    """
    cases = [dict(c) for c in cases]
    _check_run_args(workers, scheduler)
    # connected before the store is opened: a bad or silent scheduler creates no store file
    with _dask_client(scheduler) as client, _open_store(store_path) as store:
        todo = store.pending(cases, retry_failed=retry_failed)
        if group_key is not None:
            todo = _grouped(todo, group_key)
        unique = len({store.key(c) for c in cases})
        counts = {"done": 0, "failed": 0, "skipped": unique - len(todo)}
        logger.info("sweep: %d cases, %d to run, %d already stored in %s", unique, len(todo),
                    counts["skipped"], store.path)
        if client is not None:
            results = _run_dask(todo, fn, client)
        elif workers > 1 and len(todo) > 1:
            results = _run_pool(todo, fn, store, workers)
        else:
            results = _run_serial(todo, fn, store)
        bar = _progress_bar(progress, unique, counts["skipped"])
        try:
            for i, (key, params, result) in enumerate(results, 1):
                outcomes, status, error, duration, trace = result
                store.put(key, params, outcomes, duration, status=status, error=error)
                counts[status] += 1
                logger.info("case %d/%d %s %s in %.2f s", i, len(todo), key[:12], status,
                            duration)
                if error:
                    logger.warning("case %s failed: %s", key[:12], error)
                    logger.debug("case %s traceback:\n%s", key[:12], trace)
                if bar is not None:
                    bar.update()
                    bar.set_postfix(failed=counts["failed"], refresh=False)
        finally:
            if bar is not None:
                bar.close()
            results.close()
        counts["skipped"] = unique - counts["done"] - counts["failed"]
        logger.info("sweep finished: %s", counts)
        df = sweep_table(cases, store)
    df.attrs["counts"] = counts
    return df


def _check_run_args(workers: Any, scheduler: Any) -> None:
    """SweepError for a bad ``workers`` or for both ``workers`` and ``scheduler``."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise SweepError(f"workers must be an integer >= 1, got {workers!r}")
    if scheduler is not None and workers != 1:
        raise SweepError("give either workers (a local pool) or scheduler (a Dask cluster), "
                         "not both: the cluster sets its number of workers")


def _grouped(todo: list[tuple[str, dict]], group_key: Callable[[dict], Hashable]
             ) -> list[tuple[str, dict]]:
    """``todo`` reordered so that cases of equal ``group_key`` follow each other: groups in
    order of first appearance, list order within a group (a stable sort)."""
    rank: dict[Hashable, int] = {}
    ranks = [rank.setdefault(group_key(params), len(rank)) for _, params in todo]
    if len(rank) > 1:
        logger.info("sweep: %d cases in %d groups, dispatched group by group", len(todo),
                    len(rank))
    return [todo[i] for i in sorted(range(len(todo)), key=ranks.__getitem__)]


def _open_store(store_path: str | os.PathLike) -> ResultsStore:
    path = Path(store_path)
    return ResultsStore(path / STORE_NAME if path.is_dir() else path)


# ------------------------------------------------------------------------------ the table
def sweep_table(cases: Sequence[Mapping], store: ResultsStore | str | os.PathLike
                ) -> pd.DataFrame:
    """One row per case, in the order of ``cases``, from the results store.

    Columns: the parameters flattened with dotted names, the outcomes flattened the same way,
    then ``status`` ("done", "failed" or "pending" if not stored), ``error``, ``duration_s``
    (wall time of the case, in s: the only column that varies between identical runs) and
    ``key``. Parameters are canonical (numpy values as Python numbers, tuples as lists). An
    outcome named like a parameter is prefixed ``outcomes.``, a parameter named like a meta
    column or ``case``, ``params.``. The index, named ``case``, is the position in ``cases``;
    a repeated case appears once, at its first position.
    """
    import pandas as pd

    if not isinstance(store, ResultsStore):
        with _open_store(store) as opened:
            return sweep_table(cases, opened)
    rows, index, seen = [], [], set()
    param_cols: dict[str, None] = {}
    outcome_rows = []
    for i, params in enumerate(cases):
        key = store.key(params)
        if key in seen:
            logger.warning("case %d repeats an earlier case (%s); listed once", i, key[:12])
            continue
        seen.add(key)
        stored = store.get(key)
        flat = {(f"params.{k}" if k in TABLE_META or k == "case" else k): v
                for k, v in _flatten(_canonical(params, "", allow_nan=False)).items()}
        param_cols.update(dict.fromkeys(flat))
        outcome_rows.append(_flatten((stored or {}).get("outcomes") or {}))
        meta = {"status": "pending", "error": None, "duration_s": float("nan"), "key": key}
        if stored is not None:
            meta.update({k: stored[k] for k in ("status", "error", "duration_s")})
        rows.append((flat, meta))
        index.append(i)
    outcome_cols: dict[str, None] = {}
    records = []
    for (flat, meta), outcomes in zip(rows, outcome_rows):
        named = {(f"outcomes.{k}" if k in param_cols or k in TABLE_META else k): v
                 for k, v in outcomes.items()}
        outcome_cols.update(dict.fromkeys(named))
        records.append({**flat, **named, **meta})
    columns = [*param_cols, *outcome_cols, *TABLE_META]
    return pd.DataFrame(records, columns=columns, index=pd.Index(index, name="case"))


def _cell(value: Any) -> Any:
    import json

    return json.dumps(value) if isinstance(value, (list, dict)) else value


def _flat_for_files(df: pd.DataFrame) -> pd.DataFrame:
    """Lists and dicts as JSON text; object columns of mixed types as text."""
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if col.dtype != object:
            continue
        col = col.map(_cell)
        types = {type(v) for v in col
                 if v is not None and not (isinstance(v, float) and math.isnan(v))}
        if len(types) > 1 and not types <= {int, float}:
            col = col.map(lambda v: v if v is None else str(v))
        out[name] = col
    return out


def write_table(df: pd.DataFrame, folder: str | os.PathLike, name: str = "results"
                ) -> dict[str, Path]:
    """Write a sweep table as ``folder/name.csv`` and ``folder/name.parquet``, atomically.

    Each file is written to a temporary file and renamed, so neither is ever half written.
    Lists and dicts are written as JSON text, columns of mixed types as text.

    Returns
    -------
    dict
        ``{"csv": path, "parquet": path}``.
    """
    try:
        import pyarrow  # noqa: F401 - checked before anything is written
    except ImportError as exc:
        raise SweepError("writing Parquet needs pyarrow: `pip install pyarrow`") from exc
    folder = Path(folder)
    flat = _flat_for_files(df)
    paths = {"csv": folder / f"{name}.csv", "parquet": folder / f"{name}.parquet"}
    with atomic_path(paths["csv"]) as tmp:
        flat.to_csv(tmp, index=True)
    with atomic_path(paths["parquet"]) as tmp:
        flat.to_parquet(tmp, engine="pyarrow", index=True)
    logger.info("sweep table written to %s and %s", paths["csv"], paths["parquet"])
    return paths


# ------------------------------------------------------------------------------ one call
def load_spec(path: str | os.PathLike) -> dict:
    """Read a sweep spec from a TOML file (validate it with :func:`parse_spec`;
    :func:`spinesim.toml_file.read_toml` for the file's own errors)."""
    from spinesim.toml_file import read_toml

    return read_toml(path, "sweep file", SweepError)


def sweep(base_params: Mapping, spec: Mapping | SweepSpec, fn: CaseFn,
          out_dir: str | os.PathLike, *, workers: int = 1, scheduler: Any = None,
          progress: bool | None = None, retry_failed: bool = True) -> pd.DataFrame:
    """Expand a sweep, run it into ``out_dir`` and write its table there.

    ``out_dir`` receives ``results.sqlite`` (the store; run again to resume),
    ``sweep.json`` (the validated spec), ``results.csv`` and ``results.parquet``. The other
    arguments are those of :func:`expand` and :func:`run_sweep`.
    """
    spec = parse_spec(spec)
    cases = expand(base_params, spec)
    return _run_into(out_dir, cases, _spec_dict(spec), fn, workers=workers,
                     scheduler=scheduler, progress=progress, retry_failed=retry_failed)


def _run_into(out_dir: str | os.PathLike, cases: list[dict], description: Mapping, fn: CaseFn,
              **run_kw: Any) -> pd.DataFrame:
    """Run ``cases`` into ``out_dir``: sweep.json, the store, results.csv/.parquet. The
    arguments are checked and a scheduler connected before anything is created."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SweepError(f"output folder {str(out_dir)!r} is a file")
    scheduler = run_kw.pop("scheduler", None)
    _check_run_args(run_kw.get("workers", 1), scheduler)
    with _dask_client(scheduler) as client:
        out_dir.mkdir(parents=True, exist_ok=True)
        _open_store(out_dir / STORE_NAME).close()  # another program's file: refused first
        write_json(out_dir / "sweep.json", description)
        df = run_sweep(cases, fn, out_dir / STORE_NAME, scheduler=client, **run_kw)
        write_table(df, out_dir)
    return df


def _spec_dict(spec: SweepSpec) -> dict:
    params = {}
    for p in spec.parameters:
        if p.distribution == "choice":
            params[p.key] = {"values": list(p.values)}
        else:
            params[p.key] = {k: getattr(p, k) for k in ("low", "high", "mean", "std")
                             if getattr(p, k) is not None}
            params[p.key]["distribution"] = p.distribution
    out = {"design": spec.design, "seed": spec.seed, "seed_key": spec.seed_key,
           "parameters": params}
    if spec.samples is not None:
        out["samples"] = spec.samples
    return out


# ------------------------------------------------------------------------------ scenario sweeps
#: Where each case of a scenario sweep gets its own seed (a scenario key).
SCENARIO_SEED_KEY = "risk.seed"
_FILE_KEYS = ("sweep", "scenario")


@dataclass(frozen=True)
class ScenarioSweep:
    """A validated sweep over scenario parameters; build it with :func:`load_sweep`.

    Attributes
    ----------
    source : str
        The sweep file, or ``<sweep>`` for a dict.
    spec : SweepSpec
        The design (``[sweep]`` and ``[sweep.parameters]``).
    scenario : Scenario
        The base scenario: the ``scenario`` file (or the default) with the ``[scenario]``
        table and any overrides applied.
    points : list of dict
        Each case's swept values, ``{dotted key: value}``, in case order.
    cases : list of dict
        Each case as a full scenario dict (:meth:`Scenario.to_dict`), validated, with its own
        seed at ``spec.seed_key`` (``risk.seed`` by default).
    """

    source: str
    spec: SweepSpec
    scenario: Any
    points: list[dict[str, Any]]
    cases: list[dict[str, Any]]

    def description(self) -> dict[str, Any]:
        """What sweep.json records: the design, the base scenario (given values), the file."""
        return {**_spec_dict(self.spec), "source": self.source,
                "scenario": self.scenario.to_dict(full=False)}


def _one_line(exc: BaseException) -> str:
    return "; ".join(line.strip(" -") for line in str(exc).splitlines() if line.strip())


def _sweep_error(exc: BaseException) -> SweepError:
    return SweepError(_one_line(exc))


def _read_sweep_file(path: Path) -> dict:
    return load_spec(path)


def _base_scenario(data: Mapping, where: str, base_dir: Path | None,
                   overrides: Mapping[str, Any] | None) -> Any:
    from spinesim.scenario import Scenario, ScenarioError

    table = data.get("sweep")
    file_in_sweep = table.get("scenario") if isinstance(table, Mapping) else None
    top = data.get("scenario")
    top_file = top if isinstance(top, str) else None
    table_over = top if isinstance(top, Mapping) else {}
    if top is not None and top_file is None and not isinstance(top, Mapping):
        raise SweepError(f"{where}: 'scenario' must be a scenario file name or a table of "
                         f"scenario values, got {top!r}")
    if file_in_sweep is not None and top_file is not None:
        raise SweepError(f"{where}: the base scenario file is given twice ([sweep] scenario "
                         "and a top-level scenario); keep one")
    scenario_file = file_in_sweep if file_in_sweep is not None else top_file
    try:
        if scenario_file is None:  # the default; relative paths are next to the sweep file
            base = Scenario.from_dict({}, source=where, base_dir=base_dir)
        else:
            if not isinstance(scenario_file, (str, os.PathLike)) or not str(scenario_file):
                raise SweepError(f"{where}: [sweep] scenario must be a scenario file name, got "
                                 f"{scenario_file!r}")
            sfile = Path(scenario_file).expanduser()
            if not sfile.is_absolute() and base_dir is not None:
                sfile = base_dir / sfile
            try:
                base = Scenario.from_toml(sfile)
            except ScenarioError as exc:
                raise SweepError(f"{where}: [sweep] scenario: {_one_line(exc)}") from exc
        if table_over:
            base = base.with_values(table_over, source=f"{where}: [scenario]")
        if overrides:
            base = base.with_values(overrides, source=f"{where}: overrides")
    except ScenarioError as exc:
        raise _sweep_error(exc) from exc
    return base


def _check_parameter(base: Any, p: ParameterSpec, where: str) -> None:
    """A swept key must be a scenario field and its values (or range) must fit the field."""
    from spinesim.scenario import ScenarioError
    from spinesim.scenario_schema import FieldValueError, check, dimension_field, field

    label = f"{where}: [sweep.parameters] {p.key!r}"
    try:
        f = field(p.key)
    except KeyError:
        try:
            f = dimension_field(p.key)    # segment.dimensions.L4.endplate_width_mm
        except KeyError:
            f = None
    if f is None:
        probe = p.values[0] if p.values else p.low if p.low is not None else p.mean
        try:  # the scenario's own message: "unknown key ...; did you mean ...?"
            base.with_values({p.key: probe}, source=f"{where}: [sweep.parameters]")
        except ScenarioError as exc:
            raise _sweep_error(exc) from exc
        raise SweepError(f"{label}: not a scenario value") from None
    if p.distribution != "choice" and f.kind != "float":
        what = "an integer" if f.kind == "int" else f"not a number ({f.allowed()})"
        raise SweepError(f"{label}: a {p.distribution} range needs a number, but {p.key} is "
                         f"{what}; give a list of 'values'")
    if p.distribution == "choice":
        for v in p.values:
            try:
                check(f, v)
            except FieldValueError as exc:
                raise SweepError(f"{label}: {exc}") from None
        return
    for name in ("low", "high", "mean"):
        v = getattr(p, name)
        if v is not None:
            try:
                check(f, v)
            except FieldValueError:
                raise SweepError(f"{label}: {name!r} = {v!r} is out of range; "
                                 f"{f.allowed()}") from None


def _dotted_parameters(table: Mapping, prefix: str = "") -> dict[str, Any]:
    """``[sweep.parameters]`` with bare dotted keys (``hardware.rod.diameter_mm = [...]``,
    nested tables in TOML) as quoted dotted keys: a table is a parameter if it has a
    parameter key (values, choices, low, ...), else a level of the dotted name."""
    from spinesim.sweep_design import _PARAM_KEYS

    out: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, Mapping) and value and not any(k in _PARAM_KEYS for k in value):
            out.update(_dotted_parameters(value, key))
        else:
            out[key] = value
    return out


def _describe_point(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items())


def load_sweep(path_or_spec: str | os.PathLike | Mapping, *,
               overrides: Mapping[str, Any] | None = None,
               base_dir: str | os.PathLike | None = None) -> ScenarioSweep:
    """Read and validate a sweep over scenario parameters; build every case.

    A sweep file (TOML)::

        [sweep]
        design = "grid"                    # grid, random or lhs
        seed = 1                           # root seed (optional)
        scenario = "base.toml"             # base scenario, relative to this file (optional)

        [sweep.parameters]                 # dotted scenario keys
        "hardware.rod.material" = ["ti6al4v", "cocr"]
        "hardware.rod.diameter_mm" = [5.5, 6.0]

        [scenario]                         # changes to the base scenario (optional)
        timeline.weeks = 26

    The ``[sweep]`` table takes the keys of :func:`spinesim.sweep_design.parse_spec`
    (``design``, ``samples``, ``seed``, ``seed_key``, ``parameters``) and ``scenario``; each
    case gets its own seed at ``seed_key``, a scenario key (``risk.seed`` by default).

    Parameters
    ----------
    path_or_spec : path or Mapping
        The sweep file, or its content as a dict (``{"sweep": {...}, "scenario": {...}}``).
    overrides : Mapping, optional
        Scenario values (dotted keys or nested tables) applied to the base scenario after the
        ``[scenario]`` table, so to every case (a swept key still takes its swept values).
    base_dir : path, optional
        Folder that relative file names are relative to when ``path_or_spec`` is a dict
        (default: the current folder); for a file, its folder.

    Returns
    -------
    ScenarioSweep

    Raises
    ------
    SweepError
        One line naming the file and the key: a missing or malformed file, an unknown key
        (with the closest valid one), a value out of range (with the range), a bad design, a
        case whose values contradict each other. Nothing has run.
    """
    from spinesim.scenario import ScenarioError

    if isinstance(path_or_spec, Mapping):
        data, where = path_or_spec, "<sweep>"
        folder = None if base_dir is None else Path(base_dir)
    else:
        path = Path(path_or_spec)
        data, where = _read_sweep_file(path), str(path)
        folder = path.resolve().parent if base_dir is None else Path(base_dir)
    bad = [k for k in data if k not in _FILE_KEYS]
    if bad:
        close = difflib.get_close_matches(bad[0], _FILE_KEYS, n=1)
        hint = f" (did you mean [{close[0]}]?)" if close else ""
        raise SweepError(f"{where}: unknown table or key {bad[0]!r}{hint}; a sweep file has "
                         "[sweep], [sweep.parameters] and optionally [scenario]")
    table = data.get("sweep")
    if not isinstance(table, Mapping):
        raise SweepError(f"{where}: no [sweep] table (with design and [sweep.parameters])"
                         if table is None else
                         f"{where}: 'sweep' must be a table, got {table!r}")
    raw = {k: v for k, v in table.items() if k != "scenario"}
    if isinstance(raw.get("parameters"), Mapping):
        raw["parameters"] = _dotted_parameters(raw["parameters"])
    raw.setdefault("seed_key", SCENARIO_SEED_KEY)
    spec = parse_spec(raw, source=f"{where}: [sweep]")
    base = _base_scenario(data, where, folder, overrides)
    from spinesim.scenario_schema import field

    try:
        seed_field = field(spec.seed_key)
    except KeyError:
        seed_field = None
    if seed_field is None or seed_field.kind != "int":
        raise SweepError(f"{where}: [sweep] seed_key {spec.seed_key!r} must be an integer "
                         f"scenario key such as {SCENARIO_SEED_KEY!r}")
    for p in spec.parameters:
        _check_parameter(base, p, where)
    points = design_points(spec)
    seeds = case_seeds(spec.seed, len(points))
    swept = [p.key for p in spec.parameters]
    cases = []
    for i, (point, seed) in enumerate(zip(points, seeds)):
        label = f"{where}: case {i} ({_describe_point(point)})"
        try:
            case = base.with_values({**point, spec.seed_key: seed}, source=label,
                                    drop_inapplicable=True)
        except ScenarioError as exc:
            raise _sweep_error(exc) from exc
        for key in swept:  # a swept value dropped as inapplicable: say why
            try:
                case.get(key)
            except ScenarioError as exc:
                reason = exc.problems[0][1] if exc.problems else _one_line(exc)
                raise SweepError(f"{label}: swept key {key} does not apply: {reason}") from None
        params = case.to_dict()
        mesh = case.get("segment.mesh")
        if mesh is not None:  # workers resolve no relative paths: make it absolute
            params["segment"]["mesh"] = str(case.path("segment.mesh").resolve())
        cases.append(params)
    return ScenarioSweep(where, spec, base, points, cases)


def _default_case_fn(shared: bool = False) -> CaseFn:
    """The timeline case function; ``shared``: cases share segment models (condensed from the
    first case of a model on, :func:`spinesim.outcomes.run_shared_case`)."""
    from spinesim import outcomes

    return outcomes.run_shared_case if shared else outcomes.run_case


def sweep_scenarios(path_or_spec: str | os.PathLike | Mapping, out_dir: str | os.PathLike, *,
                    workers: int | None = 1, scheduler: Any = None,
                    progress: bool | None = None, case_fn: CaseFn | None = None,
                    overrides: Mapping[str, Any] | None = None,
                    retry_failed: bool = True) -> pd.DataFrame:
    """Run a sweep file: every case a full timeline run; one tidy table of the results.

    Parameters
    ----------
    path_or_spec : path or Mapping
        Sweep file or its content (see :func:`load_sweep`); every case is validated before
        any runs.
    out_dir : path
        Output folder (created): ``results.sqlite`` (the store: run again to resume),
        ``sweep.json`` (the design and base scenario), ``results.csv`` and
        ``results.parquet``.
    workers : int or None
        Local worker processes (BLAS/OpenMP/numba capped at one thread each); ``1`` runs the
        cases in this process; ``None`` uses one per available CPU, at most one per case.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:8786``): run on that cluster instead. Checked and
        connected before ``out_dir`` is created or written to.
    progress : bool, optional
        tqdm progress bar on stderr; by default only when stderr is a terminal.
    case_fn : callable, optional
        ``case_fn(scenario_dict) -> dict`` of outcomes; default the full timeline: the cases
        then run grouped by the segment model they need, and when models are shared, with
        :func:`spinesim.outcomes.run_shared_case` (condensed from the first case of a model
        in a worker on), else :func:`spinesim.outcomes.run_case`. A given ``case_fn`` runs
        in design order. Must be picklable for ``workers > 1`` or Dask.
    overrides : Mapping, optional
        Scenario values applied to every case (see :func:`load_sweep`).
    retry_failed : bool
        Run cases stored as failed again (default).

    Returns
    -------
    pandas.DataFrame
        One row per case: its scenario values (dotted columns), outcomes, ``status``,
        ``error``, ``duration_s``, ``key``. ``df.attrs`` holds ``counts`` (this run's
        done/failed/skipped), ``parameters`` (the swept keys) and ``files``.

    Raises
    ------
    SweepError
        Invalid sweep (see :func:`load_sweep`), or a failed run (see :func:`run_sweep`).

    Notes
    -----
    Local workers are spawned: a script calling this with ``workers > 1`` needs the
    ``if __name__ == "__main__":`` guard.
    """
    sw = load_sweep(path_or_spec, overrides=overrides)
    group_key, fn = None, case_fn
    if case_fn is None:  # one segment model per group, reused by the worker that runs it
        models = _timeline_models(sw)
        group_key = _by_model(models)
        fn = _default_case_fn(shared=len(set(models.values())) < len(models))
    if workers is None:
        workers = 1 if scheduler is not None else max(1, min(available_cpus(),
                                                             len(sw.cases)))
    df = _run_into(out_dir, sw.cases, sw.description(), fn, workers=workers,
                   scheduler=scheduler, progress=progress, retry_failed=retry_failed,
                   group_key=group_key)
    df.attrs["parameters"] = [p.key for p in sw.spec.parameters]
    df.attrs["files"] = {"store": str(Path(out_dir) / STORE_NAME),
                         "spec": str(Path(out_dir) / "sweep.json"),
                         "csv": str(Path(out_dir) / "results.csv"),
                         "parquet": str(Path(out_dir) / "results.parquet")}
    return df


def _by_model(models: Mapping[str, Hashable]) -> Callable[[dict], Hashable]:
    """Group key of :func:`run_sweep`: the model of a case, looked up by its key."""
    def model(params: dict) -> Hashable:
        return models[case_key(params)]

    return model


def _timeline_models(sw: ScenarioSweep) -> dict[str, Hashable]:
    """The segment model (:class:`spinesim.simulate.SegmentOptions`) each case's healing
    timeline needs, by :func:`spinesim.store.case_key`; SweepError naming the first case the
    timeline cannot run (construct, imported mesh, levels), before anything runs or is
    written."""
    from spinesim.errors import SpinesimError
    from spinesim.scenario import Scenario
    from spinesim.simulate import segment_options

    models = {}
    for i, params in enumerate(sw.cases):
        try:
            models[case_key(params)] = segment_options(Scenario.from_dict(params,
                                                                          source=sw.source))
        except SpinesimError as exc:
            raise SweepError(f"{sw.source}: case {i} ({_describe_point(sw.points[i])}): "
                             f"{_one_line(exc)}") from None
    return models


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a batch job's share; the machine's
    count where there is no affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
