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
