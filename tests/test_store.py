"""Tests of the results store: stable case keys, round trips, crash safety, concurrent writers."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import spinesim
from spinesim.store import ResultsStore, StoreError, case_key, run_cases

REPO = Path(__file__).resolve().parents[1]

# Parameters and case function shared by the tests and the worker subprocesses.
CASES_SRC = textwrap.dedent(
    """
    import time

    def make_params(first, last):
        return [{"case": i, "load": {"moment_nm": 7.5, "direction": "flexion"},
                 "hardware": {"rod": {"diameter_mm": 5.0 + 0.1 * i, "material": "Ti6Al4V"},
                              "screws": [{"length_mm": 40 + i % 3}] * 2}}
                for i in range(first, last)]

    def simulate(params, delay_s=0.0):
        time.sleep(delay_s)
        if params["case"] % 13 == 12:
            raise RuntimeError(f"solver diverged in case {params['case']}")
        d = params["hardware"]["rod"]["diameter_mm"]
        return {"rod_stress_mpa": 32.0 * 7.5e3 / (3.141592653589793 * d ** 3),
                "risk": {"rod_fracture": 1.0 / d, "loosening": [0.1 * params["case"], None]}}
    """
)
_ns: dict = {}
exec(CASES_SRC, _ns)  # noqa: S102 - the same code runs here and in worker processes
make_params, simulate = _ns["make_params"], _ns["simulate"]

WORKER_SRC = CASES_SRC + textwrap.dedent(
    """
    import os, sys
    from spinesim.store import ResultsStore, run_cases

    store_path, first, last, delay_s, go_file = sys.argv[1:6]
    while go_file != "-" and not os.path.exists(go_file):
        time.sleep(0.005)
    with ResultsStore(store_path) as store:
        run_cases(store, make_params(int(first), int(last)),
                  lambda p: simulate(p, float(delay_s)))
    """
)


def start_worker(store_path, first, last, delay_s, go_file="-") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER_SRC, str(store_path), str(first), str(last),
         str(delay_s), str(go_file)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def raw_rows(path) -> list[tuple]:
    """All rows read with plain sqlite3, after checking the file's integrity."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT key, status, outcomes, error FROM cases").fetchall()
    finally:
        conn.close()


def results(store: ResultsStore) -> dict[str, tuple]:
    """Everything about each case except when it ran and how long it took."""
    return {c["key"]: (c["params"], c["outcomes"], c["status"], c["error"], c["version"])
            for c in store.cases()}


# ------------------------------------------------------------------------------ case keys
def test_case_key_ignores_dict_order_and_tuple_vs_list():
    a = {"hardware": {"rod": {"diameter_mm": 6.0, "material": "CoCr"}}, "levels": ["L4", "L5"]}
    b = {"levels": ("L4", "L5"), "hardware": {"rod": {"material": "CoCr", "diameter_mm": 6.0}}}
    assert case_key(a) == case_key(b)
    assert len(case_key(a)) == 64 and int(case_key(a), 16) >= 0


