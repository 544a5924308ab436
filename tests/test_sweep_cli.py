"""Sweep files, the ``spinesim sweep`` command and the Python API (spinesim.run/risk/sweep)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import spinesim
import spinesim.outcomes
from spinesim.cli import main
from spinesim.scenario import Scenario
from spinesim.sweeps import SCENARIO_SEED_KEY, SweepError, load_sweep, sweep_scenarios

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sweeps" / "rod_bone_cage.toml"
FILES = ("results.sqlite", "sweep.json", "results.csv", "results.parquet")


# ------------------------------------------------------------------------------ fake cases
def fake_case(params: dict) -> dict:
    """Stands in for spinesim.outcomes.run_case (a full timeline, ~30 s): same columns, instant.

    Thin titanium rods fatigue, osteoporotic bone does not fuse; a timeline of 3 weeks
    raises (a case that fails to compute).
    """
    if params["timeline"]["weeks"] == 3:
        raise RuntimeError("solver diverged")
    rod = params["hardware"]["rod"]
    weak = rod["material"] == "ti6al4v" and rod["diameter_mm"] < 6.0
    osteo = params["bone"]["quality"] == "osteoporotic"
    return {"insufficient_support_fails": False, "insufficient_support_week": None,
            "hardware_fatigue_fails": weak, "hardware_fatigue_week": 20 if weak else None,
            "nonunion_fails": osteo,
            "nonunion_week": params["timeline"]["weeks"] if osteo else None,
            "union_week": None if osteo else 12, "rod_damage": 1.5 if weak else 0.2,
            "seed": params["risk"]["seed"]}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


SMALL = """\
[sweep]
design = "grid"
seed = 7

[sweep.parameters]
hardware.rod.material = ["ti6al4v", "cocr"]
"bone.quality" = ["healthy", "osteoporotic"]

