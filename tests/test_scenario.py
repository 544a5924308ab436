"""Scenario schema, TOML load/validate/save, dotted-key access, and the bad-input messages."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spinesim import scenario_schema as schema
from spinesim.errors import SpinesimError
from spinesim.scenario import Scenario, ScenarioError
from spinesim.scenario_schema import FIELDS, DependsOn

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "scenarios" / "default.toml"


# ------------------------------------------------------------------------------ schema
def test_schema_table_is_consistent_and_every_field_has_a_source():
    schema._check_table()
    for f in FIELDS:
        assert f.description and f.source, f.key
        if f.confidence == "":
            # an unsourced default says so
            assert any(w in f.source for w in ("modelling default", "project default",
                                               "not sourced", "Palmgren-Miner",
                                               "design note")), f.key


def test_every_default_and_uncertainty_range_is_inside_the_allowed_range():
    base = Scenario.default()
    for material in ("ti6al4v", "cocr", "ss316l"):
        s = base.replace(**{"hardware.rod.material": material})
        for key, (dist, (lo, hi)) in s.uncertain().items():
            f = schema.field(key)
            assert dist in ("uniform", "lognormal_ci95")
            assert lo < hi
            assert f.low is None or lo >= f.low, key
            assert f.high is None or hi <= f.high, key
            assert lo <= s.get(key) <= hi, f"{key}: default outside its uncertainty range"
    for f in FIELDS:
        if isinstance(f.default, DependsOn) or f.default is None:
            continue
        values = f.default if isinstance(f.default, list) else [f.default]
        for v in values:
            if f.kind in ("float", "int", "float_list", "int_list"):
                assert f.low is None or v >= f.low, f.key
                assert f.high is None or v <= f.high, f.key


def test_uncertain_fields_are_marked_with_a_distribution():
    keys = {f.key for f in schema.uncertain_fields()}
    assert {"hardware.rod.notch_factor", "graft.initial_modulus_mpa", "activity.level",
            "loosening.bone_threshold_um", "loosening.fibrous_threshold_um",
            "healing.modifiers.smoking_odds_ratio"} <= keys
    assert all(schema.field(k).uncertain and schema.field(k).distribution for k in keys)
    assert not schema.field("hardware.rod.diameter_mm").uncertain
    median, sigma = schema.lognormal_ci95(1.68, 5.44)
    assert median == pytest.approx(3.02, abs=0.01)
    assert np.exp(np.log(median) + 1.959964 * sigma) == pytest.approx(5.44)


def test_schema_defaults_agree_with_the_libraries_they_duplicate():
    from spinesim.failure.fatigue import MEAN_STRESS_METHODS, notch_factor_range, sn_curve
    from spinesim.failure.healing import ClaesHeigele, PrendergastLacroix, rate_limited
    from spinesim.model.hardware import Interface
    from spinesim.model.loadcases import DIRECTIONS, STANDARD_MOMENT_NM
    from spinesim.model.segment_materials import CAGE_MATERIALS
    from spinesim.model.tissue_materials import DENSITY_MODULUS_RELATIONS, tissue_material

    s = Scenario.default()
    for m in ("ti6al4v", "cocr", "ss316l"):
        curve = sn_curve(m)
        assert s.get(f"fatigue.{m}.endurance_mpa") == curve.endurance_mpa
        assert s.get(f"fatigue.{m}.sigma_f_mpa") == curve.sigma_f_mpa
    ti = s.uncertain()
    assert ti["fatigue.ti6al4v.endurance_mpa"][1] == sn_curve("ti6al4v").endurance_range_mpa
    assert ti["fatigue.ti6al4v.sigma_f_mpa"][1] == sn_curve("ti6al4v").sigma_f_range_mpa
    assert ti["hardware.rod.notch_factor"][1] == notch_factor_range("ti6al4v")
    assert schema.field("fatigue.mean_stress").choices == MEAN_STRESS_METHODS
    graft = tissue_material("graft_day0")
    assert s.get("graft.initial_modulus_mpa") == graft.E_mpa
    assert ti["graft.initial_modulus_mpa"][1] == graft.E_range_mpa
    pl, ch = PrendergastLacroix(), ClaesHeigele()
    assert s.get("healing.prendergast.a") == pl.a
    assert s.get("healing.prendergast.b_um_s") * 1e-3 == pytest.approx(pl.b_mm_s)
    c = s.replace(**{"healing.rule": "claes"})
    assert (c.get("healing.claes.bone_strain"), c.get("healing.claes.cartilage_strain"),
            c.get("healing.claes.pressure_mpa")) == (ch.bone_strain, ch.cartilage_strain,
                                                     ch.pressure_mpa)
    assert rate_limited.__defaults__ == (s.get("healing.rate_per_week"),)
    assert s.get("loosening.bonded_tie_factor") == Interface().tie_factor
    assert s.get("protocol.moment_nm") == STANDARD_MOMENT_NM
    assert schema.DIRECTIONS == DIRECTIONS
    assert set(schema.field("cage.material").choices) == set(CAGE_MATERIALS)
    assert set(schema.field("bone.density_relation").choices) == set(DENSITY_MODULUS_RELATIONS)


# ------------------------------------------------------------------------------ round trip
def test_default_round_trips_toml_to_scenario_to_toml_identically(tmp_path):
    first = Scenario.default().to_toml(tmp_path / "a.toml")
    s1 = Scenario.from_toml(first)
    second = s1.to_toml(tmp_path / "b.toml")
    s2 = Scenario.from_toml(second)
    assert first.read_text() == second.read_text()
    assert s1 == s2 == Scenario.default()
    assert s1.resolved() == s2.resolved() == Scenario.default().resolved()
    assert s1.case_key() == Scenario.default().case_key()
    # dependent defaults are written as comments and keep following their inputs
    assert "# notch_factor = 2.0   (default, follows hardware.rod.material)" in first.read_text()
    assert "hardware.rod.notch_factor" not in str(s1.to_dict(full=False))
    assert s1.replace(**{"hardware.rod.material": "cocr"}).get("hardware.rod.notch_factor") == 1


def test_module_doctests_pass():
    import doctest

    import spinesim.scenario

    assert doctest.testmod(spinesim.scenario).failed == 0


@pytest.mark.parametrize("comments", [False, True])
@pytest.mark.parametrize("values", [
    {},
    {"segment": {"construct": "intact", "mesh": "meshes/my segment.vtu"},
     "bone": {"apparent_density_g_cm3": 0.18, "density_relation": "kopperdahl2002"}},
    {"segment.construct": "unilateral-cage", "segment.levels": "L3-L5",
     "hardware.screw.count": 3, "hardware.rod.material": "cocr", "healing.rule": "claes",
     "healing.modifiers": {"age_years": 71, "reference_age_years": 50, "smoker": True},
     "cage.height_mm": 11.5, "timeline.weeks": 26, "output.vtu_weeks": [],
     "bone.quality": "osteoporotic", "graft.type": "allograft"},
    {"segment.construct": "cage-only", "healing.rule": "strain_window",
     "activity": {"lifting": {"per_day": 10}, "ramp_weeks": [2, 6], "ramp_fraction": [0.5, 1]},
     "risk": {"seed": 2**62, "samples": 7}},
    {"activity.custom": [{"name": "stair_climbing", "per_day": 30, "compression_n": 700,
                          "moment_nm": 2.5, "direction": "extension"},
                         {"name": "sit_to_stand", "per_day": 60, "compression_n": 500}]},
])
def test_other_scenarios_round_trip_through_toml(tmp_path, values, comments):
    s1 = Scenario.from_dict(values)
    t1 = s1.to_toml(tmp_path / "a.toml", comments=comments).read_text(encoding="utf-8")
    s2 = Scenario.from_toml(tmp_path / "a.toml")
    t2 = s2.to_toml(tmp_path / "b.toml", comments=comments).read_text(encoding="utf-8")
    assert t1 == t2
    assert s1 == s2 and s1.resolved() == s2.resolved()
    # only the given values, and back
    s3 = Scenario.from_toml(s1.to_toml(tmp_path / "c.toml", full=False))
    assert s3 == s1 and s3.to_dict(full=False) == s1.to_dict(full=False)


def test_further_activities_read_from_toml_tables_hash_and_serialise(tmp_path):
    import json

    from spinesim.scenario_schema import ActivityEntry

    path = tmp_path / "s.toml"
    path.write_text('[[activity.custom]]\nname = "stair_climbing"\nper_day = 30\n'
                    'compression_n = 700\nmoment_nm = 2.5\ndirection = "Extension"\n\n'
                    '[[activity.custom]]\nname = "sit_to_stand"\nper_day = 60\n'
                    'compression_n = 500\n', encoding="utf-8")
    s = Scenario.from_toml(path)
    stairs, sit = s.get("activity.custom")
    assert stairs == ActivityEntry("stair_climbing", 30.0, 700.0, 2.5, "extension")
    assert sit == ActivityEntry("sit_to_stand", 60.0, 500.0, 0.0, "flexion")
    assert Scenario.default().get("activity.custom") == ()
    # the same content given as entries, hashable, equal; plain JSON-able dicts in resolved()
    same = Scenario.default().with_values({"activity.custom": [stairs, sit]})
    assert same == s and hash(same) == hash(s) and same.case_key() == s.case_key()
    assert s.resolved()["activity"]["custom"][1] == {
        "name": "sit_to_stand", "per_day": 60.0, "compression_n": 500.0, "moment_nm": 0.0,
        "direction": "flexion"}
    json.dumps(s.resolved())
    assert s.with_values({"activity.custom": None}) == Scenario.default()
    assert s.with_values({"activity.custom": [sit]}) != s


def test_dimension_overrides_read_from_toml_tables_reach_the_segment_options(tmp_path):
    import json

    from spinesim.simulate import segment_options

    path = tmp_path / "s.toml"
    path.write_text("[segment.dimensions.L4]\nendplate_width_mm = 50.5\ndisc_height_mm = 11\n"
                    "[segment.dimensions.l5]\nendplate_width_mm = 54\n", encoding="utf-8")
    s = Scenario.from_toml(path)
    want = {"L4": {"disc_height_mm": 11.0, "endplate_width_mm": 50.5},
            "L5": {"endplate_width_mm": 54.0}}
    assert s.get("segment.dimensions").as_dict() == want
    assert s.resolved()["segment"]["dimensions"] == want
    json.dumps(s.resolved())
    s.to_toml(tmp_path / "out.toml")
    again = Scenario.from_toml(tmp_path / "out.toml")
    assert again == s and hash(again) == hash(s)
    same = Scenario.default().with_values({"segment.dimensions": want})
    assert same == s and same.case_key() == s.case_key()
    assert s.with_values({"segment.dimensions": None}) == Scenario.default()
    opts = segment_options(s)
    assert dict((lv, dict(kv)) for lv, kv in opts.dimensions) == want
    assert hash(opts) == hash(segment_options(same))
    assert segment_options(Scenario.default()).dimensions == ()


def test_dotted_dimension_keys_patch_the_table_they_lie_in():
    s = Scenario.from_dict({"segment.dimensions.L4.endplate_width_mm": 50,
                            "segment": {"dimensions": {"L5": {"body_height_mm": 30}}}})
    assert s.get("segment.dimensions").as_dict() == {"L4": {"endplate_width_mm": 50.0},
                                                     "L5": {"body_height_mm": 30.0}}
    t = s.with_values({"segment.dimensions.L4.endplate_depth_mm": 37,
                       "segment.dimensions.L5.body_height_mm": 29})
    assert t.get("segment.dimensions").as_dict() == {
        "L4": {"endplate_depth_mm": 37.0, "endplate_width_mm": 50.0},
        "L5": {"body_height_mm": 29.0}}                      # merged, the L5 value replaced
    assert t.get("segment.dimensions.L4.endplate_depth_mm") == 37.0
    assert t.get("segment.dimensions.L5") == {"body_height_mm": 29.0}
    assert t.with_values({"segment.dimensions.L4.endplate_width_mm": None}).get(
        "segment.dimensions").as_dict() == {"L4": {"endplate_depth_mm": 37.0},
                                            "L5": {"body_height_mm": 29.0}}   # one dropped
    assert t.with_values({"segment.dimensions.L4": None, "segment.dimensions.L5": None}) == \
        Scenario.default()
    whole = t.with_values({"segment.dimensions": {"L4": {"disc_height_mm": 11}}})
    assert whole.get("segment.dimensions").as_dict() == {"L4": {"disc_height_mm": 11.0}}
    with pytest.raises(ScenarioError, match="segment.dimensions.L4.disc_height_mm is not set in "
                                            "segment.dimensions"):
        t.get("segment.dimensions.L4.disc_height_mm")
    with pytest.raises(ScenarioError, match="unknown dimension 'endplate_widht_mm'; did you "
                                            "mean 'endplate_width_mm'"):
        s.with_values({"segment.dimensions.L4.endplate_widht_mm": 50})
    with pytest.raises(ScenarioError, match="unknown key 'segment.resolution.x'"):
        Scenario.from_dict({"segment.resolution.x": 1})


def test_example_file_is_the_embedded_default_written_out():
    """examples/scenarios/default.toml is regenerated by
    ``Scenario.default().to_toml("examples/scenarios/default.toml", comments=True)``."""
    assert EXAMPLE.read_text(encoding="utf-8") == Scenario.default().toml_text(comments=True)
    assert Scenario.from_toml(EXAMPLE) == Scenario.default()
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "Stienen et al., Sci Rep 10:4939 (2020)" in text
    assert "uncertain (Monte Carlo): uniform [20.0, 40.0]" in text


def test_toml_strings_with_quotes_and_control_characters_round_trip(tmp_path):
    weird = 'dir "x"\\y\tz\u00e9\u007f.vtu'
    s = Scenario.from_dict({"segment": {"construct": "intact", "mesh": weird}})
    back = Scenario.from_toml(s.to_toml(tmp_path / "s.toml"))
    assert back.get("segment.mesh") == weird


# ------------------------------------------------------------------------------ access
def test_dotted_get_returns_values_and_tables():
    s = Scenario.default()
    assert s.get("hardware.rod.diameter_mm") == 5.5
    assert s["segment.construct"] == "bilateral-cage"
    assert s.get("activity.ramp_weeks") == (1.0, 2.0, 4.0, 8.0)
    assert s.get("hardware.rod") == {"material": "ti6al4v", "diameter_mm": 5.5,
                                      "notch_factor": 2.0}
    assert s.get("hardware")["screw"]["length_mm"] == 35.0
    assert s.get("bone.apparent_density_g_cm3") is None
    assert s.vertebrae == ("L4", "L5") and s.screw_count == 4
    assert s.parts == {"screws", "rods", "cage", "graft"}
    with pytest.raises(ScenarioError, match=r"unknown key 'hardware\.rod\.diameter'; did you "
                                            r"mean 'hardware\.rod\.diameter_mm'\?"):
        s.get("hardware.rod.diameter")
    intact = s.replace(**{"segment.construct": "intact"})
    with pytest.raises(ScenarioError, match=r"cage\.material does not apply to this scenario: "
                                            r"segment\.construct = 'intact' has no cage"):
        intact.get("cage.material")
    assert not intact.applies("cage.material") and s.applies("cage.material")


def test_replace_and_with_values_return_new_validated_scenarios():
    s = Scenario.default()
    t = s.replace(**{"hardware.rod.diameter_mm": 6, "hardware.rod.material": "CoCr"})
    assert t.get("hardware.rod.diameter_mm") == 6.0
    assert isinstance(t.get("hardware.rod.diameter_mm"), float)
    assert t.get("hardware.rod.material") == "cocr"  # choices are case-insensitive
    assert t.get("hardware.rod.notch_factor") == 1.0  # material-dependent default follows
    assert s.get("hardware.rod.diameter_mm") == 5.5  # the original is unchanged
    u = t.with_values({"timeline": {"weeks": 26}, "risk.seed": np.int64(7)})
    assert (u.get("timeline.weeks"), u.get("risk.seed")) == (26, 7)
    assert u.get("timeline.nonunion_horizon_weeks") == 26  # defaults to the timeline's end
    assert u.get("output.vtu_weeks") == (0, 6, 12, 26)
    assert u.replace(timeline={"weeks": 52}).get("timeline.nonunion_horizon_weeks") == 52
    assert u.with_values({"hardware.rod.diameter_mm": None}).get("hardware.rod.diameter_mm") \
        == 5.5  # None resets to the default
    with pytest.raises(ScenarioError, match=r"<default> \(modified\): hardware\.rod\.diameter_mm "
                                            r"= -6\.0 is out of range"):
        s.replace(**{"hardware.rod.diameter_mm": -6.0})
    with pytest.raises(AttributeError, match="immutable"):
        s.x = 1
    with pytest.raises(TypeError):
        Scenario()


def test_changing_the_construct_drops_parts_only_when_asked():
    s = Scenario.from_dict({"cage": {"material": "titanium"}, "hardware.rod.diameter_mm": 6.0})
    with pytest.raises(ScenarioError, match="contradictory options"):
        s.replace(**{"segment.construct": "intact"})
    intact = s.with_values({"segment.construct": "intact"}, drop_inapplicable=True)
    assert "cage" not in intact.resolved() and "hardware" not in intact.resolved()
    assert intact.to_dict(full=False) == {"segment": {"construct": "intact"}}
    bilateral = s.with_values({"segment.construct": "bilateral"}, drop_inapplicable=True)
    assert bilateral.get("hardware.rod.diameter_mm") == 6.0
    assert "cage" not in bilateral.resolved() and "healing" not in bilateral.resolved()


def test_resolved_gives_the_same_hash_for_the_same_content_and_a_new_one_for_a_change():
    a = Scenario.default()
    b = Scenario.from_dict({"hardware.rod.diameter_mm": 5.5, "timeline": {"weeks": 52.0}})
    c = Scenario.from_dict({"hardware": {"rod": {"diameter_mm": np.float32(5.5)}}})
    assert a.resolved() == b.resolved() == c.resolved()
    assert a.case_key() == b.case_key() == c.case_key()
    assert a.case_key() == a.case_key()
    assert a == b and hash(a) == hash(b)
    d = a.replace(**{"hardware.rod.diameter_mm": 6.0})
    e = a.replace(**{"risk.seed": 1})
    keys = {a.case_key(), d.case_key(), e.case_key()}
    assert len(keys) == 3 and a != d
    # a part the construct does not have does not change the hash
    i1 = Scenario.from_dict({"segment.construct": "intact"})
    i2 = a.replace(**{"cage.material": "titanium"}).with_values(
        {"segment.construct": "intact"}, drop_inapplicable=True)
    assert i1.case_key() == i2.case_key()


def test_scenarios_pickle_for_worker_processes():
    s = Scenario.default().replace(**{"risk.samples": 10})
    t = pickle.loads(pickle.dumps(s))
    assert t == s and t.to_dict(full=False) == {"risk": {"samples": 10}}
    assert t.replace(**{"risk.samples": 11}).get("risk.samples") == 11


def test_relative_mesh_path_is_relative_to_the_scenario_file(tmp_path):
    (tmp_path / "s.toml").write_text('[segment]\nconstruct = "intact"\nmesh = "m/seg.vtu"\n')
    s = Scenario.from_toml(tmp_path / "s.toml")
    assert s.path("segment.mesh") == tmp_path.resolve() / "m" / "seg.vtu"
    assert Scenario.default().path("segment.mesh") is None


def test_importing_the_scenario_is_light():
    code = ("import sys, spinesim.scenario; "
            "print(sorted(m for m in ('scipy', 'numba', 'meshio', 'matplotlib', 'sqlite3') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ bad input
BAD_INPUTS = [
    # (id, data, fragments the message must contain)
    ("unknown key with suggestion", {"hardware": {"rod": {"diametr_mm": 6}}},
     ["<dict>", "unknown key 'hardware.rod.diametr_mm'",
      "did you mean 'hardware.rod.diameter_mm'?"]),
    ("unknown key in the wrong table", {"hardware": {"rod": {"length_mm": 40}}},
     ["unknown key 'hardware.rod.length_mm'", "did you mean 'hardware.screw.length_mm'?"]),
    ("unknown activity points to a custom one", {"activity": {"swimming": {"per_day": 3}}},
     ["unknown key 'activity.swimming", "a [[activity.custom]] table with name = 'swimming'"]),
    ("unknown table", {"hardwre": {"rod": {"diameter_mm": 6}}},
     ["unknown key 'hardwre'", "did you mean 'hardware'?"]),
    ("unknown key without a close match lists the table", {"hardware": {"rod": {"colour": 1}}},
     ["unknown key 'hardware.rod.colour'",
      "valid keys in [hardware.rod]: material, diameter_mm, notch_factor"]),
    ("negative diameter", {"hardware": {"rod": {"diameter_mm": -5.5}}},
     ["hardware.rod.diameter_mm = -5.5 is out of range", "allowed range [2, 10] mm"]),
    ("diameter in metres", {"hardware": {"screw": {"diameter_mm": 0.0065}}},
     ["hardware.screw.diameter_mm = 0.0065 is out of range", "allowed range [3, 10] mm"]),
    ("zero moment (open bound)", {"protocol": {"moment_nm": 0}},
     ["protocol.moment_nm = 0.0 is out of range", "allowed range (0, 30] N·m"]),
    ("dimensionless range", {"graft": {"volume_fraction": 1.5}},
     ["graft.volume_fraction = 1.5 is out of range", "allowed range (0, 1] (dimensionless)"]),
    ("NaN", {"hardware": {"rod": {"diameter_mm": float("nan")}}},
     ["hardware.rod.diameter_mm = nan is not a finite number", "allowed range [2, 10] mm"]),
    ("infinity", {"loosening": {"fibrous_threshold_um": float("inf")}},
     ["loosening.fibrous_threshold_um = inf is not a finite number",
      "allowed range (0, 5000] µm"]),
    ("string for a number", {"hardware": {"rod": {"diameter_mm": "5.5"}}},
     ["hardware.rod.diameter_mm = '5.5' has the wrong type", "expected a number", "got string"]),
    ("boolean for an integer", {"timeline": {"weeks": True}},
     ["timeline.weeks = True has the wrong type", "expected an integer", "got boolean"]),
    ("fraction for an integer", {"risk": {"samples": 10.5}},
     ["risk.samples = 10.5 has the wrong type", "expected an integer"]),
    ("number for a boolean", {"healing": {"modifiers": {"smoker": 1}}},
     ["healing.modifiers.smoker = 1 has the wrong type", "expected true or false"]),
    ("table for a value", {"segment": {"levels": {"upper": "L4"}}},
     ["segment.levels has the wrong type", "got a table"]),
    ("value for a table", {"hardware": 5},
     ["hardware = 5 has the wrong type", "expected a table with keys rod, screw"]),
    ("bad choice lists the choices", {"hardware": {"rod": {"material": "titanium"}}},
     ["hardware.rod.material = 'titanium' is not one of the allowed choices: "
      "'ti6al4v', 'cocr', 'ss316l'"]),
    ("misspelt choice", {"segment": {"construct": "bilateral_cage"}},
     ["segment.construct = 'bilateral_cage'", "'intact', 'bilateral', 'bilateral-cage', "
      "'unilateral-cage', 'cage-only'", "did you mean 'bilateral-cage'?"]),
    ("levels upside down", {"segment": {"levels": "L5-L4"}},
     ["segment.levels = 'L5-L4'", "upper vertebra must be cranial",
      "L1, L2, L3, L4, L5, S1"]),
    ("thoracic level", {"segment": {"levels": "T12-L1"}},
     ["segment.levels = 'T12-L1' is not a span of vertebrae", "e.g. 'L4-L5'"]),
    ("list element out of range", {"output": {"vtu_weeks": [0, -1]}},
     ["output.vtu_weeks[1] = -1 is out of range", "allowed range [0, 520] weeks"]),
    ("list not increasing", {"activity": {"ramp_weeks": [1, 4, 2, 8]}},
     ["activity.ramp_weeks = [1.0, 4.0, 2.0, 8.0] must be strictly increasing"]),
    ("list for a scalar", {"activity": {"level": [1, 2]}},
     ["activity.level = [1, 2] has the wrong type", "expected a number, got array"]),
    ("intact with a cage", {"segment": {"construct": "intact"}, "cage": {"material": "peek"}},
     ["contradictory options: cage.material is given",
      "segment.construct = 'intact' has no cage",
      "bilateral-cage, unilateral-cage, cage-only"]),
    ("posterolateral with a cage", {"segment": {"construct": "posterolateral"},
                                    "cage": {"height_mm": 12}},
     ["contradictory options: cage.height_mm is given",
      "segment.construct = 'posterolateral' has no cage"]),
    ("cage-only with rods", {"segment": {"construct": "cage-only"},
                             "hardware": {"rod": {"diameter_mm": 6}}},
     ["hardware.rod.diameter_mm is given", "'cage-only' has no rods"]),
    ("resolution of an imported mesh", {"segment": {"mesh": "seg.vtu", "resolution": 2}},
     ["contradictory options: segment.resolution is given, but segment.mesh is set",
      "applies only when segment.mesh is not set"]),
    ("bilateral screw count", {"hardware": {"screw": {"count": 2}}},
     ["contradictory options: hardware.screw.count = 2",
      "'bilateral-cage' with segment.levels = 'L4-L5' has 4 screws (2 per vertebra)"]),
    ("unilateral screw count", {"segment": {"construct": "unilateral-cage", "levels": "L3-L5"},
                                "hardware": {"screw": {"count": 6}}},
     ["hardware.screw.count = 6", "'unilateral-cage'", "has 3 screws (1 per vertebra)"]),
    ("nonunion horizon beyond the timeline", {"timeline": {"weeks": 26,
                                                           "nonunion_horizon_weeks": 52}},
     ["contradictory options: timeline.nonunion_horizon_weeks = 52 is beyond the end of the "
      "timeline, timeline.weeks = 26", "allowed range [1, 26] weeks"]),
    ("VTU week after the end", {"output": {"vtu_weeks": [0, 60]}},
     ["output.vtu_weeks = [0, 60]", "week(s) [60] after the end of the timeline",
      "timeline.weeks = 52 (default)"]),
    ("resorption in an undrained graft", {"graft": {"drainage": "undrained"},
                                          "healing": {"prendergast": {"resorption": True}}},
     ["contradictory options: healing.prendergast.resorption = true with graft.drainage = "
      "'undrained'", "resorbed tissue has no undrained constants"]),
    ("resorbed modulus without resorption",
     {"healing": {"prendergast": {"resorbed_modulus_mpa": 5.0}}},
     ["healing.prendergast.resorbed_modulus_mpa is given",
      "applies only with healing.prendergast.resorption"]),
    ("resorption with another rule", {"healing": {"rule": "claes",
                                                  "prendergast": {"resorption": True}}},
     ["healing.prendergast.resorption is given", "healing.rule = 'claes'"]),
    ("ramp lengths differ", {"activity": {"ramp_weeks": [1, 2, 4]}},
     ["activity.ramp_weeks has 3 point(s) but activity.ramp_fraction has 4"]),
    ("density with osteoporosis", {"bone": {"quality": "osteoporotic",
                                            "apparent_density_g_cm3": 0.2}},
     ["bone.apparent_density_g_cm3 = 0.2 and bone.quality = 'osteoporotic'",
      "either a density or the osteoporosis switch"]),
    ("density in mg/cm3", {"bone": {"apparent_density_g_cm3": 200}},
     ["bone.apparent_density_g_cm3 = 200.0 is out of range", "allowed range [0.01, 2] g/cm³"]),
    ("rule parameters for another rule", {"healing": {"claes": {"bone_strain": 0.1}}},
     ["healing.claes.bone_strain is given", "healing.rule = 'prendergast'",
      "applies only with healing.rule = 'claes'"]),
    ("thresholds in the wrong order", {"loosening": {"bone_threshold_um": 200}},
     ["loosening.bone_threshold_um = 200.0 must be below loosening.fibrous_threshold_um = "
      "150.0 (default) µm"]),
    ("age without a reference age", {"healing": {"modifiers": {"age_years": 70}}},
     ["healing.modifiers.age_years = 70.0 needs healing.modifiers.reference_age_years"]),
    ("core wider than the thread", {"hardware": {"screw": {"core_diameter_mm": 7}}},
     ["hardware.screw.core_diameter_mm = 7.0 must be below hardware.screw.diameter_mm = 6.5 "
      "(default) mm"]),
    ("screw core too thin for a beam", {"hardware": {"screw": {"core_diameter_mm": 0.001}}},
     ["hardware.screw.core_diameter_mm = 0.001 is out of range", "allowed range [1, 10] mm"]),
    ("a screw shorter than the geometry allows", {"hardware": {"screw": {"length_mm": 19}}},
     ["hardware.screw.length_mm = 19.0 is out of range", "allowed range [20, 80] mm"]),
    ("a time step of minutes", {"timeline": {"step_weeks": 0.001}},
     ["timeline.step_weeks = 0.001 is out of range", "allowed range [0.1, 52] weeks"]),
    ("timeline not a whole number of steps", {"timeline": {"step_weeks": 5}},
     ["timeline.weeks = 52 (default) is not a whole number of timeline.step_weeks = 5.0"]),
    ("given twice", {"hardware.rod.diameter_mm": 6, "hardware": {"rod": {"diameter_mm": 7}}},
     ["hardware.rod.diameter_mm is given twice"]),
    ("not a table", [1, 2], ["a scenario must be a table (mapping) of sections, got array"]),
    ("further activity as one table", {"activity": {"custom": {"name": "stairs"}}},
     ["activity.custom has the wrong type", "a list of tables (TOML [[activity.custom]])",
      "got a table"]),
    ("further activity with a misspelt key",
     {"activity": {"custom": [{"name": "stairs", "per_dya": 30, "compression_n": 700}]}},
     ["activity.custom[0]: unknown key 'per_dya'; did you mean 'per_day'?"]),
    ("further activity without a force",
     {"activity": {"custom": [{"name": "stairs", "per_day": 30}]}},
     ["activity.custom[0] lacks compression_n", "moment_nm defaults to 0"]),
    ("further activity named as a built-in one",
     {"activity": {"custom": [{"name": "lifting", "per_day": 3, "compression_n": 900}]}},
     ["activity.custom[0].name = 'lifting' is a built-in activity",
      "set activity.lifting.* instead"]),
    ("further activity with a name that cannot be a column",
     {"activity": {"custom": [{"name": "Stair climbing", "per_day": 3, "compression_n": 9}]}},
     ["activity.custom[0].name = 'Stair climbing' is not an activity name",
      "lower-case letters, digits and '_'"]),
    ("further activity given twice",
     {"activity": {"custom": [{"name": "stairs", "per_day": 3, "compression_n": 9},
                              {"name": "stairs", "per_day": 4, "compression_n": 9}]}},
     ["activity.custom[1].name = 'stairs' is given twice (also activity.custom[0])"]),
    ("further activity out of range",
     {"activity": {"custom": [{"name": "stairs", "per_day": 3, "compression_n": 9},
                              {"name": "lift", "per_day": 3, "compression_n": 9000}]}},
     ["activity.custom[1].compression_n = 9000.0 is out of range", "allowed range [0, 5000] N"]),
    ("further activity with a misspelt direction",
     {"activity": {"custom": [{"name": "twist", "per_day": 3, "moment_nm": 2,
                               "compression_n": 100, "direction": "axial_rotation"}]}},
     ["activity.custom[0].direction = 'axial_rotation' is not one of the allowed choices",
      "did you mean 'axial_rotation_left'?"]),
    ("further activity that loads nothing",
     {"activity": {"custom": [{"name": "rest", "per_day": 3, "compression_n": 0}]}},
     ["activity.custom[0] ('rest') has compression_n = 0 and moment_nm = 0: it loads nothing"]),
    ("dimension with a misspelt key",
     {"segment": {"dimensions": {"L4": {"endplate_widht_mm": 50}}}},
     ["segment.dimensions.L4: unknown dimension 'endplate_widht_mm'; did you mean "
      "'endplate_width_mm'?"]),
    ("dimension out of range", {"segment": {"dimensions": {"L5": {"body_height_mm": 90}}}},
     ["segment.dimensions.L5.body_height_mm = 90.0 is out of range", "allowed range [10, 50] mm"]),
    ("dimensions of a vertebra outside the span",
     {"segment": {"dimensions": {"L3": {"endplate_width_mm": 50}}}},
     ["contradictory options: segment.dimensions.L3 is given, but segment.levels (default) = "
      "'L4-L5' spans L4, L5"]),
    ("dimensions of an unknown vertebra", {"segment": {"dimensions": {"T12": {}}}},
     ["segment.dimensions.T12: unknown vertebra 'T12'; allowed: L1, L2, L3, L4, L5, S1"]),
    ("dimensions of a vertebra given twice",
     {"segment": {"dimensions": {"L4": {"endplate_width_mm": 50}, "l4": {"disc_height_mm": 9}}}},
     ["segment.dimensions.l4: vertebra L4 is given twice"]),
    ("dimensions not a table", {"segment": {"dimensions": [50]}},
     ["segment.dimensions = [50] has the wrong type", "got array"]),
    ("a disc dimension of S1", {"segment": {"levels": "L5-S1",
                                            "dimensions": {"S1": {"disc_height_mm": 9}}}},
     ["segment.dimensions.S1: S1 has no disc or facet joint below"]),
    ("dimensions with an imported mesh",
     {"segment": {"mesh": "m.vtu", "dimensions": {"L4": {"endplate_width_mm": 50}}}},
     ["segment.dimensions is given, but segment.mesh is set"]),
    ("further activity not a table", {"activity": {"custom": ["stairs"]}},
     ["activity.custom[0] = 'stairs' has the wrong type: expected a table with keys name, "
      "per_day, compression_n, moment_nm, direction, got string"]),
]


@pytest.mark.parametrize("data, fragments", [c[1:] for c in BAD_INPUTS],
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_names_key_value_and_allowed_values(data, fragments):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert isinstance(info.value, SpinesimError)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict({"hardware": {"rod": {"diameter_mm": -1, "material": "gold"}},
                            "timline": {"weeks": 5}})
    err = info.value
    assert str(err).startswith("<dict>: 3 problems:")
    assert [k for k, _ in err.problems] == ["timline", "hardware.rod.material",
                                            "hardware.rod.diameter_mm"]


def _write(tmp_path: Path, text: str | bytes, name: str = "scenario.toml") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def test_file_errors_name_the_file(tmp_path):
    p = _write(tmp_path, "[hardware.rod]\ndiameter_mm = 60\n")
    with pytest.raises(ScenarioError, match=rf"^{p}: hardware\.rod\.diameter_mm = 60\.0 is out "
                                            r"of range; allowed range \[2, 10\] mm$"):
        Scenario.from_toml(p)
    missing = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError, match=rf"^{missing}: scenario file not found$"):
        Scenario.from_toml(missing)
    with pytest.raises(ScenarioError, match="is a folder, not a scenario file"):
        Scenario.from_toml(tmp_path)


@pytest.mark.parametrize("text, fragment", [
    ("[segment]\nlevels = \"L4-L5\"\nconstruct = \n", "TOML syntax error at line 3, column 13"),
    ("[segment]\nlevels = \"L4-L5\"\nlevels = \"L3-L4\"\n", "TOML syntax error at line 3"),
    ("[segment\nlevels = \"L4-L5\"\n", "TOML syntax error at line 1"),
    ("[timeline]\nweeks = 52\n[timeline]\nweeks = 26\n", "TOML syntax error at line 3"),
    (b"[segment]\nlevels = \"L4-L5\"\nconstruct = \"caf\xe9\"\n", "not UTF-8 text (bad byte at "
                                                                 "line 3)"),
])
def test_toml_syntax_errors_name_file_and_line(tmp_path, text, fragment):
    p = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(p)
    assert str(info.value).startswith(f"{p}: ")
    assert fragment in str(info.value)


def test_toml_nan_and_inf_literals_are_refused(tmp_path):
    p = _write(tmp_path, "[activity]\nlevel = nan\n[risk]\nconfidence = inf\n")
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(p)
    msg = str(info.value)
    assert "2 problems" in msg
    assert "activity.level = nan is not a finite number; allowed range [0, 3] (dimensionless)" \
        in msg
    assert "risk.confidence = inf is not a finite number; allowed range (0, 1) (dimensionless)" \
        in msg


def test_toml_date_value_is_a_wrong_type(tmp_path):
    p = _write(tmp_path, "[segment]\nlevels = 2024-01-01\n")
    with pytest.raises(ScenarioError, match=r"segment\.levels = datetime\.date\(2024, 1, 1\) has "
                                            r"the wrong type: expected a string such as 'L4-L5', "
                                            r"got date"):
        Scenario.from_toml(p)


# ------------------------------------------------------------------------------ writing
def test_failed_write_into_an_impossible_folder_leaves_no_file(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    target = blocker / "out" / "scenario.toml"
    with pytest.raises(ScenarioError, match=rf"^{target}: cannot write scenario file"):
        Scenario.default().to_toml(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_folder"]
    assert blocker.read_text() == "x"


def test_failed_write_leaves_no_temporary_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "scenario.toml"
    target.write_text("old")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ScenarioError, match="cannot write scenario file: Permission denied"):
        Scenario.default().to_toml(target)
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.toml"]
    assert target.read_text() == "old"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores folder permissions")
def test_write_into_a_read_only_folder_fails_cleanly(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ScenarioError, match="cannot write scenario file"):
            Scenario.default().to_toml(folder / "s.toml")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_a_misspelt_custom_activity_table_gets_only_the_right_suggestion():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict({"activity": {"customs": [{"name": "x"}]}})
    assert "did you mean 'activity.custom'?" in str(info.value)
    assert "for a new activity" not in str(info.value)  # not "a custom activity 'customs'"


LONG = 100_000


@pytest.mark.parametrize("data, start", [
    ({"bone": {"quality": "h" * LONG}}, "bone.quality = 'hhh"),
    ({"segment": {"levels": "L" * LONG}}, "segment.levels = 'LLL"),
    ({"output": {"vtu_weeks": [500 - i % 400 for i in range(LONG)]}},
     "output.vtu_weeks = [500, 499"),
    ({"timeline": {"w" * LONG: 3}}, "unknown key 'timeline.www"),
    ({"segment": {"dimensions": {"L4": {"d" * LONG: 3}}}}, "unknown dimension 'ddd"),
    ({"segment": {"dimensions": {"X" * LONG: {"body_height_mm": 3}}}}, "unknown vertebra 'XXX"),
    ({"activity": {"custom": [{"name": "a", "per_day": 1, "compression_n": 5, "k" * LONG: 1}]}},
     "unknown key 'kkk"),
])
def test_a_huge_value_or_key_is_shortened_in_the_message(data, start):
    """Found by the bad-input audit: a 100,000-character choice, span, list or key was
    repeated whole in the one-line error (a 100 kB line); it is cut to 60 characters like
    the wrong-type messages' values."""
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    message = str(info.value)
    assert start in message and "..." in message
    assert len(message) < 1000, len(message)