def test_case_key_is_fixed_across_processes_and_canonicalises_floats():
    params = {"x": 0.1 + 0.2, "y": 0.1, "z": -0.0, "n": None, "flag": True}
    code = ("from spinesim.store import case_key; "
            "print(case_key({'flag': True, 'n': None, 'z': 0.0, 'y': 0.1, "
            "'x': 0.30000000000000004}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == case_key(params)
    assert case_key({"x": 0.1 + 0.2}) != case_key({"x": 0.3})


def test_case_key_distinguishes_values_types_and_versions():
    base = {"d": 6.0}
    assert case_key(base) != case_key({"d": 6.0000001})
    assert case_key({"d": 1}) != case_key({"d": 1.0}) != case_key({"d": True})
    assert case_key(base) != case_key(base, version="0.0.0")
    assert case_key(base) == case_key(base, version=spinesim.__version__)


def test_case_key_converts_numpy_scalars_and_arrays():
    plain = {"d": 6.5, "n": 3, "on": True, "grid": [[1.0, 2.0], [3.0, 4.0]]}
    numpy = {"d": np.float64(6.5), "n": np.int64(3), "on": np.bool_(True),
             "grid": np.array([[1.0, 2.0], [3.0, 4.0]])}
    assert case_key(numpy) == case_key(plain)
    assert case_key({"d": np.float32(6.5)}) == case_key({"d": 6.5})  # exact in float32


def test_case_key_names_the_path_of_an_unsupported_value():
    with pytest.raises(TypeError, match=r"'hardware\.rod\.material'.*object"):
        case_key({"hardware": {"rod": {"diameter_mm": 6.0, "material": object()}}})
    with pytest.raises(TypeError, match=r"'screws\[1\]\.length_mm'.*set"):
        case_key({"screws": [{"length_mm": 40}, {"length_mm": {40, 45}}]})
    with pytest.raises(TypeError, match=r"'hardware'.*keys must be str"):
        case_key({"hardware": {1: "rod"}})
    with pytest.raises(ValueError, match=r"'load\.moment_nm'.*nan"):
        case_key({"load": {"moment_nm": float("nan")}})


# ------------------------------------------------------------------------------ round trip
def test_put_get_rows_pending_and_csv_round_trip(tmp_path):
    params = make_params(0, 3)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        assert store.summary() == {"done": 0, "failed": 0} and store.keys() == []
        assert [k for k, _ in store.pending(params)] == [case_key(p) for p in params]
        k0 = case_key(params[0])
        assert store.put(k0, params[0], simulate(params[0]), 1.25)
        store.put(case_key(params[1]), params[1], None, 0.5, status="failed", error="boom")

        case = store.get(k0)
        assert case["params"] == params[0] and case["outcomes"] == simulate(params[0])
        assert case["status"] == "done" and case["duration_s"] == 1.25
        assert case["version"] == spinesim.__version__ and case["error"] is None
        assert store.get("0" * 64) is None
        assert store.has(k0) and not store.has(case_key(params[2]))
        assert store.keys() == [k0, case_key(params[1])]
        assert store.summary() == {"done": 1, "failed": 1}
        # failed cases are pending again unless asked otherwise; duplicates appear once
        assert [p["case"] for _, p in store.pending(params + params)] == [1, 2]
        assert [p["case"] for _, p in store.pending(params, retry_failed=False)] == [2]

        rows = store.rows()
        assert rows[0]["hardware.rod.diameter_mm"] == 5.0
        assert rows[0]["load.moment_nm"] == 7.5 and rows[0]["risk.rod_fracture"] == 0.2
        assert rows[0]["risk.loosening"] == [0.0, None]
        assert rows[1]["status"] == "failed" and rows[1]["error"] == "boom"

        out = store.export_csv(tmp_path / "sub" / "results.csv")
        with open(out, newline="") as fh:
            table = list(csv.DictReader(fh))
        assert [r["key"] for r in table] == store.keys()
        assert float(table[0]["rod_stress_mpa"]) == simulate(params[0])["rod_stress_mpa"]
        assert json.loads(table[0]["hardware.screws"]) == params[0]["hardware"]["screws"]
        assert table[1]["rod_stress_mpa"] == "" and table[1]["error"] == "boom"
        assert not [p for p in out.parent.iterdir() if p.name != "results.csv"]  # no temp file

    with ResultsStore(tmp_path / "s.sqlite") as again:  # reopened: all still there
        assert again.summary() == {"done": 1, "failed": 1}


def test_put_is_idempotent_and_a_done_case_is_never_replaced(tmp_path):
    p = make_params(0, 1)[0]
    key = case_key(p)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        assert store.put(key, p, None, 1.0, status="failed", error="first try")
        assert store.put(key, p, {"v": 1}, 2.0)  # a retry replaces the failed row
        assert not store.put(key, p, {"v": 2}, 3.0)  # the done row stays
        assert not store.put(key, p, None, 3.0, status="failed", error="late")
        assert len(store) == 1 and store.get(key)["outcomes"] == {"v": 1}
        with pytest.raises(ValueError, match="does not match its params"):
            store.put(case_key({"other": 1}), p, {"v": 3}, 1.0)


def test_run_cases_stores_failures_and_skips_done_cases(tmp_path):
    params = make_params(0, 26)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        assert run_cases(store, params, simulate) == {"done": 24, "failed": 2, "skipped": 0}
        failed = [c for c in store.cases() if c["status"] == "failed"]
        assert [c["error"] for c in failed] == [
            "RuntimeError: solver diverged in case 12", "RuntimeError: solver diverged in case 25"]
        assert run_cases(store, params, simulate, retry_failed=False) == {
            "done": 0, "failed": 0, "skipped": 26}
        assert run_cases(store, params, lambda p: {"x": object()})["failed"] == 2  # unstorable
        assert len(store) == 26


# ------------------------------------------------------------------------------ errors
def test_corrupt_file_gives_an_error_naming_the_file(tmp_path):
    path = tmp_path / "corrupt.sqlite"
    path.write_bytes(b"this is not a database \x00\xff" * 200)
    with pytest.raises(StoreError, match=r"corrupt\.sqlite.*not an SQLite database"):
        ResultsStore(path)


def _other_programs_database(path, table="notes (text TEXT)"):
    """An SQLite file written by another program: one table ``table``; returns its bytes."""
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table}")
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_missing_folder_and_foreign_database_are_reported(tmp_path):
    with pytest.raises(StoreError, match=r"folder .*nowhere.* does not exist"):
        ResultsStore(tmp_path / "nowhere" / "s.sqlite")
    foreign = tmp_path / "foreign.sqlite"
    _other_programs_database(foreign, "cases (id INTEGER)")
    with pytest.raises(StoreError, match=r"foreign\.sqlite.*not a spinesim results store"):
        ResultsStore(foreign)


