"""Catalogue of bad inputs and the error each one must give, end to end.

One table: scenario files, sweep files, mesh files, command-line arguments and unwritable
output folders. Each row creates its files in a fresh folder (the working directory of the
row), runs the CLI (``main(argv)``) or a Python API call, and checks

* the exit status (2) or the exception type;
* that the message names the file, key or element *and* the allowed values (substrings);
* for CLI rows: no traceback, a one-line message (or a short list of problems), and no
  partial output: no file appears that the row did not create (no report.json, timeline.csv,
  results.csv, --json file, .*.tmp leftovers, ...).

Every row is rejected before any FE solve: the test replaces the solver factory
(``spinesim.fem.solvers.make_solver``) by one that raises, and a valid job shows that it does.

Decisions recorded here: an empty scenario file is *valid* (every key is optional: it is the
default scenario, see ``test_empty_scenario_file_is_the_default``); an empty mesh file is
invalid.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spinesim.cli import main
from spinesim.errors import MeshError, SpinesimError

# ------------------------------------------------------------------------------ mesh files


def _segment_mesh(path: Path, *, names: dict[int, str] | None = None,
                  node_sets: tuple[str, ...] = ("upper_endplate_top", "lower_endplate_bottom"),
                  invert: int | None = None, solid: bool = True) -> None:
    """A small tetra box written with spinesim's writer: region 'cancellous', the two
    endplate node sets; optionally element ``invert`` turned inside out, or facets only."""
    from spinesim.mesh.generate import boundary_facets, box
    from spinesim.mesh.io import write_mesh
    from spinesim.mesh.mesh import CellBlock, Mesh

    m = box((20.0, 20.0, 10.0), (2, 2, 1), "tetra")
    cells = m.blocks[0].cells.copy()
    if invert is not None:
        cells[invert, [0, 1]] = cells[invert, [1, 0]]
    sets = {name: m.node_sets[face] for name, face in
            zip(("upper_endplate_top", "lower_endplate_bottom"), ("zmax", "zmin"))
            if name in node_sets}
    if solid:
        blocks = (CellBlock("tetra", cells, np.ones(len(cells), np.int32)),)
        mesh = Mesh(m.points, blocks, names or {1: "cancellous"}, sets)
    else:
        f = boundary_facets(m)
        blocks = (CellBlock(f.type, f.cells, np.ones(len(f.cells), np.int32)),)
        mesh = Mesh(m.points, blocks, {1: "cancellous"}, sets)
    write_mesh(path, mesh)


def mesh_file(**kw: Any) -> Callable[[Path], None]:
    return lambda p: _segment_mesh(p, **kw)


def folder(p: Path) -> None:
    p.mkdir()


def sparse(size: int) -> Callable[[Path], None]:
    """A file of ``size`` bytes of zeros (sparse: no disk space used)."""
    def make(p: Path) -> None:
        p.touch()
        os.truncate(p, size)
    return make


def fifo(p: Path) -> None:
    """A named pipe: reading it would block until a writer comes."""
    os.mkfifo(p)


def results_store(p: Path) -> None:
    """A spinesim results store with one done case."""
    from spinesim.store import ResultsStore

    with ResultsStore(p) as store:
        params = {"rod": {"diameter_mm": 5.5}}
        store.put(store.key(params), params, {"years": 55.0}, 1.0)


def foreign_sqlite(p: Path) -> None:
    """An SQLite database of another program (a table 'notes', no 'cases')."""
    import sqlite3

    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()


GOOD_SWEEP = """
[sweep]
design = "grid"
[sweep.parameters]
"hardware.rod.diameter_mm" = [5.5, 6.0]
"""

TINY_SWEEP = GOOD_SWEEP + "[scenario]\ntimeline.weeks = 2\nsegment.resolution = 0.3\n"


def sweep(params: str, head: str = 'design = "grid"', extra: str = "") -> str:
    return f"[sweep]\n{head}\n{extra}\n[sweep.parameters]\n{params}\n"


# ------------------------------------------------------------------------------ the table
@dataclass
class Row:
    id: str
    files: dict[str, Any]            # name -> text, bytes or a writer(path)
    call: list[str] | Callable[[Path], Any]   # argv of main(), or an API call(tmp_path)
    expect: int | type[BaseException]          # exit status or exception type
    must: list[str]                  # substrings of the message
    absent: list[str] = field(default_factory=list)  # outputs that must not exist


SOMEFILE = {"somefile": "a regular file, not a folder\n"}

ROWS = [
    # -------------------------------------------------------------------- scenario files
    Row("scenario-toml-syntax", {"s.toml": "[segment\nlevels = 'L4-L5'\n"},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "TOML syntax error", "line 1"],
        ["out"]),
    Row("scenario-not-utf8", {"s.toml": b"[segment]\nlevels = '\xff\xfe'\n"},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "not UTF-8", "line 2"], ["out"]),
    Row("scenario-missing-file", {}, ["run", "nope.toml", "-o", "out"], 2,
        ["nope.toml", "scenario file not found"], ["out"]),
    Row("scenario-is-a-folder", {"s.toml": folder}, ["risk", "s.toml", "--samples", "1"], 2,
        ["s.toml", "is a folder"]),
    Row("scenario-is-a-pipe", {"s.toml": fifo}, ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "not a regular file"], ["out"]),
    Row("scenario-too-large", {"s.toml": sparse(17 * 2**20)},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "17 MiB is too large", "at most 16 MiB"],
        ["out"]),
    Row("scenario-nested-too-deeply", {"s.toml": "a = " + "[" * 5000 + "]" * 5000 + "\n"},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "nested too deeply"], ["out"]),
    Row("scenario-unknown-key-suggests", {"s.toml": "[timeline]\nweek = 26\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "unknown key 'timeline.week'", "did you mean 'timeline.weeks'"], ["out"]),
    Row("scenario-duplicate-key-shows-the-line",
        {"s.toml": "[timeline]\nweeks = 26\nweeks = 30\n"}, ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "line 3", "'weeks = 30'", "Cannot overwrite a value"], ["out"]),
    Row("scenario-unknown-activity-points-to-custom",
        {"s.toml": "[activity.running]\nper_day = 3\n"}, ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "activity.running", "[[activity.custom]]", "name = 'running'"], ["out"]),
    Row("scenario-unknown-section-suggests", {"s.toml": "[healng]\nrate_per_week = 1.0\n"},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "unknown key 'healng'",
                                             "did you mean 'healing'"], ["out"]),
    Row("scenario-unknown-key-lists-valid", {"s.toml": "[graft]\nzzz = 1\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "'graft.zzz'", "valid keys in [graft]: type, initial_modulus_mpa"], ["out"]),
    Row("scenario-wrong-type-string-for-int", {"s.toml": '[timeline]\nweeks = "52"\n'},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "timeline.weeks", "wrong type", "[1, 520] weeks"], ["out"]),
    Row("scenario-wrong-type-bool-for-float", {"s.toml": "[hardware.rod]\ndiameter_mm = true\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "hardware.rod.diameter_mm", "wrong type", "[2, 10] mm"], ["out"]),
    Row("scenario-wrong-type-fraction-for-int", {"s.toml": "[timeline]\nweeks = 26.5\n"},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "timeline.weeks", "[1, 520] weeks"],
        ["out"]),
    Row("scenario-section-not-a-table", {"s.toml": "segment = 3\n"},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "segment", "expected a table with keys",
                                             "levels, construct"], ["out"]),
    Row("scenario-out-of-range-mm", {"s.toml": "[hardware.rod]\ndiameter_mm = 55\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "hardware.rod.diameter_mm", "out of range", "[2, 10] mm"], ["out"]),
    Row("scenario-out-of-range-open-bound", {"s.toml": "[fatigue]\ncritical_damage = 0\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "fatigue.critical_damage", "(0, 10] (dimensionless)"], ["out"]),
    Row("scenario-below-a-numerical-guard", {"s.toml": "[loosening]\ninitial_factor = 1e-20\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "loosening.initial_factor = 1e-20", "[0.0001, 1]"], ["out"]),
    Row("scenario-density-below-its-guard", {"s.toml": "[bone]\napparent_density_g_cm3 = 0\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "bone.apparent_density_g_cm3", "[0.01, 2] g/cm³"], ["out"]),
    Row("scenario-nan", {"s.toml": "[graft]\ninitial_modulus_mpa = nan\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "graft.initial_modulus_mpa", "not a finite number", "[0.001, 100] MPa"],
        ["out"]),
    Row("scenario-bad-choice", {"s.toml": '[hardware.rod]\nmaterial = "gold"\n'},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "hardware.rod.material", "'ti6al4v', 'cocr', 'ss316l'"], ["out"]),
    Row("scenario-bad-levels", {"s.toml": '[segment]\nlevels = "L5-L4"\n'},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "segment.levels", "cranial"], ["out"]),
    Row("scenario-two-problems-listed", {"s.toml": "[timeline]\nweeks = 0\n[risk]\nsamples = 0\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "2 problems", "timeline.weeks", "[1, 520] weeks", "risk.samples",
         "[1, 1000000] samples"], ["out"]),
    Row("scenario-cage-for-intact-spine",
        {"s.toml": '[segment]\nconstruct = "intact"\n[cage]\nmaterial = "titanium"\n'},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "contradictory options", "cage.material", "'intact' has no cage",
         "bilateral-cage, unilateral-cage, cage-only"], ["out"]),
    Row("scenario-cage-contact-without-cage",
        {"s.toml": '[segment]\nconstruct = "bilateral"\n[cage]\ninterface = "contact"\n'},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "cage.interface", "'bilateral' has no cage"], ["out"]),
    Row("scenario-nonunion-after-timeline-end",
        {"s.toml": "[timeline]\nweeks = 26\nnonunion_horizon_weeks = 40\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "timeline.nonunion_horizon_weeks = 40", "timeline.weeks = 26",
         "allowed range [1, 26] weeks"], ["out"]),
    Row("scenario-screw-count-contradicts-construct", {"s.toml": "[hardware.screw]\ncount = 3\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "hardware.screw.count = 3", "has 4 screws"], ["out"]),
    Row("scenario-step-does-not-divide-timeline",
        {"s.toml": "[timeline]\nweeks = 10\nstep_weeks = 3.0\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "timeline.weeks = 10", "timeline.step_weeks = 3.0"], ["out"]),
    Row("scenario-vtu-week-after-end", {"s.toml": "[output]\nvtu_weeks = [0, 60]\n"},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "output.vtu_weeks", "[60]", "allowed range [0, 52] weeks"], ["out"]),
    Row("scenario-intact-cannot-run-a-timeline", {"s.toml": '[segment]\nconstruct = "intact"\n'},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "segment.construct = 'intact'", "bilateral-cage, unilateral-cage"], ["out"]),
    Row("scenario-imported-mesh-cannot-run-a-timeline",
        {"s.toml": '[segment]\nmesh = "seg.vtu"\n', "seg.vtu": mesh_file()},
        ["run", "s.toml", "-o", "out"], 2, ["s.toml", "segment.mesh", "generated segments only"],
        ["out"]),
    Row("scenario-screw-count-contradicts-levels",
        {"s.toml": '[segment]\nlevels = "L3-L5"\n[hardware.screw]\ncount = 4\n'},
        ["run", "s.toml", "-o", "out"], 2,
        ["s.toml", "hardware.screw.count = 4", "segment.levels = 'L3-L5' has 6 screws"], ["out"]),
    Row("scenario-imported-mesh-cannot-run-risk", {"s.toml": '[segment]\nmesh = "nope.vtu"\n'},
        ["risk", "s.toml", "--samples", "1", "--json", "r.json"], 2,
        ["s.toml", "segment.mesh", "generated segments only"], ["r.json"]),
    Row("scenario-intact-cannot-run-risk", {"s.toml": '[segment]\nconstruct = "intact"\n'},
        ["risk", "s.toml", "--samples", "1", "-o", "store"], 2,
        ["s.toml", "segment.construct = 'intact'", "bilateral-cage, unilateral-cage"],
        ["store"]),
    # -------------------------------------------------------------------- sweep files
    Row("sweep-missing-file", {}, ["sweep", "nope.toml", "-o", "out"], 2,
        ["nope.toml", "sweep file not found"], ["out"]),
    Row("sweep-is-a-pipe", {"w.toml": fifo}, ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "not a regular file"], ["out"]),
    Row("sweep-toml-syntax", {"w.toml": "[sweep\ndesign = 'grid'\n"},
        ["sweep", "w.toml", "-o", "out"], 2, ["w.toml", "TOML", "line 1"], ["out"]),
    Row("sweep-unknown-table-suggests", {"w.toml": GOOD_SWEEP + "[sweeps]\nx = 1\n"},
        ["sweep", "w.toml", "-o", "out"], 2, ["w.toml", "'sweeps'", "did you mean [sweep]"],
        ["out"]),
    Row("sweep-unknown-setting", {"w.toml": sweep('"bone.quality" = ["healthy"]',
                                                  extra="sample = 3")},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "'sample'", "did you mean 'samples'", "design, samples, seed"], ["out"]),
    Row("sweep-unknown-swept-key", {"w.toml": sweep('"hardware.rod.diameter" = [5.5, 6.0]')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "hardware.rod.diameter", "did you mean 'hardware.rod.diameter_mm'"], ["out"]),
    Row("sweep-value-out-of-range", {"w.toml": sweep('"hardware.rod.diameter_mm" = [5.5, 50]')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "hardware.rod.diameter_mm", "50", "[2, 10] mm"], ["out"]),
    Row("sweep-range-out-of-range",
        {"w.toml": sweep('"hardware.rod.diameter_mm" = {low = 0.5, high = 6.0}',
                         head='design = "lhs"\nsamples = 4')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "hardware.rod.diameter_mm", "'low' = 0.5", "[2, 10] mm"], ["out"]),
    Row("sweep-bad-choice", {"w.toml": sweep('"hardware.rod.material" = ["ti6al4v", "gold"]')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "hardware.rod.material", "'gold'", "'ti6al4v', 'cocr', 'ss316l'"], ["out"]),
    Row("sweep-bad-design", {"w.toml": sweep('"bone.quality" = ["healthy"]',
                                             head='design = "factorial"')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "'design'", "grid, random, lhs", "'factorial'"], ["out"]),
    Row("sweep-random-without-samples",
        {"w.toml": sweep('"hardware.rod.diameter_mm" = {low = 5.0, high = 6.0}',
                         head='design = "random"')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "random design needs 'samples'", "integer >= 1"], ["out"]),
    Row("sweep-grid-with-a-range",
        {"w.toml": sweep('"hardware.rod.diameter_mm" = {low = 5.0, high = 6.0}')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "hardware.rod.diameter_mm", "grid design needs a list of 'values'"], ["out"]),
    Row("sweep-low-above-high",
        {"w.toml": sweep('"hardware.rod.diameter_mm" = {low = 6.0, high = 5.0}',
                         head='design = "lhs"\nsamples = 3')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "hardware.rod.diameter_mm", "'low' (6.0) must be below 'high' (5.0)"],
        ["out"]),
    Row("sweep-missing-base-scenario",
        {"w.toml": sweep('"bone.quality" = ["healthy"]', extra='scenario = "base.toml"')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "[sweep] scenario", "base.toml", "scenario file not found"], ["out"]),
    Row("sweep-bad-scenario-override",
        {"w.toml": GOOD_SWEEP + "[scenario]\ntimeline.weeks = 0\n"},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "[scenario]", "timeline.weeks", "[1, 520] weeks"], ["out"]),
    Row("sweep-swept-key-does-not-apply",
        {"w.toml": sweep('"cage.material" = ["peek", "titanium"]') +
         '[scenario]\nsegment.construct = "bilateral"\n'},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "cage.material", "does not apply", "bilateral-cage"], ["out"]),
    Row("sweep-out-is-a-file", {"w.toml": GOOD_SWEEP, **SOMEFILE},
        ["sweep", "w.toml", "-o", "somefile"], 2, ["-o somefile", "is a file"]),
    Row("sweep-out-unwritable", {"w.toml": GOOD_SWEEP, **SOMEFILE},
        ["sweep", "w.toml", "-o", "somefile/sub"], 2,
        ["-o somefile/sub", "somefile is not a writable folder"]),
    Row("sweep-construct-the-timeline-cannot-run",
        {"w.toml": sweep('"segment.construct" = ["bilateral-cage", "intact"]')},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["w.toml", "case 1", "segment.construct = 'intact'", "bilateral-cage, unilateral-cage"],
        ["out"]),
    Row("sweep-workers-zero", {"w.toml": GOOD_SWEEP}, ["sweep", "w.toml", "--workers", "0"], 2,
        ["--workers", "integer >= 1", "0"]),
    Row("sweep-scheduler-not-a-url", {"w.toml": GOOD_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--scheduler", "not a url"], 2,
        ["--scheduler 'not a url'", "missing port", "host:port", "tcp", "1 to 65535"], ["out"]),
    Row("sweep-scheduler-without-port", {"w.toml": GOOD_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--scheduler", "tcp://127.0.0.1"], 2,
        ["--scheduler 'tcp://127.0.0.1'", "missing port", "tcp://host:8786"], ["out"]),
    Row("sweep-scheduler-empty", {"w.toml": GOOD_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--scheduler", ""], 2,
        ["--scheduler '': empty address", "tcp://host:8786"], ["out"]),
    Row("sweep-scheduler-unknown-scheme", {"w.toml": GOOD_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--scheduler", "foo://127.0.0.1:1"], 2,
        ["--scheduler 'foo://127.0.0.1:1'", "unknown scheme 'foo'", "tcp, tls"], ["out"]),
    Row("sweep-scheduler-port-out-of-range", {"w.toml": GOOD_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--scheduler", "tcp://127.0.0.1:99999"], 2,
        ["--scheduler 'tcp://127.0.0.1:99999'", "port 99999", "1 to 65535"], ["out"]),
    Row("sweep-scheduler-inproc", {"w.toml": GOOD_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--scheduler", "inproc://10.0.0.1/123/1"], 2,
        ["--scheduler 'inproc://10.0.0.1/123/1'", "same process"], ["out"]),
    Row("sweep-scheduler-and-workers", {"w.toml": GOOD_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
        2, ["either workers", "or scheduler", "not both"], ["out"]),
    Row("sweep-workers-too-many", {"w.toml": TINY_SWEEP},
        ["sweep", "w.toml", "-o", "out", "--workers", "100000"], 2,
        ["--workers 100000", "at most", "per CPU available"], ["out"]),
    # -------------------------------------------------------------------- mesh files
    Row("mesh-missing", {}, ["rom", "--mesh", "nope.vtu", "--json", "r.json"], 2,
        ["nope.vtu", "not found"], ["r.json"]),
    Row("mesh-is-a-folder", {"m.vtu": folder}, ["rom", "--mesh", "m.vtu", "--json", "r.json"], 2,
        ["m.vtu", "is a folder, not a mesh file"], ["r.json"]),
    Row("mesh-empty", {"m.vtu": b""}, ["rom", "--mesh", "m.vtu", "--json", "r.json"], 2,
        ["m.vtu", "cannot read mesh"], ["r.json"]),
    Row("mesh-corrupt-vtu", {"m.vtu": bytes(range(256)) * 4},
        ["rom", "--mesh", "m.vtu", "--json", "r.json"], 2,
        ["m.vtu", "cannot read mesh", "not a valid .vtu file"], ["r.json"]),
    Row("mesh-corrupt-msh", {"m.msh": b"$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\n\x00\xff"},
        ["rom", "--mesh", "m.msh", "--json", "r.json"], 2, ["m.msh", "cannot read mesh"],
        ["r.json"]),
    Row("mesh-unknown-extension", {"m.stl2": b"solid x\n"},
        ["rom", "--mesh", "m.stl2", "--json", "r.json"], 2,
        ["m.stl2", "format", ".vtu", ".msh", ".inp"], ["r.json"]),
    Row("mesh-no-solid-cells", {"m.vtu": mesh_file(solid=False)},
        ["rom", "--mesh", "m.vtu", "--json", "r.json"], 2,
        ["m.vtu", "no solid cells", "tetra, tetra10 or hexahedron"], ["r.json"]),
    Row("mesh-inverted-element", {"m.vtu": mesh_file(invert=5)},
        ["rom", "--mesh", "m.vtu", "--json", "r.json"], 2,
        ["m.vtu", "inverted", "tetra[5] (solid cell 5)", "detJ <= 0"], ["r.json"]),
    Row("mesh-missing-node-set", {"m.vtu": mesh_file(node_sets=("upper_endplate_top",))},
        ["rom", "--mesh", "m.vtu", "--json", "r.json"], 2,
        ["m.vtu", "'lower_endplate_bottom'", "upper_endplate_top, lower_endplate_bottom"],
        ["r.json"]),
    Row("mesh-unknown-region-name", {"m.vtu": mesh_file(names={1: "bone"})},
        ["rom", "--mesh", "m.vtu", "--json", "r.json"], 2,
        ["m.vtu", "'bone'", "cortical, cancellous"], ["r.json"]),
    Row("mesh-unnamed-region", {"m.mesh": mesh_file()},
        ["rom", "--mesh", "m.mesh", "--json", "r.json"], 2,
        ["m.mesh", "'region_1'", "cortical, cancellous"], ["r.json"]),
    # -------------------------------------------------------------------- CLI arguments
    Row("risk-samples-not-a-number", {}, ["risk", "--samples", "ten", "--json", "r.json"], 2,
        ["--samples ten", "integer from 1 to 1000000"], ["r.json"]),
    Row("risk-samples-zero", {}, ["risk", "--samples", "0", "--json", "r.json"], 2,
        ["--samples 0", "integer from 1 to 1000000"], ["r.json"]),
    Row("risk-workers-zero", {}, ["risk", "--samples", "2", "--workers", "0"], 2,
        ["--workers 0", "integer >= 1"]),
    Row("risk-workers-too-many", {}, ["risk", "--samples", "2", "--weeks", "2",
                                      "--resolution", "0.3", "--workers", "100000"], 2,
        ["--workers 100000", "at most", "per CPU available"]),
    Row("risk-seed-negative", {}, ["risk", "--samples", "2", "--seed", "-1"], 2,
        ["--seed -1", "integer from 0 to"]),
    Row("risk-weeks-out-of-range", {}, ["risk", "--samples", "2", "--weeks", "600"], 2,
        ["--weeks 600", "timeline.weeks", "[1, 520] weeks"]),
    Row("risk-resolution-out-of-range", {}, ["risk", "--samples", "2", "--resolution", "10"], 2,
        ["--resolution 10", "segment.resolution", "[0.3, 4]"]),
    Row("risk-json-into-missing-folder", {},
        ["risk", "--samples", "2", "--json", "nodir/r.json"], 2,
        ["--json nodir/r.json", "does not exist"], ["nodir"]),
    Row("risk-json-is-a-folder", {"r.json": folder}, ["risk", "--samples", "2", "--json",
                                                      "r.json"], 2, ["r.json", "is a folder"]),
    Row("risk-json-empty", {}, ["risk", "--samples", "2", "--json", ""], 2,
        ["--json: empty file name"]),
    Row("risk-json-under-a-file", SOMEFILE, ["risk", "--samples", "2", "--json",
                                             "somefile/r.json"], 2,
        ["--json somefile/r.json", "somefile is a file, not a folder"]),
    Row("risk-out-empty", {}, ["risk", "--samples", "2", "--weeks", "2", "--resolution", "0.3",
                               "-o", ""], 2, ["-o: empty folder name"]),
    Row("risk-out-is-a-sweep-folder", {"old/sweep.json": "{}", "old/results.sqlite": b""},
        ["risk", "--samples", "2", "-o", "old"], 2,
        ["-o old", "holds the results of `spinesim sweep` (sweep.json)", "another folder"]),
    Row("sweep-out-is-a-run-folder", {"w.toml": GOOD_SWEEP, "old/report.json": "{}"},
        ["sweep", "w.toml", "-o", "old"], 2,
        ["-o old", "holds the results of `spinesim run` (report.json)"]),
    Row("run-cage-larger-than-the-endplate", {"s.toml": "[cage]\nwidth_mm = 60\ndepth_mm = 60\n"},
        ["run", "s.toml", "-o", "out", "--resolution", "0.3"], 2,
        ["spinesim run: s.toml: cage 60.0 x 60.0 mm", "cage.width_mm, cage.depth_mm",
         "L4 endplate (46.7 x 35.0 mm)"], ["out"]),
    Row("risk-cage-larger-than-the-endplate",
        {"s.toml": "[cage]\nwidth_mm = 60\ndepth_mm = 60\n"},
        ["risk", "s.toml", "--samples", "1", "--weeks", "2", "--resolution", "0.3",
         "--json", "r.json"], 2,
        ["spinesim risk: s.toml: cage 60.0 x 60.0 mm", "cage.width_mm, cage.depth_mm"],
        ["r.json"]),
    Row("rom-dimensions-that-do-not-fit",
        {"d.toml": "[segment.dimensions.L4]\npedicle_height_mm = 30\nbody_height_mm = 22\n"},
        ["rom", "--dimensions", "d.toml", "--resolution", "0.3", "--json", "r.json"], 2,
        ["spinesim rom: --dimensions d.toml: L4: pedicle_height_mm=30.0 does not fit the body "
         "height 22.0 mm"], ["r.json"]),
    Row("run-out-is-a-risk-folder", {"old/risk.json": "{}"}, ["run", "-o", "old"], 2,
        ["-o old", "holds the results of `spinesim risk` (risk.json)"]),
    Row("risk-out-is-a-file", SOMEFILE, ["risk", "--samples", "2", "-o", "somefile"], 2,
        ["-o somefile", "is a file"]),
    Row("risk-out-unwritable", SOMEFILE, ["risk", "--samples", "2", "-o", "somefile/sub"], 2,
        ["somefile/sub", "somefile", "not a writable folder"]),
    Row("run-weeks-zero", {}, ["run", "--weeks", "0", "-o", "out"], 2,
        ["--weeks 0", "timeline.weeks", "[1, 520] weeks"], ["out"]),
    Row("run-weeks-fraction", {}, ["run", "--weeks", "1.5", "-o", "out"], 2,
        ["--weeks 1.5", "whole number", "[1, 520] weeks"], ["out"]),
    Row("run-resolution-not-a-number", {}, ["run", "--resolution", "fine", "-o", "out"], 2,
        ["--resolution fine", "segment.resolution", "[0.3, 4]"], ["out"]),
    Row("run-out-is-a-file", SOMEFILE, ["run", "-o", "somefile"], 2,
        ["-o somefile", "is a file"]),
    Row("run-out-unwritable", SOMEFILE, ["run", "-o", "somefile/sub"], 2,
        ["somefile/sub", "not a writable folder"]),
    Row("run-out-empty", {}, ["run", "-o", "", "--weeks", "2", "--resolution", "0.3",
                              "--no-plots"], 2, ["-o: empty folder name"]),
    Row("sweep-out-empty", {"w.toml": GOOD_SWEEP}, ["sweep", "w.toml", "-o", ""], 2,
        ["-o: empty folder name"], ["results"]),
    Row("plot-out-empty", {"run1": folder}, ["plot", "run1", "-o", ""], 2,
        ["-o: empty folder name"]),
    Row("rom-json-is-a-folder", {"r.json": folder},
        ["rom", "--resolution", "0.3", "--json", "r.json"], 2, ["--json r.json", "is a folder"]),
    Row("rom-json-empty", {}, ["rom", "--resolution", "0.3", "--json", ""], 2,
        ["--json: empty file name"]),
    Row("rom-json-under-a-file", SOMEFILE, ["rom", "--json", "somefile/r.json"], 2,
        ["--json somefile/r.json", "somefile is a file, not a folder"]),
    Row("results-csv-is-a-folder", {"results.sqlite": results_store, "t.csv": folder},
        ["results", ".", "--csv", "t.csv"], 2, ["--csv t.csv", "is a folder"]),
    Row("results-csv-empty", {"results.sqlite": results_store},
        ["results", ".", "--csv", ""], 2, ["--csv: empty file name"]),
    Row("results-csv-under-a-file", {"results.sqlite": results_store, **SOMEFILE},
        ["results", ".", "--csv", "somefile/t.csv"], 2,
        ["--csv somefile/t.csv", "somefile is a file, not a folder"]),
    Row("results-csv-into-missing-folder", {"results.sqlite": results_store},
        ["results", ".", "--csv", "nodir/t.csv"], 2, ["--csv nodir/t.csv", "does not exist"]),
    Row("rom-json-into-missing-folder", {}, ["rom", "--json", "nodir/r.json"], 2,
        ["--json nodir/r.json", "does not exist"], ["nodir"]),
    Row("rom-mesh-with-generator-options", {"m.vtu": mesh_file()},
        ["rom", "--mesh", "m.vtu", "--construct", "bilateral-cage", "--levels", "L2-L3",
         "--rod-diameter", "6", "--json", "r.json"], 2,
        ["--mesh m.vtu", "--levels, --construct, --rod-diameter", "do not apply to a given mesh",
         "--bone-quality, --bone-density, --cage-material"], ["r.json"]),
    Row("rom-mesh-with-resolution-and-dimensions", {"m.vtu": mesh_file()},
        ["rom", "--mesh", "m.vtu", "--resolution", "0.5", "--dimensions", "nope.toml"], 2,
        ["--mesh m.vtu", "--resolution, --dimensions", "do not apply"]),
    Row("rom-moment-out-of-range", {}, ["rom", "--moment", "100", "--json", "r.json"], 2,
        ["--moment", "[0.1, 30] N·m", "100"], ["r.json"]),
    Row("rom-density-with-osteoporotic", {},
        ["rom", "--bone-density", "0.5", "--bone-quality", "osteoporotic", "--json", "r.json"], 2,
        ["--bone-density 0.5 with --bone-quality osteoporotic", "give one or the other"],
        ["r.json"]),
    Row("rom-levels-unknown-vertebra", {}, ["rom", "--levels", "T12-L1", "--json", "r.json"], 2,
        ["--levels T12-L1: unknown vertebra 'T12'", "L1, L2, L3, L4, L5, S1"], ["r.json"]),
    Row("rom-levels-caudal-first", {}, ["rom", "--levels", "L5-L4", "--json", "r.json"], 2,
        ["--levels L5-L4: need two or more adjacent vertebrae, cranial first"], ["r.json"]),
    Row("rom-dimensions-outside-levels",
        {"d.toml": "[segment.dimensions.L3]\nbody_height_mm = 25\n"},
        ["rom", "--dimensions", "d.toml", "--json", "r.json"], 2,
        ["--dimensions d.toml: [segment.dimensions.L3] is given",
         "--levels L4-L5 (the default) spans L4, L5"], ["r.json"]),
    Row("rom-construct-unknown", {}, ["rom", "--construct", "fused", "--json", "r.json"], 2,
        ["--construct", "'fused'", "intact", "bilateral-cage"], ["r.json"]),
    Row("rom-cage-contact-without-cage", {},
        ["rom", "--cage-interface", "contact", "--json", "r.json"], 2,
        ["--cage-interface contact needs a construct with a cage", "bilateral-cage",
         "--construct intact (the default) has none"], ["r.json"]),
    Row("rom-cage-contact-without-cage-given", {},
        ["rom", "--construct", "bilateral", "--cage-interface", "contact", "--json", "r.json"], 2,
        ["--cage-interface contact", "--construct bilateral has none"], ["r.json"]),
    Row("rom-cage-bonded-without-cage", {},
        ["rom", "--construct", "intact", "--cage-interface", "bonded", "--json", "r.json"], 2,
        ["--cage-interface bonded needs a construct with a cage", "--construct intact has none"],
        ["r.json"]),
    Row("run-screw-leaves-the-body-names-the-file",
        {"s.toml": "[hardware.screw]\nlength_mm = 80\n"}, ["run", "s.toml", "-o", "out"], 2,
        ["s.toml: screw L4 left: a 80 mm screw leaves the vertebral body",
         "hardware.screw.length_mm"], ["out"]),
    Row("run-weeks-flag-contradicts-the-file", {"v.toml": "[output]\nvtu_weeks = [0, 26]\n"},
        ["run", "v.toml", "--weeks", "2", "-o", "out"], 2,
        ["v.toml with --weeks 2", "output.vtu_weeks = [0, 26]", "timeline.weeks = 2"],
        ["out"]),
    # /proc passes root's access checks but refuses new files: found by creating one
    Row("run-output-in-proc", {}, ["run", "-o", "/proc/spinesim-run"], 2,
        ["-o /proc/spinesim-run", "/proc is not a writable folder"]),
    Row("rom-json-in-proc", {}, ["rom", "--json", "/proc/spinesim-rom.json"], 2,
        ["--json /proc/spinesim-rom.json", "folder /proc is not writable"]),
    Row("plot-not-a-run-folder", {"notarun": folder}, ["plot", "notarun", "-o", "figs"], 2,
        ["notarun", "timeline.csv"], ["figs"]),
    Row("plot-missing-folder", {}, ["plot", "nope"], 2, ["nope", "no such folder"]),
    Row("plot-a-file-of-a-run-folder", {"run1/report.json": "{}"},
        ["plot", "run1/report.json"], 2,
        ["run1/report.json: is a file, not a folder", "spinesim plot run1",
         "written by `spinesim run`"]),
    Row("plot-a-figure-of-a-sweep-folder", {"sw/sweep.json": "{}", "sw/plots/x.png": b""},
        ["plot", "sw/plots/x.png"], 2,
        ["sw/plots/x.png: is a file, not a folder", "spinesim plot sw",
         "written by `spinesim sweep`"]),
    Row("plot-a-file-elsewhere", SOMEFILE, ["plot", "somefile"], 2,
        ["somefile: is a file, not a folder", "give the output folder of `spinesim run`"]),
    Row("plot-out-unwritable", {"run1": folder, **SOMEFILE}, ["plot", "run1", "-o",
                                                              "somefile/sub"], 2,
        ["somefile/sub", "not a writable folder"]),
    Row("results-not-a-store", {"d": folder}, ["results", "d"], 2,
        ["no results store", "results.sqlite"]),
    Row("results-foreign-sqlite", {"d/results.sqlite": foreign_sqlite}, ["results", "d"], 2,
        ["d/results.sqlite: not a spinesim results store (no 'cases' table)"]),
    Row("sweep-into-foreign-sqlite", {"w.toml": TINY_SWEEP, "out/results.sqlite": foreign_sqlite},
        ["sweep", "w.toml", "-o", "out"], 2,
        ["out/results.sqlite: not a spinesim results store (no 'cases' table)"],
        ["out/sweep.json"]),
    Row("risk-into-foreign-sqlite", {"out/results.sqlite": foreign_sqlite},
        ["risk", "--samples", "1", "--weeks", "2", "--resolution", "0.3", "-o", "out"], 2,
        ["out/results.sqlite: not a spinesim results store (no 'cases' table)"],
        ["out/risk.json"]),
    Row("results-empty-file", {"r.sqlite": b""}, ["results", "r.sqlite", "--csv", "t.csv"], 2,
        ["r.sqlite: not a spinesim results store (no 'cases' table)"], ["t.csv"]),
    # -------------------------------------------------------------------- Python API only
    Row("api-screw-outside-the-bone", {}, lambda tmp: _screw_outside(), MeshError,
        ["screw 'too long' node", "outside every solid cell"]),
    Row("api-segment-options-bad-construct", {}, lambda tmp: _options(construct="fused"),
        SpinesimError, ["'fused'", "intact, bilateral, bilateral-cage"]),
    Row("api-segment-mesh-region-missing", {"m.vtu": mesh_file(names={1: "graft "})},
        lambda tmp: _import(tmp / "m.vtu"), MeshError, ["m.vtu", "'graft '", "cortical"]),
]


def _screw_outside() -> None:
    from spinesim.mesh.generate import box
    from spinesim.model.hardware import Screw, build_hardware

    mesh = box((40.0, 30.0, 30.0), (4, 3, 3), "hexahedron")
    long = Screw("too long", head=(20.0, -10.0, 15.0), entry=(20.0, 0.0, 15.0),
                 direction=(0, 1.0, 0), length_mm=45.0, n_segments=9)
    build_hardware(mesh, [long], [], np.full(mesh.n_solid_cells, 1000.0))


def _options(**kw: Any) -> None:
    from spinesim.model.segment import SegmentOptions

    SegmentOptions(**kw)


def _import(path: Path) -> None:
    from spinesim.model.segment_import import import_segment_mesh

    import_segment_mesh(path)


def _make(tmp: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def _snapshot(tmp: Path) -> set[Path]:
    return {p for p in tmp.rglob("*") if p.is_file()}


def _run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(row: Row, tmp_path, monkeypatch, capsys):
    if not callable(row.call) and any(a.startswith("/proc/") for a in row.call) \
            and not Path("/proc").is_dir():
        pytest.skip("the row needs Linux's /proc")
    monkeypatch.chdir(tmp_path)
    _make(tmp_path, row.files)
    before = _snapshot(tmp_path)
    monkeypatch.setattr("spinesim.fem.solvers.make_solver", _no_solve)
    if callable(row.call):
        with pytest.raises(row.expect) as info:
            row.call(tmp_path)
        message = str(info.value)
    else:
        code, out, err = _run_cli(row.call, capsys)
        message = err
        assert code == row.expect, f"exit {code}, stdout {out!r}, stderr {err!r}"
        assert "Traceback" not in err and "Traceback" not in out
        assert out == "", f"nothing on stdout for bad input, got {out!r}"
        lines = [line for line in err.splitlines() if line.strip()]
        if lines and lines[0].startswith("usage:"):  # argparse: usage block, then one line
            lines = [line for line in lines if not line.startswith(("usage:", " "))]
        assert lines, "an error message on stderr"
        assert len(lines) == 1 or "problems" in lines[0], err  # one line, or a short list
        assert len(lines) <= 8, err
        for name in row.absent:
            assert not (tmp_path / name).exists(), f"{name} was created"
        new = _snapshot(tmp_path) - before
        assert not new, f"partial output left: {sorted(str(p) for p in new)}"
    missing = [s for s in row.must if s not in message]
    assert not missing, f"message lacks {missing}: {message!r}"


class _SolveReached(BaseException):
    """Raised by :func:`_no_solve`; a BaseException so that no ``except Exception`` of the
    code under test turns it into an ordinary error message."""


def _no_solve(*args: Any, **kwargs: Any) -> None:
    """Stands in for ``spinesim.fem.solvers.make_solver`` (every FE solve of spinesim makes
    its solver there): a bad input must be refused before the first solve."""
    raise _SolveReached("the bad input got past validation: an FE solver was set up")


def test_catalogue_is_large_and_spread():
    kinds = {}
    for r in ROWS:
        kinds[r.id.split("-")[0]] = kinds.get(r.id.split("-")[0], 0) + 1
    assert len(ROWS) >= 40
    assert {"scenario", "sweep", "mesh", "api"} <= set(kinds)
    assert len({r.id for r in ROWS}) == len(ROWS)


def test_a_byte_order_mark_is_read_past(tmp_path):
    """Editors on Windows may start a UTF-8 file with a byte-order mark, which TOML does not
    allow; it is skipped rather than reported as a syntax error at line 1."""
    from spinesim.scenario import Scenario

    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf[timeline]\nweeks = 26\n")
    assert Scenario.from_toml(path).get("timeline.weeks") == 26


def test_empty_scenario_file_is_the_default(tmp_path):
    from spinesim.scenario import Scenario

    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    assert Scenario.from_toml(tmp_path / "empty.toml") == Scenario.default()


def test_the_no_solve_guard_stops_a_valid_job(tmp_path, monkeypatch):
    """The guard of the catalogue can fail: a valid `spinesim run` reaches it at its first
    solve (so a bad input that got past validation would too)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("spinesim.fem.solvers.make_solver", _no_solve)
    (tmp_path / "s.toml").write_text("[segment]\nresolution = 0.3\n[timeline]\nweeks = 1\n")
    with pytest.raises(_SolveReached):
        main(["run", "s.toml", "-o", "out", "--no-plots"])
