"""`spinesim run` and `spinesim plot`: the run folder (report.json/.txt, timeline.csv,
scenario.toml, figures, VTU fields), written through a staging folder, on a short coarse run."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from spinesim.cli import main
from spinesim.outcomes import FAILURE_MODES
from spinesim.report import PLOTS

ARGS = ["--weeks", "3", "--resolution", "0.3"]
RERUN = ["--weeks", "2", "--resolution", "0.3"]  # shorter than the module's run


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", "-o", str(out), *ARGS]) == 0
    return out


def test_run_writes_the_documented_files(run_dir):
    for name in ("report.json", "report.txt", "timeline.csv", "scenario.toml"):
        assert (run_dir / name).is_file(), name
    assert {p.stem for p in (run_dir / "plots").glob("*.png")} == \
        set(PLOTS) | {"von_mises_week_000", "von_mises_week_003"}
    weeks = sorted(p.name for p in (run_dir / "fields").glob("*.vtu"))
    assert weeks == ["week_000.vtu", "week_003.vtu"]  # output.vtu_weeks default up to 3
    segments = json.loads((run_dir / "fields" / "hardware_segments.json").read_text())
    assert len(segments) > 0 and all(len(s) == 2 and len(s[0]) == 3 for s in segments)
    leftovers = [p for p in run_dir.rglob(".*") if p.is_file()]
    assert leftovers == []  # no temporary files left behind
    assert list(run_dir.parent.glob(".*")) == []  # nor the staging folder it was renamed from
    assert run_dir.stat().st_mode & 0o777 == 0o777 & ~_umask()  # not mkdtemp's 0700


def test_report_json_holds_the_verdicts_with_their_exact_keys(run_dir):
    text = (run_dir / "report.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    report = json.loads(text)
    assert set(report["verdicts"]) == set(FAILURE_MODES)
    for v in report["verdicts"].values():
        assert set(v) == {"fails", "week", "driver", "value", "threshold"}
        assert isinstance(v["fails"], bool)
    table = pd.read_csv(run_dir / "timeline.csv")
    assert table["week"].tolist() == [1.0, 2.0, 3.0]
    # timeline.csv holds 6 significant digits (float_format "%.6g"): equal to 5e-6 relative
    assert report["outcomes"]["rod_damage"] == pytest.approx(table["rod_damage"].iloc[-1],
                                                             rel=5e-6)
    day0 = table["median_graft_shear_strain"].iloc[0]
    assert day0 > 0 and report["outcomes"]["initial_graft_strain"] == pytest.approx(day0,
                                                                                 rel=5e-6)
    assert math.isclose(report["scenario"]["timeline"]["weeks"], 3)
    assert sorted(report["files"]) == report["files"] and "report.json" in report["files"]
    txt = (run_dir / "report.txt").read_text()
    for mode in ("insufficient support", "hardware fatigue", "nonunion"):
        assert mode in txt
    assert f"day-0 graft shear strain, median  {100 * day0:.3g} %" in txt
    # the 3-week run's nonunion horizon is cut to 3 weeks: report.txt says so; at the
    # clinical 52 weeks it does not
    assert "(horizon 3 weeks, shorter than the clinical definition: no bony union within 52" \
        in txt
    from spinesim.report import report_text
    report["verdicts"]["nonunion"]["threshold"] = 52
    assert "shorter than the clinical definition" not in report_text(report)


def test_fields_are_readable_with_the_graft_tissue_level(run_dir):
    import meshio

    from spinesim.mesh.io import read_mesh

    m = meshio.read(run_dir / "fields" / "week_003.vtu")
    assert {"von_mises_mpa", "E_mpa", "nu", "tissue_level"} <= set(m.cell_data)
    assert "displacement_mm" in m.point_data
    mesh = read_mesh(run_dir / "fields" / "week_003.vtu")
    assert mesh.n_nodes == len(m.points)


def test_rerun_scenario_file_reproduces_the_timeline(run_dir, tmp_path):
    out = tmp_path / "again"
    assert main(["run", str(run_dir / "scenario.toml"), "-o", str(out), "--no-plots"]) == 0
    a = pd.read_csv(run_dir / "timeline.csv")
    b = pd.read_csv(out / "timeline.csv")
    pd.testing.assert_frame_equal(a, b)
    assert not (out / "plots").exists()


def test_plot_renders_the_standard_set_from_the_files(run_dir, tmp_path, capsys):
    assert main(["plot", str(run_dir), "-o", str(tmp_path / "figs")]) == 0
    assert {p.stem for p in (tmp_path / "figs").glob("*.png")} >= set(PLOTS)
    assert "10 figures" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["plot", "{tmp}/nothing"], "no such folder"),
    (["plot", "{tmp}"], "not a spinesim result folder"),
    (["run", "-o", "{tmp}/file.txt"], "is a file"),
    (["run", "--weeks", "0"], "timeline.weeks"),
    (["run", "--resolution", "9"], "segment.resolution"),
    (["run", "{tmp}/missing.toml"], "missing.toml"),
])
def test_bad_run_and_plot_input_exits_2(tmp_path, capsys, argv, message):
    (tmp_path / "file.txt").write_text("x")
    code = main([a.format(tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not list(tmp_path.rglob("report.json"))


def _damaged(run_dir, tmp_path, name, damage):
    import shutil

    folder = tmp_path / name
    shutil.copytree(run_dir, folder, ignore=shutil.ignore_patterns("plots"))
    damage(folder)
    return folder


def _edit_csv(column, row, value):
    def damage(folder):
        table = pd.read_csv(folder / "timeline.csv").astype({column: object})
        table.loc[row, column] = value
        table.to_csv(folder / "timeline.csv", index=False)
    return damage


@pytest.mark.parametrize("name, damage, message", [
    ("header_only", lambda f: (f / "timeline.csv").write_text(
        (f / "timeline.csv").read_text().splitlines()[0] + "\n"), "timeline.csv: no rows"),
    ("nan", _edit_csv("graft_bone_fraction", 1, float("nan")),
     "timeline.csv: column graft_bone_fraction, row 2: nan is not a finite number"),
    ("text", _edit_csv("week", 0, "abc"), "timeline.csv: column week, row 1: 'abc'"),
    ("report_list", lambda f: (f / "report.json").write_text("[]"),
     "report.json: expected a JSON object, got list"),
    ("vtu_garbage", lambda f: (f / "fields" / "week_000.vtu").write_text("junk"),
     "week_000.vtu: not a valid .vtu file"),
])
def test_plot_of_a_damaged_run_folder_names_the_file_and_writes_nothing_half(
        run_dir, tmp_path, capsys, name, damage, message):
    """A damaged run folder gives one line naming file (and column, row) with exit 2, not a
    traceback from pandas, numpy or meshio (meshio's own reader error calls sys.exit)."""
    folder = _damaged(run_dir, tmp_path, name, damage)
    capsys.readouterr()
    assert main(["plot", str(folder), "-o", str(tmp_path / "figs")]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.out == ""


def test_plot_of_damaged_monte_carlo_and_sweep_folders_exits_2(tmp_path, capsys):
    cases = {"risk.json": ('{"sensitivity": 5}', "'sensitivity' must map each outcome"),
             "sweep.json": ("[]", "sweep.json: expected a JSON object, got list")}
    for name, (text, message) in cases.items():
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        (folder / name).write_text(text)
        (folder / "results.csv").write_text("status\n")
        capsys.readouterr()
        assert main(["plot", str(folder)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    folder = tmp_path / "failed_sweep"
    folder.mkdir()
    (folder / "sweep.json").write_text(json.dumps({"parameters": {"a": {}, "b": {}}}))
    (folder / "results.csv").write_text("a,b,status\n1,2,failed\n")
    assert main(["plot", str(folder)]) == 2
    assert "no finished cases to plot (1 case(s), none done)" in capsys.readouterr().err


def test_plot_renders_tornado_charts_of_a_monte_carlo_folder(tmp_path):
    from spinesim.montecarlo import _demo_case, risk

    out = tmp_path / "mc"
    risk(samples=40, seed=3, out_dir=out, case_fn=_demo_case, progress=False)
    assert (out / "risk.json").is_file() and (out / "samples.csv").is_file()
    assert main(["plot", str(out)]) == 0
    names = {p.stem for p in (out / "plots").glob("*.png")}
    assert {"tornado_nonunion_fails", "tornado_rod_damage"} <= names


def test_plot_of_a_monte_carlo_without_varying_outcomes_says_why_and_writes_nothing(
        tmp_path, capsys):
    from spinesim.montecarlo import _demo_case, risk

    out = tmp_path / "mc"
    risk(samples=2, seed=3, out_dir=out, case_fn=_demo_case, progress=False)
    capsys.readouterr()
    assert main(["plot", str(out)]) == 0
    said = capsys.readouterr().out
    assert "no figures: no outcome varies over its samples" in said and "at least 3" in said
    assert not (out / "plots").exists()


def test_plot_renders_failure_heatmaps_of_a_sweep_folder(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "sweep.json").write_text(json.dumps({"design": "grid", "parameters": {
        "hardware.rod.diameter_mm": {"values": [5.5, 6.0]},
        "bone.quality": {"values": ["healthy", "osteoporotic"]}}}))
    rows = [{"hardware.rod.diameter_mm": d, "bone.quality": q, "status": "done",
             "hardware_fatigue_fails": d < 6.0 and q == "osteoporotic",
             "nonunion_fails": False, "insufficient_support_fails": q == "osteoporotic"}
            for d in (5.5, 6.0) for q in ("healthy", "osteoporotic") for _ in range(3)]
    pd.DataFrame(rows).to_csv(folder / "results.csv", index=False)
    assert main(["plot", str(folder)]) == 0
    names = {p.stem for p in (folder / "plots").glob("*.png")}
    assert names == {"heatmap_insufficient_support", "heatmap_hardware_fatigue",
                     "heatmap_nonunion"}


def test_report_has_the_fatigue_outputs_per_part(run_dir):
    report = json.loads((run_dir / "report.json").read_text())
    for part in ("rod", "screw"):
        f = report["fatigue"][part]
        assert set(f) == {"damage_per_year", "years_to_crack", "cycles_to_crack",
                          "critical_point_mm",
                          "safety_factor", "max_equivalent_amplitude_mpa",
                          "static_overload"}
        assert f["safety_factor"] > 0 and len(f["critical_point_mm"]) == 3
        assert f["static_overload"] is False
    assert "rod fatigue:" in (run_dir / "report.txt").read_text()


def test_report_has_the_screw_pullout_check(run_dir):
    report = json.loads((run_dir / "report.json").read_text())
    p = report["pullout"]
    assert p["critical_screw"] in report["model"]["screws"]
    assert p["strength_n"] == p["strengths_n"][p["critical_screw"]]
    assert set(p["strengths_n"]) == set(report["model"]["screws"])
    assert 0 < p["critical_pullout_n"] <= p["max_pullout_n"] < p["strength_n"]
    assert p["safety_factor"] == pytest.approx(p["strength_n"] / p["critical_pullout_n"])
    t = pd.read_csv(run_dir / "timeline.csv")
    assert t["max_screw_pullout_n"].max() == pytest.approx(p["max_pullout_n"], rel=1e-4)
    assert report["outcomes"]["pullout_safety_factor"] == pytest.approx(p["safety_factor"])
    assert "against its predicted strength" in (run_dir / "report.txt").read_text()


def test_report_names_the_screw_nearest_to_counting_as_loosened(run_dir, tmp_path):
    """report.json ``loosening``: the largest share of a screw's tied nodes that lost half of
    their day-0 stiffness, against loosening.screw_share. The default run keeps every node
    bonded; with a fibrous threshold under the day-0 micromotion the L4 tips loosen (about a
    tenth of the nodes), and the report says how far that is from the 50 % criterion."""
    report = json.loads((run_dir / "report.json").read_text())
    assert report["loosening"]["max_loosened_share"] == 0.0
    assert report["loosening"]["week"] is None
    assert "no tied node of any screw fell below 50 %" in (run_dir / "report.txt").read_text()
    scenario = tmp_path / "tips.toml"
    scenario.write_text("[loosening]\nbone_threshold_um = 0.05\nfibrous_threshold_um = 8.0\n"
                        "transition_weeks = 1.0\n")
    out = tmp_path / "tips"
    assert main(["run", str(scenario), "-o", str(out), *ARGS]) == 0
    lo = json.loads((out / "report.json").read_text())["loosening"]
    t = pd.read_csv(out / "timeline.csv")
    shares = t.filter(like="loosened_share_")
    # timeline.csv keeps 6 significant digits
    assert lo["max_loosened_share"] == pytest.approx(shares.max().max(), rel=1e-4)
    assert 0.05 < lo["max_loosened_share"] < lo["screw_share"] == 0.5
    assert lo["screw"].startswith("L4")
    assert lo["week"] == t["week"][shares[f"loosened_share_{lo['screw']}"].idxmax()]
    text = (out / "report.txt").read_text()
    assert f"screw loosening: {lo['screw'].replace('_', ' ')} furthest" in text
    assert "a screw counts as loosened from 50 %" in text


def test_intact_reference_adds_rom_percentages_and_the_bars(tmp_path):
    """output.intact_reference: the nonlinear intact segment under the protocol moment; the
    fused construct moves less than it in every direction (a physical ordering)."""
    sc = tmp_path / "s.toml"
    sc.write_text("[output]\nintact_reference = true\nplots = true\n")
    out = tmp_path / "run"
    assert main(["run", str(sc), "-o", str(out), "--weeks", "2", "--resolution", "0.3"]) == 0
    report = json.loads((out / "report.json").read_text())
    vs = report["rom_vs_intact"]
    directions = {"flexion", "extension", "lateral_bending", "axial_rotation"}
    activities = {f"activity_{a}" for a in ("walking", "bending", "full_flexion")}
    assert set(vs) == directions | activities
    for name in directions:
        r = vs[name]
        assert 0 < r["percent_of_intact"] < 100
        assert r["percent_of_intact"] == pytest.approx(
            100 * r["fused_last_week_deg"] / r["intact_deg"])
    for name in ("activity_bending", "activity_full_flexion"):  # flexion moments
        r = vs[name]
        assert 0 < r["fused_last_week_deg"] < r["intact_deg"]
    # full flexion is the protocol moment about the same axis, with 450 N compression
    assert vs["activity_full_flexion"]["intact_deg"] != vs["flexion"]["intact_deg"]
    assert (out / "plots" / "rom_vs_intact.png").is_file()
    assert "% of intact" in (out / "report.txt").read_text()


def test_without_the_reference_rom_vs_intact_is_null(run_dir):
    assert json.loads((run_dir / "report.json").read_text())["rom_vs_intact"] is None


def test_a_rod_that_breaks_on_the_first_load_is_reported_not_a_crash(tmp_path):
    """A 2 mm rod on one side under 30 N·m / 5 kN lifts: its peak von Mises stress passes the
    UTS (860 MPa) in week 1. The hardware verdict says so, the rod's S-N operating point is
    flagged as a static overload (no S-N curve applies, so no equivalent amplitude) and every
    file is still written; the report used to stop at the mean-stress correction."""
    sc = tmp_path / "s.toml"
    sc.write_text('[segment]\nconstruct = "unilateral-cage"\n[hardware.rod]\ndiameter_mm = 2.0\n'
                  "[activity.lifting]\nper_day = 20.0\nmoment_nm = 30.0\n"
                  "compression_n = 5000.0\n")
    out = tmp_path / "out"
    assert main(["run", str(sc), "-o", str(out), *ARGS]) == 0
    report = json.loads((out / "report.json").read_text())
    v = report["verdicts"]["hardware_fatigue"]
    assert v["fails"] and v["week"] == 1 and v["driver"] == "rod_static_overload"
    assert v["value"] >= v["threshold"] == 860.0
    (point,) = report["rod_operating_points"].values()
    assert point["static_overload"] is True and point["equivalent_amplitude_mpa"] is None
    assert 2.0 * point["amplitude_mpa"] >= 860.0
    assert report["fatigue"]["rod"]["static_overload"] is True
    assert (out / "plots" / "sn_curve.png").is_file()


# ------------------------------------------------------------- rerun into an earlier run folder
def _earlier_run(run_dir, tmp_path, *ignore):
    """A copy of the module's 3-week run folder (without the entries ``ignore``) holding a
    file of the user's, notes.txt."""
    folder = tmp_path / "out"
    shutil.copytree(run_dir, folder, ignore=shutil.ignore_patterns(*ignore))
    (folder / "notes.txt").write_text("mine")
    return folder


def _tree(folder):
    """Every file under ``folder``, hidden ones too -> its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _no_staging_left(folder):
    """Neither a staging folder (inside or next to ``folder``) nor a temporary file."""
    hidden = [p for p in (*folder.rglob(".*"), *folder.parent.glob(".*"))]
    assert hidden == []


def _only_this_run(folder):
    """The files of ``folder`` are exactly its report.json's "files" and the user's notes."""
    report = json.loads((folder / "report.json").read_text())
    assert sorted(_tree(folder)) == sorted([*report["files"], "notes.txt"])
    assert (folder / "notes.txt").read_text() == "mine"
    _no_staging_left(folder)
    return report


def test_rerun_into_an_earlier_longer_run_leaves_only_its_fields_and_plots(run_dir, tmp_path):
    """A 2-week rerun into the folder of a 3-week run: week_003.vtu and its von Mises figure
    go (they used to survive, and `spinesim plot` then drew the stale week); the user's file
    stays."""
    folder = _earlier_run(run_dir, tmp_path)
    assert (folder / "fields" / "week_003.vtu").is_file()
    assert main(["run", "-o", str(folder), *RERUN]) == 0
    report = _only_this_run(folder)
    vtus = sorted(p.name for p in (folder / "fields").glob("*.vtu"))
    assert vtus == ["week_000.vtu", "week_002.vtu"]
    assert vtus == [f"week_{w:03d}.vtu" for w in report["scenario"]["output"]["vtu_weeks"]]
    assert {p.stem for p in (folder / "plots").glob("*.png")} == \
        set(PLOTS) | {"von_mises_week_000", "von_mises_week_002"}
    assert pd.read_csv(folder / "timeline.csv")["week"].tolist() == [1.0, 2.0]


def test_no_plots_rerun_removes_the_earlier_figures(run_dir, tmp_path):
    folder = _earlier_run(run_dir, tmp_path)
    assert (folder / "plots").is_dir()
    assert main(["run", "-o", str(folder), *RERUN, "--no-plots"]) == 0
    assert not (folder / "plots").exists()
    _only_this_run(folder)


def _staging_left(where, name, *, age_s):
    """A staging folder ``where/name`` holding a half-written timeline.csv, ``age_s`` old."""
    folder = where / name
    folder.mkdir()
    (folder / "timeline.csv").write_text("week,")
    then = time.time() - age_s
    os.utime(folder, (then, then))
    return folder


def test_a_killed_runs_staging_folders_are_removed_by_the_next_run(run_dir, tmp_path):
    """Staging folders of killed runs (old, unlocked), inside the output folder and next to
    it, go with the next run into it; a concurrent run's (locked) and a just-made one stay,
    as does another output folder's."""
    fcntl = pytest.importorskip("fcntl")
    folder = _earlier_run(run_dir, tmp_path)
    killed = [_staging_left(folder, ".out.partial-k1ll3d01", age_s=3600),
              _staging_left(tmp_path, ".out.partial-k1ll3d02", age_s=3600)]
    live = _staging_left(folder, ".out.partial-l1v3l1v3", age_s=3600)
    kept = [live, _staging_left(folder, ".out.partial-n3wn3wn3", age_s=0),
            _staging_left(tmp_path, ".other.partial-0th3r0th", age_s=3600)]
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the run writing into it holds
        assert main(["run", "-o", str(folder), *RERUN, "--no-plots"]) == 0
    finally:
        os.close(fd)
    assert [p for p in killed if p.exists()] == []
    assert [p for p in kept if not (p / "timeline.csv").is_file()] == []
    for p in kept:
        shutil.rmtree(p)
    _only_this_run(folder)


def _refused(capsys, folder, before, message, *extra):
    """`spinesim run -o folder` exits 2 with one line holding ``message`` and no temporary
    name, and leaves ``folder`` byte for byte as ``before`` (None: as it is now)."""
    before = _tree(folder) if before is None else before
    capsys.readouterr()
    assert main(["run", "-o", str(folder), *RERUN, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert ".tmp" not in err and "partial" not in err, err
    assert _tree(folder) == before
    _no_staging_left(folder)


def test_a_folder_in_the_way_of_report_json_is_refused_before_the_run(run_dir, tmp_path,
                                                                     capsys):
    """report.json is a folder in a folder holding an earlier run: refused with a message
    naming the file, before the timeline is computed; it used to overwrite timeline.csv,
    scenario.toml and the VTU files and then fail on a temporary name."""
    folder = _earlier_run(run_dir, tmp_path)
    (folder / "report.json").unlink()
    (folder / "report.json").mkdir()
    (folder / "report.json" / "keep.txt").write_text("x")
    _refused(capsys, folder, None, f"output folder {folder}: cannot write report.json (there "
             "is a folder of that name; move it away)")


def test_an_entry_in_the_way_when_the_run_ends_leaves_the_folder_as_it_was(
        run_dir, tmp_path, capsys, monkeypatch):
    """A file named plots appears while the timeline runs: the run is refused when it would be
    moved into place, and the earlier run's files stay as they were."""
    import spinesim.simulate

    folder = _earlier_run(run_dir, tmp_path, "plots")
    real, snapshot = spinesim.simulate.run_timeline, {}

    def run_then_block(*args, **kwargs):
        out = real(*args, **kwargs)
        (folder / "plots").write_text("not a folder")
        snapshot.update(_tree(folder))
        return out

    monkeypatch.setattr(spinesim.simulate, "run_timeline", run_then_block)
    _refused(capsys, folder, snapshot, "cannot write plots (there is a file of that name")


def test_a_full_disk_while_writing_names_the_file_and_leaves_the_folder_as_it_was(
        run_dir, tmp_path, capsys, monkeypatch):
    """The disk fills up at the second VTU file (an OSError carrying a temporary name): one
    line naming fields/week_002.vtu and the reason, the earlier run untouched."""
    import spinesim.mesh.io

    folder = _earlier_run(run_dir, tmp_path)
    real = spinesim.mesh.io.write_mesh

    def full(path, *args, **kwargs):
        if Path(path).name == "week_002.vtu":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC),
                          str(Path(path).parent / ".week_002.vtu.k2j4.tmp"))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(spinesim.mesh.io, "write_mesh", full)
    _refused(capsys, folder, None, f"output folder {folder}: cannot write "
             f"{os.path.join('fields', 'week_002.vtu')} (No space left on device)",
             "--no-plots")


def test_a_failed_rename_into_place_is_undone(run_dir, tmp_path, capsys, monkeypatch):
    """The new fields/ cannot be moved in (EACCES) after timeline.csv and the others were
    replaced: those renames are undone, the earlier run is left as it was."""
    folder = _earlier_run(run_dir, tmp_path)
    real = os.rename

    def denied(src, dst):  # the staged fields/ only, not the undo of the earlier one
        if Path(dst) == folder.resolve() / "fields" and ".partial-" in Path(src).parent.name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(src), str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "rename", denied)
    _refused(capsys, folder, None, "cannot replace fields (Permission denied); the folder is "
             "left as it was", "--no-plots")