def test_foreign_database_is_refused_for_writing_and_left_as_it_was(tmp_path):
    foreign = tmp_path / "results.sqlite"
    before = _other_programs_database(foreign)
    with pytest.raises(StoreError, match=r"results\.sqlite: not a spinesim results store "
                                         r"\(no 'cases' table\)"):
        ResultsStore(foreign)
    assert foreign.read_bytes() == before  # no 'cases' table added, not switched to WAL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]


def test_readonly_store_reads_and_never_writes(tmp_path):
    path = tmp_path / "s.sqlite"
    with pytest.raises(StoreError, match=r"s\.sqlite.* does not exist"):
        ResultsStore(path, readonly=True)
    assert not path.exists()  # not created
    p = make_params(0, 1)[0]
    with ResultsStore(path) as store:
        store.put(case_key(p), p, {"v": 1}, 1.0)
    before = path.read_bytes()
    with ResultsStore(path, readonly=True) as store:
        assert store.summary() == {"done": 1, "failed": 0}
        assert store.get(case_key(p))["outcomes"] == {"v": 1}
        with pytest.raises(StoreError, match="readonly database"):
            store.put(case_key(p), p, {"v": 2}, 1.0)
    assert path.read_bytes() == before
    other = tmp_path / "other.sqlite"
    before = _other_programs_database(other)
    with pytest.raises(StoreError, match=r"other\.sqlite: not a spinesim results store "
                                         r"\(no 'cases' table\)"):
        ResultsStore(other, readonly=True)
    assert other.read_bytes() == before


def test_store_uses_wal_and_closes(tmp_path):
    store = ResultsStore(tmp_path / "s.sqlite")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.keys()



def test_write_blocked_past_the_busy_timeout_names_the_file(tmp_path):
    path = tmp_path / "busy.sqlite"
    p = make_params(0, 1)[0]
    with ResultsStore(path, timeout_s=0.1) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            with pytest.raises(StoreError, match=r"busy\.sqlite.*database is locked"):
                store.put(case_key(p), p, {"v": 1}, 1.0)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.put(case_key(p), p, {"v": 1}, 1.0)


