"""Monte Carlo risk layer: probabilities, intervals, sensitivities, resume, the CLI."""

from __future__ import annotations

import doctest
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

import spinesim.montecarlo as risk_module
from spinesim.cli import main
from spinesim.outcomes import FAILURE_MODES
from spinesim.montecarlo import SEGMENT_INPUTS, SENSITIVITY_OUTCOMES, RiskError, _coerce, risk
from spinesim.risk_stats import probability_ci, sample_inputs, stratify
from spinesim.scenario import Scenario

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # worker processes import the case functions from here
import risk_cases as rc
from conftest import record


def same(a, b) -> None:
    """Equal sample tables except the wall time of each case."""
    assert_frame_equal(a.drop(columns="duration_s"), b.drop(columns="duration_s"))


@pytest.fixture(scope="module")
def result200():
    return risk(samples=200, seed=3, case_fn=rc.outcomes)


# ------------------------------------------------------------------------------ API
def test_inputs_are_the_uncertain_fields_drawn_with_the_seed(result200):
    uncertain = Scenario.default().uncertain()
    assert result200.inputs == uncertain
    drawn = sample_inputs(uncertain, 200, 3)
    for key, values in drawn.items():
        if key in SEGMENT_INPUTS:  # at the medians of 5 equiprobable strata
            dist, (lo, hi) = uncertain[key]
            values = stratify(values, dist, lo, hi, 5)
        np.testing.assert_array_equal(result200.samples[key].to_numpy(), values)
    assert len(result200.samples) == 200 and result200.failed == 0
    assert (result200.samples["status"] == "done").all()
    assert result200.samples.index.name == "sample"


def test_bone_density_is_drawn_from_strata_and_run_grouped_by_model():
    """The cancellous-modulus factor (bone density) changes the segment model: its draws sit
    at the medians of risk.segment_strata equiprobable strata, and the samples run in the
    order of its value, so that a worker builds one model per stratum."""
    key = "bone.cancellous_modulus_scale"
    seen: list[float] = []

    def case(params):
        seen.append(params["bone"]["cancellous_modulus_scale"])
        return rc.outcomes(params)

    base = Scenario.default().with_values({"risk.segment_strata": 4})
    res = risk(base, samples=60, seed=5, case_fn=case)
    lo, hi = Scenario.default().uncertain()[key][1]
    width = (hi - lo) / 4
    medians = lo + width * (np.arange(4) + 0.5)
    x = res.samples[key].to_numpy()
    assert set(np.round(x, 12)) <= set(np.round(medians, 12))
    raw = sample_inputs({key: ("uniform", (lo, hi))}, 60, 5)[key]
    np.testing.assert_array_equal(np.floor((raw - lo) / width), np.round((x - lo) / width - 0.5))
    assert seen == sorted(seen) and len(seen) == len(set(res.samples.index))
    assert res.info["stratified"] == {key: 4}
    # the other inputs are not stratified
    assert len(set(res.samples["activity.level"])) == 60


def test_every_uncertain_input_that_changes_the_segment_is_stratified():
    from spinesim.simulate import segment_options

    base = Scenario.default()
    for key, (_, (lo, hi)) in base.uncertain().items():
        a = segment_options(base.with_values({key: lo}))
        b = segment_options(base.with_values({key: hi}))
        assert (a != b) == (key in SEGMENT_INPUTS), key


def test_probabilities_are_the_counts_of_the_rule_with_wilson_intervals(result200):
    df = result200.samples
    params = [{"activity": {"level": r["activity.level"]},
               "hardware": {"rod": {"notch_factor": r["hardware.rod.notch_factor"]}},
               "loosening": {"bone_threshold_um": r["loosening.bone_threshold_um"]},
               "graft": {"initial_modulus_mpa": r["graft.initial_modulus_mpa"]}}
              for _, r in df.iterrows()]
    expected = {m: sum(rc.rule(p)[f"{m}_fails"] for p in params) for m in FAILURE_MODES}
    assert set(result200.probabilities) == set(FAILURE_MODES)
    for mode, k in expected.items():
        p = result200.probabilities[mode]
        ci = probability_ci(k, 200, 0.95)
        assert p == {"probability": k / 200, "low": ci.low, "high": ci.high, "failures": k,
                     "samples": 200, "confidence": 0.95}
        assert 0 < k < 200  # the rule splits the samples
    # the uniform inputs give the expected fractions, within the interval
    assert result200.probabilities["nonunion"]["low"] < 0.375 < \
        result200.probabilities["nonunion"]["high"]


