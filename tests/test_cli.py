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


def test_rom_of_a_given_mesh_reports_the_mesh_not_a_construct(tmp_path, capsys):
    """An imported mesh is the model as meshed: the header and the JSON name the mesh and
    claim no levels or construct (before: "L4-L5 intact", the option defaults)."""
    import json

    import numpy as np

    from spinesim.mesh.generate import box
    from spinesim.mesh.io import write_mesh
    from spinesim.mesh.mesh import CellBlock, Mesh

    m = box((20.0, 20.0, 10.0), (2, 2, 1), "tetra")
    cells = m.blocks[0].cells
    sets = {"upper_endplate_top": m.node_sets["zmax"],
            "lower_endplate_bottom": m.node_sets["zmin"]}
    mesh = tmp_path / "seg.vtu"
    write_mesh(mesh, Mesh(m.points, (CellBlock("tetra", cells, np.ones(len(cells), np.int32)),),
                          {1: "cancellous"}, sets))
    out = tmp_path / "rom.json"
    assert main(["rom", "--mesh", str(mesh), "--bone-quality", "osteoporotic", "--json",
                 str(out)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith(f"given mesh {mesh} (as meshed"), header
    assert "L4-L5" not in header and "intact" not in header
    data = json.loads(out.read_text())
    assert data["mesh"] == str(mesh) and data["levels"] is None and data["construct"] is None
    assert all("rom_percent_of_intact" not in row for row in data["cases"].values())


def test_ctrl_c_is_one_line_and_status_130(monkeypatch, capsys, tmp_path):
    """Ctrl-C during a command ends it with 'interrupted' and the shell's status for SIGINT
    (128 + 2), not a KeyboardInterrupt traceback; nothing is written."""
    import spinesim.simulate

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(spinesim.simulate, "run_timeline", interrupted)
    assert main(["run", "-o", str(tmp_path / "out"), "--weeks", "2"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "spinesim run: interrupted"
    assert not (tmp_path / "out" / "report.json").exists()


def test_out_of_memory_is_one_line_naming_the_resolution(monkeypatch, capsys, tmp_path):
    """An allocation numpy cannot make (a resolution too fine for the machine) ends the
    command with one line that says what to lower, not a MemoryError traceback."""
    import spinesim.simulate

    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 2.23 GiB for an array")

    monkeypatch.setattr(spinesim.simulate, "run_timeline", too_big)
    assert main(["run", "-o", str(tmp_path / "out"), "--weeks", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spinesim run: out of memory (Unable to allocate 2.23 GiB")
    assert "--resolution" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "report.json").exists()