def test_columns_named_alike_get_a_prefix_in_rows(tmp_path):
    p = {"case": 1, "status": "x"}
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.put(case_key(p), p, {"case": 2, "ok": True}, 1.0)
        (row,) = store.rows()
        assert row["case"] == 1 and row["outcomes.case"] == 2 and row["ok"] is True
        assert row["status"] == "done" and row["params.status"] == "x"


def _put_in_child(store, params):
    store.put(case_key(params), params, {"pid": os.getpid()}, 0.0)


def test_store_reconnects_in_forked_and_unpickled_workers(tmp_path):
    import multiprocessing
    import pickle

    a, b = make_params(0, 2)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        child = multiprocessing.get_context("fork").Process(target=_put_in_child, args=(store, a))
        child.start()
        child.join(10)
        assert child.exitcode == 0
        _put_in_child(pickle.loads(pickle.dumps(store)), b)
        assert store.summary() == {"done": 2, "failed": 0}
        assert store.get(case_key(a))["outcomes"]["pid"] != os.getpid()

# ------------------------------------------------------------------------------ crash safety
def test_sigkilled_sweep_resumes_without_losing_or_duplicating_cases(tmp_path):
    n = 60
    params = make_params(0, n)
    with ResultsStore(tmp_path / "clean.sqlite") as clean:
        run_cases(clean, params, simulate)
        expected = results(clean)

    path = tmp_path / "killed.sqlite"
    stored = 0
    for kill_after_s in (0.3, 0.8, 1.5):
        proc = start_worker(path, 0, n, 0.05)
        time.sleep(kill_after_s)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        if not path.exists():
            continue
        rows = raw_rows(path)  # integrity ok; every row complete
        assert all(o is not None if s == "done" else e for _, s, o, e in rows)
        assert len(rows) == len({r[0] for r in rows}) >= stored  # none lost
        stored = len(rows)
    assert 0 < stored < n, "the kills should interrupt the sweep part way"

    proc = start_worker(path, 0, n, 0.0)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert len(raw_rows(path)) == n
    with ResultsStore(path) as store:
        assert results(store) == expected
        assert store.summary() == {"done": n - 4, "failed": 4}


def test_two_concurrent_writers_store_every_case_once(tmp_path):
    path, go = tmp_path / "shared.sqlite", tmp_path / "go"
    workers = [start_worker(path, 0, 150, 0.0, go), start_worker(path, 75, 225, 0.0, go)]
    time.sleep(0.3)  # let both start and wait at the barrier
    go.touch()
    for proc in workers:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "locked" not in err
    rows = raw_rows(path)
    assert len(rows) == len({r[0] for r in rows}) == 225
    with ResultsStore(path) as store:
        assert set(store.keys()) == {case_key(p) for p in make_params(0, 225)}
        assert store.summary() == {"done": 225 - 17, "failed": 17}
        assert store.pending(make_params(0, 225), retry_failed=False) == []


OPEN_SRC = textwrap.dedent(
    """
    import os, sys, time
    from spinesim.store import ResultsStore
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.001)
    ResultsStore(sys.argv[1]).close()
    """
)


def test_many_processes_creating_one_store_at_once_all_succeed(tmp_path):
    # Creating a store switches the new file to WAL, which SQLite can refuse at once (no busy
    # wait) while another process does the same; about 1 open in 60 failed before the retry.
    for trial in range(2):
        path, go = tmp_path / f"new{trial}.sqlite", tmp_path / f"go{trial}"
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_SRC, str(path), str(go)],
                                  cwd=REPO, stderr=subprocess.PIPE, text=True)
                 for _ in range(10)]
        time.sleep(0.4)
        go.touch()
        for proc in procs:
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
        assert raw_rows(path) == []
