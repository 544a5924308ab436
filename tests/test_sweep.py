"""Tests of parameter sweeps: designs, seeds, local pool vs Dask, crash safety, two writers."""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from spinesim.store import ResultsStore, case_key
from spinesim.sweeps import (
    SweepError,
    case_seeds,
    design_points,
    expand,
    parse_spec,
    run_sweep,
    sweep,
    sweep_table,
    write_table,
)

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # worker processes import the case functions from here
import sweep_cases as sc
from sweep_cases import BASE, CRASH_SPEC, GRID_SPEC, LHS_SPEC, simulate


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal tables except the wall time of each case."""
    assert_frame_equal(a.drop(columns="duration_s"), b.drop(columns="duration_s"))


# ------------------------------------------------------------------------------ designs
def test_grid_is_the_full_product_with_the_last_parameter_fastest():
    points = design_points(GRID_SPEC)
    assert len(points) == 4 * 3 == parse_spec(GRID_SPEC).n_cases
    assert points[:4] == [
        {"hardware.rod.diameter_mm": 5.0, "hardware.rod.material": m}
        for m in ("Ti6Al4V", "CoCr", "CoCr-PEEK")] + [
        {"hardware.rod.diameter_mm": 5.5, "hardware.rod.material": "Ti6Al4V"}]
    assert len({tuple(p.values()) for p in points}) == 12


def test_lhs_hits_each_stratum_exactly_once_per_parameter():
    from scipy import stats

    n = 12
    spec = {"design": "lhs", "samples": n, "seed": 3, "parameters": {
        "a": {"low": 4.5, "high": 6.5},
        "b": {"low": 1e2, "high": 1e5, "distribution": "log-uniform"},
        "c": {"mean": 1.0, "std": 0.2, "distribution": "normal"},
        "d": {"choices": ["Ti6Al4V", "CoCr", "PEEK"]},
    }}
    pts = design_points(spec)
    a = np.array([p["a"] for p in pts])
    b = np.array([p["b"] for p in pts])
    c = np.array([p["c"] for p in pts])
    for u in ((a - 4.5) / 2.0, np.log(b / 1e2) / np.log(1e3), stats.norm.cdf(c, 1.0, 0.2)):
        assert sorted(np.floor(u * n).astype(int)) == list(range(n))
    assert [p["d"] for p in pts].count("CoCr") == 4 and len({p["d"] for p in pts}) == 3
    assert design_points(spec) == pts  # same seed, same design
    assert design_points({**spec, "seed": 4}) != pts


def test_random_draws_stay_in_bounds_and_repeat_with_their_seed():
    spec = {"design": "random", "samples": 300, "seed": 11, "parameters": {
        "a": {"low": 4.5, "high": 6.5},
        "b": {"low": 0.1, "high": 10.0, "distribution": "log-uniform"},
        "c": {"mean": 1.0, "std": 0.5, "low": 0.6, "high": 1.2},  # truncated normal
        "d": {"values": [1, 2, 3]},
    }}
    pts = design_points(spec)
    for key, lo, hi in (("a", 4.5, 6.5), ("b", 0.1, 10.0), ("c", 0.6, 1.2)):
        x = np.array([p[key] for p in pts])
        assert lo <= x.min() and x.max() <= hi and x.std() > 0.1 * (hi - lo)
    assert abs(np.median([p["b"] for p in pts]) - 1.0) < 0.5  # log-uniform: median at 1
    assert {p["d"] for p in pts} == {1, 2, 3} and all(type(p["d"]) is int for p in pts)
    assert design_points(spec) == pts
    assert design_points({**spec, "seed": 12}) != pts


def test_each_case_gets_its_own_spawned_seed_at_the_seed_key():
    cases = expand(BASE, {**LHS_SPEC, "seed_key": "risk.seed"})
    children = np.random.SeedSequence(2024).spawn(8)
    expected = [int(s.generate_state(1, np.uint64)[0]) >> 1 for s in children]
    assert [c["risk"]["seed"] for c in cases] == expected == case_seeds(2024, 8)
    assert len(set(expected)) == 8 and "seed" not in cases[0]
    assert case_seeds(2024, 3) == expected[:3]  # a case's seed does not depend on n
    grid = expand(BASE, GRID_SPEC)
    assert grid[0]["hardware"]["rod"] == {"diameter_mm": 5.0, "material": "Ti6Al4V"}
    assert grid[0]["hardware"]["screws"] == BASE["hardware"]["screws"]
    assert grid[0]["hardware"]["screws"] is not BASE["hardware"]["screws"]  # deep copies
    assert BASE["hardware"]["rod"]["diameter_mm"] == 6.0  # base untouched


@pytest.mark.parametrize("key, message", [
    ("hardware.rod.diametr_mm", (r"no key 'diametr_mm' under 'hardware\.rod'; did you mean "
                                 r"'hardware\.rod\.diameter_mm'\?.*keys there: diameter_mm")),
    ("hardwre.rod.diameter_mm", r"'hardwre' at the top level; did you mean 'hardware"),
    ("hardware.rod.diameter_mm.tip", r"'hardware\.rod\.diameter_mm' is a value, 6\.0"),
    ("hardware.screws.2.length_mm", r"no key '2' under 'hardware\.screws'.*keys there: 0, 1"),
])
def test_override_of_a_missing_key_names_the_closest_existing_key(key, message):
    with pytest.raises(SweepError, match=rf"sweep parameter '{key}': .*{message}"):
        expand(BASE, {"design": "grid", "parameters": {key: [1.0]}})


def test_list_items_can_be_overridden_by_index():
    (case,) = expand(BASE, {"design": "grid", "parameters": {"hardware.screws.1.length_mm": [50]}})
    assert [s["length_mm"] for s in case["hardware"]["screws"]] == [45.0, 50]


P = "hardware.rod.diameter_mm"


@pytest.mark.parametrize("spec, message", [
    ({"design": "sobol", "parameters": {P: [5]}}, r"'design' must be one of grid, random, lhs"),
    ({"design": "grid", "samples": 4, "parameters": {P: [5]}}, r"'samples' is not used by"),
    ({"design": "lhs", "parameters": {P: {"low": 4, "high": 6}}}, r"lhs design needs 'samples'"),
    ({"design": "random", "samples": 0, "parameters": {P: [5]}}, r"integer >= 1, got 0"),
    ({"design": "grid", "seed": -1, "parameters": {P: [5]}}, r"'seed' must be an integer >= 0"),
    ({"design": "grid", "parameters": {}}, r"'parameters' must be a non-empty table"),
    ({"design": "grid", "seeds": 3, "parameters": {P: [5]}},
     r"unknown key 'seeds' \(did you mean 'seed'\?\); allowed: design, samples"),
    ({"design": "grid", "parameters": {P: {"low": 4, "high": 6}}},
     rf"parameter '{P}': the grid design needs a list of 'values'"),
    ({"design": "grid", "parameters": {P: []}}, r"must be a non-empty list"),
    ({"design": "random", "samples": 2, "parameters": {P: {"low": 6, "high": 4}}},
     r"'low' \(6\) must be below 'high' \(4\)"),
    ({"design": "random", "samples": 2, "parameters": {P: {"lo": 4, "high": 6}}},
     r"unknown key 'lo' \(did you mean 'low'\?\); allowed: values, choices, low, high"),
    ({"design": "random", "samples": 2, "parameters": {P: {"low": 4, "high": 6,
                                                             "distribution": "gauss"}}},
     r"'distribution' must be one of uniform, log-uniform, normal, got 'gauss'"),
    ({"design": "random", "samples": 2, "parameters": {P: {"low": 0, "high": 6,
                                                             "distribution": "log-uniform"}}},
     r"log-uniform distribution needs 'low' > 0"),
    ({"design": "random", "samples": 2, "parameters": {P: {"mean": 6}}},
     r"normal distribution needs 'mean' and 'std' \(missing 'std'\)"),
    ({"design": "random", "samples": 2, "parameters": {P: {"low": "4", "high": 6}}},
     r"'low' must be a finite number, got '4'"),
    ({"design": "grid", "parameters": {P: [5], "hardware.rod": [{}]}}, r"overlap"),
    ({"design": "grid", "parameters": {"seed": [1, 2]}}, r"per-case seed key"),
])
def test_bad_sweep_specs_name_the_key_and_what_is_allowed(spec, message):
    with pytest.raises(SweepError, match=message):
        parse_spec(spec, source="sweep.toml")
    with pytest.raises(SweepError, match=r"^sweep spec: "):
        parse_spec(spec)


def test_a_missing_seed_key_parent_is_an_error():
    with pytest.raises(SweepError, match=r"seed_key 'risks\.seed'.*did you mean 'risk"):
        expand(BASE, {**GRID_SPEC, "seed_key": "risks.seed"})


# ------------------------------------------------------------------------------ running
@pytest.fixture(scope="module")
def lhs_cases():
    return expand(BASE, LHS_SPEC)


@pytest.fixture(scope="module")
def serial_table(lhs_cases, tmp_path_factory):
    return run_sweep(lhs_cases, simulate, tmp_path_factory.mktemp("serial"), workers=1)


@pytest.fixture(scope="module")
def pool_table(lhs_cases, tmp_path_factory):
    return run_sweep(lhs_cases, simulate, tmp_path_factory.mktemp("pool"), workers=2)


def test_table_has_one_row_per_case_in_design_order(serial_table, lhs_cases):
    df = serial_table
    assert list(df.index) == list(range(8)) and df.index.name == "case"
    assert df.columns[:3].tolist() == ["hardware.rod.diameter_mm", "hardware.rod.material",
                                       "hardware.screws"]
    assert df.columns[-7:].tolist() == ["risk.first_draw", "risk.fracture", "rod_stress_mpa",
                                        "status", "error", "duration_s", "key"]
    assert df["key"].tolist() == [case_key(c) for c in lhs_cases]
    assert df["seed"].tolist() == case_seeds(2024, 8)
    failed = df[df["status"] == "failed"]
    assert len(failed) == 1 and df["hardware.rod.diameter_mm"].min() < sc.FAIL_BELOW_MM
    assert failed["error"].iloc[0].startswith("RuntimeError: rod of 4.")
    assert math.isnan(failed["rod_stress_mpa"].iloc[0])
    assert df.attrs["counts"] == {"done": 7, "failed": 1, "skipped": 0}


def test_one_and_two_workers_give_identical_tables(serial_table, pool_table):
    same(pool_table, serial_table)
    assert pool_table.attrs["counts"] == {"done": 7, "failed": 1, "skipped": 0}


def test_pool_workers_get_one_blas_and_numba_thread_and_the_parent_env_is_kept(
        tmp_path, monkeypatch):
    pytest.importorskip("threadpoolctl")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    df = run_sweep([{"i": 0}, {"i": 1}], sc.thread_report, tmp_path, workers=2)
    assert df["numba_threads"].tolist() == df["blas_threads"].tolist() == [1, 1]
    assert df["env.OMP_NUM_THREADS"].tolist() == df["env.NUMBA_NUM_THREADS"].tolist() == ["1"] * 2
    assert "OMP_NUM_THREADS" not in os.environ and os.environ["NUMBA_NUM_THREADS"] == "2"


def test_dask_local_cluster_gives_the_pool_table(pool_table, lhs_cases, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        df = run_sweep(lhs_cases, simulate, tmp_path, scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:  # a client object works as well
            again = run_sweep(lhs_cases, simulate, tmp_path / "results.sqlite",
                              scheduler=client)
            threads = run_sweep([{"i": 0}, {"i": 1}], sc.thread_report,
                                tmp_path / "threads.sqlite", scheduler=client)
    same(df, pool_table)
    assert again.attrs["counts"]["skipped"] == 7  # the failed case ran again
    same(again, pool_table)
    if importlib.util.find_spec("threadpoolctl"):
        assert threads["numba_threads"].tolist() == threads["blas_threads"].tolist() == [1, 1]


def test_group_key_orders_the_dispatch_not_the_table(lhs_cases, serial_table, tmp_path,
                                                   monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("SPINESIM_TEST_CALLS", str(calls))
    parity = [i % 2 for i in range(len(lhs_cases))]  # groups 0, 1 interleaved in design order
    groups = {case_key(c): g for c, g in zip(lhs_cases, parity)}
    df = run_sweep(lhs_cases, simulate, tmp_path,
                   group_key=lambda params: groups[case_key(params)])
    ran = [groups[line.split()[1]] for line in calls.read_text().splitlines()]
    assert ran == sorted(parity)  # group 0 first (it appears first), then group 1
    same(df, serial_table)  # the table stays in design order
    assert df.attrs["counts"] == {"done": 7, "failed": 1, "skipped": 0}


def test_a_rerun_runs_only_failed_cases_and_keeps_the_table(serial_table, lhs_cases, tmp_path,
                                                            monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("SPINESIM_TEST_CALLS", str(calls))
    first = run_sweep(lhs_cases, simulate, tmp_path)
    kept = run_sweep(lhs_cases, simulate, tmp_path, retry_failed=False)
    again = run_sweep(lhs_cases + lhs_cases[:2], simulate, tmp_path)  # repeats listed once
    assert kept.attrs["counts"] == {"done": 0, "failed": 0, "skipped": 8}
    assert again.attrs["counts"] == {"done": 0, "failed": 1, "skipped": 7}
    assert len(calls.read_text().splitlines()) == 8 + 1
    for df in (first, kept, again):
        same(df, serial_table)


def test_write_table_round_trips_through_csv_and_parquet(serial_table, tmp_path):
    paths = write_table(serial_table, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "results.csv", "results.parquet"]  # no temporary files left
    back = pd.read_parquet(paths["parquet"])
    csv = pd.read_csv(paths["csv"], index_col="case")
    for table in (back, csv):
        assert table.index.tolist() == list(range(8)) and len(table.columns) == len(
            serial_table.columns)
        assert np.allclose(table["rod_stress_mpa"], serial_table["rod_stress_mpa"],
                           equal_nan=True, rtol=0, atol=0)
        assert table["seed"].tolist() == serial_table["seed"].tolist()
    assert back["hardware.screws"].iloc[0] == '[{"length_mm": 45.0}, {"length_mm": 45.0}]'


def test_sweep_writes_store_spec_and_tables_and_a_table_can_be_read_back(tmp_path):
    df = sweep(BASE, GRID_SPEC, simulate, tmp_path / "out", progress=False)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["results.csv", "results.parquet", "results.sqlite", "sweep.json"]
    assert len(df) == 12 and (df["status"] == "done").all()
    cases = expand(BASE, GRID_SPEC)
    same(sweep_table(cases, tmp_path / "out"), df)
    partial = sweep_table(expand(BASE, {**GRID_SPEC, "seed": 6})[:2], tmp_path / "out")
    assert partial["status"].tolist() == ["pending", "pending"]


def test_progress_bar_only_when_asked_or_on_a_terminal(lhs_cases, tmp_path, capsys):
    run_sweep(lhs_cases[:2], simulate, tmp_path / "a.sqlite")  # stderr is not a terminal
    assert capsys.readouterr().err == ""
    run_sweep(lhs_cases[:2], simulate, tmp_path / "b.sqlite", progress=True)
    assert "2/2" in capsys.readouterr().err


def _top_level_lambda_holder():
    return lambda p: {}


def test_bad_run_arguments_are_clear_errors(lhs_cases, tmp_path, monkeypatch):
    with pytest.raises(SweepError, match="cannot be sent to worker processes.*top level"):
        run_sweep(lhs_cases, _top_level_lambda_holder(), tmp_path, workers=2)
    with pytest.raises(SweepError, match="workers must be an integer >= 1, got 0"):
        run_sweep(lhs_cases, simulate, tmp_path, workers=0)
    with pytest.raises(SweepError, match="either workers .* or scheduler"):
        run_sweep(lhs_cases, simulate, tmp_path, workers=2, scheduler="tcp://x:1")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    with pytest.raises(SweepError, match=r"pip install spinesim\[dask\]"):
        run_sweep(lhs_cases, simulate, tmp_path, scheduler="tcp://127.0.0.1:1")
    assert sweep_table(lhs_cases, tmp_path)["status"].eq("pending").all()  # nothing ran


def test_a_dead_worker_stops_the_sweep_with_a_resume_hint_and_keeps_finished_cases(tmp_path):
    cases = [{"i": 0}, {"i": 1}, {"i": 2, "die": True}]
    with pytest.raises(SweepError, match="worker process died.*run the sweep again to resume"):
        run_sweep(cases, sc.die_if_asked, tmp_path, workers=2)
    assert sweep_table(cases, tmp_path)["status"].tolist() == ["done", "done", "pending"]
    df = run_sweep(cases[:2] + [{"i": 2}], sc.die_if_asked, tmp_path, workers=2)
    assert df["twice"].tolist() == [0, 2, 4] and df.attrs["counts"]["skipped"] == 2


# ------------------------------------------------------------------------------ crash safety
def start(store, *args, env=None, calls=None, run="-") -> subprocess.Popen:
    env = {**os.environ, "SPINESIM_TEST_RUN": str(run), **(env or {})}
    if calls is not None:
        env["SPINESIM_TEST_CALLS"] = str(calls)
    code = f"import sys; sys.path.insert(0, {str(TESTS)!r}); import sweep_cases; " \
           "sweep_cases.main(sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", code, str(store), *map(str, args)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def done_cases(store_path) -> dict[str, str]:
    """``{key: created}`` of the done cases, after an integrity check of the file."""
    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return dict(conn.execute("SELECT key, created FROM cases WHERE status = 'done'"))
    finally:
        conn.close()


def test_sigkilled_sweep_resumes_without_recomputing_or_losing_cases(tmp_path):
    store_path, calls = tmp_path / "results.sqlite", tmp_path / "calls.txt"
    cases = expand({**BASE, "delay_s": 0.15}, CRASH_SPEC)
    keys = {case_key(c) for c in cases}
    ResultsStore(store_path).close()
    before: dict[str, str] = {}
    # kill the sweep (its whole process group: parent and pool workers) after 1, 3, 5 cases
    for run, (kill_after, workers) in enumerate([(1, 2), (3, 1), (5, 2)]):
        proc = start(store_path, "lhs", 0, 0.15, workers, "-", calls=calls, run=run)
        with ResultsStore(store_path) as store:
            deadline = time.monotonic() + 30
            while store.summary()["done"] < kill_after and proc.poll() is None:
                assert time.monotonic() < deadline, "sweep made no progress"
                time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err
        now = done_cases(store_path)
        assert kill_after <= len(now) < len(keys) and set(now) <= keys
        assert {k: now[k] for k in before} == before  # finished cases kept, untouched
        ran = {line.split()[1] for line in calls.read_text().splitlines()
               if line.split()[0] == str(run)}
        assert not ran & set(before), "a finished case was computed again"
        before = now
    proc = start(store_path, "lhs", 0, 0.15, 2, "-", calls=calls, run="last")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    final = done_cases(store_path)
    assert set(final) == keys and {k: final[k] for k in before} == before
    ran = [line.split()[1] for line in calls.read_text().splitlines()
           if line.split()[0] == "last"]
    assert not set(ran) & set(before) and len(ran) == len(set(ran)) == len(keys) - len(before)
    with ResultsStore(store_path) as store:
        assert len(store) == len(keys) == store.summary()["done"]
    reference = run_sweep(cases, simulate, tmp_path / "ref.sqlite")
    same(sweep_table(cases, store_path), reference)


def test_two_writer_processes_on_one_store_keep_each_case_once(tmp_path):
    store_path, go = tmp_path / "results.sqlite", tmp_path / "go"
    calls = tmp_path / "calls.txt"
    procs = [start(store_path, first, last, 0.05, 1, go, tmp_path / name, calls=calls)
             for first, last, name in ((0, 8, "a"), (4, 12, "b"))]
    time.sleep(0.3)
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    cases = expand(BASE | {"delay_s": 0.05}, GRID_SPEC)
    with ResultsStore(store_path) as store:
        assert len(store) == 12 == store.summary()["done"]
        assert sorted(store.keys()) == sorted(case_key(c) for c in cases)
    full = sweep_table(cases, store_path)
    a = pd.read_parquet(tmp_path / "a" / "results.parquet")
    b = pd.read_parquet(tmp_path / "b" / "results.parquet")
    assert a["key"].tolist() == full["key"].iloc[:8].tolist()
    assert b["key"].tolist() == full["key"].iloc[4:].tolist()
    assert np.array_equal(b["risk.first_draw"], full["risk.first_draw"].iloc[4:])
    assert len(set(calls.read_text().split()[1::2])) == 12