[scenario]
timeline.weeks = 8
"""


def sweep_error(tmp_path: Path, text: str, name: str = "bad.toml") -> str:
    path = write(tmp_path / name, text)
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(path))
    return msg


# ------------------------------------------------------------------------------ sweep files
def test_the_engineers_sweep_file_expands_to_16_validated_scenarios():
    sw = load_sweep(EXAMPLE)
    assert len(sw.cases) == 16 and sw.spec.design == "grid"
    assert [p.key for p in sw.spec.parameters] == [
        "hardware.rod.material", "hardware.rod.diameter_mm", "bone.quality",
        "segment.construct"]
    assert sw.points[1] == {"hardware.rod.material": "ti6al4v",
                            "hardware.rod.diameter_mm": 5.5, "bone.quality": "healthy",
                            "segment.construct": "unilateral-cage"}
    for point, case in zip(sw.points, sw.cases):
        s = Scenario.from_dict(case)  # a full, valid scenario
        assert s.to_dict() == case
        assert all(s.get(k) == v for k, v in point.items())
    # dependent defaults follow the swept value: the notch factor follows the rod alloy
    notch = {c["hardware"]["rod"]["material"]: c["hardware"]["rod"]["notch_factor"]
             for c in sw.cases}
    assert notch == {"ti6al4v": 2.0, "cocr": 1.0}
    seeds = [c["risk"]["seed"] for c in sw.cases]
    assert len(set(seeds)) == 16 and SCENARIO_SEED_KEY == "risk.seed"
    assert load_sweep(EXAMPLE).cases == sw.cases  # deterministic


def test_bare_and_quoted_dotted_keys_and_scenario_overrides(tmp_path):
    sw = load_sweep(write(tmp_path / "s.toml", SMALL))
    assert [p.key for p in sw.spec.parameters] == ["hardware.rod.material", "bone.quality"]
    assert {c["timeline"]["weeks"] for c in sw.cases} == {8}
    assert sw.scenario.get("timeline.weeks") == 8
    more = load_sweep(tmp_path / "s.toml", overrides={"timeline.weeks": 5,
                                                      "segment.resolution": 0.5})
    assert {(c["timeline"]["weeks"], c["segment"]["resolution"]) for c in more.cases} == \
        {(5, 0.5)}


def test_base_scenario_file_is_relative_to_the_sweep_file(tmp_path, monkeypatch):
    write(tmp_path / "cfg" / "base.toml", "[hardware.rod]\ndiameter_mm = 6.5\n"
                                          "[timeline]\nweeks = 10\n")
    write(tmp_path / "cfg" / "s.toml", '[sweep]\ndesign = "random"\nsamples = 3\n'
          'scenario = "base.toml"\n[sweep.parameters]\n'
          '"bone.quality" = ["healthy", "osteoporotic"]\n'
          '[scenario]\ntimeline.weeks = 12\n')
    monkeypatch.chdir(tmp_path)
    sw = load_sweep("cfg/s.toml")
    assert len(sw.cases) == 3
    assert {c["hardware"]["rod"]["diameter_mm"] for c in sw.cases} == {6.5}
    assert {c["timeline"]["weeks"] for c in sw.cases} == {12}  # [scenario] wins over the file


def test_lhs_over_a_range_stays_in_the_range(tmp_path):
    sw = load_sweep(write(tmp_path / "l.toml", '[sweep]\ndesign = "lhs"\nsamples = 6\n'
                          '[sweep.parameters]\n"hardware.rod.diameter_mm" = '
                          '{low = 4.5, high = 6.5}\n'))
    d = sorted(c["hardware"]["rod"]["diameter_mm"] for c in sw.cases)
    assert len(d) == 6 and 4.5 <= d[0] and d[-1] <= 6.5


def test_unknown_key_names_the_file_and_the_closest_valid_key(tmp_path):
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                '"hardware.rod.diamter_mm" = [5.5, 6.0]\n')
    assert "unknown key 'hardware.rod.diamter_mm'" in msg
    assert "did you mean 'hardware.rod.diameter_mm'?" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                'bone.qualty = ["healthy"]\n')
    assert "'bone.qualty'" in msg and "'bone.quality'" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                '"bone.quality" = ["healthy"]\n[scenario]\ntimeline.week = 4\n')
    assert "[scenario]" in msg and "did you mean 'timeline.weeks'?" in msg
    msg = sweep_error(tmp_path, '[sweeps]\ndesign = "grid"\n')
    assert "'sweeps'" in msg and "[sweep]" in msg


def test_a_dimension_of_the_geometry_can_be_swept(tmp_path):
    swept = '[sweep.parameters]\n"segment.dimensions.L4.disc_height_mm" = [8.0, 12.0]\n'
    sw = load_sweep(write(tmp_path / "d.toml", '[sweep]\ndesign = "grid"\n' + swept))
    assert [c["segment"]["dimensions"] for c in sw.cases] == [
        {"L4": {"disc_height_mm": 8.0}}, {"L4": {"disc_height_mm": 12.0}}]
    write(tmp_path / "base.toml", "[segment.dimensions.L4]\nendplate_width_mm = 50.0\n")
    sw = load_sweep(write(tmp_path / "b.toml", '[sweep]\ndesign = "grid"\n'
                          'scenario = "base.toml"\n' + swept))   # merged into the base's table
    assert sw.cases[1]["segment"]["dimensions"] == {"L4": {"disc_height_mm": 12.0,
                                                           "endplate_width_mm": 50.0}}
    example = load_sweep(EXAMPLE.with_name("disc_height.toml"))
    assert [c["segment"]["dimensions"]["L4"]["disc_height_mm"] for c in example.cases] == \
        [8.0, 9.5, 11.0, 12.5]
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                '"segment.dimensions.L4.disc_height_mm" = [8.0, 40.0]\n')
    assert "40.0 is out of range" in msg and "allowed range [2, 25] mm" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                '"segment.dimensions.L3.disc_height_mm" = [8.0]\n')
    assert "segment.dimensions.L3 is given, but segment.levels (default) = 'L4-L5'" in msg


def test_values_out_of_range_name_the_key_and_the_range(tmp_path):
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                '"hardware.rod.diameter_mm" = [5.5, 60.0]\n')
    assert "'hardware.rod.diameter_mm'" in msg and "60.0 is out of range" in msg
    assert "allowed range [2, 10] mm" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "lhs"\nsamples = 4\n[sweep.parameters]\n'
                                '"hardware.rod.diameter_mm" = {low = 1.0, high = 6.0}\n')
    assert "'low' = 1.0 is out of range" in msg and "[2, 10] mm" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                '"hardware.rod.material" = ["ti6al4v", "steel"]\n')
    assert "'steel'" in msg and "'ss316l'" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "random"\nsamples = 2\n'
                                '[sweep.parameters]\n"bone.quality" = {low = 0, high = 1}\n')
    assert "'bone.quality'" in msg and "give a list of 'values'" in msg


def test_bad_design_and_bad_sweep_table(tmp_path):
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "factorial"\n[sweep.parameters]\n'
                                '"bone.quality" = ["healthy"]\n')
    assert "'design' must be one of grid, random, lhs, got 'factorial'" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "lhs"\n[sweep.parameters]\n'
                                '"bone.quality" = ["healthy"]\n')
    assert "needs 'samples'" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                                '"hardware.rod.diameter_mm" = {low = 5.0, high = 6.0}\n')
    assert "grid design needs a list of 'values'" in msg
    msg = sweep_error(tmp_path, '[scenario]\ntimeline.weeks = 4\n')
    assert "no [sweep] table" in msg
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\nseed_key = "seed"\n'
                                '[sweep.parameters]\n"bone.quality" = ["healthy"]\n')
    assert "seed_key 'seed'" in msg and "'risk.seed'" in msg
    msg = sweep_error(tmp_path, "[sweep\ndesign = 1\n")
    assert "TOML syntax error at line 1, column 7" in msg


def test_contradictory_case_is_reported_before_anything_runs(tmp_path):
    path = write(tmp_path / "c.toml", '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                 '"segment.construct" = ["bilateral-cage", "intact"]\n'
                 '"cage.material" = ["peek", "titanium"]\n')
    with pytest.raises(SweepError, match=r"c\.toml: case 2 \(segment\.construct='intact', "
                                         r"cage\.material='peek'\): swept key cage\.material "
                                         r"does not apply: .*has no cage"):
        sweep_scenarios(path, tmp_path / "out", case_fn=fake_case)
    assert not (tmp_path / "out").exists()


def test_missing_files(tmp_path):
    with pytest.raises(SweepError, match="nope.toml: sweep file not found"):
        load_sweep(tmp_path / "nope.toml")
    with pytest.raises(SweepError, match="is a folder"):
        load_sweep(tmp_path)
    msg = sweep_error(tmp_path, '[sweep]\ndesign = "grid"\nscenario = "base.toml"\n'
                                '[sweep.parameters]\n"bone.quality" = ["healthy"]\n')
    assert "[sweep] scenario" in msg and "base.toml: scenario file not found" in msg


# ------------------------------------------------------------------------------ the command
def test_cli_runs_a_tiny_sweep_and_prints_the_summary(tmp_path, capsys, monkeypatch):
    # the default case function: every case needs its own segment model (rod, bone)
    monkeypatch.setattr(spinesim.outcomes, "run_case", fake_case)
    path = write(tmp_path / "tiny.toml", SMALL)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "-o", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "4 cases: 4 done, 0 failed, 0 skipped" in printed
    assert ("failure modes (cases failing of 4 done): insufficient_support 0, "
            "hardware_fatigue 2, nonunion 2") in printed
    assert str(out / "results.csv") in printed and str(out / "results.parquet") in printed
    assert all((out / f).is_file() for f in FILES)
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 4 and set(df["status"]) == {"done"}
    assert df["hardware.rod.material"].tolist() == ["ti6al4v", "ti6al4v", "cocr", "cocr"]
    assert df["timeline.weeks"].tolist() == [8] * 4
    spec = json.loads((out / "sweep.json").read_text())
    assert spec["design"] == "grid" and spec["scenario"] == {"timeline": {"weeks": 8}}
    # again: everything is stored, nothing runs
    assert main(["sweep", str(path), "-o", str(out)]) == 0
    assert "0 done, 0 failed, 4 skipped" in capsys.readouterr().out


def test_timeline_cases_run_grouped_by_their_segment_model(tmp_path, monkeypatch):
    """The default case function keeps one segment model per worker (built and condensed
    once, ~30 s; a case on it ~0.9 s): cases run model by model, the table in design order."""
    ran = []

    def recording_case(params: dict) -> dict:
        ran.append((params["activity"]["level"], params["bone"]["quality"]))
        return fake_case(params)

    monkeypatch.setattr(spinesim.outcomes, "run_case", fake_case)  # models are shared:
    monkeypatch.setattr(spinesim.outcomes, "run_shared_case", recording_case)  # this one
    path = write(tmp_path / "mixed.toml", '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
                 '"activity.level" = [0.8, 1.0, 1.2]\n'  # cycle counts: same model
                 '"bone.quality" = ["healthy", "osteoporotic"]\n'  # varies fastest: 2 models
                 '[scenario]\ntimeline.weeks = 8\n')
    df = sweep_scenarios(path, tmp_path / "out", workers=1)
    assert ran == [(0.8, "healthy"), (1.0, "healthy"), (1.2, "healthy"),
                   (0.8, "osteoporotic"), (1.0, "osteoporotic"), (1.2, "osteoporotic")]
    assert df["bone.quality"].tolist() == ["healthy", "osteoporotic"] * 3
    assert df["activity.level"].tolist() == [0.8, 0.8, 1.0, 1.0, 1.2, 1.2]
    assert (df["nonunion_fails"] == (df["bone.quality"] == "osteoporotic")).all()
    ran.clear()  # a custom case function is not grouped: it may not use the model
    sweep_scenarios(path, tmp_path / "custom", workers=1, case_fn=recording_case)
    assert [q for _, q in ran] == ["healthy", "osteoporotic"] * 3


def test_cli_default_output_folder_and_failed_cases(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(spinesim.outcomes, "run_shared_case", fake_case)  # one segment model
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "fails.toml", '[sweep]\ndesign = "grid"\n[sweep.parameters]\n'
          '"timeline.weeks" = [3, 4]\n')
    assert main(["sweep", "fails.toml"]) == 1  # a case failed to compute
    printed = capsys.readouterr().out
    assert "2 cases: 1 done, 1 failed" in printed
    assert "case 0 failed: RuntimeError: solver diverged" in printed
    assert all((tmp_path / "results" / "fails" / f).is_file() for f in FILES)


@pytest.mark.parametrize("text, expected", [
    (None, "sweep file not found"),
    ('[sweep]\ndesign = "grid"\n[sweep.parameters]\n"hardware.rod.diamter_mm" = [5.5]\n',
     "did you mean 'hardware.rod.diameter_mm'?"),
    ('[sweep]\ndesign = "grid"\n[sweep.parameters]\n"hardware.rod.diameter_mm" = [50.0]\n',
     "allowed range [2, 10] mm"),
    (('[sweep]\ndesign = "grid"\n[sweep.parameters]\n"timeline.weeks" = [4, 8]\n'
      '[scenario]\ntimeline.nonunion_horizon_weeks = 6\n'), "contradictory options"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, text, expected):
    path = tmp_path / "s.toml"
    if text is not None:
        write(path, text)
    proc = subprocess.run([sys.executable, "-m", "spinesim.cli", "sweep", str(path), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True, check=False,
                          cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith(f"spinesim sweep: {path}") and expected in lines[0]
    assert not (tmp_path / "out").exists() and proc.stdout == ""


def test_cli_bad_options_exit_2(tmp_path, capsys):
    path = write(tmp_path / "s.toml", SMALL)
    for workers in ("0", "two"):
        assert main(["sweep", str(path), "--workers", workers]) == 2
        assert f"--workers {workers}: must be an integer >= 1" in capsys.readouterr().err
    assert main(["sweep", str(path), "-o", str(tmp_path / "o"), "--workers", "2",
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "not both" in capsys.readouterr().err


def _unreachable(monkeypatch) -> list[str]:
    """distributed.Client fails at once as for a scheduler that does not answer (dask retries
    for its 30 s timeout first); returns the addresses it was asked for."""
    distributed = pytest.importorskip("distributed")
    asked = []

    def client(address, **kw):
        asked.append(address)
        raise OSError(f"Timed out trying to connect to {address} after 30 s")

    monkeypatch.setattr(distributed, "Client", client)
    return asked


def test_unreachable_scheduler_leaves_no_files(tmp_path, capsys, monkeypatch):
    """The scheduler is connected before the output folder, sweep.json or the store exist."""
    asked = _unreachable(monkeypatch)
    path = write(tmp_path / "s.toml", SMALL)
    existing = tmp_path / "existing"
    existing.mkdir()
    for out in (tmp_path / "new" / "out", existing):
        assert main(["sweep", str(path), "-o", str(out), "--scheduler",
                     "tcp://127.0.0.1:8786"]) == 2
        err = capsys.readouterr().err
        assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:8786'" in err
        assert len(err.strip().splitlines()) == 1
    assert asked == ["tcp://127.0.0.1:8786"] * 2
    assert not (tmp_path / "new").exists() and not list(existing.iterdir())


def test_api_checks_the_scheduler_address_before_the_store(tmp_path, monkeypatch):
    from spinesim.sweeps import check_scheduler_address, run_sweep

    asked = _unreachable(monkeypatch)
    store = tmp_path / "s.sqlite"
    with pytest.raises(SweepError, match=r"Dask scheduler address 'tcp://127.0.0.1:0': port 0 "
                                         r"is outside 1 to 65535"):
        run_sweep([{"i": 0}], fake_case, store, scheduler="tcp://127.0.0.1:0")
    with pytest.raises(SweepError, match="cannot connect to the Dask scheduler"):
        run_sweep([{"i": 0}], fake_case, store, scheduler="127.0.0.1:8786")
    assert asked == ["127.0.0.1:8786"] and not store.exists()  # no scheme: dask's tcp
    assert check_scheduler_address("tls://[::1]:8786") == "tls://[::1]:8786"
    for bad, why in (("tcp://:8786", "no host"), ("tcp://h:x", "host:port"),
                     ("tcp://h:8786/x", "host:port")):
        with pytest.raises(SweepError, match=why):
            check_scheduler_address(bad)


# ------------------------------------------------------------------------------ Python API
def test_api_sweep_returns_a_dataframe_and_writes_the_files(tmp_path):
    path = write(tmp_path / "s.toml", SMALL)
    df = spinesim.sweep(path, tmp_path / "out", case_fn=fake_case)
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert df.attrs["parameters"] == ["hardware.rod.material", "bone.quality"]
    assert df.attrs["counts"] == {"done": 4, "failed": 0, "skipped": 0}
    assert df["hardware_fatigue_fails"].tolist() == [True, True, False, False]
    assert df["nonunion_fails"].tolist() == [False, True, False, True]
    assert df["seed"].tolist() == df["risk.seed"].tolist()  # its own seed per case
    assert all((tmp_path / "out" / f).is_file() for f in FILES)
    csv = pd.read_csv(tmp_path / "out" / "results.csv")
    assert csv["bone.quality"].tolist() == df["bone.quality"].tolist()


def test_api_sweep_on_a_process_pool_matches_the_serial_run(tmp_path):
    spec = tomllib.loads(SMALL)  # the sweep file's content as a dict
    serial = spinesim.sweep(spec, tmp_path / "a", case_fn=fake_case)
    pooled = spinesim.sweep(spec, tmp_path / "b", case_fn=fake_case, workers=2)
    pd.testing.assert_frame_equal(serial.drop(columns="duration_s"),
                                  pooled.drop(columns="duration_s"))


def test_engineer_example_runs_reduced_with_a_fake_case(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("engineer_sweep",
                                                  ROOT / "examples" / "engineer_sweep.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    df = ex.run(tmp_path, workers=1, weeks=6, resolution=0.5, case_fn=fake_case,
                progress=False)
    assert len(df) == 16 and set(df["timeline.weeks"]) == {6}
    assert set(df["segment.resolution"]) == {0.5}
    table = ex.failure_table(df)
    assert list(table.columns[:4]) == ["rod", "rod_mm", "bone", "construct"]
    assert table.loc[0, "hardware_fatigue"] == "yes, wk 20"
    assert table.loc[2, "nonunion"] == "yes, wk 6" and table.loc[0, "nonunion"] == "no"


def test_api_names_resolve_lazily():
    from spinesim.simulate import run_timeline
    from spinesim.sweeps import sweep_scenarios

    assert spinesim.Scenario is Scenario
    assert spinesim.run is run_timeline
    assert spinesim.sweep is sweep_scenarios
    importlib.import_module("spinesim.sweep_design")  # a submodule must not hide it
    assert spinesim.sweep is sweep_scenarios
    assert {"Scenario", "run", "risk", "sweep"} <= set(spinesim.__all__)


def test_risk_is_the_monte_carlo_function():
    import spinesim
    from spinesim.montecarlo import risk

    assert spinesim.risk is risk and callable(spinesim.risk)


def test_import_spinesim_is_light():
    code = ("import sys, spinesim\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'pyarrow') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_py_typed_marker_is_in_the_installed_package():
    from importlib.resources import files

    assert files("spinesim").joinpath("py.typed").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["spinesim"]