def test_same_seed_same_table_and_workers_do_not_matter(tmp_path):
    a = risk(samples=24, seed=7, case_fn=rc.outcomes)
    b = risk(samples=24, seed=7, case_fn=rc.outcomes)
    c = risk(samples=24, seed=7, case_fn=rc.outcomes, workers=2, out_dir=tmp_path / "w2")
    same(a.samples, b.samples)
    same(a.samples, c.samples)
    assert a.probabilities == b.probabilities == c.probabilities
    assert a.sensitivity == c.sensitivity
    d = risk(samples=24, seed=8, case_fn=rc.outcomes)
    assert not np.array_equal(d.samples["activity.level"], a.samples["activity.level"])
    assert d.probabilities != a.probabilities or d.sensitivity != a.sensitivity


def test_sensitivity_signs_follow_the_driving_inputs(result200):
    s = result200.sensitivity
    assert set(s) == set(SENSITIVITY_OUTCOMES)
    assert s["nonunion_fails"]["graft.initial_modulus_mpa"] < -0.7
    assert s["insufficient_support_fails"]["loosening.bone_threshold_um"] > 0.5
    assert s["hardware_fatigue_fails"]["activity.level"] > 0.3
    assert s["hardware_fatigue_fails"]["hardware.rod.notch_factor"] > 0.3
    assert s["rod_damage"]["activity.level"] > 0.7
    assert s["max_micromotion_um"]["activity.bending.moment_nm"] == pytest.approx(1.0)
    assert s["max_screw_pullout_n"]["activity.level"] == pytest.approx(1.0)
    # a never-bridged graft ranks last (as +inf): union comes later with a softer graft
    assert s["union_week"]["graft.initial_modulus_mpa"] < -0.9
    assert s["initial_graft_strain"]["graft.initial_modulus_mpa"] == pytest.approx(-1.0)
    # an input that drives nothing stays small
    assert abs(s["nonunion_fails"]["loosening.fibrous_threshold_um"]) < 0.25


def test_constant_outcomes_give_zero_sensitivity_and_zero_probability():
    r = risk(samples=12, seed=0, case_fn=rc.never_fails)
    for mode in FAILURE_MODES:
        p = r.probabilities[mode]
        assert p["probability"] == 0.0 and p["low"] == 0.0 and 0.0 < p["high"] < 0.3
    assert set(r.info["constant_outcomes"]) == {*(f"{m}_fails" for m in FAILURE_MODES),
                                                "union_week", "rod_damage"}
    assert all(v == 0.0 for v in r.sensitivity["union_week"].values())
    assert r.sensitivity["max_micromotion_um"]["activity.bending.moment_nm"] > 0.9


def test_failed_samples_are_counted_and_left_out_of_the_probabilities():
    r = risk(samples=40, seed=2, case_fn=rc.crash_on_high_activity)
    crashed = r.samples["activity.level"] > 1.0
    assert r.failed == int(crashed.sum()) > 0
    assert (r.samples.loc[crashed, "status"] == "failed").all()
    assert all(p["samples"] == 40 - r.failed for p in r.probabilities.values())
    assert len(r.errors) == r.failed and "solver diverged" in r.errors[0]
    assert r.errors[0].startswith(f"sample {r.samples.index[crashed][0]}: ")
    data = r.to_json_dict()
    assert data["failed_samples"] == r.failed
    assert data["errors"][0]["sample"] == int(r.samples.index[crashed][0])
    json.dumps(data, allow_nan=False)


def test_json_dict_has_the_probabilities_and_no_nan(result200):
    data = result200.to_json_dict()
    text = json.dumps(data, allow_nan=False)  # raises on NaN or inf
    assert set(data["probabilities"]) == set(FAILURE_MODES)
    for p in data["probabilities"].values():
        assert set(p) == {"probability", "low", "high", "failures", "samples", "confidence"}
    assert data["samples"] == 200 and data["seed"] == 3 and data["failed_samples"] == 0
    assert data["inputs"]["activity.level"] == ["uniform", 0.62, 1.07]
    assert data["stratified"] == {"bone.cancellous_modulus_scale": 5}
    assert data["seconds"] > 0 and "NaN" not in text


def _bad_case(params):
    return {}["missing"]


