"""The spinesim command line: results summary, clean errors."""

from __future__ import annotations

import subprocess
import sys

from spinesim.cli import STORE_NAME, main
from spinesim.store import ResultsStore


def test_results_prints_a_summary_and_exports_csv(tmp_path, capsys):
    with ResultsStore(tmp_path / STORE_NAME) as store:
        for d in (5.5, 6.0):
            params = {"rod": {"diameter_mm": d}}
            store.put(store.key(params), params, {"years": 10 * d}, 1.0)
    out_csv = tmp_path / "table.csv"
    assert main(["results", str(tmp_path), "--csv", str(out_csv)]) == 0
    printed = capsys.readouterr().out
    assert "2 cases" in printed and "2 done" in printed
    assert "rod.diameter_mm" in out_csv.read_text()


def test_missing_store_exits_2_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spinesim.cli", "results", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no results store" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / STORE_NAME).exists()  # nothing created


def test_unknown_subcommand_exits_2():
    proc = subprocess.run([sys.executable, "-m", "spinesim.cli", "frobnicate"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def _foreign_sqlite(path) -> None:
    """An SQLite file of another program: one table, not 'cases'."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()


def test_results_refuses_a_file_that_is_not_a_store_and_leaves_it_unchanged(tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    _foreign_sqlite(foreign / STORE_NAME)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / STORE_NAME).write_bytes(b"")
    for folder in (foreign, empty):
        before = (folder / STORE_NAME).read_bytes()
        assert main(["results", str(folder), "--csv", str(tmp_path / "t.csv")]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1, err
        assert f"{folder / STORE_NAME}: not a spinesim results store (no 'cases' table)" in err
        assert (folder / STORE_NAME).read_bytes() == before  # not modified
        assert sorted(p.name for p in folder.iterdir()) == [STORE_NAME]  # no -wal/-shm
    assert not (tmp_path / "t.csv").exists()