def test_all_samples_failing_is_an_error():
    with pytest.raises(RiskError, match="all 3 Monte Carlo samples failed; first error: "
                                        "sample 0: KeyError"):
        risk(samples=3, case_fn=_bad_case)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(RiskError, match=r"samples = 0 must be an integer >= 1"):
        risk(samples=0, case_fn=rc.outcomes)
    with pytest.raises(RiskError, match=r"seed = -1 must be an integer >= 0"):
        risk(samples=2, seed=-1, case_fn=rc.outcomes)
    with pytest.raises(RiskError, match=r"workers = 0 must be an integer >= 1"):
        risk(samples=2, workers=0, case_fn=rc.outcomes)
    with pytest.raises(RiskError, match=r"timeline\.weeks = 2\.5"):
        risk(samples=2, weeks=2.5, case_fn=rc.outcomes)


def test_defaults_come_from_the_scenario():
    s = Scenario.default().with_values({"risk.samples": 5, "risk.seed": 11,
                                        "risk.confidence": 0.9})
    r = risk(s, case_fn=rc.outcomes)
    assert len(r.samples) == 5 and r.seed == 11
    assert all(p["confidence"] == 0.9 for p in r.probabilities.values())
    same(r.samples, risk(s, samples=5, seed=11, case_fn=rc.outcomes).samples)


def test_weeks_and_resolution_reach_every_sample(caplog):
    with caplog.at_level(logging.INFO, logger="spinesim.montecarlo"):
        r = risk(samples=3, seed=0, weeks=10, resolution=0.5, case_fn=rc.echo_timeline)
    assert (r.samples["weeks"] == 10).all() and (r.samples["resolution"] == 0.5).all()
    assert (r.samples["horizon"] == 10).all()
    assert all(max(w) <= 10 for w in r.samples["vtu_weeks"])
    assert "nonunion horizon is set to 10 weeks" in caplog.text
    assert r.info["weeks"] == 10 and r.info["resolution"] == 0.5
    # an explicit horizon and VTU weeks beyond the shorter timeline are brought down too
    s = Scenario.from_dict({"timeline": {"nonunion_horizon_weeks": 40},
                            "output": {"vtu_weeks": [0, 4, 30]}})
    r = risk(s, samples=2, weeks=8, case_fn=rc.echo_timeline)
    assert (r.samples["horizon"] == 8).all()
    assert [list(w) for w in r.samples["vtu_weeks"]] == [[0, 4]] * 2
    # a horizon within the timeline is kept
    r = risk(samples=2, weeks=60, case_fn=rc.echo_timeline)
    assert (r.samples["horizon"] == 52).all()


def test_given_values_of_sampled_inputs_are_named_in_a_warning(caplog):
    """A scenario that sets an input the Monte Carlo samples (an uncertain field) does not
    keep that value: the run warns with the key and the value; inputs it does not set do not
    appear."""
    s = Scenario.from_dict({"activity": {"level": 2.5},
                            "loosening": {"bone_threshold_um": 30.0}})
    with caplog.at_level(logging.WARNING, logger="spinesim.montecarlo"):
        r = risk(s, samples=2, seed=0, case_fn=rc.outcomes)
    assert "activity.level = 2.5" in caplog.text
    assert "loosening.bone_threshold_um = 30.0" in caplog.text
    assert "fibrous_threshold_um" not in caplog.text
    assert (r.samples["activity.level"] != 2.5).all()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="spinesim.montecarlo"):
        risk(samples=2, seed=0, case_fn=rc.outcomes)
    assert "samples over their uncertainty ranges instead" not in caplog.text


def test_draws_are_clipped_into_the_allowed_range_and_integers_rounded(caplog):
    with caplog.at_level(logging.WARNING, logger="spinesim.montecarlo"):
        values, n = _coerce("healing.modifiers.smoking_odds_ratio", np.array([0.0, 3.0, 150.0]))
    assert 0.0 < values[0] < 1e-300 and values[1:] == [3.0, 100.0] and n == 2
    assert "2 of 3 draws fell outside the allowed range (0, 100]" in caplog.text
    values, n = _coerce("timeline.weeks", np.array([0.2, 2.6, 1e4]))
    assert values == [1, 3, 520] and all(type(v) is int for v in values) and n == 2


def test_a_sample_that_stays_invalid_names_key_and_value(monkeypatch):
    real = sample_inputs

    def contradictory(uncertain, n, seed):
        drawn = real(uncertain, n, seed)
        drawn["loosening.bone_threshold_um"][1] = 300.0  # above the fibrous threshold
        return drawn

    monkeypatch.setattr(risk_module, "sample_inputs", contradictory)
    with pytest.raises(RiskError, match=r"Monte Carlo sample 1 is invalid "
                                        r"\(loosening\.bone_threshold_um = 300\.0\): "
                                        r".*must be below loosening\.fibrous_threshold_um"):
        risk(samples=3, case_fn=rc.outcomes)


def test_identical_samples_share_one_run(monkeypatch):
    real = sample_inputs

    def constant(uncertain, n, seed):
        return {k: np.full(n, v[0]) for k, v in real(uncertain, n, seed).items()}

    monkeypatch.setattr(risk_module, "sample_inputs", constant)
    r = risk(samples=5, case_fn=rc.outcomes)
    assert r.info["counts"]["done"] == 1 and len(r.samples) == 5
    assert (r.samples["status"] == "done").all()
    assert all(p["samples"] == 5 for p in r.probabilities.values())


def test_resume_does_not_recompute_and_more_samples_reuse_the_first(tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("SPINESIM_TEST_CALLS", str(calls))
    out = tmp_path / "run"
    first = risk(samples=20, seed=4, case_fn=rc.outcomes, out_dir=out)
    assert first.info["counts"] == {"done": 20, "failed": 0, "skipped": 0}
    assert (out / "results.sqlite").is_file() and first.info["store"] == str(
        out / "results.sqlite")
    again = risk(samples=20, seed=4, case_fn=rc.outcomes, out_dir=out)
    assert again.info["counts"] == {"done": 0, "failed": 0, "skipped": 20}
    same(first.samples, again.samples)
    assert again.probabilities == first.probabilities
    more = risk(samples=30, seed=4, case_fn=rc.outcomes, out_dir=out)
    assert more.info["counts"] == {"done": 10, "failed": 0, "skipped": 20}
    same(first.samples, more.samples.iloc[:20])
    assert len(calls.read_text().splitlines()) == 30


def test_module_doctests():
    assert doctest.testmod(risk_module).failed == 0


# ------------------------------------------------------------------------------ CLI
def test_cli_prints_the_table_and_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(risk_module.risk.__kwdefaults__, "case_fn", rc.outcomes)
    scenario = tmp_path / "s.toml"
    scenario.write_text("[activity]\nlevel = 1.0\n")
    out_json = tmp_path / "risk.json"
    assert main(["risk", str(scenario), "--samples", "30", "--seed", "5", "--json",
                 str(out_json), "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "30 samples, seed 5" in printed and "95 % interval" in printed
    for mode in FAILURE_MODES:
        assert mode in printed
    assert "graft.initial_modulus_mpa" in printed  # the top sensitivity of nonunion
    assert "bone.cancellous_modulus_scale drawn from 5 equiprobable strata" in printed
    data = json.loads(out_json.read_text())
    direct = risk(Scenario.from_toml(scenario), samples=30, seed=5, case_fn=rc.outcomes)
    assert data["probabilities"] == direct.to_json_dict()["probabilities"]
    assert set(data["probabilities"]) == set(FAILURE_MODES)
    assert data["samples"] == 30 and data["seed"] == 5
    assert (tmp_path / "out" / "results.sqlite").is_file()
    assert "none (fewer than 3 samples)" not in printed
    # two samples cannot rank anything: said so, not called a constant outcome
    assert main(["risk", str(scenario), "--samples", "2", "--seed", "5"]) == 0
    printed = capsys.readouterr().out
    assert "none (fewer than 3 samples)" in printed and "constant outcome" not in printed


@pytest.mark.parametrize("args, message", [
    (["--samples", "0"], "--samples 0: must be an integer from 1 to 1000000"),
    (["--samples", "ten"], "--samples ten: must be an integer from 1 to 1000000"),
    (["--samples", "2000000"], "--samples 2000000: must be an integer from 1 to 1000000"),
    (["--seed", "-3"], "--seed -3: must be an integer from 0 to 9223372036854775807"),
    (["--seed", "99999999999999999999999"], "--seed 99999999999999999999999: must be an "
                                            "integer from 0 to 9223372036854775807"),
    (["--workers", "0"], "--workers 0: must be an integer >= 1"),
    (["--weeks", "2.5"], ("--weeks 2.5: must be a whole number (timeline.weeks); allowed "
                          "range [1, 520] weeks")),
    (["--weeks", "0"], ("--weeks 0: is out of range (timeline.weeks); allowed "
                        "range [1, 520] weeks")),
    (["--resolution", "0"], "--resolution 0: is out of range (segment.resolution); allowed"),
    (["--resolution", "fine"], "--resolution fine: must be a number (segment.resolution)"),
    (["--resolution", "nan"], "--resolution nan: must be a number (segment.resolution)"),
])
def test_cli_bad_flags_exit_2_naming_flag_and_allowed_values(args, message, capsys):
    assert main(["risk", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_bad_files_exit_2_without_partial_output(tmp_path, capsys):
    out_json = tmp_path / "r.json"
    assert main(["risk", str(tmp_path / "nope.toml"), "--json", str(out_json)]) == 2
    assert "nope.toml: scenario file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[activity\nlevel = 1\n")
    assert main(["risk", str(bad), "--samples", "2"]) == 2
    assert "bad.toml: TOML syntax error at line 1" in capsys.readouterr().err
    assert main(["risk", "--samples", "2", "--json", str(tmp_path / "no" / "r.json")]) == 2
    assert "--json" in capsys.readouterr().err
    assert main(["risk", "--samples", "2", "--json", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["risk", "--samples", "2", "-o", str(bad)]) == 2
    assert "-o" in capsys.readouterr().err
    assert not out_json.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_cli_error_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spinesim.cli", "risk",
                           str(tmp_path / "missing.toml"), "--samples", "2"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"spinesim risk: {tmp_path / 'missing.toml'}: scenario file not found"]


# ------------------------------------------------------------------------------ end to end
@pytest.mark.slow  # ~10 s; "slow" tests run in the normal suite (nothing deselects them)
def test_end_to_end_with_the_real_timeline(tmp_path, capsys):
    """Two samples of the real timeline (resolution 0.5, 2 weeks) through the CLI. Each
    sample's outcome is known without the model's numbers: the graft needs three rungs at
    one a week (the healing rate is not sampled, the patient does not smoke) to turn to bone,
    so with the nonunion horizon clamped to the 2 weeks run neither sample unites; the
    default construct is far from the fatigue and loosening thresholds (rod amplitude about
    20 MPa against a notched endurance limit of 200-410 MPa, micromotion about 15 µm against
    a fibrous threshold of 112-349 µm over the sampled ranges)."""
    out_json = tmp_path / "risk.json"
    t0 = time.perf_counter()
    assert main(["risk", "--samples", "2", "--seed", "0", "--resolution", "0.5", "--weeks",
                 "2", "--json", str(out_json)]) == 0
    seconds = time.perf_counter() - t0
    record(f"risk end-to-end: 2 real samples (resolution 0.5, 2 weeks) in {seconds:.1f} s")
    data = json.loads(out_json.read_text())
    assert data["samples"] == 2 and data["failed_samples"] == 0, data["errors"]
    assert data["weeks"] == 2 and data["resolution"] == 0.5
    expected = {"insufficient_support": 0, "hardware_fatigue": 0, "nonunion": 2}
    assert {m: data["probabilities"][m]["failures"] for m in FAILURE_MODES} == expected
    for mode in FAILURE_MODES:
        p = data["probabilities"][mode]
        assert p["samples"] == 2 and p["probability"] == expected[mode] / 2
        assert 0.0 <= p["low"] <= p["probability"] <= p["high"] <= 1.0
    assert "nonunion" in capsys.readouterr().out


def test_a_segment_that_cannot_be_meshed_is_refused_before_any_sample(tmp_path, monkeypatch):
    """No uncertain input is geometric, so every sample of a scenario whose cage does not fit
    would fail the same way: risk() meshes the base geometry once and refuses it, naming the
    file and the keys, before the first sample runs."""
    from spinesim.scenario_schema import uncertain_fields

    geometric = ("segment.", "cage.", "hardware.screw.")
    assert not [f.key for f in uncertain_fields() if f.key.startswith(geometric)]
    ran = []
    for name in ("run_case", "run_shared_case"):
        monkeypatch.setattr(f"spinesim.montecarlo.{name}", lambda case: ran.append(case))
    path = tmp_path / "wide_cage.toml"
    path.write_text("[cage]\nwidth_mm = 60\ndepth_mm = 60\n")
    with pytest.raises(RiskError) as err:
        risk(Scenario.from_toml(path), samples=3, resolution=0.3, weeks=2)
    assert str(err.value).startswith(f"{path}: cage 60.0 x 60.0 mm")
    assert "cage.width_mm, cage.depth_mm" in str(err.value) and ran == []
